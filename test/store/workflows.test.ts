// The store.workflows contract, on both backends: idempotent starts, claims through the due
// index (each execution to one worker, also across store instances), checkpoints fenced by
// the lease token that count new journal entries, release and wake-ups, a finished child
// completing its parent's operation, callbacks, renewals, stops, listing and retention.

import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/types.ts';
import {
  type ExecutionRow,
  type NewExecution,
  type OpRow,
  WORKFLOW_CHANNEL,
} from '../../src/store/workflow-row.ts';
import { BACKENDS } from '../helpers/backends.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const LEASE = 30_000;

function execution(id: string, overrides: Partial<NewExecution> = {}): NewExecution {
  return {
    id,
    workflow: 'onboard',
    version: 'v1',
    input: `{"user":"${id}"}`,
    parentId: null,
    parentOp: null,
    timeoutAtMs: null,
    traceContext: null,
    ...overrides,
  };
}

function op(executionId: string, opId: string, overrides: Partial<OpRow> = {}): OpRow {
  return {
    executionId,
    opId,
    parentOpId: null,
    type: 'step',
    name: `step-${opId}`,
    status: 'succeeded',
    attempt: 1,
    result: `{"op":"${opId}"}`,
    error: null,
    startedAtMs: T0,
    finishedAtMs: T0 + 1,
    wakeAtMs: null,
    heartbeatAtMs: null,
    callbackId: null,
    childId: null,
    detail: null,
    updatedAtMs: T0 + 1,
    ...overrides,
  };
}

/** The row `start` stores for `e` at `nowMs`, with `seq`. */
function started(e: NewExecution, nowMs: number, seq: number): ExecutionRow {
  return {
    ...e,
    traceContext: e.traceContext ?? null,
    seq,
    status: 'running',
    output: null,
    error: null,
    progress: null,
    wait: null,
    dueAtMs: nowMs,
    leaseToken: null,
    leaseUntilMs: null,
    woken: false,
    opCount: 0,
    replays: 0,
    stopRequestedAtMs: null,
    createdAtMs: nowMs,
    startedAtMs: null,
    updatedAtMs: nowMs,
    finishedAtMs: null,
  };
}

/** Claims the one execution due first at `nowMs`; fails when there is none. */
async function claimOne(store: Store, nowMs: number): Promise<ExecutionRow> {
  const [row, ...rest] = await store.workflows.claim({ nowMs, leaseMs: LEASE, limit: 1 });
  expect(rest).toEqual([]);
  expect(row).toBeDefined();
  return row!;
}

/** Starts `e` at `nowMs` and claims it (it must be the earliest due). */
async function startLeased(store: Store, e: NewExecution, nowMs: number): Promise<ExecutionRow> {
  await store.workflows.start(e, nowMs);
  const row = await claimOne(store, nowMs);
  expect(row.id).toBe(e.id);
  return row;
}

/** Starts, claims and finishes `e` with `status` at `nowMs`. */
async function startFinished(
  store: Store,
  e: NewExecution,
  nowMs: number,
  status: 'succeeded' | 'failed' = 'succeeded',
): Promise<ExecutionRow> {
  const row = await startLeased(store, e, nowMs);
  const patch = status === 'succeeded' ? { status, output: '"ok"' } : { status, error: '{"message":"no"}' };
  expect(await store.workflows.checkpoint(e.id, row.leaseToken!, [], patch, nowMs)).toBe(true);
  return (await store.workflows.get(e.id))!;
}

/** Listens on WORKFLOW_CHANNEL; `received` resolves with the first payload equal to `want`. */
async function listenFor(store: Store, want: string): Promise<{ received: Promise<string> }> {
  const { promise, resolve } = Promise.withResolvers<string>();
  const unlisten = await store.listen(WORKFLOW_CHANNEL, (payload) => {
    if (payload === want) resolve(payload);
  });
  return { received: promise.finally(unlisten) };
}

describe.each(BACKENDS)('store.workflows on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  describe('start and read', () => {
    it_('creates a running execution due now, once per id', async () => {
      const store = await backend.open();
      const e = execution('a', { parentId: 'p', parentOp: '3', timeoutAtMs: T0 + 9_000 });
      const first = await store.workflows.start(e, T0);
      expect(first.created).toBe(true);
      expect(first.row).toEqual(started(e, T0, first.row.seq));
      const again = await store.workflows.start(execution('a', { workflow: 'other', input: '{}' }), T0 + 5);
      expect(again).toEqual({ row: first.row, created: false });
      expect(await store.workflows.get('a')).toEqual(first.row);
      expect(await store.workflows.get('nope')).toBeNull();
      const traced = execution('traced', { traceContext: '{"traceparent":"00-ab-cd-01"}' });
      const claimedTraced = (await store.workflows.start(traced, T0)).row;
      expect(claimedTraced.traceContext).toBe('{"traceparent":"00-ab-cd-01"}');
      expect((await store.workflows.get('traced'))!.traceContext).toBe('{"traceparent":"00-ab-cd-01"}');
      const second = await store.workflows.start(execution('b'), T0);
      expect(second.row.seq).toBeGreaterThan(first.row.seq);
    });

    it_('notifies workers when an execution starts and when one is woken', async () => {
      const store = await backend.open();
      const startWake = await listenFor(store, 'a');
      await store.workflows.start(execution('a'), T0);
      expect(await startWake.received).toBe('a');
      const row = await claimOne(store, T0);
      await store.workflows.checkpoint('a', row.leaseToken!, [], { release: { dueAtMs: null } }, T0);
      const wake = await listenFor(store, 'a');
      await store.workflows.wake('a', T0 + 10);
      expect(await wake.received).toBe('a');
    });
  });

  describe('claim', () => {
    it_('leases due executions earliest first, skipping future, leased and finished ones', async () => {
      const store = await backend.open();
      await store.workflows.start(execution('late'), T0 + 50);
      await store.workflows.start(execution('b'), T0 + 20);
      await store.workflows.start(execution('a'), T0 + 10);
      await store.workflows.start(execution('future'), T0 + 1_000);
      expect(await store.workflows.claim({ nowMs: T0 + 5, leaseMs: LEASE, limit: 10 })).toEqual([]);

      const now = T0 + 100;
      const claimed = await store.workflows.claim({ nowMs: now, leaseMs: LEASE, limit: 2 });
      expect(claimed.map((r) => r.id)).toEqual(['a', 'b']);
      for (const r of claimed) {
        expect(r).toMatchObject({
          status: 'running',
          leaseUntilMs: now + LEASE,
          dueAtMs: now + LEASE,
          woken: false,
          replays: 1,
          startedAtMs: now,
          updatedAtMs: now,
        });
        expect(r.leaseToken).toMatch(/^[0-9a-f-]{36}$/);
        expect(await store.workflows.get(r.id)).toEqual(r);
      }
      expect(claimed[0]!.leaseToken).not.toBe(claimed[1]!.leaseToken);

      // a and b are leased; late is next; future is not due.
      expect(
        (await store.workflows.claim({ nowMs: now, leaseMs: LEASE, limit: 10 })).map((r) => r.id),
      ).toEqual(['late']);
      expect(await store.workflows.claim({ nowMs: now + 1, leaseMs: LEASE, limit: 10 })).toEqual([]);

      // Finish a: it is never claimed again, even after b's lease has run out.
      await store.workflows.checkpoint('a', claimed[0]!.leaseToken!, [], { status: 'succeeded' }, now);
      const reclaimed = await store.workflows.claim({ nowMs: now + LEASE, leaseMs: LEASE, limit: 10 });
      // future (due T0 + 1000) first, then the two whose leases ended at once, by seq.
      expect(reclaimed.map((r) => r.id)).toEqual(['future', 'late', 'b']);
      // A second claim keeps the first start time and counts the replay, under a new token.
      expect(reclaimed[2]).toMatchObject({ startedAtMs: now, replays: 2, leaseUntilMs: now + 2 * LEASE });
      expect(reclaimed[2]!.leaseToken).not.toBe(claimed[1]!.leaseToken);
    });

    it_('a waiting execution that is claimed becomes running and its woken flag clears', async () => {
      const store = await backend.open();
      const row = await startLeased(store, execution('a'), T0);
      await store.workflows.checkpoint(
        'a',
        row.leaseToken!,
        [],
        { status: 'waiting', wait: '{"sleep":1}', release: { dueAtMs: T0 + 500 } },
        T0,
      );
      await store.workflows.wake('a', T0 + 100);
      expect(await store.workflows.get('a')).toMatchObject({
        status: 'waiting',
        woken: true,
        dueAtMs: T0 + 100,
      });
      const again = await claimOne(store, T0 + 100);
      expect(again).toMatchObject({ status: 'running', woken: false, replays: 2, wait: '{"sleep":1}' });
    });

    it_('two store instances claiming at once never lease the same execution', async () => {
      const url = backend.freshUrl();
      const a = await backend.open({ url, poolSize: 4 });
      const b = await backend.open({ url, poolSize: 4 });
      const owner = new Map<string, string>();
      for (let round = 0; round < 20; round++) {
        const now = T0 + round * 10 * LEASE;
        for (let i = 0; i < 6; i++) await a.workflows.start(execution(`r${round}-${i}`), now);
        const claims = await Promise.all(
          [a, b, a, b].map((s) => s.workflows.claim({ nowMs: now, leaseMs: LEASE, limit: 2 })),
        );
        const ids = claims.flat().map((r) => r.id);
        expect(new Set(ids).size).toBe(ids.length);
        // Each claimer's token is the one stored.
        for (const r of claims.flat()) {
          expect((await a.workflows.get(r.id))?.leaseToken).toBe(r.leaseToken);
          owner.set(r.id, r.leaseToken!);
        }
        // Leases of earlier rounds ran out: those executions may be claimed again, never twice.
        expect(ids.length).toBeGreaterThan(0);
      }
      expect(new Set(owner.values()).size).toBe(owner.size);
    });
  });

  describe('checkpoint', () => {
    it_('with a stale token writes nothing and returns false', async () => {
      const store = await backend.open();
      const first = await startLeased(store, execution('a'), T0);
      // The lease runs out and another worker claims it.
      const second = await claimOne(store, T0 + LEASE);
      expect(second.leaseToken).not.toBe(first.leaseToken);
      const before = await store.workflows.get('a');
      expect(
        await store.workflows.checkpoint(
          'a',
          first.leaseToken!,
          [op('a', '1')],
          { status: 'succeeded', output: '"x"', release: { dueAtMs: null } },
          T0 + LEASE + 1,
        ),
      ).toBe(false);
      expect(await store.workflows.get('a')).toEqual(before);
      expect(await store.workflows.ops('a')).toEqual([]);
      expect(await store.workflows.checkpoint('nope', first.leaseToken!, [], {}, T0)).toBe(false);
    });

    it_('upserts operations, counting only new ones, and applies the patch', async () => {
      const store = await backend.open();
      const row = await startLeased(store, execution('a'), T0);
      const token = row.leaseToken!;
      const o1 = op('a', '1', { startedAtMs: T0 + 1 });
      const o2 = op('a', '2', { startedAtMs: T0 + 2, status: 'waiting', result: null, finishedAtMs: null });
      expect(await store.workflows.checkpoint('a', token, [o1, o2], { progress: '{"pct":10}' }, T0 + 3)).toBe(
        true,
      );
      expect(await store.workflows.get('a')).toEqual({
        ...row,
        opCount: 2,
        progress: '{"pct":10}',
        updatedAtMs: T0 + 3,
      });

      // o2 again with every column changed, a new o3 twice (the last wins), and "10" (sorts before "2").
      const o2b: OpRow = {
        ...o2,
        parentOpId: '1',
        type: 'wait',
        name: 'renamed',
        status: 'failed',
        attempt: 3,
        result: '"r"',
        error: '"e"',
        startedAtMs: T0 + 2,
        finishedAtMs: T0 + 9,
        wakeAtMs: T0 + 10,
        heartbeatAtMs: T0 + 11,
        callbackId: 'cb-1',
        childId: 'child-1',
        detail: '{"d":1}',
        updatedAtMs: T0 + 12,
      };
      const o3 = op('a', '3', { startedAtMs: T0 + 5, name: 'first' });
      const o3b = op('a', '3', { startedAtMs: T0 + 5, name: 'second' });
      const o10 = op('a', '10', { startedAtMs: T0 + 2 });
      expect(
        await store.workflows.checkpoint('a', token, [o2b, o3, o10, o3b], { status: 'waiting' }, T0 + 20),
      ).toBe(true);
      expect(await store.workflows.ops('a')).toEqual([o1, o10, o2b, o3b]);
      // A claimed batch's journals in one read: each as ops() gives it, an unknown id empty.
      expect(await store.workflows.journals(['a', 'nope'])).toEqual(
        new Map([
          ['a', [o1, o10, o2b, o3b]],
          ['nope', []],
        ]),
      );
      const after = await store.workflows.get('a');
      expect(after).toEqual({
        ...row,
        status: 'waiting',
        opCount: 4,
        progress: '{"pct":10}',
        updatedAtMs: T0 + 20,
      });
    });

    it_('finishing clears the lease and the due time', async () => {
      const store = await backend.open();
      const row = await startLeased(store, execution('a'), T0);
      expect(
        await store.workflows.checkpoint(
          'a',
          row.leaseToken!,
          [],
          { status: 'failed', error: '{"m":"x"}', finishedAtMs: T0 + 7, wait: null },
          T0 + 8,
        ),
      ).toBe(true);
      expect(await store.workflows.get('a')).toEqual({
        ...row,
        status: 'failed',
        error: '{"m":"x"}',
        finishedAtMs: T0 + 7,
        dueAtMs: null,
        leaseToken: null,
        leaseUntilMs: null,
        updatedAtMs: T0 + 8,
      });
      expect(await store.workflows.nextDueAt()).toBeNull();
      // Without a finish time given, now is stamped.
      const b = await startLeased(store, execution('b'), T0 + 10);
      await store.workflows.checkpoint('b', b.leaseToken!, [], { status: 'succeeded', output: '1' }, T0 + 11);
      expect(await store.workflows.get('b')).toMatchObject({ status: 'succeeded', finishedAtMs: T0 + 11 });
    });

    it_('release sets the due time, or now when woken meanwhile', async () => {
      const store = await backend.open();
      const row = await startLeased(store, execution('a'), T0);
      await store.workflows.checkpoint(
        'a',
        row.leaseToken!,
        [],
        { status: 'waiting', release: { dueAtMs: T0 + 5_000 } },
        T0 + 1,
      );
      expect(await store.workflows.get('a')).toEqual({
        ...row,
        status: 'waiting',
        dueAtMs: T0 + 5_000,
        leaseToken: null,
        leaseUntilMs: null,
        updatedAtMs: T0 + 1,
      });

      // Woken while leased: the wake leaves the due time (the lease's end) and sets woken.
      const again = await claimOne(store, T0 + 5_000);
      await store.workflows.wake('a', T0 + 5_001);
      expect(await store.workflows.get('a')).toMatchObject({
        woken: true,
        dueAtMs: T0 + 5_000 + LEASE,
        leaseToken: again.leaseToken,
      });
      await store.workflows.checkpoint(
        'a',
        again.leaseToken!,
        [],
        { status: 'waiting', release: { dueAtMs: null } },
        T0 + 5_002,
      );
      expect(await store.workflows.get('a')).toMatchObject({
        woken: false,
        dueAtMs: T0 + 5_002,
        leaseToken: null,
        leaseUntilMs: null,
      });

      // Not woken, released until woken.
      const third = await claimOne(store, T0 + 5_002);
      await store.workflows.checkpoint(
        'a',
        third.leaseToken!,
        [],
        { status: 'waiting', release: { dueAtMs: null } },
        T0 + 5_003,
      );
      expect(await store.workflows.get('a')).toMatchObject({ woken: false, dueAtMs: null, leaseToken: null });
      expect(await store.workflows.nextDueAt()).toBeNull();
    });

    it_("a finishing child completes its parent's waiting operation and wakes the parent", async () => {
      const store = await backend.open();
      const parent = await startLeased(store, execution('p'), T0);
      const invoke = op('p', '1', {
        type: 'invoke',
        status: 'waiting',
        result: null,
        finishedAtMs: null,
        childId: 'c1',
      });
      const invoke2 = op('p', '2', { ...invoke, opId: '2', childId: 'c2' });
      await store.workflows.start(execution('c1', { parentId: 'p', parentOp: '1' }), T0 + 1);
      await store.workflows.start(execution('c2', { parentId: 'p', parentOp: '2' }), T0 + 2);
      await store.workflows.checkpoint(
        'p',
        parent.leaseToken!,
        [invoke, invoke2],
        { status: 'waiting', release: { dueAtMs: null } },
        T0 + 3,
      );

      const c1 = await claimOne(store, T0 + 10);
      expect(c1.id).toBe('c1');
      const wake = await listenFor(store, 'p');
      await store.workflows.checkpoint(
        'c1',
        c1.leaseToken!,
        [],
        { status: 'succeeded', output: '{"v":1}' },
        T0 + 11,
      );
      expect(await wake.received).toBe('p');
      const [op1, op2] = await store.workflows.ops('p');
      expect(op1).toEqual({
        ...invoke,
        status: 'succeeded',
        result: '{"v":1}',
        finishedAtMs: T0 + 11,
        updatedAtMs: T0 + 11,
      });
      expect(op2).toEqual(invoke2);
      expect(await store.workflows.get('p')).toMatchObject({
        woken: true,
        dueAtMs: T0 + 11,
        leaseToken: null,
      });

      // The parent is leased when c2 fails: woken, due time left at its lease's end.
      const c2 = await claimOne(store, T0 + 20);
      expect(c2.id).toBe('c2');
      const p2 = await claimOne(store, T0 + 20);
      expect(p2.id).toBe('p');
      await store.workflows.checkpoint(
        'c2',
        c2.leaseToken!,
        [],
        { status: 'failed', error: '{"m":"boom"}' },
        T0 + 22,
      );
      expect((await store.workflows.ops('p'))[1]).toEqual({
        ...invoke2,
        status: 'failed',
        result: null,
        error: '{"m":"boom"}',
        finishedAtMs: T0 + 22,
        updatedAtMs: T0 + 22,
      });
      expect(await store.workflows.get('p')).toMatchObject({
        woken: true,
        dueAtMs: T0 + 20 + LEASE,
        leaseToken: p2.leaseToken,
      });
    });

    it_("a child leaves its parent's operation alone once it no longer waits", async () => {
      const store = await backend.open();
      const parent = await startLeased(store, execution('p'), T0);
      const done = op('p', '1', { type: 'invoke', status: 'succeeded', result: '"earlier"', childId: 'c' });
      await store.workflows.start(execution('c', { parentId: 'p', parentOp: '1' }), T0 + 1);
      await store.workflows.checkpoint(
        'p',
        parent.leaseToken!,
        [done],
        { release: { dueAtMs: T0 + 100 } },
        T0 + 2,
      );
      const c = await claimOne(store, T0 + 10);
      await store.workflows.checkpoint(
        'c',
        c.leaseToken!,
        [],
        { status: 'succeeded', output: '"later"' },
        T0 + 11,
      );
      expect(await store.workflows.ops('p')).toEqual([done]);
      // Still woken: on replay the parent can look at the child itself.
      expect(await store.workflows.get('p')).toMatchObject({ woken: true, dueAtMs: T0 + 11 });
    });

    it_('checkpoints asked for at once land as each would alone, in order per execution', async () => {
      // The same checkpoints, one at a time on one store and all in one turn on another (where
      // PostgreSQL writes them as one statement): every execution and journal ends the same.
      type Step = (store: Store, token: (id: string) => string) => Promise<boolean>;
      const invoke = op('p', '1', { type: 'invoke', status: 'waiting', result: null, finishedAtMs: null });
      const steps: Step[] = [
        (s, t) => s.workflows.checkpoint('a', t('a'), [op('a', '1')], { progress: '{"pct":5}' }, T0 + 10),
        (s, t) =>
          s.workflows.checkpoint(
            'b',
            t('b'),
            [],
            { status: 'waiting', release: { dueAtMs: T0 + 500 } },
            T0 + 10,
          ),
        (s, t) =>
          s.workflows.checkpoint(
            'c',
            t('c'),
            [op('c', '1')],
            { status: 'succeeded', output: '"c"' },
            T0 + 10,
          ),
        (s) => s.workflows.checkpoint('d', 'not-its-token', [op('d', '1')], { progress: '1' }, T0 + 10),
        (s, t) =>
          s.workflows.checkpoint(
            'k',
            t('k'),
            [],
            { status: 'failed', error: '{"m":"k"}', wait: null },
            T0 + 10,
          ),
        // Three of one execution: each after the one before.
        (s, t) => s.workflows.checkpoint('e', t('e'), [op('e', '1')], { progress: '"first"' }, T0 + 10),
        (s, t) =>
          s.workflows.checkpoint('e', t('e'), [op('e', '1', { name: 'again' }), op('e', '2')], {}, T0 + 11),
        (s, t) =>
          s.workflows.checkpoint(
            'e',
            t('e'),
            [],
            { status: 'waiting', progress: '"last"', release: { dueAtMs: null } },
            T0 + 12,
          ),
      ];
      const prepare = async () => {
        const store = await backend.open();
        const parent = await startLeased(store, execution('p'), T0);
        await store.workflows.start(execution('k', { parentId: 'p', parentOp: '1' }), T0 + 1);
        await store.workflows.checkpoint(
          'p',
          parent.leaseToken!,
          [{ ...invoke, childId: 'k' }],
          { status: 'waiting', release: { dueAtMs: null } },
          T0 + 2,
        );
        const tokens = new Map<string, string>();
        for (const id of ['k', 'a', 'b', 'c', 'd', 'e']) {
          if (id !== 'k') await store.workflows.start(execution(id), T0 + 3);
          const row = await claimOne(store, T0 + 4);
          expect(row.id).toBe(id);
          tokens.set(id, row.leaseToken!);
        }
        return { store, token: (id: string) => tokens.get(id)! };
      };
      const state = async (store: Store) => {
        const ids = ['p', 'k', 'a', 'b', 'c', 'd', 'e'];
        const rows = await Promise.all(ids.map((id) => store.workflows.get(id)));
        // Tokens are random: whether one is held is what counts.
        return {
          rows: rows.map((r) => ({ ...r!, seq: 0, leaseToken: r!.leaseToken !== null })),
          journals: await store.workflows.journals(ids),
        };
      };
      const one = await prepare();
      const alone: boolean[] = [];
      for (const step of steps) alone.push(await step(one.store, one.token));
      const many = await prepare();
      const together = await Promise.all(steps.map((step) => step(many.store, many.token)));
      expect(together).toEqual(alone);
      expect(alone).toEqual([true, true, true, false, true, true, true, true]);
      expect(await state(many.store)).toEqual(await state(one.store));
      // And what they wrote is what was asked: spot checks beside the comparison.
      expect(await many.store.workflows.get('e')).toMatchObject({
        status: 'waiting',
        progress: '"last"',
        opCount: 2,
        leaseToken: null,
        dueAtMs: null,
      });
      expect((await many.store.workflows.ops('e')).map((o) => o.name)).toEqual(['again', 'step-2']);
      expect(await many.store.workflows.get('p')).toMatchObject({ woken: true, dueAtMs: T0 + 10 });
      expect((await many.store.workflows.ops('p'))[0]).toMatchObject({
        status: 'failed',
        error: '{"m":"k"}',
      });
      expect(await many.store.workflows.get('d')).toMatchObject({ opCount: 0, progress: null });
    });

    it_('a checkpoint the server refuses fails alone; the others asked for with it are written', async () => {
      const store = await backend.open();
      const tokens: string[] = [];
      for (const id of ['a', 'b', 'c'])
        tokens.push((await startLeased(store, execution(id), T0)).leaseToken!);
      // PostgreSQL refuses a NUL character in text; SQLite stores it.
      const results = await Promise.allSettled(
        ['a', 'b', 'c'].map((id, k) =>
          store.workflows.checkpoint(
            id,
            tokens[k]!,
            [op(id, '1', { result: id === 'b' ? '"\u0000"' : '1' })],
            {},
            T0 + 1,
          ),
        ),
      );
      expect(results[0]).toEqual({ status: 'fulfilled', value: true });
      expect(results[2]).toEqual({ status: 'fulfilled', value: true });
      if (backend.name === 'postgres') expect(results[1]!.status).toBe('rejected');
      for (const id of ['a', 'c']) expect(await store.workflows.get(id)).toMatchObject({ opCount: 1 });
    });
  });

  describe('outside completions', () => {
    /** A waiting execution `a` with a waiting callback operation "1" and a waiting event operation "2". */
    async function waitingExecution(store: Store) {
      const row = await startLeased(store, execution('a'), T0);
      const callback = op('a', '1', {
        type: 'callback',
        status: 'waiting',
        result: null,
        finishedAtMs: null,
        callbackId: 'cb-a',
      });
      const event = op('a', '2', { type: 'event', status: 'waiting', result: null, finishedAtMs: null });
      await store.workflows.checkpoint(
        'a',
        row.leaseToken!,
        [callback, event],
        { status: 'waiting', release: { dueAtMs: null } },
        T0 + 1,
      );
      return { callback, event };
    }

    it_('resolveCallback completes the waiting operation and wakes its execution', async () => {
      const store = await backend.open();
      const { callback } = await waitingExecution(store);
      expect(await store.workflows.resolveCallback('nope', null, T0 + 2)).toEqual({ kind: 'not_found' });

      // A heartbeat only records itself.
      expect(await store.workflows.resolveCallback('cb-a', null, T0 + 5)).toEqual({
        kind: 'done',
        executionId: 'a',
        opId: '1',
      });
      expect((await store.workflows.ops('a'))[0]).toEqual({ ...callback, heartbeatAtMs: T0 + 5 });
      expect(await store.workflows.get('a')).toMatchObject({ woken: false, dueAtMs: null });

      const wake = await listenFor(store, 'a');
      expect(
        await store.workflows.resolveCallback('cb-a', { status: 'succeeded', result: '{"ok":1}' }, T0 + 6),
      ).toEqual({ kind: 'done', executionId: 'a', opId: '1' });
      expect(await wake.received).toBe('a');
      expect((await store.workflows.ops('a'))[0]).toEqual({
        ...callback,
        status: 'succeeded',
        result: '{"ok":1}',
        heartbeatAtMs: T0 + 5,
        finishedAtMs: T0 + 6,
        updatedAtMs: T0 + 6,
      });
      expect(await store.workflows.get('a')).toMatchObject({
        status: 'waiting',
        woken: true,
        dueAtMs: T0 + 6,
      });

      // Again: the operation no longer waits.
      expect(
        await store.workflows.resolveCallback('cb-a', { status: 'failed', error: '"late"' }, T0 + 7),
      ).toEqual({ kind: 'closed', executionId: 'a', opStatus: 'succeeded', executionStatus: 'waiting' });
      expect((await store.workflows.ops('a'))[0]).toMatchObject({ status: 'succeeded', error: null });
      expect(await store.workflows.resolveCallback('cb-a', null, T0 + 8)).toMatchObject({ kind: 'closed' });
      expect((await store.workflows.ops('a'))[0]).toMatchObject({ heartbeatAtMs: T0 + 5 });
    });

    it_('resolveCallback refuses an operation of a finished execution', async () => {
      const store = await backend.open();
      const { callback } = await waitingExecution(store);
      await store.workflows.stop('a', '{"m":"stopped"}', T0 + 2);
      expect(
        await store.workflows.resolveCallback('cb-a', { status: 'failed', error: '"x"' }, T0 + 3),
      ).toEqual({
        kind: 'closed',
        executionId: 'a',
        opStatus: 'waiting',
        executionStatus: 'stopped',
      });
      expect(await store.workflows.resolveCallback('cb-a', null, T0 + 3)).toMatchObject({ kind: 'closed' });
      expect((await store.workflows.ops('a'))[0]).toEqual(callback);
    });

    it_('resolveOp completes a waiting operation by position', async () => {
      const store = await backend.open();
      // An operation of a finished execution stays as it is.
      const b = await startLeased(store, execution('b'), T0 - 100);
      const waiting = op('b', '1', { type: 'event', status: 'waiting', result: null, finishedAtMs: null });
      await store.workflows.checkpoint('b', b.leaseToken!, [waiting], { status: 'timed_out' }, T0 - 99);
      expect(await store.workflows.resolveOp('b', '1', { status: 'succeeded', result: '1' }, T0 - 98)).toBe(
        false,
      );
      expect(await store.workflows.ops('b')).toEqual([waiting]);
      const { event } = await waitingExecution(store);
      expect(
        await store.workflows.resolveOp('a', '2', { status: 'failed', error: '{"m":"e"}' }, T0 + 4),
      ).toBe(true);
      expect((await store.workflows.ops('a'))[1]).toEqual({
        ...event,
        status: 'failed',
        error: '{"m":"e"}',
        finishedAtMs: T0 + 4,
        updatedAtMs: T0 + 4,
      });
      expect(await store.workflows.get('a')).toMatchObject({ woken: true, dueAtMs: T0 + 4 });
      expect(await store.workflows.resolveOp('a', '2', { status: 'succeeded', result: null }, T0 + 5)).toBe(
        false,
      );
      expect(await store.workflows.resolveOp('a', '9', { status: 'succeeded', result: null }, T0 + 5)).toBe(
        false,
      );
      expect(
        await store.workflows.resolveOp('nope', '1', { status: 'succeeded', result: null }, T0 + 5),
      ).toBe(false);
      expect((await store.workflows.ops('a'))[1]).toMatchObject({ status: 'failed', finishedAtMs: T0 + 4 });
    });

    it_('waitingOps lists waiting operations of a type of live executions, oldest first', async () => {
      const store = await backend.open();
      const rows: OpRow[] = [];
      for (const [i, id] of ['a', 'b', 'c'].entries()) {
        const row = await startLeased(store, execution(id), T0 + i);
        const ops = [
          op(id, '1', { type: 'event', status: 'waiting', startedAtMs: T0 + 100 - i, finishedAtMs: null }),
          op(id, '2', { type: 'event', status: 'succeeded', startedAtMs: T0 }),
          op(id, '3', { type: 'sleep', status: 'waiting', startedAtMs: T0, finishedAtMs: null }),
        ];
        rows.push(ops[0]!);
        await store.workflows.checkpoint(
          id,
          row.leaseToken!,
          ops,
          i === 2 ? { status: 'failed', error: '"x"' } : { status: 'waiting', release: { dueAtMs: null } },
          T0 + 10,
        );
      }
      // c finished: its waiting operation is not listed.
      expect(await store.workflows.waitingOps('event', 10)).toEqual([rows[1], rows[0]]);
      expect(await store.workflows.waitingOps('event', 1)).toEqual([rows[1]]);
      expect((await store.workflows.waitingOps('sleep', 10)).map((o) => o.executionId)).toEqual(['a', 'b']);
      expect(await store.workflows.waitingOps('timer', 10)).toEqual([]);
    });
  });

  describe('renew, stop and wake', () => {
    it_('renew extends the leases still held and reports lost ones and stop requests', async () => {
      const store = await backend.open();
      const a = await startLeased(store, execution('a'), T0);
      const b = await startLeased(store, execution('b'), T0 + 1);
      const c = await startLeased(store, execution('c'), T0 + 2);
      await store.workflows.stop('b', '"stop"', T0 + 10);
      await store.workflows.checkpoint('c', c.leaseToken!, [], { release: { dueAtMs: T0 + 50 } }, T0 + 11);
      const result = await store.workflows.renew(
        [a.leaseToken!, b.leaseToken!, c.leaseToken!, 'never-issued'],
        T0 + 90_000,
        T0 + 12,
      );
      expect(result.lost.toSorted()).toEqual([c.leaseToken!, 'never-issued'].toSorted());
      expect(result.stopRequested).toEqual([b.leaseToken]);
      for (const id of ['a', 'b'])
        expect(await store.workflows.get(id)).toMatchObject({
          leaseUntilMs: T0 + 90_000,
          dueAtMs: T0 + 90_000,
        });
      expect(await store.workflows.get('c')).toMatchObject({ leaseToken: null, dueAtMs: T0 + 50 });
      expect(await store.workflows.renew([], T0, T0)).toEqual({ lost: [], stopRequested: [] });
    });

    it_(
      'stop: an unleased execution at once, a leased one by request, a finished one not at all',
      async () => {
        const store = await backend.open();
        expect(await store.workflows.stop('nope', '"x"', T0)).toBeNull();

        // Unleased (waiting): stopped now, due never.
        const a = await startLeased(store, execution('a'), T0);
        await store.workflows.checkpoint(
          'a',
          a.leaseToken!,
          [],
          { status: 'waiting', release: { dueAtMs: T0 + 99 } },
          T0,
        );
        const stopped = await store.workflows.stop('a', '{"m":"stop"}', T0 + 5);
        expect(stopped).toEqual({
          ...a,
          status: 'stopped',
          error: '{"m":"stop"}',
          finishedAtMs: T0 + 5,
          dueAtMs: null,
          leaseToken: null,
          leaseUntilMs: null,
          stopRequestedAtMs: T0 + 5,
          updatedAtMs: T0 + 5,
        });
        expect(await store.workflows.get('a')).toEqual(stopped);
        // Finished: returned as it is.
        expect(await store.workflows.stop('a', '"again"', T0 + 6)).toEqual(stopped);

        // Leased: the request is recorded (the first kept); the worker stops it.
        const b = await startLeased(store, execution('b'), T0 + 10);
        const requested = await store.workflows.stop('b', '"x"', T0 + 11);
        expect(requested).toEqual({ ...b, stopRequestedAtMs: T0 + 11, updatedAtMs: T0 + 11 });
        expect(await store.workflows.stop('b', '"x"', T0 + 12)).toEqual({
          ...b,
          stopRequestedAtMs: T0 + 11,
          updatedAtMs: T0 + 12,
        });

        // A worker that suspends before it hears of the request: due at once, so the next claim stops it.
        const c = await startLeased(store, execution('c'), T0 + 10);
        await store.workflows.stop('c', '"x"', T0 + 11);
        await store.workflows.checkpoint(
          'c',
          c.leaseToken!,
          [],
          { status: 'waiting', release: { dueAtMs: T0 + 86_400_000 } },
          T0 + 12,
        );
        expect(await store.workflows.get('c')).toMatchObject({ status: 'waiting', dueAtMs: T0 + 12 });

        // A lease that ran out is not held: stopped at once.
        const late = T0 + 10 + LEASE;
        expect(await store.workflows.stop('b', '"x"', late)).toMatchObject({
          status: 'stopped',
          error: '"x"',
          finishedAtMs: late,
          leaseToken: null,
          dueAtMs: null,
          stopRequestedAtMs: T0 + 11,
        });
        expect(
          (await store.workflows.claim({ nowMs: late + LEASE, leaseMs: LEASE, limit: 10 })).map((r) => r.id),
        ).toEqual(['c']);
      },
    );

    it_("stopping a child fails its parent's waiting operation with the error", async () => {
      const store = await backend.open();
      const parent = await startLeased(store, execution('p'), T0);
      const invoke = op('p', '1', {
        type: 'invoke',
        status: 'waiting',
        result: null,
        finishedAtMs: null,
        childId: 'c',
      });
      await store.workflows.start(execution('c', { parentId: 'p', parentOp: '1' }), T0 + 1);
      await store.workflows.checkpoint(
        'p',
        parent.leaseToken!,
        [invoke],
        { status: 'waiting', release: { dueAtMs: null } },
        T0 + 2,
      );
      const wake = await listenFor(store, 'p');
      await store.workflows.stop('c', '{"m":"stopped"}', T0 + 3);
      expect(await wake.received).toBe('p');
      expect(await store.workflows.ops('p')).toEqual([
        { ...invoke, status: 'failed', error: '{"m":"stopped"}', finishedAtMs: T0 + 3, updatedAtMs: T0 + 3 },
      ]);
      expect(await store.workflows.get('p')).toMatchObject({
        status: 'waiting',
        woken: true,
        dueAtMs: T0 + 3,
      });
    });

    it_('wake: due now when not leased, woken either way; finished ones are left', async () => {
      const store = await backend.open();
      const f = await startFinished(store, execution('f'), T0 - 1_000);
      await store.workflows.wake('f', T0 - 500);
      expect(await store.workflows.get('f')).toEqual(f);
      const a = await startLeased(store, execution('a'), T0);
      await store.workflows.checkpoint(
        'a',
        a.leaseToken!,
        [],
        { status: 'waiting', release: { dueAtMs: T0 + 500 } },
        T0,
      );
      await store.workflows.wake('a', T0 + 100);
      expect(await store.workflows.get('a')).toMatchObject({
        woken: true,
        dueAtMs: T0 + 100,
        updatedAtMs: T0 + 100,
      });
      // Already due earlier: it keeps its place.
      await store.workflows.wake('a', T0 + 200);
      expect(await store.workflows.get('a')).toMatchObject({ woken: true, dueAtMs: T0 + 100 });

      await store.workflows.wake('nope', T0);
      expect(await store.workflows.get('nope')).toBeNull();
    });
  });

  describe('list and retention', () => {
    it_('lists newest first with filters and a seq cursor', async () => {
      const store = await backend.open();
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) {
        const id = `e${String(i).padStart(2, '0')}`;
        ids.push(id);
        await store.workflows.start(
          execution(id, {
            workflow: i % 2 === 0 ? 'even' : 'odd',
            parentId: i % 3 === 0 ? 'p' : null,
            parentOp: i % 3 === 0 ? `${i}` : null,
          }),
          T0 + i,
        );
      }
      // e00 (even, parent p) finishes.
      await startFinished(store, execution('e00'), T0 + 100);
      const newestFirst = [...ids].reverse();
      const all: string[] = [];
      let beforeSeq: number | undefined;
      for (;;) {
        const page = await store.workflows.list({
          limit: 5,
          ...(beforeSeq === undefined ? {} : { beforeSeq }),
        });
        all.push(...page.map((r) => r.id));
        if (page.length < 5) break;
        beforeSeq = page.at(-1)!.seq;
      }
      expect(all).toEqual(newestFirst);
      const even = await store.workflows.list({ workflow: 'even', limit: 100 });
      expect(even.map((r) => r.id)).toEqual(newestFirst.filter((_, k) => (11 - k) % 2 === 0));
      expect((await store.workflows.list({ parentId: 'p', limit: 100 })).map((r) => r.id)).toEqual([
        'e09',
        'e06',
        'e03',
        'e00',
      ]);
      expect((await store.workflows.list({ status: 'succeeded', limit: 100 })).map((r) => r.id)).toEqual([
        'e00',
      ]);
      const cursor = even[1]!.seq;
      expect(
        (
          await store.workflows.list({
            workflow: 'even',
            parentId: 'p',
            status: 'running',
            beforeSeq: cursor,
            limit: 100,
          })
        ).map((r) => r.id),
      ).toEqual(['e06']);
      expect(await store.workflows.list({ workflow: 'none', limit: 10 })).toEqual([]);
    });

    it_('delete removes a finished execution and its journal only', async () => {
      const store = await backend.open();
      expect(await store.workflows.delete('nope')).toBe('not_found');
      const a = await startLeased(store, execution('a'), T0);
      await store.workflows.checkpoint('a', a.leaseToken!, [op('a', '1')], {}, T0);
      expect(await store.workflows.delete('a')).toBe('not_finished');
      expect(await store.workflows.ops('a')).toHaveLength(1);
      await store.workflows.checkpoint('a', a.leaseToken!, [op('a', '2')], { status: 'succeeded' }, T0 + 1);
      const b = await startLeased(store, execution('b'), T0 + 2);
      await store.workflows.checkpoint('b', b.leaseToken!, [op('b', '1')], { status: 'succeeded' }, T0 + 3);
      expect(await store.workflows.delete('a')).toBe('deleted');
      expect(await store.workflows.get('a')).toBeNull();
      expect(await store.workflows.ops('a')).toEqual([]);
      expect(await store.workflows.ops('b')).toHaveLength(1);
      expect(await store.workflows.delete('a')).toBe('not_found');
    });

    it_(
      'deleteFinished deletes executions finished before the cutoff, oldest first, in batches',
      async () => {
        const store = await backend.open();
        for (let i = 0; i < 5; i++) {
          const id = `f${i}`;
          const row = await startLeased(store, execution(id), T0 + i * 10);
          await store.workflows.checkpoint(
            id,
            row.leaseToken!,
            [op(id, '1')],
            { status: 'succeeded' },
            T0 + i * 10,
          );
        }
        // Live ones stay, however old.
        const live = await startLeased(store, execution('live'), T0 + 100);
        await store.workflows.checkpoint(
          'live',
          live.leaseToken!,
          [op('live', '1')],
          { release: { dueAtMs: null } },
          T0,
        );
        await store.workflows.start(execution('new'), T0 + 200);

        expect(await store.workflows.deleteFinished(T0 + 35, 2)).toBe(2);
        expect(await store.workflows.get('f0')).toBeNull();
        expect(await store.workflows.get('f1')).toBeNull();
        expect(await store.workflows.ops('f0')).toEqual([]);
        expect(await store.workflows.deleteFinished(T0 + 35, 10)).toBe(2);
        expect(await store.workflows.deleteFinished(T0 + 35, 10)).toBe(0);
        expect((await store.workflows.list({ limit: 10 })).map((r) => r.id)).toEqual(['new', 'live', 'f4']);
        expect(await store.workflows.ops('f4')).toHaveLength(1);
        expect(await store.workflows.ops('live')).toHaveLength(1);
      },
    );

    it_('nextDueAt is the earliest due time of a live execution, a lease end included', async () => {
      const store = await backend.open();
      expect(await store.workflows.nextDueAt()).toBeNull();
      const a = await startLeased(store, execution('a'), T0);
      expect(await store.workflows.nextDueAt()).toBe(T0 + LEASE);
      await store.workflows.start(execution('b'), T0 + 500);
      expect(await store.workflows.nextDueAt()).toBe(T0 + 500);
      await store.workflows.checkpoint('a', a.leaseToken!, [], { release: { dueAtMs: T0 + 100 } }, T0 + 1);
      expect(await store.workflows.nextDueAt()).toBe(T0 + 100);
      const again = await claimOne(store, T0 + 100);
      await store.workflows.checkpoint('a', again.leaseToken!, [], { status: 'succeeded' }, T0 + 101);
      expect(await store.workflows.nextDueAt()).toBe(T0 + 500);
    });

    it_('countWaiting counts the waiting executions per workflow, by name', async () => {
      const store = await backend.open();
      expect(await store.workflows.countWaiting()).toEqual([]);
      const suspend = async (id: string, workflow: string) => {
        const row = await startLeased(store, execution(id, { workflow }), T0);
        await store.workflows.checkpoint(
          id,
          row.leaseToken!,
          [],
          { status: 'waiting', release: { dueAtMs: null } },
          T0,
        );
      };
      await suspend('w1', 'onboard');
      await suspend('w2', 'onboard');
      await suspend('w3', 'billing');
      const done = await startLeased(store, execution('done', { workflow: 'audit' }), T0);
      await store.workflows.checkpoint('done', done.leaseToken!, [], { status: 'succeeded' }, T0);
      await store.workflows.start(execution('running', { workflow: 'billing' }), T0);
      expect(await store.workflows.countWaiting()).toEqual([
        { workflow: 'billing', waiting: 1 },
        { workflow: 'onboard', waiting: 2 },
      ]);
    });
  });
});
