// When an idle consumer's queue next has a message coming due (QueueStore.nextVisibleAt), on
// both backends. Only messages due after their send can come due later, so only they are in the
// index the answer comes from (migrations 0018 on SQLite, 0020 on PostgreSQL): a delayed send,
// a retry's backoff. Messages sent to run at once never count, whatever their number.

import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import type { NewMessage } from '../../src/store/message-row.ts';
import { NEXT_VISIBLE } from '../../src/store/sqlite/queues.ts';
import { BACKENDS } from '../helpers/backends.ts';

const T0 = Date.parse('2026-01-05T10:00:00Z');
const dueAt = (visibleAtMs: number): NewMessage => ({
  body: '{}',
  priority: 0,
  visibleAtMs,
  groupId: null,
  dedupKey: null,
});

describe.each(BACKENDS)('the next message coming due on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_('is the earliest delayed send or retry of the queue, strictly after now', async () => {
    const url = backend.freshUrl();
    const store = await backend.open({ url, clock: new FakeClock(T0) });
    try {
      expect(await store.queues.nextVisibleAt('q', T0)).toBeNull();
      await store.queues.send('q', [dueAt(T0), dueAt(T0), dueAt(T0)], T0, 0);
      expect(await store.queues.nextVisibleAt('q', T0)).toBeNull();

      await store.queues.send('q', [dueAt(T0 + 60_000), dueAt(T0 + 30_000)], T0, 0);
      await store.queues.send('other', [dueAt(T0 + 10_000)], T0, 0);
      expect(await store.queues.nextVisibleAt('q', T0)).toBe(T0 + 30_000);
      expect(await store.queues.nextVisibleAt('q', T0 + 30_000)).toBe(T0 + 60_000);
      expect(await store.queues.nextVisibleAt('q', T0 + 60_000)).toBeNull();

      // A received message that fails comes due again at its backoff's end.
      const [first] = await store.queues.claim('q', {
        limit: 1,
        nowMs: T0 + 1000,
        dueByMs: T0 + 1000,
        visibilityMs: 30_000,
        fifo: false,
      });
      await store.queues.fail([{ ...first!, visibleAtMs: T0 + 5000, error: 'boom' }], T0 + 1000);
      expect(await store.queues.nextVisibleAt('q', T0 + 1000)).toBe(T0 + 5000);
    } finally {
      await store.close();
    }
  });

  it.runIf(backend.name === 'sqlite')('finds it by a seek in the delayed messages alone', async () => {
    const url = backend.freshUrl();
    const store = await backend.open({ url, clock: new FakeClock(T0) });
    await store.queues.send('q', [dueAt(T0 + 1000)], T0, 0);
    await store.close();
    const db = new DatabaseSync(url.replace(/^sqlite:/, ''));
    try {
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${NEXT_VISIBLE}`).all('q', T0) as { detail: string }[];
      expect(plan.map((p) => p.detail).join('\n')).toMatch(/SEARCH messages USING INDEX messages_delayed/);
      const indexed = db
        .prepare(
          'SELECT count(*) AS n FROM messages INDEXED BY messages_delayed WHERE visible_at_ms > sent_at_ms',
        )
        .get() as { n: number };
      expect(indexed.n).toBe(1);
    } finally {
      db.close();
    }
  });
});
