// WAL checkpoints move to a thread once a process writes to an SQLite file in earnest.
// Only a checkpoint writes pages into the database file itself (commits go to the -wal
// file), so the main file's size shows whether, and by whom, the log was copied back.

import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { openStore } from '../../src/store/open.ts';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { tempDir } from '../helpers/backends.ts';

const WAIT = { timeout: 10_000, interval: 20 };

async function open(path: string): Promise<SqliteStore> {
  return (await openStore(`sqlite:${path}`)) as SqliteStore;
}

function autocheckpoint(store: SqliteStore): number {
  return (store.db.prepare('PRAGMA wal_autocheckpoint').get() as { wal_autocheckpoint: number })
    .wal_autocheckpoint;
}

/** Sends `n` messages of about 100 bytes in one transaction: ~2 MB of log for 12,000. */
async function write(store: SqliteStore, n: number): Promise<void> {
  await store.queues.upsertQueue('q', {}, 0);
  const body = JSON.stringify({ pad: 'x'.repeat(80) });
  const messages = Array.from({ length: n }, () => ({
    body,
    priority: 0,
    visibleAtMs: 0,
    groupId: null,
    dedupKey: null,
  }));
  await store.queues.send('q', messages, 0, 0);
}

describe('SQLite checkpoints', () => {
  it('a process that writes in earnest has a thread copy the log back, not its commits', async () => {
    const path = join(tempDir(), 'busy.db');
    const store = await open(path);
    expect(autocheckpoint(store)).toBe(1000);
    // Under SQLite's own 1000-page limit: no commit checkpointed, the rows are all in the log.
    await write(store, 12_000);
    const logged = statSync(`${path}-wal`).size;
    expect(logged).toBeGreaterThan(1_500_000);
    expect(logged).toBeLessThan(1000 * 4096);
    const before = statSync(path).size;
    expect(before).toBeLessThan(500_000);
    // Nothing more is written: only the thread can grow the database file now.
    await vi.waitFor(() => expect(statSync(path).size).toBeGreaterThan(before + 1_000_000), WAIT);
    // The store's own connection keeps only the backstop (set when the thread says it runs).
    await vi.waitFor(() => expect(autocheckpoint(store)).toBe(10_000), WAIT);
    await store.close();
    // The thread closed its connection first, so the store's was the last and removed the log.
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('a process that only reads never starts a thread', async () => {
    const path = join(tempDir(), 'quiet.db');
    const writer = await open(path);
    await write(writer, 12_000);
    await writer.close();
    const reader = await open(path);
    const size = statSync(path).size;
    for (let i = 0; i < 20; i++) {
      await reader.queues.listQueues();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(autocheckpoint(reader)).toBe(1000);
    expect(statSync(path).size).toBe(size);
    await reader.close();
  });

  it('stores sharing a file share the thread; it stops with the last of them', async () => {
    const path = join(tempDir(), 'shared.db');
    const a = await open(path);
    const b = await open(path);
    await write(a, 12_000);
    await vi.waitFor(() => expect(autocheckpoint(b)).toBe(10_000), WAIT);
    expect(autocheckpoint(a)).toBe(10_000);
    await a.close();
    // Still running for b: its writes are copied back without a commit checkpointing.
    const before = statSync(path).size;
    await write(b, 12_000);
    await vi.waitFor(() => expect(statSync(path).size).toBeGreaterThan(before + 1_000_000), WAIT);
    await b.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
    // A store opened on the file afterwards starts from SQLite's default again.
    const c = await open(path);
    expect(autocheckpoint(c)).toBe(1000);
    await c.close();
  });
});
