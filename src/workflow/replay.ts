// What the operations of a workflow context need of the session replaying it: the
// journal it replays (and the position each operation takes in it), the writes that
// extend it, and whether the session is still live. Session implements it; the
// operation families (ops/) and the context (context.ts) are written against it.

import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import type { Context } from '../observability/tracing.ts';
import type { ExecutionRow, OpRow, WorkflowStore } from '../store/workflow-row.ts';
import type { WorkflowContext, WorkflowDefinition } from './define.ts';

/**
 * Everything a session writes: its checkpoints (journal entries and the execution's
 * changes, fenced by the lease token) and the child executions it starts. The engine
 * passes `store.workflows`; the replay tests pass one kept in memory.
 */
export type Journal = Pick<WorkflowStore, 'checkpoint' | 'start'>;

export interface SessionDeps {
  readonly journal: Journal;
  readonly clock: Clock;
  readonly log: Logger;
  readonly definitions: ReadonlyMap<string, WorkflowDefinition>;
}

/** What an execution waits for, as its record shows it. */
export interface WaitInfo {
  readonly kind: string;
  readonly name: string;
  readonly operation: string;
  readonly until: string | null;
  readonly callbackId?: string;
}

// Settles never: what an operation returns once the session is over, so the handler halts where it is.
export const NEVER: Promise<never> = new Promise(() => {});

export const noop = (): void => {};

export class Scope {
  readonly prefix: string;
  readonly parentOpId: string | null;
  readonly parent: Scope | null;
  counter = 0;
  readonly names = new Map<string, string>();
  /** A branch a batch completed without: its operations no longer run. */
  abandoned = false;

  constructor(parent: Scope | null, opId: string | null) {
    this.parent = parent;
    this.parentOpId = opId;
    this.prefix = opId === null ? '' : `${opId}-`;
  }

  get cutOff(): boolean {
    for (let s: Scope | null = this; s; s = s.parent) if (s.abandoned) return true;
    return false;
  }
}

export interface Begun {
  readonly id: string;
  readonly name: string;
  readonly entry: OpRow | undefined;
}

export interface Replay {
  readonly deps: SessionDeps;
  readonly row: ExecutionRow;
  /** The journal by operation id: what replay returns instead of running again. */
  readonly entries: ReadonlyMap<string, OpRow>;
  readonly log: Logger;
  /** Aborted when the session stops, loses its lease or shuts down. */
  readonly signal: AbortSignal;
  /** Still running the handler: neither ending nor done. */
  readonly live: boolean;
  /** Asked to stop: nothing further starts. */
  readonly stopping: boolean;
  /** Work under way (a step running, a write in flight): the session does not suspend meanwhile. */
  busy: number;
  now(): number;
  /** The next position in `scope`, with its journal entry if any; null when the session is over. */
  begin(scope: Scope, type: string, name: string | null): Begun | null;
  /** The journal row of an operation, from its entry and `fields`. */
  op(scope: Scope, b: Begun, type: string, fields: Partial<OpRow>): OpRow;
  /** Journals the operation as failed, then throws the error as replay rebuilds it. */
  failOp(scope: Scope, b: Begun, type: string, err: unknown, fields?: Partial<OpRow>): Promise<never>;
  /** Blocks until a time or an outside completion: the session suspends. */
  block(id: string, wakeAtMs: number | null, info: Omit<WaitInfo, 'operation' | 'until'>): Promise<never>;
  /** Journals an operation; resolves once committed, never when the lease is gone. */
  write(op: OpRow): Promise<void>;
  /** Suspends or stops once nothing is under way. */
  idle(): void;
  /** The context of a scope (the root's or a child's). */
  context(scope: Scope): WorkflowContext;
  /**
   * The trace context of an operation run in this replay (its span active), else the
   * replay's; null when there is nothing to trace (no SDK, no stored context).
   */
  traceContext(opId: string): Context | null;
  progress(value: unknown): Promise<void>;
}
