// The store.runs contract, on both backends: upserts that never rewrite a finished
// run, one winner per start, cancellation in every state, newest-first paging with
// filters, log lines (also before their run is written) and retention in batches.

import { describe, expect, it } from 'vitest';
import { type NewLogLine, newRunId, type RunWrite, runIdPrefix } from '../../src/store/run-row.ts';
import type { Store } from '../../src/store/types.ts';
import { BACKENDS } from '../helpers/backends.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');

function run(overrides: Partial<RunWrite> = {}): RunWrite {
  const createdAtMs = overrides.createdAtMs ?? T0;
  return {
    id: newRunId(createdAtMs),
    functionName: 'f',
    invocationId: 'inv-1',
    attempt: 1,
    status: 'queued',
    triggerKind: 'manual',
    trigger: '{"kind":"manual"}',
    input: '{"x":1}',
    scheduledForMs: null,
    createdAtMs,
    startedAtMs: null,
    finishedAtMs: null,
    result: null,
    error: null,
    owner: null,
    logCount: 0,
    ...overrides,
  };
}

function line(runId: string, seq: number, overrides: Partial<NewLogLine> = {}): NewLogLine {
  return {
    runId,
    functionName: 'f',
    seq,
    atMs: T0 + seq,
    level: 30,
    msg: `line ${seq}`,
    fields: seq % 2 === 0 ? '{"even":true}' : null,
    ...overrides,
  };
}

const ERR = '{"name":"CancelledError","message":"cancelled"}';

const CASES = BACKENDS.map((b) => ({ ...b, label: b.name }));

/** A one-message queue run's only write: the store keeps it as a narrow record. */
function queueRun(messageId: number, attempt: number, overrides: Partial<RunWrite> = {}): RunWrite {
  const sentAtMs = overrides.createdAtMs ?? T0;
  const invocationId = `${runIdPrefix(sentAtMs)}m${messageId.toString(36)}`;
  const startedAtMs = sentAtMs + 10;
  return {
    id: `${invocationId}-${attempt}`,
    functionName: 'f',
    invocationId,
    attempt,
    status: 'succeeded',
    triggerKind: 'queue',
    trigger: JSON.stringify({ kind: 'queue', queue: 'jobs', messageIds: [String(messageId)] }),
    input: null,
    scheduledForMs: null,
    startedAtMs,
    finishedAtMs: startedAtMs + 5,
    result: null,
    error: null,
    owner: 'host-1',
    logCount: 0,
    source: { functionName: 'f', queue: 'jobs', rule: null, owner: 'host-1' },
    ...overrides,
    createdAtMs: startedAtMs,
  };
}

/** A write as the store reads it back: every column of a run, no `source`. */
function asRow({ source: _, ...r }: RunWrite) {
  return { ...r, cancelRequestedAtMs: null };
}

describe.each(CASES)('store.runs on $label', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_('inserts a run and reads it back with every column', async () => {
    const store = await backend.open();
    const r = run({ scheduledForMs: T0 + 5, owner: 'w1', logCount: 2 });
    await store.runs.write([r]);
    expect(await store.runs.get(r.id)).toEqual({ ...r, cancelRequestedAtMs: null });
    expect(await store.runs.get('nope')).toBeNull();
    await store.runs.write([]);
  });

  it_('updates a queued or running run in full but never rewrites a finished one', async () => {
    const store = await backend.open();
    const r = run();
    await store.runs.write([r]);
    const running = { ...r, status: 'running' as const, startedAtMs: T0 + 1, owner: 'w1', logCount: 99 };
    await store.runs.write([running]);
    // log_count: the larger of the store's and the writer's.
    expect(await store.runs.get(r.id)).toEqual({ ...running, cancelRequestedAtMs: null });
    const done = { ...running, status: 'succeeded' as const, finishedAtMs: T0 + 2, result: '{"ok":1}' };
    await store.runs.write([done]);
    await store.runs.write([{ ...running, status: 'failed', error: '{"x":1}', finishedAtMs: T0 + 3 }]);
    await store.runs.write([{ ...r }]);
    expect(await store.runs.get(r.id)).toEqual({ ...done, cancelRequestedAtMs: null });
  });

  it_('reads a one-message queue run’s narrow record back as the run it was written as', async () => {
    const store = await backend.open();
    const ok = queueRun(5, 1);
    const failed = queueRun(1234567, 3, {
      status: 'failed',
      error: '{"name":"Error","message":"boom \\"quoted\\""}',
      createdAtMs: T0 + 1000,
    });
    const event = queueRun(36, 1, {
      triggerKind: 'event',
      trigger: JSON.stringify({ kind: 'event', rule: 'on "order"', queue: 'rule.x', messageIds: ['36'] }),
      source: { functionName: 'f', queue: 'rule.x', rule: 'on "order"', owner: 'host-1' },
      result: '{"sent":true}',
      createdAtMs: T0 + 2000,
    });
    // A result with what array and JSON encodings escape: quotes, backslashes, braces, commas, a
    // newline (as JSON writes it), the word NULL, and characters beyond ASCII.
    const tricky = queueRun(77, 1, {
      result: JSON.stringify({ s: 'a,b{c}"d\\e\nf', n: 'NULL', u: 'é 😀 \u2028', empty: '' }),
      createdAtMs: T0 + 3000,
    });
    await store.runs.write([ok, failed, event, tricky]);
    for (const r of [ok, failed, event, tricky]) {
      const got = await store.runs.get(r.id);
      expect(got).toEqual(asRow(r));
      expect(JSON.parse(got!.trigger)).toEqual(JSON.parse(r.trigger));
      expect(got!.trigger).toBe(r.trigger);
    }
    // Written once: a write retried after a lost connection leaves the record as it was.
    await store.runs.write([{ ...ok, status: 'failed' }]);
    expect(await store.runs.get(ok.id)).toEqual(asRow(ok));
    // Finished: cancelling it changes nothing.
    expect(await store.runs.cancel(ok.id, ERR, T0 + 9)).toEqual(asRow(ok));
  });

  it_('lists runs and narrow queue run records as one history, newest first', async () => {
    const store = await backend.open();
    const rows: RunWrite[] = [];
    for (let i = 0; i < 12; i++) {
      const createdAtMs = T0 + i * 1000;
      rows.push(
        i % 3 === 0
          ? run({ createdAtMs, status: 'failed', error: `{"message":"manual ${i}"}` })
          : queueRun(100 + i, 1 + (i % 2), {
              createdAtMs,
              ...(i % 4 === 1 ? { status: 'timed_out' as const, error: `{"message":"slow ${i}"}` } : {}),
            }),
      );
    }
    await store.runs.write(rows);
    const newestFirst = [...rows].sort((a, b) => (a.id < b.id ? 1 : -1)).map(asRow);
    expect(await store.runs.list({ limit: 100 })).toEqual(newestFirst);
    // Paging walks both kinds by id.
    const page1 = await store.runs.list({ limit: 5 });
    const page2 = await store.runs.list({ limit: 5, beforeId: page1.at(-1)!.id });
    const page3 = await store.runs.list({ limit: 5, beforeId: page2.at(-1)!.id });
    expect([...page1, ...page2, ...page3]).toEqual(newestFirst);
    const ids = (f: Omit<Parameters<Store['runs']['list']>[0], 'limit'>) =>
      store.runs.list({ limit: 100, ...f }).then((rs) => rs.map((r) => r.id));
    const expected = (pick: (r: RunWrite) => boolean) => newestFirst.filter(pick).map((r) => r.id);
    expect(await ids({ triggerKind: 'queue' })).toEqual(expected((r) => r.triggerKind === 'queue'));
    expect(await ids({ statuses: ['failed', 'timed_out'] })).toEqual(
      expected((r) => r.status === 'failed' || r.status === 'timed_out'),
    );
    expect(await ids({ status: 'succeeded', functionName: 'f' })).toEqual(
      expected((r) => r.status === 'succeeded'),
    );
    expect(await ids({ functionName: 'g' })).toEqual([]);
    expect(await ids({ invocationId: rows[4]!.invocationId })).toEqual([rows[4]!.id]);
    expect(await ids({ search: 'SLOW 5' })).toEqual([rows[5]!.id]);
    expect(await ids({ fromMs: rows[4]!.createdAtMs, toMs: rows[8]!.createdAtMs })).toEqual(
      expected((r) => r.createdAtMs >= rows[4]!.createdAtMs && r.createdAtMs < rows[8]!.createdAtMs),
    );
    const buckets = await store.runs.countByBucket(T0, 6000);
    const count = (bucket: number, status: string) =>
      buckets.find((b) => b.bucket === bucket && b.status === status)?.count ?? 0;
    expect(count(0, 'failed') + count(1, 'failed')).toBe(4);
    expect(
      count(0, 'succeeded') + count(1, 'succeeded') + count(1, 'timed_out') + count(0, 'timed_out'),
    ).toBe(8);
    // Log lines of a narrow record count on it and are found by search; retention takes both kinds.
    const q = rows[2]!;
    await store.runs.appendLogs([line(q.id, 1, { msg: 'charged card 4242' })]);
    expect(await store.runs.get(q.id)).toMatchObject({ logCount: 1 });
    expect(await ids({ search: 'card 4242' })).toEqual([q.id]);
    expect(await store.runs.deleteFinishedBefore(runIdPrefix(T0 + 6000), 100)).toBe(6);
    expect(await store.runs.get(q.id)).toBeNull();
    expect(await store.runs.logs(q.id, 0, 10)).toEqual([]);
    expect(await store.runs.list({ limit: 100 })).toEqual(newestFirst.slice(0, 6));
  });

  it_('applies writes of one run in order inside a large batch too', async () => {
    const store = await backend.open();
    const many = Array.from({ length: 120 }, () => run());
    const target = many[3]!;
    const batch: RunWrite[] = [...many];
    batch.splice(10, 0, { ...target, status: 'running', startedAtMs: T0 });
    batch.splice(20, 0, { ...target, status: 'succeeded', startedAtMs: T0, finishedAtMs: T0 + 1 });
    batch.splice(30, 0, { ...target, status: 'failed', startedAtMs: T0, finishedAtMs: T0 + 2 });
    await store.runs.write(batch);
    expect(await store.runs.get(target.id)).toMatchObject({ status: 'succeeded', finishedAtMs: T0 + 1 });
    expect(await store.runs.get(many[119]!.id)).toMatchObject({ status: 'queued' });
  });

  it_(
    'stores every column of every run of a large batch (runs sharing function, status, kind and owner)',
    async () => {
      const store = await backend.open();
      const full = (i: number, owner: string): RunWrite =>
        run({
          functionName: owner === 'w1' ? 'f' : 'g',
          invocationId: `inv-${i}`,
          attempt: 1 + (i % 4),
          status: 'failed',
          triggerKind: 'queue',
          trigger: `{"kind":"queue","queue":"q","messageIds":["${i}"]}`,
          input: `{"i":${i}}`,
          scheduledForMs: T0 + 3 * i,
          createdAtMs: T0 + 5 * i,
          startedAtMs: T0 + 7 * i,
          finishedAtMs: T0 + 11 * i,
          result: `"r${i}"`,
          error: `{"message":"e${i}"}`,
          owner,
          logCount: i,
        });
      // 130 of one kind (two full statements and 30 alone), then 70 of another interleaved with a third.
      const batch = [
        ...Array.from({ length: 130 }, (_, i) => full(i, 'w1')),
        ...Array.from({ length: 70 }, (_, i) => full(1000 + i, i % 7 === 0 ? 'w3' : 'w2')),
      ];
      await store.runs.write(batch);
      for (const r of batch) expect(await store.runs.get(r.id)).toEqual({ ...r, cancelRequestedAtMs: null });
    },
  );

  it_('keeps text holding tabs, line breaks and backslashes as it was, in a batch believed new', async () => {
    const store = await backend.open();
    const odd = ['a\tb', 'line\nnext', 'cr\r', 'back\\slash \\N', '\\', 'ünï\u00a0cödé ✓', ''];
    const runs = odd.map((text, i) =>
      run({
        status: 'failed',
        invocationId: `inv-${i}`,
        error: text,
        result: JSON.stringify(text),
        owner: text,
      }),
    );
    await store.runs.write(runs);
    for (const r of runs) expect(await store.runs.get(r.id)).toEqual({ ...r, cancelRequestedAtMs: null });
  });

  it_('applies a batch that writes the same run several times in order', async () => {
    const store = await backend.open();
    const a = run();
    const b = run();
    await store.runs.write([b]);
    await store.runs.start([b.id], 'w', T0 + 1);
    await store.runs.write([
      a,
      { ...a, status: 'running', startedAtMs: T0 + 1, owner: 'w' },
      { ...a, status: 'succeeded', startedAtMs: T0 + 1, finishedAtMs: T0 + 2, owner: 'w', result: '1' },
      { ...a, status: 'running', startedAtMs: T0 + 9, owner: 'late' },
      { ...b, status: 'running', startedAtMs: T0 + 1, owner: 'w' },
      { ...b, status: 'failed', startedAtMs: T0 + 1, finishedAtMs: T0 + 3, owner: 'w', error: '2' },
    ]);
    expect(await store.runs.get(a.id)).toMatchObject({ status: 'succeeded', owner: 'w', result: '1' });
    expect(await store.runs.get(b.id)).toMatchObject({ status: 'failed', finishedAtMs: T0 + 3, error: '2' });
  });

  it_('keeps a cancellation request across writes of the running run', async () => {
    const store = await backend.open();
    const r = run();
    await store.runs.write([r]);
    await store.runs.start([r.id], 'w1', T0 + 1);
    await store.runs.cancel(r.id, ERR, T0 + 2);
    await store.runs.write([{ ...r, status: 'running', startedAtMs: T0 + 1, owner: 'w1' }]);
    expect(await store.runs.get(r.id)).toMatchObject({ status: 'running', cancelRequestedAtMs: T0 + 2 });
  });

  it_('writes 5,000 runs in one call and updates them all in another', async () => {
    const store = await backend.open();
    const runs = Array.from({ length: 5000 }, (_, i) =>
      run({ createdAtMs: T0 + i, invocationId: `inv-${i}`, input: i % 3 === 0 ? null : `{"i":${i}}` }),
    );
    await store.runs.write(runs);
    await store.runs.write(
      runs.map((r) => ({ ...r, status: 'running', startedAtMs: T0 + 10_000, owner: 'w' })),
    );
    expect(await store.runs.list({ limit: 10_000, status: 'running' })).toHaveLength(5000);
    expect(await store.runs.get(runs[4321]!.id)).toMatchObject({ status: 'running', input: '{"i":4321}' });
    expect(await store.runs.get(runs[4320]!.id)).toMatchObject({ input: null });
  });

  it_('starts a queued run once: the second start leaves it out', async () => {
    const store = await backend.open();
    const r = run();
    await store.runs.write([r]);
    expect(await store.runs.start([r.id], 'w1', T0 + 10)).toMatchObject([
      { id: r.id, status: 'running', startedAtMs: T0 + 10, owner: 'w1' },
    ]);
    expect(await store.runs.start([r.id], 'w2', T0 + 11)).toEqual([]);
    expect(await store.runs.start(['unknown'], 'w2', T0 + 11)).toEqual([]);
    expect(await store.runs.get(r.id)).toMatchObject({ owner: 'w1', startedAtMs: T0 + 10 });
  });

  it_('starts the queued runs of a batch in one call and leaves the others out', async () => {
    const store = await backend.open();
    const [a, b, c] = [run(), run(), run()];
    await store.runs.write([a, b, c]);
    await store.runs.cancel(b.id, ERR, T0 + 1);
    const started = await store.runs.start([a.id, b.id, c.id, 'unknown'], 'w1', T0 + 10);
    expect(started.map((x) => x.id).sort()).toEqual([a.id, c.id].sort());
    expect(started.every((x) => x.status === 'running' && x.owner === 'w1')).toBe(true);
    expect(await store.runs.get(b.id)).toMatchObject({ status: 'cancelled' });
  });

  it_('lets exactly one of two concurrent starts (separate store instances) win', async () => {
    const url = backend.freshUrl();
    const a = await backend.open({ url, poolSize: 2 });
    const b = await backend.open({ url, poolSize: 2 });
    for (let i = 0; i < 20; i++) {
      const r = run();
      await a.runs.write([r]);
      const [x, y] = await Promise.all([a.runs.start([r.id], 'a', T0), b.runs.start([r.id], 'b', T0)]);
      expect([...x, ...y]).toHaveLength(1);
      expect((await a.runs.get(r.id))?.owner).toBe([...x, ...y][0]?.owner);
    }
  });

  it_('does not start a cancelled run', async () => {
    const store = await backend.open();
    const r = run();
    await store.runs.write([r]);
    await store.runs.cancel(r.id, ERR, T0 + 1);
    expect(await store.runs.start([r.id], 'w', T0 + 2)).toEqual([]);
  });

  it_('cancels a queued run at once', async () => {
    const store = await backend.open();
    const r = run();
    await store.runs.write([r]);
    expect(await store.runs.cancel(r.id, ERR, T0 + 5)).toMatchObject({
      status: 'cancelled',
      finishedAtMs: T0 + 5,
      error: ERR,
      cancelRequestedAtMs: null,
    });
    // Finished now: a second cancel and a stale write change nothing.
    expect(await store.runs.cancel(r.id, '{"other":1}', T0 + 6)).toMatchObject({
      status: 'cancelled',
      finishedAtMs: T0 + 5,
      error: ERR,
    });
    await store.runs.write([{ ...r, status: 'running', owner: 'w' }]);
    expect(await store.runs.get(r.id)).toMatchObject({ status: 'cancelled', owner: null });
  });

  it_('asks a running run to cancel and keeps the first request time', async () => {
    const store = await backend.open();
    const r = run();
    const other = run();
    await store.runs.write([r, other]);
    await store.runs.start([r.id], 'w', T0 + 1);
    await store.runs.start([other.id], 'w', T0 + 1);
    expect(await store.runs.cancelRequested([r.id, other.id])).toEqual([]);
    expect(await store.runs.cancel(r.id, ERR, T0 + 5)).toMatchObject({
      status: 'running',
      cancelRequestedAtMs: T0 + 5,
      finishedAtMs: null,
      error: null,
    });
    expect(await store.runs.cancel(r.id, ERR, T0 + 9)).toMatchObject({ cancelRequestedAtMs: T0 + 5 });
    expect(await store.runs.cancelRequested([r.id, other.id, 'unknown'])).toEqual([r.id]);
    expect(await store.runs.cancelRequested([])).toEqual([]);
    // Once the run has finished it is no longer "requested".
    await store.runs.write([
      { ...r, status: 'cancelled', startedAtMs: T0 + 1, finishedAtMs: T0 + 6, error: ERR },
    ]);
    expect(await store.runs.cancelRequested([r.id])).toEqual([]);
    expect(await store.runs.get(r.id)).toMatchObject({ status: 'cancelled', cancelRequestedAtMs: T0 + 5 });
  });

  it_('leaves a finished run as it was on cancel, and returns null for an unknown one', async () => {
    const store = await backend.open();
    const r = run({ status: 'succeeded', startedAtMs: T0, finishedAtMs: T0 + 1, result: '"ok"', owner: 'w' });
    await store.runs.write([r]);
    expect(await store.runs.cancel(r.id, ERR, T0 + 5)).toEqual({ ...r, cancelRequestedAtMs: null });
    expect(await store.runs.cancel('unknown', ERR, T0 + 5)).toBeNull();
  });

  it_('fails the abandoned running attempts before a given attempt of an invocation', async () => {
    const store = await backend.open();
    // Attempt ids are `<invocation id>-<attempt>` (see attemptRunId).
    const inv1 = `${runIdPrefix(T0)}aaaaaaaaaaaa`;
    const inv2 = `${runIdPrefix(T0)}aaaaaaaaaaab`;
    const inv3 = `${inv1}x`;
    const a1 = run({
      id: `${inv1}-1`,
      invocationId: inv1,
      attempt: 1,
      status: 'running',
      startedAtMs: T0,
      owner: 'dead',
    });
    const a2 = run({
      id: `${inv1}-2`,
      invocationId: inv1,
      attempt: 2,
      status: 'running',
      startedAtMs: T0,
      owner: 'dead',
    });
    const a3 = run({
      id: `${inv1}-3`,
      invocationId: inv1,
      attempt: 3,
      status: 'running',
      startedAtMs: T0,
      owner: 'live',
    });
    const done = run({
      id: `${inv2}-1`,
      attempt: 1,
      status: 'failed',
      finishedAtMs: T0,
      error: '"old"',
      invocationId: inv2,
    });
    const otherInv = run({ id: `${inv3}-1`, attempt: 1, status: 'running', invocationId: inv3 });
    const q = run({ id: `${inv2}-2`, attempt: 2, status: 'queued', invocationId: inv2 });
    await store.runs.write([a1, a2, a3, done, otherInv, q]);
    expect(await store.runs.failAbandoned(inv1, 3, '"abandoned"', T0 + 50)).toBe(2);
    for (const r of [a1, a2])
      expect(await store.runs.get(r.id)).toMatchObject({
        status: 'failed',
        finishedAtMs: T0 + 50,
        error: '"abandoned"',
      });
    expect(await store.runs.get(a3.id)).toMatchObject({ status: 'running' });
    expect(await store.runs.failAbandoned(inv2, 5, '"abandoned"', T0 + 50)).toBe(0);
    expect(await store.runs.get(done.id)).toMatchObject({ status: 'failed', error: '"old"' });
    expect(await store.runs.get(q.id)).toMatchObject({ status: 'queued' });
    expect(await store.runs.get(otherInv.id)).toMatchObject({ status: 'running' });
  });

  describe('list', () => {
    // 25 runs a second apart; every 3rd of function g, every 4th failed, every 5th from a schedule.
    async function seed(store: Store): Promise<RunWrite[]> {
      const runs = Array.from({ length: 25 }, (_, i) =>
        run({
          createdAtMs: T0 + i * 1000,
          functionName: i % 3 === 0 ? 'g' : 'f',
          status: i % 4 === 0 ? 'failed' : 'succeeded',
          triggerKind: i % 5 === 0 ? 'schedule' : 'manual',
          invocationId: `inv-${i}`,
        }),
      );
      // Written out of order: list orders by id, not insertion.
      await store.runs.write([...runs].reverse().slice(0, 10));
      await store.runs.write(runs);
      return runs;
    }

    async function pageAll(store: Store, filter: Omit<Parameters<Store['runs']['list']>[0], 'limit'>) {
      const seen: string[] = [];
      let beforeId: string | undefined;
      for (;;) {
        const page = await store.runs.list({ ...filter, limit: 4, ...(beforeId ? { beforeId } : {}) });
        seen.push(...page.map((r) => r.id));
        if (page.length < 4) return seen;
        beforeId = page[page.length - 1]!.id;
      }
    }

    it_('pages newest first with beforeId over every run', async () => {
      const store = await backend.open();
      const runs = await seed(store);
      const newestFirst = runs.map((r) => r.id).reverse();
      expect(await pageAll(store, {})).toEqual(newestFirst);
      expect((await store.runs.list({ limit: 3 })).map((r) => r.id)).toEqual(newestFirst.slice(0, 3));
    });

    it_('pages with filters by function, status, trigger kind and creation time', async () => {
      const store = await backend.open();
      const runs = await seed(store);
      const expectIds = (pred: (r: RunWrite, i: number) => boolean) =>
        runs
          .filter(pred)
          .map((r) => r.id)
          .reverse();
      expect(await pageAll(store, { functionName: 'g' })).toEqual(expectIds((r) => r.functionName === 'g'));
      expect(await pageAll(store, { status: 'failed' })).toEqual(expectIds((r) => r.status === 'failed'));
      expect(await pageAll(store, { triggerKind: 'schedule' })).toEqual(
        expectIds((r) => r.triggerKind === 'schedule'),
      );
      expect(await pageAll(store, { fromMs: T0 + 5000, toMs: T0 + 17_000 })).toEqual(
        expectIds((_, i) => i >= 5 && i < 17),
      );
      expect(
        await pageAll(store, {
          functionName: 'f',
          status: 'succeeded',
          triggerKind: 'manual',
          fromMs: T0 + 2000,
        }),
      ).toEqual(
        expectIds(
          (r, i) =>
            r.functionName === 'f' && r.status === 'succeeded' && r.triggerKind === 'manual' && i >= 2,
        ),
      );
      expect(await store.runs.list({ functionName: 'nobody', limit: 10 })).toEqual([]);
    });
  });

  describe('logs', () => {
    it_('appends lines, counts them on the run and reads them by seq', async () => {
      const store = await backend.open();
      const r = run();
      await store.runs.write([r]);
      await store.runs.appendLogs([line(r.id, 1), line(r.id, 2)]);
      await store.runs.appendLogs([line(r.id, 3)]);
      await store.runs.appendLogs([]);
      expect((await store.runs.get(r.id))?.logCount).toBe(3);
      const all = await store.runs.logs(r.id, 0, 10);
      expect(all.map((l) => ({ ...l, id: 0 }))).toEqual([1, 2, 3].map((s) => ({ ...line(r.id, s), id: 0 })));
      expect(all[0]!.id).toBeLessThan(all[1]!.id);
      expect((await store.runs.logs(r.id, 1, 1)).map((l) => l.seq)).toEqual([2]);
      expect(await store.runs.logs(r.id, 3, 10)).toEqual([]);
    });

    it_('stores a repeated (run, seq) once and counts it once', async () => {
      const store = await backend.open();
      const r = run();
      await store.runs.write([r]);
      await store.runs.appendLogs([line(r.id, 1), line(r.id, 2)]);
      await store.runs.appendLogs([line(r.id, 2, { msg: 'again' }), line(r.id, 3), line(r.id, 3)]);
      expect((await store.runs.get(r.id))?.logCount).toBe(3);
      expect((await store.runs.logs(r.id, 0, 10)).map((l) => l.msg)).toEqual(['line 1', 'line 2', 'line 3']);
    });

    it_('keeps lines appended before the run row, counted by the writer, and the larger count', async () => {
      const store = await backend.open();
      const r = run();
      await store.runs.appendLogs([line(r.id, 1), line(r.id, 2)]);
      expect(await store.runs.get(r.id)).toBeNull();
      expect(await store.runs.logs(r.id, 0, 10)).toHaveLength(2);
      await store.runs.write([{ ...r, status: 'running', startedAtMs: T0, owner: 'w', logCount: 2 }]);
      expect((await store.runs.get(r.id))?.logCount).toBe(2);
      await store.runs.appendLogs([line(r.id, 3)]);
      expect((await store.runs.get(r.id))?.logCount).toBe(3);
      // A writer that counted fewer (its running row went out before some lines) lowers nothing.
      await store.runs.write([
        { ...r, status: 'succeeded', startedAtMs: T0, finishedAtMs: T0 + 1, logCount: 1 },
      ]);
      expect((await store.runs.get(r.id))?.logCount).toBe(3);
    });

    it_('follows every run of a function by line id, from a time', async () => {
      const store = await backend.open();
      const a = run();
      const b = run();
      const other = run({ functionName: 'g' });
      await store.runs.write([a, b, other]);
      await store.runs.appendLogs([line(a.id, 1), line(other.id, 1, { functionName: 'g' }), line(b.id, 1)]);
      await store.runs.appendLogs([line(a.id, 2), line(b.id, 2)]);
      const all = await store.runs.functionLogs('f', 0, 0, 100);
      expect(all.map((l) => `${l.runId === a.id ? 'a' : 'b'}${l.seq}`)).toEqual(['a1', 'b1', 'a2', 'b2']);
      const after = await store.runs.functionLogs('f', all[1]!.id, 0, 1);
      expect(after.map((l) => l.id)).toEqual([all[2]!.id]);
      expect((await store.runs.functionLogs('f', 0, T0 + 2, 100)).map((l) => l.seq)).toEqual([2, 2]);
      expect(await store.runs.functionLogs('g', 0, 0, 100)).toHaveLength(1);
    });
  });

  describe('deleteFinishedBefore', () => {
    it_(
      'deletes the oldest finished runs before the cutoff with their logs, in bounded batches',
      async () => {
        const store = await backend.open();
        const old = (i: number, overrides: Partial<RunWrite>) =>
          run({ createdAtMs: T0 + i * 1000, ...overrides });
        const done = [0, 1, 2, 3].map((i) =>
          old(i, {
            status: (['succeeded', 'failed', 'timed_out', 'cancelled'] as const)[i]!,
            finishedAtMs: T0,
          }),
        );
        const running = old(4, { status: 'running', startedAtMs: T0 });
        const queued = old(5, { status: 'queued' });
        const newer = run({ createdAtMs: T0 + 60_000, status: 'succeeded', finishedAtMs: T0 + 60_000 });
        await store.runs.write([...done, running, queued, newer]);
        await store.runs.appendLogs([...done, running, newer].flatMap((r) => [line(r.id, 1), line(r.id, 2)]));
        const cutoff = runIdPrefix(T0 + 30_000);

        expect(await store.runs.deleteFinishedBefore(cutoff, 3)).toBe(3);
        for (const r of done.slice(0, 3)) {
          expect(await store.runs.get(r.id)).toBeNull();
          expect(await store.runs.logs(r.id, 0, 10)).toEqual([]);
        }
        expect(await store.runs.get(done[3]!.id)).not.toBeNull();
        expect(await store.runs.deleteFinishedBefore(cutoff, 3)).toBe(1);
        expect(await store.runs.deleteFinishedBefore(cutoff, 3)).toBe(0);

        expect(await store.runs.get(done[3]!.id)).toBeNull();
        expect(await store.runs.logs(done[3]!.id, 0, 10)).toEqual([]);
        expect(await store.runs.get(running.id)).toMatchObject({ status: 'running', logCount: 2 });
        expect(await store.runs.logs(running.id, 0, 10)).toHaveLength(2);
        expect(await store.runs.get(queued.id)).toMatchObject({ status: 'queued' });
        expect(await store.runs.get(newer.id)).toMatchObject({ status: 'succeeded' });
        expect(await store.runs.logs(newer.id, 0, 10)).toHaveLength(2);
        expect((await store.runs.functionLogs('f', 0, 0, 100)).map((l) => l.runId).sort()).toEqual(
          [running.id, running.id, newer.id, newer.id].sort(),
        );
      },
    );
  });
});
