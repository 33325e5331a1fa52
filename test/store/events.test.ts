// The store.events contract, on both backends: idempotent inserts, the unrouted
// sweep's cursor, time-ordered paging for replays, retention deletes in batches,
// and file announcements.

import { describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/store/event-row.ts';
import { BACKENDS } from '../helpers/backends.ts';

const ev = (id: string, timeMs: number): NewEvent => ({
  id,
  source: 's',
  detailType: 't',
  detail: '{"a":1}',
  timeMs,
});

describe.each(BACKENDS)('store.events on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_('stores each id once, also when a batch repeats it', async () => {
    const store = await backend.open();
    expect(await store.events.insert([ev('a', 1), ev('b', 2), ev('a', 3)], 100)).toEqual([true, true, false]);
    expect(await store.events.insert([ev('b', 9), ev('c', 4)], 200)).toEqual([false, true]);
    expect(await store.events.get('b')).toMatchObject({
      id: 'b',
      timeMs: 2,
      putAtMs: 100,
      routedAtMs: null,
      detail: '{"a":1}',
    });
    expect(await store.events.get('zz')).toBeNull();
    expect(await store.events.insert([], 1)).toEqual([]);
  });

  it_(
    'lists unrouted events by storage order with a cursor and a put-time bound; marks them routed',
    async () => {
      const store = await backend.open();
      await store.events.insert([ev('a', 1), ev('b', 2)], 100);
      await store.events.insert([ev('c', 3)], 500);
      const first = await store.events.listUnrouted(100, 0, 1);
      expect(first.map((e) => e.id)).toEqual(['a']);
      expect((await store.events.listUnrouted(100, first[0]!.seq, 10)).map((e) => e.id)).toEqual(['b']);
      expect((await store.events.listUnrouted(1000, 0, 10)).map((e) => e.id)).toEqual(['a', 'b', 'c']);
      await store.events.markRouted(['a', 'c'], 900);
      expect((await store.events.listUnrouted(1000, 0, 10)).map((e) => e.id)).toEqual(['b']);
      expect((await store.events.get('a'))!.routedAtMs).toBe(900);
    },
  );

  it_('pages events by time, then storage order, within [from, to)', async () => {
    const store = await backend.open();
    await store.events.insert([ev('t5', 5), ev('t1', 1), ev('t3a', 3), ev('t3b', 3), ev('t9', 9)], 1);
    const ids: string[] = [];
    let after: { timeMs: number; seq: number } | null = null;
    for (;;) {
      const page = await store.events.listByTime(1, 9, after, 2);
      if (page.length === 0) break;
      ids.push(...page.map((e) => e.id));
      const last = page[page.length - 1]!;
      after = { timeMs: last.timeMs, seq: last.seq };
    }
    expect(ids).toEqual(['t1', 't3a', 't3b', 't5']);
  });

  it_('deletes events stored before a time, a batch at a time', async () => {
    const store = await backend.open();
    await store.events.insert([ev('a', 1), ev('b', 1), ev('c', 1)], 100);
    await store.events.insert([ev('d', 1)], 300);
    expect(await store.events.deleteStoredBefore(200, 2)).toBe(2);
    expect(await store.events.deleteStoredBefore(200, 2)).toBe(1);
    expect(await store.events.deleteStoredBefore(200, 2)).toBe(0);
    expect(await store.events.get('d')).not.toBeNull();
  });

  it_('records and replaces file announcements per trigger and key', async () => {
    const store = await backend.open();
    expect(await store.events.getAnnouncement('t', 'k')).toBeNull();
    const a = { trigger: 't', key: 'k', etag: 'e1', size: 5, eventId: 'x1', announcedAtMs: 10 };
    await store.events.recordAnnouncement(a);
    await store.events.recordAnnouncement({ ...a, trigger: 'u' });
    await store.events.recordAnnouncement({ ...a, etag: 'e2', size: 7, eventId: 'x2', announcedAtMs: 20 });
    expect(await store.events.getAnnouncement('t', 'k')).toEqual({
      ...a,
      etag: 'e2',
      size: 7,
      eventId: 'x2',
      announcedAtMs: 20,
    });
    expect((await store.events.getAnnouncement('u', 'k'))!.etag).toBe('e1');
  });
});
