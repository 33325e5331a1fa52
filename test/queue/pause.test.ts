// Pausing a queue (issue 25), on both backends: claims return nothing while sends are still
// stored; the pause is kept in the store, so it outlives the process and a restart that
// re-registers the queue's settings; resume hands everything over, and wakes idle consumers.

import { describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { defineFunction, fromQueue } from '../../src/runtime/function.ts';
import { MESSAGES_CHANNEL, type NewMessage } from '../../src/store/message-row.ts';
import { fakeApp, recordEvents, tick } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/backends.ts';

const T0 = Date.parse('2026-01-05T10:00:00Z');
const message = (n: number, groupId: string | null = null): NewMessage => ({
  body: JSON.stringify({ n }),
  priority: 0,
  visibleAtMs: T0,
  groupId,
  dedupKey: null,
});
const claimOf = (fifo: boolean) => ({
  limit: 100,
  nowMs: T0 + 1000,
  dueByMs: T0 + 1000,
  visibilityMs: 30_000,
  fifo,
});

describe.each(BACKENDS)('pausing a queue on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_(
    'store: a paused queue yields no claims, keeps its sends, and survives reopening and re-registering',
    async () => {
      const url = backend.freshUrl();
      const clock = new FakeClock(T0);
      let store = await backend.open({ url, clock });
      await store.queues.upsertQueue('q', { v: 1 }, T0);
      await store.queues.upsertQueue('f', { v: 1 }, T0);
      await store.queues.upsertQueue('other', { v: 1 }, T0);
      await store.queues.send('q', [message(1), message(2)], T0, 0);
      await store.queues.send('f', [message(1, 'g')], T0, 0);
      await store.queues.send('other', [message(1)], T0, 0);

      expect(await store.queues.setPaused('missing', true, T0)).toBeNull();
      expect(await store.queues.setPaused('missing', false, T0)).toBeNull();
      expect(await store.queues.setPaused('q', true, T0 + 10)).toMatchObject({
        name: 'q',
        pausedAtMs: T0 + 10,
      });
      expect(await store.queues.setPaused('f', true, T0 + 10)).toMatchObject({ pausedAtMs: T0 + 10 });
      // Idempotent: a second pause keeps the first pause's time.
      expect(await store.queues.setPaused('q', true, T0 + 20)).toMatchObject({ pausedAtMs: T0 + 10 });

      expect(await store.queues.claim('q', claimOf(false))).toEqual([]);
      expect(await store.queues.claim('f', claimOf(true))).toEqual([]);
      // Only the paused queue stops.
      expect(await store.queues.claim('other', claimOf(false))).toHaveLength(1);
      // Sends are still stored.
      await store.queues.send('q', [message(3)], T0, 0);
      expect((await store.queues.counts(T0 + 1000)).find((c) => c.queue === 'q')).toMatchObject({
        visible: 3,
        inFlight: 0,
      });

      // A restart re-registers the queue's settings (changed here): the pause stays.
      await store.close();
      store = await backend.open({ url, clock });
      await store.queues.upsertQueue('q', { v: 2 }, T0 + 30);
      const row = await store.queues.getQueue('q');
      expect(row).toMatchObject({ config: { v: 2 }, pausedAtMs: T0 + 10 });
      expect((await store.queues.listQueues()).map((r) => [r.name, r.pausedAtMs])).toEqual([
        ['f', T0 + 10],
        ['other', null],
        ['q', T0 + 10],
      ]);
      expect(await store.queues.claim('q', claimOf(false))).toEqual([]);

      // Resume wakes the queue's consumers and hands over every message.
      const woken: string[] = [];
      const unlisten = await store.listen(MESSAGES_CHANNEL, (queue) => woken.push(queue));
      expect(await store.queues.setPaused('q', false, T0 + 40)).toMatchObject({ pausedAtMs: null });
      expect(await store.queues.setPaused('q', false, T0 + 50)).toMatchObject({ pausedAtMs: null });
      await vi.waitFor(() => expect(woken).toContain('q'));
      await unlisten();
      const claimed = await store.queues.claim('q', claimOf(false));
      expect(claimed.map((m) => JSON.parse(m.body))).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
      expect(await store.queues.claim('f', claimOf(true))).toEqual([]);
      await store.queues.setPaused('f', false, T0 + 40);
      expect(await store.queues.claim('f', claimOf(true))).toHaveLength(1);
    },
  );

  it_(
    'app: pause stops the worker, sends continue, resume delivers them all; it outlives a restart',
    async () => {
      const jobs = defineQueue({ name: 'jobs' });
      const seen: number[] = [];
      const fn = defineFunction({
        name: 'work',
        triggers: [fromQueue(jobs)],
        handler: (body: { n: number }) => {
          seen.push(body.n);
        },
      });
      const url = backend.freshUrl();
      const { ms, clock } = await fakeApp(backend, { url, queues: [jobs], functions: [fn] });
      const worker = await ms.startWorker();
      const events = recordEvents(worker);
      await ms.queues.send(jobs, { n: 1 });
      await events.until('message:acked', 1);

      const paused = await ms.queues.pause('jobs');
      expect(paused).toEqual({ name: 'jobs', paused: true, pausedAt: new Date(clock.now()) });
      expect(await ms.queues.pause(jobs)).toEqual(paused);
      expect(await ms.queues.stats('jobs')).toMatchObject({ paused: true, pausedAt: paused.pausedAt });
      expect((await ms.queues.list()).find((q) => q.name === 'jobs')).toMatchObject({ paused: true });

      await ms.queues.sendBatch(jobs, [{ body: { n: 2 } }, { body: { n: 3 } }]);
      await tick(clock, 5000);
      expect(seen).toEqual([1]);
      expect((await ms.queues.stats('jobs')).counts).toMatchObject({ visible: 2, inFlight: 0 });

      // A second app on the store registers the same queue at start: still paused.
      const { ms: again } = await fakeApp(backend, { url, queues: [jobs] });
      expect(await again.queues.stats('jobs')).toMatchObject({ paused: true });
      await tick(clock, 2000);
      expect(seen).toEqual([1]);

      // Resume without moving the clock: the wake-up, not a poll, restarts the worker.
      expect(await again.queues.resume('jobs')).toEqual({ name: 'jobs', paused: false, pausedAt: null });
      if (backend.name === 'sqlite') await ms.queues.resume('jobs'); // in-process wake-ups: this app's store
      await events.until('message:acked', 3);
      expect(seen.sort()).toEqual([1, 2, 3]);
      expect(await ms.queues.resume('jobs')).toMatchObject({ paused: false });
      expect((await ms.queues.stats('jobs')).paused).toBe(false);
    },
  );

  it_('refuses an unknown or invalid queue name with the usual errors', async () => {
    const { ms } = await fakeApp(backend, { queues: [defineQueue({ name: 'jobs' })] });
    await expect(ms.queues.pause('nope')).rejects.toMatchObject({
      code: 'E_QUEUE_NOT_FOUND',
      message: expect.stringMatching(/queue "nope" does not exist/),
    });
    await expect(ms.queues.resume('nope')).rejects.toMatchObject({ code: 'E_QUEUE_NOT_FOUND' });
    await expect(ms.queues.pause('bad name!')).rejects.toMatchObject({ code: 'E_QUEUE_INVALID' });
  });
});
