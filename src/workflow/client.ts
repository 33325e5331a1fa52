// `ms.workflows`: start executions (idempotent on id), read them and their journals,
// stop and delete them, and complete callbacks. The same calls back the HTTP API and CLI.

import type { Clock } from '../core/clock.ts';
import { MainspringError } from '../core/errors.ts';
import { NAME_LIMITS } from '../core/names.ts';
import type { BusEvent } from '../events/event.ts';
import { captureTraceContext } from '../observability/tracing.ts';
import { compilePattern } from '../patterns/matcher.ts';
import type { CompiledPattern, EventPattern } from '../patterns/types.ts';
import { newRunId } from '../store/run-row.ts';
import { checkTx, type SqlClient, type Store } from '../store/types.ts';
import {
  EXECUTION_STATUSES,
  type ExecutionRow,
  type ExecutionStatus,
  FINISHED_STATUSES,
  type OpRow,
  WORKFLOW_CHANNEL,
} from '../store/workflow-row.ts';
import { show, type WorkflowDefinition } from './define.ts';
import { type ExecutionObserver, STOP_PREFIX } from './engine.ts';
import { MAX_CHECKPOINT_BYTES, stoppedError } from './session.ts';

export { EXECUTION_STATUSES };

/** Event waits checked per put: the oldest this many (see docs/workflows.md). */
const MAX_EVENT_WAITERS = 10_000;
const START_CALL = { noun: 'a start', verb: 'start the execution' };

const ID = new RegExp(`^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,${NAME_LIMITS.execution - 1}}$`);

/** An execution as the client, API and CLI show it. */
export interface Execution {
  readonly id: string;
  readonly workflow: string;
  readonly version: string;
  readonly status: ExecutionStatus;
  readonly input: unknown;
  readonly output?: unknown;
  readonly error?: { readonly name: string; readonly message: string; readonly code?: string };
  readonly progress: unknown;
  /** What it waits for, while waiting: kind (wait, callback, retry, invoke, event), operation name, until when. */
  readonly wait: {
    readonly kind: string;
    readonly name: string;
    readonly operation: string;
    readonly until: string | null;
    readonly callbackId?: string;
    /** How many operations wait (parallel branches may wait on several at once). */
    readonly waiting?: number;
  } | null;
  readonly parentId: string | null;
  readonly operations: number;
  readonly replays: number;
  readonly stopRequested: boolean;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly updatedAt: string;
  readonly finishedAt: string | null;
}

/** One journaled operation, as `history` shows it. */
export interface Operation {
  readonly id: string;
  readonly parentId: string | null;
  readonly type: string;
  readonly name: string;
  readonly status: string;
  readonly attempts: number;
  readonly result?: unknown;
  readonly error?: { readonly name: string; readonly message: string; readonly code?: string };
  readonly startedAt: string;
  readonly finishedAt: string | null;
  /** A wait's end, a retry's next attempt, a callback's timeout. */
  readonly wakeAt: string | null;
  readonly callbackId?: string;
  readonly childId?: string;
}

export interface StartOptions {
  /** Idempotency key: starting again with the same id returns the stored execution. */
  readonly id?: string;
  /**
   * PostgreSQL only: your own client, inside a transaction you opened (a node-postgres Client
   * or PoolClient as it is; postgres.js through a one-line adapter). The execution is stored
   * through it, so it exists if and only if you commit; idle workers wake on your commit.
   */
  readonly tx?: SqlClient;
}

export interface ListExecutionsOptions {
  readonly workflow?: string;
  readonly status?: ExecutionStatus;
  /** Any of these statuses. */
  readonly statuses?: readonly ExecutionStatus[];
  readonly limit?: number;
  readonly cursor?: string;
}

export class Workflows {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #definitions: ReadonlyMap<string, WorkflowDefinition>;
  readonly #observer: ExecutionObserver | null;
  /** Compiled waitForEvent patterns by their stored JSON. */
  readonly #patterns = new Map<string, CompiledPattern>();

  constructor(deps: {
    readonly store: Store;
    readonly clock: Clock;
    readonly definitions: ReadonlyMap<string, WorkflowDefinition>;
    /** Told of waiting executions this client stops (no worker holds them to tell it). */
    readonly observer?: ExecutionObserver;
  }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#definitions = deps.definitions;
    this.#observer = deps.observer ?? null;
  }

  /** The app's workflow definitions. */
  definitions(): WorkflowDefinition[] {
    return [...this.#definitions.values()];
  }

  /**
   * Starts an execution; with an `id` that is already stored (for this workflow) returns
   * that execution unchanged. With `tx` (PostgreSQL), the start is part of your open transaction.
   *
   * @example
   * ```ts
   * await client.query('BEGIN');
   * await client.query(insertOrder, [42]);                                        // your own write
   * await ms.workflows.start(fulfil, { orderId: 42 }, { id: 'order-42', tx: client });
   * await client.query('COMMIT');                                                 // runs from here on
   * ```
   */
  async start<I>(
    workflow: WorkflowDefinition<I> | string,
    input?: I,
    options: StartOptions = {},
  ): Promise<Execution & { readonly created: boolean }> {
    const tx = options?.tx;
    if (tx !== undefined) checkTx(tx, this.#store.workflows.startThrough !== undefined, START_CALL);
    const name = typeof workflow === 'string' ? workflow : workflow?.name;
    const def = typeof name === 'string' ? this.#definitions.get(name) : undefined;
    if (def === undefined) {
      const known = [...this.#definitions.keys()];
      throw new MainspringError(
        'E_WORKFLOW_NOT_FOUND',
        `workflow ${show(name)} is not defined in this app${known.length ? ` (defined: ${known.join(', ')})` : ''}; add it to the app's workflows`,
        { details: { field: 'workflow', value: name } },
      );
    }
    let text: string | undefined;
    try {
      text = JSON.stringify(input === undefined ? null : input);
    } catch (err) {
      throw invalidInput(`is not JSON-serialisable (${(err as Error).message})`);
    }
    if (text === undefined) throw invalidInput(`is ${show(input)}, which JSON cannot hold`);
    if (Buffer.byteLength(text) > MAX_CHECKPOINT_BYTES) {
      throw new MainspringError(
        'E_PAYLOAD_TOO_LARGE',
        `input is ${Buffer.byteLength(text)} bytes of JSON; an execution's input may be at most 256 KiB`,
        { details: { field: 'input' } },
      );
    }
    const now = this.#clock.now();
    const id = options?.id ?? newRunId(now);
    if (typeof id !== 'string' || !ID.test(id)) {
      throw new MainspringError(
        'E_WORKFLOW_INVALID',
        `id is ${show(id)}; give 1–200 letters, digits, _ . : / or -, starting with a letter or digit`,
        { details: { field: 'id' } },
      );
    }
    const execution = {
      id,
      workflow: def.name,
      version: def.version,
      input: text,
      parentId: null,
      parentOp: null,
      timeoutAtMs: def.timeoutMs === null ? null : now + def.timeoutMs,
      // Its replays are children of the context it is started in (null: none active).
      traceContext: captureTraceContext(),
    };
    const { row, created } =
      tx === undefined
        ? await this.#store.workflows.start(execution, now)
        : await this.#store.workflows.startThrough!(tx, execution, now);
    if (row.workflow !== def.name) {
      throw new MainspringError(
        'E_EXECUTION_EXISTS',
        `execution "${id}" exists for workflow "${row.workflow}"; choose another id for "${def.name}"`,
        { details: { field: 'id', value: id } },
      );
    }
    return { ...toExecution(row), created };
  }

  async get(id: string): Promise<Execution> {
    return toExecution(await this.#row(id));
  }

  async list(
    options: ListExecutionsOptions = {},
  ): Promise<{ executions: Execution[]; nextCursor: string | null }> {
    const limit = options.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
      throw invalid('limit', limit, 'use a whole number from 1 to 500');
    }
    if (options.status !== undefined && !EXECUTION_STATUSES.includes(options.status)) {
      throw invalid('status', options.status, `use one of ${EXECUTION_STATUSES.join(', ')}`);
    }
    for (const s of options.statuses ?? []) {
      if (!EXECUTION_STATUSES.includes(s)) {
        throw invalid('status', s, `use one or more of ${EXECUTION_STATUSES.join(', ')}`);
      }
    }
    let beforeSeq: number | undefined;
    if (options.cursor !== undefined) {
      beforeSeq = Number(options.cursor);
      // Past a safe integer the store cannot compare it (PostgreSQL's bigint answered a 500).
      if (!Number.isSafeInteger(beforeSeq) || beforeSeq < 1) {
        throw invalid('cursor', options.cursor, 'pass the nextCursor of the previous page');
      }
    }
    const rows = await this.#store.workflows.list({
      limit: limit + 1,
      ...(options.workflow !== undefined ? { workflow: options.workflow } : {}),
      ...(options.status !== undefined ? { status: options.status } : {}),
      ...(options.statuses !== undefined ? { statuses: options.statuses } : {}),
      ...(beforeSeq !== undefined ? { beforeSeq } : {}),
    });
    const page = rows.slice(0, limit);
    return {
      executions: page.map(toExecution),
      nextCursor: rows.length > limit ? String(page[page.length - 1]!.seq) : null,
    };
  }

  /** Every journaled operation, in the order they started. */
  async history(id: string): Promise<Operation[]> {
    await this.#row(id);
    return (await this.#store.workflows.ops(id)).map(toOperation);
  }

  /**
   * Stops an execution: a waiting one at once; a running one's step signals fire and
   * nothing further starts. A finished one is returned as it is.
   */
  async stop(id: string): Promise<Execution> {
    const now = this.#clock.now();
    const row = await this.#store.workflows.stop(id, JSON.stringify(errorOf(stoppedError())), now);
    if (row === null) throw notFound(id);
    if (row.status === 'running' || row.status === 'waiting') {
      await this.#store.notify(WORKFLOW_CHANNEL, `${STOP_PREFIX}${id}`);
    } else if (row.status === 'stopped' && row.finishedAtMs === now) {
      // Stopped by this call (one stopped earlier keeps its earlier finish).
      this.#observer?.executionFinished(row.workflow, 'stopped');
    }
    return toExecution(row);
  }

  /** Deletes a finished execution and its journal. */
  async delete(id: string): Promise<void> {
    const outcome = await this.#store.workflows.delete(id);
    if (outcome === 'not_found') throw notFound(id);
    if (outcome === 'not_finished') {
      throw new MainspringError(
        'E_EXECUTION_NOT_FINISHED',
        `execution "${id}" has not finished; stop it first, then delete it`,
        { details: { field: 'id', value: id } },
      );
    }
  }

  /** Completes a callback with a result: the execution waiting on it resumes. */
  async succeedCallback(callbackId: string, result?: unknown): Promise<void> {
    let text: string | undefined;
    try {
      text = result === undefined ? undefined : JSON.stringify(result);
    } catch (err) {
      throw new MainspringError(
        'E_WORKFLOW_INVALID',
        `result is not JSON-serialisable (${(err as Error).message})`,
        {
          details: { field: 'result' },
        },
      );
    }
    if (text !== undefined && Buffer.byteLength(text) > MAX_CHECKPOINT_BYTES) {
      throw new MainspringError('E_PAYLOAD_TOO_LARGE', 'result is over 256 KiB of JSON', {
        details: { field: 'result' },
      });
    }
    await this.#resolve(callbackId, { status: 'succeeded', result: text ?? null });
  }

  /** Completes a callback with an error: the execution's `await` of it throws. */
  async failCallback(
    callbackId: string,
    error: { readonly message: string; readonly name?: string } | string,
  ): Promise<void> {
    const e = typeof error === 'string' ? { message: error } : error;
    if (typeof e?.message !== 'string') {
      throw new MainspringError(
        'E_WORKFLOW_INVALID',
        'error needs a message: give a string or { message, name? }',
        {
          details: { field: 'error' },
        },
      );
    }
    await this.#resolve(callbackId, {
      status: 'failed',
      error: JSON.stringify({ name: e.name ?? 'CallbackError', message: e.message.slice(0, 10_000) }),
    });
  }

  /** Records a heartbeat, keeping a callback with a `heartbeatTimeout` alive. */
  async heartbeatCallback(callbackId: string): Promise<void> {
    await this.#resolve(callbackId, null);
  }

  /**
   * Resumes the executions waiting (`ctx.waitForEvent`) for a pattern one of these events
   * matches: the first match is each one's result. Called by the bus after every put.
   */
  async deliverEvents(events: readonly BusEvent[]): Promise<void> {
    const waiting = await this.#store.workflows.waitingOps('event', MAX_EVENT_WAITERS);
    if (waiting.length === 0) return;
    const now = this.#clock.now();
    for (const op of waiting) {
      let pattern = this.#patterns.get(op.detail ?? '');
      if (pattern === undefined) {
        const detail = JSON.parse(op.detail ?? '{}') as { pattern?: EventPattern };
        pattern = compilePattern(detail.pattern ?? {});
        if (this.#patterns.size >= 1000) this.#patterns.clear();
        this.#patterns.set(op.detail ?? '', pattern);
      }
      const match = events.find((e) => pattern.matches(e));
      if (match === undefined) continue;
      const outcome = { status: 'succeeded' as const, result: JSON.stringify(match) };
      if (await this.#store.workflows.resolveOp(op.executionId, op.opId, outcome, now)) {
        await this.#store.notify(WORKFLOW_CHANNEL, op.executionId);
      }
    }
  }

  /** Resolves once the execution has finished (polling the store), with its final record. */
  async wait(
    id: string,
    options: { readonly signal?: AbortSignal; readonly pollMs?: number } = {},
  ): Promise<Execution> {
    for (;;) {
      const row = await this.#row(id);
      if (FINISHED_STATUSES.includes(row.status)) return toExecution(row);
      options.signal?.throwIfAborted();
      await new Promise((r) => setTimeout(r, options.pollMs ?? 100));
    }
  }

  async #resolve(
    callbackId: string,
    outcome: { status: 'succeeded'; result: string | null } | { status: 'failed'; error: string } | null,
  ): Promise<void> {
    if (typeof callbackId !== 'string' || callbackId.length === 0 || callbackId.length > 200) {
      throw new MainspringError('E_CALLBACK_NOT_FOUND', `callback ${show(callbackId)} does not exist`, {
        details: { field: 'callbackId' },
      });
    }
    const r = await this.#store.workflows.resolveCallback(callbackId, outcome, this.#clock.now());
    if (r.kind === 'not_found') {
      throw new MainspringError('E_CALLBACK_NOT_FOUND', `callback "${callbackId}" does not exist`, {
        details: { field: 'callbackId', value: callbackId },
      });
    }
    if (r.kind === 'closed') {
      const why = FINISHED_STATUSES.includes(r.executionStatus)
        ? `its execution ${r.executionId} has ${r.executionStatus}`
        : `it has ${r.opStatus === 'succeeded' ? 'already been completed' : r.opStatus === 'failed' ? 'already failed or timed out' : `status ${r.opStatus}`}`;
      throw new MainspringError(
        'E_CALLBACK_CLOSED',
        `callback "${callbackId}" can no longer be completed: ${why}`,
        {
          details: { field: 'callbackId', value: callbackId, execution: r.executionId },
        },
      );
    }
    if (outcome !== null) await this.#store.notify(WORKFLOW_CHANNEL, r.executionId);
  }

  async #row(id: string): Promise<ExecutionRow> {
    const row = typeof id === 'string' && id.length <= 200 ? await this.#store.workflows.get(id) : null;
    if (row === null) throw notFound(id);
    return row;
  }
}

export function toExecution(row: ExecutionRow): Execution {
  return {
    id: row.id,
    workflow: row.workflow,
    version: row.version,
    status: row.status,
    input: JSON.parse(row.input) as unknown,
    ...(row.output !== null ? { output: JSON.parse(row.output) as unknown } : {}),
    ...(row.error !== null ? { error: errorView(row.error) } : {}),
    progress: row.progress === null ? null : (JSON.parse(row.progress) as unknown),
    wait: row.wait === null || row.status !== 'waiting' ? null : (JSON.parse(row.wait) as Execution['wait']),
    parentId: row.parentId,
    operations: row.opCount,
    replays: row.replays,
    stopRequested: row.stopRequestedAtMs !== null,
    createdAt: iso(row.createdAtMs),
    startedAt: row.startedAtMs === null ? null : iso(row.startedAtMs),
    updatedAt: iso(row.updatedAtMs),
    finishedAt: row.finishedAtMs === null ? null : iso(row.finishedAtMs),
  };
}

function toOperation(op: OpRow): Operation {
  return {
    id: op.opId,
    parentId: op.parentOpId,
    type: op.type,
    name: op.name,
    status: op.status,
    attempts: op.attempt,
    ...(op.result !== null ? { result: JSON.parse(op.result) as unknown } : {}),
    ...(op.error !== null ? { error: errorView(op.error) } : {}),
    startedAt: iso(op.startedAtMs),
    finishedAt: op.finishedAtMs === null ? null : iso(op.finishedAtMs),
    wakeAt: op.wakeAtMs === null ? null : iso(op.wakeAtMs),
    ...(op.callbackId !== null ? { callbackId: op.callbackId } : {}),
    ...(op.childId !== null ? { childId: op.childId } : {}),
  };
}

function errorView(text: string): { name: string; message: string; code?: string } {
  const e = JSON.parse(text) as { name?: string; message?: string; code?: string };
  return {
    name: e.name ?? 'Error',
    message: e.message ?? '',
    ...(e.code !== undefined ? { code: e.code } : {}),
  };
}

function errorOf(err: MainspringError): { name: string; message: string; code: string } {
  return { name: err.name, message: err.message, code: err.code };
}

const iso = (ms: number) => new Date(ms).toISOString();

function notFound(id: unknown): MainspringError {
  return new MainspringError(
    'E_EXECUTION_NOT_FOUND',
    `execution ${show(id)} does not exist (or was deleted)`,
    {
      details: { field: 'id', value: id },
    },
  );
}

function invalid(field: string, value: unknown, fix: string): MainspringError {
  return new MainspringError('E_WORKFLOW_INVALID', `${field} is ${show(value)}; ${fix}`, {
    details: { field },
  });
}

function invalidInput(why: string): MainspringError {
  return new MainspringError('E_WORKFLOW_INVALID', `input ${why}; give plain JSON data`, {
    details: { field: 'input' },
  });
}
