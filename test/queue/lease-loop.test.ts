// The lease loop on a real store, with the handler side played by the test: what it leases
// while the outcomes of handled messages are still being written.

import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import { Batcher } from '../../src/queue/batcher.ts';
import { WorkerEvents } from '../../src/queue/consumer-events.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { LeaseLoop } from '../../src/queue/lease-loop.ts';
import { Limiter } from '../../src/queue/limiter.ts';
import { Settlement } from '../../src/queue/settle.ts';
import type { Receipt } from '../../src/store/types.ts';
import { BACKENDS } from '../helpers/backends.ts';

describe.each(BACKENDS)('the lease loop on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_('stops claiming while acks lag behind the handlers, and goes on once they are written', async () => {
    const clock = new FakeClock('2026-01-05T10:00:00Z');
    const store = await backend.open({ clock });
    const jobs = defineQueue({ name: 'jobs' });
    await store.queues.upsertQueue('jobs', jobs.settings, clock.now());
    const sent = 3000;
    for (let i = 0; i < sent; i += 500) {
      const batch = Array.from({ length: 500 }, (_, k) => ({
        body: JSON.stringify(i + k),
        priority: 0,
        visibleAtMs: clock.now(),
        groupId: null,
        dedupKey: null,
      }));
      await store.queues.send('jobs', batch, clock.now(), jobs.settings.dedupWindowMs);
    }
    const log = pino({ level: 'silent' });
    const events = new WorkerEvents();
    const acks = new Batcher<Receipt>(async (items) => {
      const deleted = new Set(await store.queues.ack(items));
      return new Set(items.filter((r) => deleted.has(r.id)));
    });
    const settlement = new Settlement({
      queue: 'jobs',
      store: store.queues,
      clock,
      settings: jobs.settings,
      acks,
      events,
      log,
      metrics: null,
    });
    // The store is slow to take acks: none is written until the gate opens.
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    let handled = 0;
    const loop: LeaseLoop = new LeaseLoop({
      queue: 'jobs',
      store: store.queues,
      clock,
      settings: jobs.settings,
      batchSize: 1,
      concurrency: 10,
      prefetch: 100,
      autoPrefetch: false,
      limiter: new Limiter(1000),
      settlement,
      events,
      log,
      pollIntervalMs: 1000,
      consumerId: 'test.0',
      functionName: 'f',
      functionQueue: '__fn.f',
      flow: null,
      handle: async (lease, done) => {
        handled += lease.messages.length;
        done();
        await loop.track(
          gate.then(() => settlement.ackAll(lease.messages)),
          lease.messages.length,
        );
      },
    });
    loop.start();
    await vi.waitFor(() => expect(handled).toBeGreaterThanOrEqual(1000));
    // Polls come and go; nothing more is leased while 1,000 handled messages wait for their acks.
    for (let i = 0; i < 5; i++) {
      await clock.advance(1000);
      await new Promise((r) => setTimeout(r, 20));
    }
    const held = (await store.queues.counts(clock.now())).find((c) => c.queue === 'jobs')!;
    expect(handled).toBeLessThanOrEqual(1000 + 100);
    expect(held.inFlight).toBeLessThanOrEqual(1000 + 100);
    open();
    await vi.waitFor(() => expect(handled).toBe(sent), { timeout: 20_000 });
    await loop.stop(1000);
    const after = (await store.queues.counts(clock.now())).find((c) => c.queue === 'jobs');
    expect(after?.inFlight ?? 0).toBe(0);
    expect(after?.visible ?? 0).toBe(0);
  });
});
