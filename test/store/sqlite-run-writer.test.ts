// Run records and log lines move to a writer thread once a process writes to an SQLite
// file in earnest. Changes made through another connection do not count in a connection's
// total_changes(), so the store's own connection shows whether the thread wrote them.
// (The whole store.runs contract also runs on the thread: see runs.test.ts.)

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { openStore } from '../../src/store/open.ts';
import { type NewLogLine, newRunId, type RunWrite } from '../../src/store/run-row.ts';
import { acquireFile, releaseFile } from '../../src/store/sqlite/run-writer.ts';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { SQLITE_RUN_WRITER, tempDir } from '../helpers/backends.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const WAIT = { timeout: 10_000, interval: 20 };

function run(i: number, overrides: Partial<RunWrite> = {}): RunWrite {
  return {
    id: newRunId(T0 + i),
    functionName: 'f',
    invocationId: `inv-${i}`,
    attempt: 1,
    status: 'succeeded',
    triggerKind: 'queue',
    trigger: `{"kind":"queue","queue":"q","messageIds":["${i}"]}`,
    input: null,
    scheduledForMs: null,
    createdAtMs: T0 + i,
    startedAtMs: T0 + i + 1,
    finishedAtMs: T0 + i + 2,
    result: null,
    error: null,
    owner: 'w1',
    logCount: 0,
    ...overrides,
  };
}

function line(runId: string, seq: number, msg: string): NewLogLine {
  return { runId, functionName: 'f', seq, atMs: T0 + seq, level: 30, msg, fields: null };
}

function changes(store: SqliteStore): number {
  return (store.db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
}

async function count(store: SqliteStore): Promise<number> {
  return (store.db.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n;
}

async function open(url?: string): Promise<SqliteStore> {
  return (await SQLITE_RUN_WRITER.open(url ? { url } : {})) as SqliteStore;
}

describe('SQLite run writer thread', () => {
  it('writes run records and log lines on its own connection, every value intact', async () => {
    const store = await open();
    const before = changes(store);
    const runs = Array.from({ length: 230 }, (_, i) =>
      run(i, i % 3 === 0 ? { attempt: 2, result: `${i}` } : {}),
    );
    await store.runs.write(runs, { fresh: true });
    await store.runs.appendLogs(runs.slice(0, 40).map((r, i) => line(r.id, 1, `line ${i}`)));
    expect(changes(store)).toBe(before);
    expect(await count(store)).toBe(230);
    for (const r of runs.slice(0, 40)) {
      expect(await store.runs.get(r.id)).toEqual({ ...r, logCount: 1, cancelRequestedAtMs: null });
    }
    for (const r of runs.slice(40))
      expect(await store.runs.get(r.id)).toEqual({ ...r, cancelRequestedAtMs: null });
  });

  it('keeps values holding its separator or NUL, and empty ones, as they were', async () => {
    const store = await open();
    const odd = ['a\u001fb', '\u0000', '', '\u001f', 'x\u0000y'];
    const runs = odd.map((error, i) => run(i, { status: 'failed', error, result: i === 0 ? '' : null }));
    // Numbers and nulls mixed in one column, and a column of a single value.
    runs.push(run(10, { startedAtMs: null, finishedAtMs: null, status: 'queued' }));
    await store.runs.write(runs);
    for (const r of runs) expect(await store.runs.get(r.id)).toEqual({ ...r, cancelRequestedAtMs: null });
    await store.runs.appendLogs(odd.map((msg, i) => line(runs[0]!.id, i + 1, msg)));
    expect((await store.runs.logs(runs[0]!.id, 0, 10)).map((l) => l.msg)).toEqual(odd);
  });

  it('shares the file with the main thread: writes on both sides all land while it works', async () => {
    const store = await open();
    await store.queues.upsertQueue('q', {}, 0);
    const runs = Array.from({ length: 20_000 }, (_, i) => run(i));
    const writing = store.runs.write(runs, { fresh: true });
    let sent = 0;
    for (let i = 0; i < 200; i++) {
      const ids = await store.queues.send(
        'q',
        [{ body: `{"i":${i}}`, priority: 0, visibleAtMs: 0, groupId: null, dedupKey: null }],
        T0,
        0,
      );
      sent += ids.length;
      await new Promise((r) => setImmediate(r));
    }
    await writing;
    expect(sent).toBe(200);
    expect(await count(store)).toBe(20_000);
    expect((store.db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n).toBe(200);
  });

  it('writes what was queued before its store closes', async () => {
    const store = await open();
    const url = store.url;
    const runs = Array.from({ length: 3000 }, (_, i) => run(i));
    const writes = [store.runs.write(runs.slice(0, 1500)), store.runs.write(runs.slice(1500))];
    await store.close();
    await Promise.all(writes);
    const path = url.slice('sqlite:'.length);
    expect(existsSync(`${path}-wal`)).toBe(false);
    const again = (await openStore(url)) as SqliteStore;
    expect(await count(again)).toBe(3000);
    await again.close();
  });

  it('leaves the write lock off in a process that records no runs', async () => {
    const path = join(tempDir(), 'quiet.db');
    const store = (await openStore(`sqlite:${path}`)) as SqliteStore;
    await store.queues.upsertQueue('q', {}, 0);
    const body = '{}';
    const messages = Array.from({ length: 12_000 }, () => ({
      body,
      priority: 0,
      visibleAtMs: 0,
      groupId: null,
      dedupKey: null,
    }));
    await store.queues.send('q', messages, T0, 0);
    const lock = acquireFile(path);
    try {
      // The file is busy once checkpoints have moved to their thread; the writer thread starts
      // then too, but nothing turns the lock on until a run is written.
      await vi.waitFor(() => {
        const { wal_autocheckpoint } = store.db.prepare('PRAGMA wal_autocheckpoint').get() as {
          wal_autocheckpoint: number;
        };
        expect(wal_autocheckpoint).toBe(10_000);
      }, WAIT);
      for (let i = 0; i < 20; i++) await store.queues.send('q', messages.slice(0, 10), T0, 0);
      expect(lock.active).toBe(false);
      let i = 0;
      await vi.waitFor(async () => {
        await store.runs.write([run(i++)]);
        expect(lock.active).toBe(true);
      }, WAIT);
    } finally {
      await releaseFile(path);
    }
    await store.close();
  });
});
