// The lease loop on a real store, with the handler side played by the test: what it leases
// while the outcomes of handled messages are still being written.

import pino, { type Logger } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import { Batcher } from '../../src/queue/batcher.ts';
import { WorkerEvents } from '../../src/queue/consumer-events.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { LeaseLoop } from '../../src/queue/lease-loop.ts';
import { Limiter } from '../../src/queue/limiter.ts';
import { Settlement } from '../../src/queue/settle.ts';
import type { Receipt, Store } from '../../src/store/types.ts';
import { BACKENDS } from '../helpers/backends.ts';

describe.each(BACKENDS)('the lease loop on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  // Tracked: the handler side's promise for the acks (loop.track). Quiet: acks with no promise
  // (Settlement.ackQuiet), counted by the loop until the batch holding them is written.
  it_.each(['tracked', 'quiet'] as const)(
    'stops claiming while %s acks lag behind the handlers, and goes on once they are written',
    async (how) => {
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
      // The store is slow to take acks: none is written until the gate opens.
      let open!: () => void;
      const gate = new Promise<void>((r) => {
        open = r;
      });
      const settlement = settlementOf(store, clock, events, log, gate);
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
          if (how === 'tracked') {
            await loop.track(settlement.ackAll(lease.messages), lease.messages.length);
            return;
          }
          for (const m of lease.messages) {
            loop.settling(1);
            settlement.ackQuiet(m, loop);
          }
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
    },
  );

  it_('writes quiet acks whatever a message:acked listener does, and counts each settled once', async () => {
    const clock = new FakeClock('2026-01-05T10:00:00Z');
    const store = await backend.open({ clock });
    const jobs = defineQueue({ name: 'jobs' });
    await store.queues.upsertQueue('jobs', jobs.settings, clock.now());
    const batch = Array.from({ length: 5 }, (_, i) => ({
      body: JSON.stringify(i),
      priority: 0,
      visibleAtMs: clock.now(),
      groupId: null,
      dedupKey: null,
    }));
    await store.queues.send('jobs', batch, clock.now(), jobs.settings.dedupWindowMs);
    const claimed = await store.queues.claim('jobs', {
      limit: 5,
      nowMs: clock.now(),
      dueByMs: clock.now(),
      visibilityMs: 30_000,
      fifo: false,
    });
    const lines: { msg: string }[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const events = new WorkerEvents();
    events.on('message:acked', () => {
      throw new Error('a listener that throws');
    });
    const settlement = settlementOf(store, clock, events, log, Promise.resolve());
    let pending = 0;
    const counter = { settling: (n: number) => (pending += n), settled: (n: number) => (pending -= n) };
    for (const m of claimed) {
      counter.settling(1);
      settlement.ackQuiet(m, counter);
    }
    await settlement.idle();
    expect(pending).toBe(0);
    expect(lines.filter((l) => l.msg === "a listener of the worker's events threw on an ack")).toHaveLength(
      5,
    );
    // Acked, so gone: nothing comes back after the visibility timeout.
    await clock.advance(60_000);
    const left = (await store.queues.counts(clock.now())).find((c) => c.queue === 'jobs');
    expect((left?.visible ?? 0) + (left?.inFlight ?? 0)).toBe(0);
    // The batcher still takes acks after its receivers' listeners threw (this one finds its message gone).
    await settlement.ack(claimed[0]!);
    expect(lines.at(-1)?.msg).toBe('handler finished after its lease was lost; the message was redelivered');
    await store.close();
  });
});

/** Queue `jobs`'s settlement, whose acks wait for `gate` before they are written. */
function settlementOf(
  store: Store,
  clock: FakeClock,
  events: WorkerEvents,
  log: Logger,
  gate: Promise<void>,
) {
  const acks = new Batcher<Receipt>(async (items) => {
    await gate;
    const deleted = new Set(await store.queues.ack(items));
    return new Set(items.filter((r) => deleted.has(r.id)));
  });
  return new Settlement({
    queue: 'jobs',
    store: store.queues,
    clock,
    settings: defineQueue({ name: 'jobs' }).settings,
    acks,
    events,
    log,
    metrics: null,
  });
}
