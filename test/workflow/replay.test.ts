// Replay without a database: sessions run against a journal kept in memory (the Journal
// port the engine fills with store.workflows), under the fake clock. Each test is what a
// worker sees across claims of one execution: run, suspend, be claimed again, replay.

import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import type { ExecutionPatch, ExecutionRow, NewExecution, OpRow } from '../../src/store/workflow-row.ts';
import { defineWorkflow, type WorkflowDefinition } from '../../src/workflow/define.ts';
import { type Journal, Session, type SessionEnd } from '../../src/workflow/session.ts';

const START = Date.parse('2026-12-01T00:00:00Z');
const HOUR = 3_600_000;

/** One execution's row and journal, written as the stores write them (fenced by the lease token). */
class MemoryJournal implements Journal {
  row: ExecutionRow;
  readonly ops = new Map<string, OpRow>();
  readonly children: NewExecution[] = [];
  #leases = 0;

  constructor(workflow: string, input: unknown) {
    this.row = {
      id: 'exec-1',
      seq: 1,
      workflow,
      version: '1',
      status: 'running',
      input: JSON.stringify(input),
      output: null,
      error: null,
      progress: null,
      wait: null,
      dueAtMs: START,
      leaseToken: null,
      leaseUntilMs: null,
      woken: false,
      parentId: null,
      parentOp: null,
      opCount: 0,
      replays: 0,
      stopRequestedAtMs: null,
      timeoutAtMs: null,
      createdAtMs: START,
      startedAtMs: START,
      updatedAtMs: START,
      finishedAtMs: null,
      traceContext: null,
    };
  }

  /** A worker claims the execution: a fresh lease token, and the journal in its order. */
  claim(): { row: ExecutionRow; journal: OpRow[] } {
    this.row = { ...this.row, leaseToken: `lease-${++this.#leases}`, replays: this.row.replays + 1 };
    const journal = [...this.ops.values()].sort(
      (a, b) => a.startedAtMs - b.startedAtMs || (a.opId < b.opId ? -1 : 1),
    );
    return { row: this.row, journal };
  }

  async checkpoint(
    id: string,
    token: string,
    ops: readonly OpRow[],
    patch: ExecutionPatch,
    nowMs: number,
  ): Promise<boolean> {
    if (id !== this.row.id || token !== this.row.leaseToken) return false;
    for (const op of ops) this.ops.set(op.opId, op);
    const { release, ...fields } = patch;
    this.row = {
      ...this.row,
      ...fields,
      opCount: this.ops.size,
      updatedAtMs: nowMs,
      ...(release ? { leaseToken: null, leaseUntilMs: null, dueAtMs: release.dueAtMs } : {}),
    };
    return true;
  }

  async start(row: NewExecution, nowMs: number): Promise<{ row: ExecutionRow; created: boolean }> {
    this.children.push(row);
    return { row: { ...this.row, ...row, seq: 2, status: 'running', createdAtMs: nowMs }, created: true };
  }
}

const log = pino({ level: 'silent' });

async function session(
  def: WorkflowDefinition,
  journal: MemoryJournal,
  clock: FakeClock,
): Promise<SessionEnd> {
  const { row, journal: ops } = journal.claim();
  const definitions = new Map([[def.name, def]]);
  return new Session({ journal, clock, log, definitions }, def, row, ops).start();
}

describe('workflow replay, in memory', () => {
  it('runs a journaled step once across claims, and the steps after a wait on the next claim', async () => {
    const clock = new FakeClock(START);
    const ran: string[] = [];
    const def = defineWorkflow({
      name: 'report',
      handler: async (input: { days: number }, ctx) => {
        const a = await ctx.step('collect', () => {
          ran.push('collect');
          return input.days * 10;
        });
        await ctx.wait('settle', { hours: 1 });
        return ctx.step('publish', () => {
          ran.push('publish');
          return a + 1;
        });
      },
    });
    const journal = new MemoryJournal('report', { days: 3 });

    expect(await session(def, journal, clock)).toBe('suspended');
    expect(ran).toEqual(['collect']);
    expect(journal.row.status).toBe('waiting');
    expect(journal.row.dueAtMs).toBe(START + HOUR);
    expect([...journal.ops.values()].map((o) => [o.opId, o.type, o.name, o.status])).toEqual([
      ['1', 'step', 'collect', 'succeeded'],
      ['2', 'wait', 'settle', 'waiting'],
    ]);

    // Claimed again before the wait ends: nothing runs, it suspends until the same instant.
    expect(await session(def, journal, clock)).toBe('suspended');
    expect(ran).toEqual(['collect']);
    expect(journal.row.dueAtMs).toBe(START + HOUR);

    await clock.advance(HOUR);
    expect(await session(def, journal, clock)).toBe('finished');
    expect(ran).toEqual(['collect', 'publish']);
    expect(journal.row.status).toBe('succeeded');
    expect(JSON.parse(journal.row.output!)).toBe(31);
    expect(journal.row.replays).toBe(3);
  });

  it('fails the execution when the code no longer calls what the journal holds', async () => {
    const clock = new FakeClock(START);
    const first = defineWorkflow({
      name: 'flow',
      handler: async (_input, ctx) => {
        await ctx.step('a', () => 1);
        await ctx.wait('pause', { minutes: 5 });
      },
    });
    const journal = new MemoryJournal('flow', null);
    expect(await session(first, journal, clock)).toBe('suspended');

    const changed = defineWorkflow({
      name: 'flow',
      handler: async (_input, ctx) => {
        await ctx.step('b', () => 2);
      },
    });
    await clock.advance(5 * 60_000);
    expect(await session(changed, journal, clock)).toBe('finished');
    expect(journal.row.status).toBe('failed');
    expect(JSON.parse(journal.row.error!)).toMatchObject({ code: 'E_WORKFLOW_NONDETERMINISM' });
  });

  it('writes nothing once another worker holds the lease', async () => {
    const clock = new FakeClock(START);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const def = defineWorkflow({
      name: 'slow',
      handler: async (_input, ctx) => {
        await ctx.step('long', () => gate);
        return 'done';
      },
    });
    const journal = new MemoryJournal('slow', null);
    const ended = session(def, journal, clock);
    // The lease is taken over while the step runs (a worker that thought this one dead).
    journal.claim();
    const before = journal.row;
    release();
    expect(await ended).toBe('lost');
    expect(journal.row).toBe(before);
    expect(journal.ops.size).toBe(0);
  });

  it('starts a child through the journal and waits for it', async () => {
    const clock = new FakeClock(START);
    const child = defineWorkflow({ name: 'child', handler: async () => 'c' });
    const parent = defineWorkflow({
      name: 'parent',
      handler: async (_input, ctx) => ctx.invoke('kid', child, { n: 1 }),
    });
    const journal = new MemoryJournal('parent', null);
    const { row, journal: ops } = journal.claim();
    const definitions = new Map([
      [parent.name, parent],
      [child.name, child],
    ]);
    const end = await new Session({ journal, clock, log, definitions }, parent, row, ops).start();
    expect(end).toBe('suspended');
    expect(journal.children).toEqual([
      expect.objectContaining({ workflow: 'child', parentId: 'exec-1', parentOp: '1', input: '{"n":1}' }),
    ]);
    expect(journal.row.status).toBe('waiting');
  });
});
