// One session of one execution: a worker holds its lease, replays the handler against
// the journal (journaled operations return their recorded outcome without running
// again), runs the operations that are new, and ends in one of four ways: the handler
// settled (finished), nothing can progress until a time or an outside event
// (suspended), a stop was asked (stopped), or the lease was lost (lost: nothing more is
// written; whoever took the lease over replays from the journal).
//
// This file holds the replay core: the journal position each operation takes (begin),
// the writes that extend the journal (write, checkpoints), and how a session ends. The
// operations themselves are in ops/, one file per family, written against the Replay
// interface (replay.ts); context.ts binds them into the handler's ctx.

import type { Logger } from 'pino';
import { Backoff, isTransient } from '../core/backoff.ts';
import { MainspringError } from '../core/errors.ts';
import { toErrorRecord } from '../functions/errors.ts';
import {
  type Context,
  ROOT_CONTEXT,
  restoreTraceContext,
  runIn,
  type Span,
  SpanKind,
  spanContext,
  spanFailed,
  startSpan,
} from '../observability/tracing.ts';
import type { ExecutionPatch, ExecutionRow, OpRow } from '../store/workflow-row.ts';
import { buildContext } from './context.ts';
import type { WorkflowContext, WorkflowDefinition } from './define.ts';
import {
  encode,
  invalid,
  json,
  MAX_CHECKPOINT_BYTES,
  stoppedAbort,
  stoppedError,
  timedOutError,
  WorkflowOperationError,
} from './journal-values.ts';
import { type Begun, NEVER, noop, type Replay, Scope, type SessionDeps, type WaitInfo } from './replay.ts';

export type { Journal, SessionDeps, WaitInfo } from './replay.ts';
export { MAX_CHECKPOINT_BYTES, stoppedError, WorkflowOperationError };

export const MAX_OPERATIONS = 25_000;

export type SessionEnd = 'finished' | 'suspended' | 'stopped' | 'lost';

interface Blocked {
  readonly wakeAtMs: number | null;
  readonly info: WaitInfo;
}

/** Retries of a checkpoint that failed on a lost connection (see #checkpoint). */
const CHECKPOINT_RETRIES = 6;

export class Session implements Replay {
  readonly deps: SessionDeps;
  readonly #def: WorkflowDefinition;
  readonly row: ExecutionRow;
  readonly #token: string;
  readonly entries: Map<string, OpRow>;
  #unvisited: number;
  #opCount: number;
  busy = 0;
  readonly #blocked = new Map<string, Blocked>();
  #state: 'live' | 'ending' | 'done' = 'live';
  #stopping = false;
  readonly #abort = new AbortController();
  readonly log: Logger;
  #replaying: boolean;
  #deferredProgress: string | undefined;
  #pendingOps: OpRow[] = [];
  #pendingProgress: string | undefined;
  #flushWaiters: (() => void)[] = [];
  #flushing: Promise<void> | null = null;
  #idleScheduled = false;
  #end!: (end: SessionEnd) => void;
  readonly ended: Promise<SessionEnd>;
  /** The replay's span, child of the context the execution was started in (docs/observability.md). */
  readonly #span: Span;
  /** The replay's span as a context, or null when there is nothing to trace. */
  readonly #traceCtx: Context | null;
  /** Spans of the operations run in this replay that are still open, by operation id. */
  readonly #opSpans = new Map<string, { span: Span; ctx: Context | null; status: string }>();
  /** The execution's status as this session last wrote it, and its error if any. */
  #status: string | undefined;
  #error: unknown;

  constructor(deps: SessionDeps, def: WorkflowDefinition, row: ExecutionRow, journal: readonly OpRow[]) {
    this.deps = deps;
    this.#def = def;
    this.row = row;
    this.#token = row.leaseToken ?? '';
    this.entries = new Map(journal.map((o) => [o.opId, o]));
    this.#unvisited = this.entries.size;
    this.#opCount = row.opCount;
    this.#replaying = this.#unvisited > 0;
    this.log = deps.log.child({ workflow: row.workflow, execution: row.id });
    if (this.#replaying) this.log.level = 'silent';
    this.ended = new Promise((resolve) => {
      this.#end = resolve;
    });
    const parent = restoreTraceContext(row.traceContext) ?? ROOT_CONTEXT;
    this.#span = startSpan(`workflow ${row.workflow}`, SpanKind.INTERNAL, parent, () => ({
      'mainspring.workflow': row.workflow,
      'mainspring.workflow_version': row.version,
      'mainspring.execution_id': row.id,
      'mainspring.replay': row.replays,
    }));
    this.#traceCtx = spanContext(this.#span, parent);
    void this.ended.then((end) => this.#endSpans(end));
  }

  traceContext(opId: string): Context | null {
    return this.#opSpans.get(opId)?.ctx ?? this.#traceCtx;
  }

  /** Starts the span of an operation run in this replay, under its scope's operation or the replay. */
  #startOpSpan(scope: Scope, id: string, type: string, name: string, status: string): void {
    const parent = (scope.parentOpId === null ? null : this.traceContext(scope.parentOpId)) ?? this.#traceCtx;
    if (parent === null) return;
    const row = this.row;
    const span = startSpan(`${type} ${name}`, SpanKind.INTERNAL, parent, () => ({
      'mainspring.workflow': row.workflow,
      'mainspring.execution_id': row.id,
      'mainspring.operation': type,
      'mainspring.operation_id': id,
      'mainspring.operation_name': name,
    }));
    this.#opSpans.set(id, { span, ctx: spanContext(span, parent), status });
  }

  /** Notes a journal write on its operation's span; a finished operation's span ends. */
  #traceWrite(op: OpRow): void {
    const open = this.#opSpans.get(op.opId);
    if (open === undefined) return;
    open.status = op.status;
    const { span } = open;
    if (op.status === 'retrying' && span.isRecording()) {
      span.addEvent('retry', { 'mainspring.attempt': op.attempt, 'mainspring.error': op.error ?? '' });
    }
    if (op.status !== 'succeeded' && op.status !== 'failed') return;
    this.#opSpans.delete(op.opId);
    if (span.isRecording()) {
      span.setAttributes({ 'mainspring.operation_status': op.status, 'mainspring.attempt': op.attempt });
      if (op.status === 'failed') spanFailed(span, errorOf(op.error));
    }
    span.end();
  }

  /** Ends what is open when the session ends: operations still waiting, then the replay. */
  #endSpans(end: SessionEnd): void {
    for (const { span, status } of this.#opSpans.values()) {
      if (span.isRecording()) span.setAttribute('mainspring.operation_status', status);
      span.end();
    }
    this.#opSpans.clear();
    const span = this.#span;
    if (span.isRecording()) {
      span.setAttribute('mainspring.session_end', end);
      if (this.#status !== undefined) span.setAttribute('mainspring.outcome', this.#status);
      if (this.#status === 'failed' || this.#status === 'timed_out') spanFailed(span, this.#error);
    }
    span.end();
  }

  get live(): boolean {
    return this.#state === 'live';
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  context(scope: Scope): WorkflowContext {
    return buildContext(this, scope);
  }

  get token(): string {
    return this.#token;
  }

  get id(): string {
    return this.row.id;
  }

  /** Runs the session; `ended` tells how it ended. */
  start(): Promise<SessionEnd> {
    const row = this.row;
    const now = this.now();
    if (row.stopRequestedAtMs !== null) {
      void this.#finish({ status: 'stopped', error: json(stoppedError()) }, 'stopped');
    } else if (row.timeoutAtMs !== null && now >= row.timeoutAtMs) {
      void this.#finish({ status: 'timed_out', error: json(timedOutError(this.#def)) }, 'finished');
    } else if (row.version !== this.#def.version && !this.#def.compatibleVersions.includes(row.version)) {
      this.#fatal(
        new MainspringError(
          'E_WORKFLOW_VERSION',
          `execution ${row.id} started on version "${row.version}" of workflow "${row.workflow}", and this worker runs version "${this.#def.version}"; declare compatibleVersions: ['${row.version}'] if the code replays it the same way, or let the old version's workers finish it`,
          { details: { started: row.version, running: this.#def.version } },
        ),
      );
    } else {
      let input: unknown;
      try {
        input = JSON.parse(row.input);
      } catch {
        input = null;
      }
      const ctx = this.context(new Scope(null, null));
      runIn(this.#traceCtx, () => Promise.resolve())
        .then(() => runIn(this.#traceCtx, () => this.#def.handler(input, ctx)))
        .then(
          (value) => this.#complete(value),
          (err: unknown) => this.#failWith(err),
        );
    }
    return this.ended;
  }

  /** The worker was asked to stop it: running steps' signals fire; nothing further starts. */
  requestStop(): void {
    if (this.#stopping || this.#state !== 'live') return;
    this.#stopping = true;
    this.#abort.abort(stoppedAbort());
    this.idle();
  }

  /** The lease was taken over: write nothing more. */
  lose(): void {
    if (this.#state === 'done') return;
    this.#state = 'done';
    this.#abort.abort(new Error('lease lost'));
    this.#end('lost');
  }

  /** Shutdown: give the lease back so another worker resumes at once; running steps are aborted. */
  async abandon(): Promise<void> {
    if (this.#state !== 'live') return;
    this.#state = 'done';
    this.#abort.abort(new Error('worker shutting down'));
    await this.deps.journal
      .checkpoint(this.row.id, this.#token, [], { release: { dueAtMs: this.now() } }, this.now())
      .catch(noop);
    this.#end('lost');
  }

  now(): number {
    return this.deps.clock.now();
  }

  // --- the context ------------------------------------------------------------------------

  /**
   * Takes the next position in `scope`. Returns null when the session is over (the caller
   * then never settles). Throws (to the handler) on a name used twice in the scope; a
   * journal that disagrees with the code, or too many operations, fail the execution.
   */
  begin(scope: Scope, type: string, name: string | null): Begun | null {
    if (this.#state !== 'live' || this.#stopping || scope.cutOff) return null;
    const position = ++scope.counter;
    const id = `${scope.prefix}${position}`;
    const opName = name ?? `${type}#${position}`;
    if (typeof opName !== 'string' || opName.length === 0 || opName.length > 200) {
      throw invalid(type, 'name', name, 'give a non-empty string of at most 200 characters');
    }
    const taken = scope.names.get(opName);
    if (taken !== undefined) {
      throw new MainspringError(
        'E_WORKFLOW_INVALID',
        `operation name "${opName}" is used twice in one scope (operations ${taken} and ${id}); give each operation in a scope its own name, e.g. \`${opName}-\${i}\``,
        { details: { field: 'name', value: opName } },
      );
    }
    scope.names.set(opName, id);
    const entry = this.entries.get(id);
    if (entry !== undefined) {
      if (entry.type !== type || entry.name !== opName) {
        this.#fatal(
          new MainspringError(
            'E_WORKFLOW_NONDETERMINISM',
            `replay of execution ${this.row.id} diverged at operation ${id}: the journal has ${entry.type} "${entry.name}", the code now calls ${type} "${opName}"; code outside steps must call the same operations in the same order on every run (see docs/workflows.md), or start new executions on a new version`,
            {
              details: {
                operation: id,
                journal: { type: entry.type, name: entry.name },
                code: { type, name: opName },
              },
            },
          ),
        );
        return null;
      }
      if (--this.#unvisited === 0) this.#goLive();
      if (entry.status !== 'succeeded' && entry.status !== 'failed')
        this.#startOpSpan(scope, id, type, opName, entry.status);
      return { id, name: opName, entry };
    }
    this.#goLive();
    if (this.#opCount >= MAX_OPERATIONS) {
      this.#fatal(
        new MainspringError(
          'E_WORKFLOW_LIMIT',
          `execution ${this.row.id} would journal more than ${MAX_OPERATIONS} operations; split the work into child workflows (ctx.invoke) or batch items into fewer steps`,
          { details: { limit: MAX_OPERATIONS } },
        ),
      );
      return null;
    }
    this.#opCount++;
    this.#startOpSpan(scope, id, type, opName, 'started');
    return { id, name: opName, entry: undefined };
  }

  #goLive(): void {
    if (!this.#replaying) return;
    this.#replaying = false;
    this.log.level = this.deps.log.level;
    if (this.#deferredProgress !== undefined) {
      this.#pendingProgress = this.#deferredProgress;
      this.#deferredProgress = undefined;
      this.#scheduleFlush();
    }
  }

  op(scope: Scope, b: Begun, type: string, fields: Partial<OpRow>): OpRow {
    const now = this.now();
    return {
      executionId: this.row.id,
      opId: b.id,
      parentOpId: scope.parentOpId,
      type,
      name: b.name,
      status: 'succeeded',
      attempt: 0,
      result: null,
      error: null,
      startedAtMs: b.entry?.startedAtMs ?? now,
      finishedAtMs: null,
      wakeAtMs: null,
      heartbeatAtMs: null,
      callbackId: null,
      childId: null,
      detail: null,
      ...(b.entry ?? {}),
      updatedAtMs: now,
      ...fields,
    };
  }

  /** Journals the operation as failed with `err`, then throws it as replay would rebuild it. */
  async failOp(
    scope: Scope,
    b: Begun,
    type: string,
    err: unknown,
    fields: Partial<OpRow> = {},
  ): Promise<never> {
    const record = toErrorRecord(err);
    await this.write(
      this.op(scope, b, type, {
        status: 'failed',
        error: JSON.stringify(record),
        finishedAtMs: this.now(),
        ...fields,
      }),
    );
    throw new WorkflowOperationError(record);
  }

  /** Blocks on an operation until a time or an outside completion: the session suspends. */
  block(id: string, wakeAtMs: number | null, info: Omit<WaitInfo, 'operation' | 'until'>): Promise<never> {
    this.#blocked.set(id, {
      wakeAtMs,
      info: { ...info, operation: id, until: wakeAtMs === null ? null : new Date(wakeAtMs).toISOString() },
    });
    this.idle();
    return NEVER;
  }

  async progress(value: unknown): Promise<void> {
    const text = encode(value === undefined ? null : value, 'progress');
    if (typeof text !== 'string') throw text;
    if (this.#state !== 'live') return;
    if (this.#replaying) {
      // Replayed progress would move the shown value backwards; the latest goes out once live.
      this.#deferredProgress = text;
      return;
    }
    this.#pendingProgress = text;
    await this.#flushSoon();
  }

  // --- writes ---------------------------------------------------------------------------

  /** Journals an operation; resolves once committed. Never settles when the lease is gone. */
  write(op: OpRow): Promise<void> {
    if (this.#state !== 'live') return NEVER;
    this.#traceWrite(op);
    this.entries.set(op.opId, op);
    this.#pendingOps.push(op);
    return this.#flushSoon();
  }

  #flushSoon(): Promise<void> {
    this.busy++;
    return new Promise<void>((resolve) => {
      this.#flushWaiters.push(() => {
        this.busy--;
        resolve();
        this.idle();
      });
      this.#scheduleFlush();
    });
  }

  /**
   * Writes a checkpoint, again while it fails on a lost connection (a restart, a cut), for
   * some 8-16 s: fenced by the lease token, a repeat of one that did commit writes the same.
   * Past that the lease is likely gone too, and the execution resumes when it runs out.
   */
  async #checkpoint(ops: readonly OpRow[], patch: ExecutionPatch): Promise<boolean> {
    const backoff = new Backoff();
    for (;;) {
      try {
        return await this.deps.journal.checkpoint(this.row.id, this.#token, ops, patch, this.now());
      } catch (err) {
        if (!isTransient(err) || backoff.failures >= CHECKPOINT_RETRIES) throw err;
        const retryInMs = backoff.next();
        this.deps.log.warn(
          { err, execution: this.row.id, retryInMs },
          'lost the connection to the store at a checkpoint; retrying',
        );
        await this.deps.clock.sleep(this.deps.clock.real(retryInMs)).catch(noop);
      }
    }
  }

  #scheduleFlush(): void {
    this.#flushing ??= this.#flush();
  }

  async #flush(): Promise<void> {
    // Operations completing in the same turn share one transaction.
    await new Promise((r) => setImmediate(r));
    while (this.#state === 'live' && (this.#pendingOps.length > 0 || this.#pendingProgress !== undefined)) {
      const ops = this.#pendingOps;
      const waiters = this.#flushWaiters;
      const progress = this.#pendingProgress;
      this.#pendingOps = [];
      this.#flushWaiters = [];
      this.#pendingProgress = undefined;
      let ok: boolean;
      try {
        ok = await this.#checkpoint(ops, progress === undefined ? {} : { progress });
      } catch (err) {
        this.log.error({ err }, 'could not checkpoint; the execution resumes when its lease runs out');
        ok = false;
      }
      if (!ok) {
        this.lose();
        break;
      }
      for (const w of waiters) w();
    }
    this.#flushing = null;
  }

  // --- ending ---------------------------------------------------------------------------

  idle(): void {
    if (this.busy > 0 || this.#state !== 'live' || this.#idleScheduled) return;
    this.#idleScheduled = true;
    setImmediate(() => {
      this.#idleScheduled = false;
      if (this.busy > 0 || this.#state !== 'live') return;
      if (this.#stopping) void this.#finish({ status: 'stopped', error: json(stoppedError()) }, 'stopped');
      else if (this.#blocked.size > 0) void this.#suspend();
    });
  }

  async #suspend(): Promise<void> {
    let due: number | null = null;
    let first: Blocked | null = null;
    for (const blocked of this.#blocked.values()) {
      if (
        first === null ||
        (blocked.wakeAtMs !== null && (first.wakeAtMs === null || blocked.wakeAtMs < first.wakeAtMs))
      ) {
        first = blocked;
      }
      if (blocked.wakeAtMs !== null && (due === null || blocked.wakeAtMs < due)) due = blocked.wakeAtMs;
    }
    const timeoutAt = this.row.timeoutAtMs;
    if (timeoutAt !== null && (due === null || timeoutAt < due)) due = timeoutAt;
    await this.#close(
      {
        status: 'waiting',
        wait: JSON.stringify({ ...first?.info, waiting: this.#blocked.size }),
        release: { dueAtMs: due },
      },
      'suspended',
    );
  }

  #complete(value: unknown): void {
    if (this.#state !== 'live') return;
    const text = encode(value === undefined ? null : value, 'workflow output');
    if (typeof text !== 'string') {
      this.#failWith(text);
      return;
    }
    void this.#finish({ status: 'succeeded', output: text }, 'finished');
  }

  #failWith(err: unknown): void {
    if (this.#state !== 'live') return;
    void this.#finish({ status: 'failed', error: JSON.stringify(toErrorRecord(err)) }, 'finished');
  }

  /** Fails the execution whatever the handler does about it (a broken journal, a limit). */
  #fatal(err: MainspringError): void {
    if (this.#state !== 'live') return;
    this.#abort.abort(err);
    void this.#finish({ status: 'failed', error: JSON.stringify(toErrorRecord(err)) }, 'finished');
  }

  async #finish(patch: ExecutionPatch, end: SessionEnd): Promise<void> {
    await this.#close({ ...patch, wait: null, finishedAtMs: this.now(), release: { dueAtMs: null } }, end);
  }

  async #close(patch: ExecutionPatch, end: SessionEnd): Promise<void> {
    if (this.#state !== 'live') return;
    this.#state = 'ending';
    this.#status = patch.status;
    if (patch.error != null) this.#error = errorOf(patch.error);
    while (this.#flushing) await this.#flushing;
    if (this.#state !== 'ending') return;
    const progress = this.#pendingProgress ?? this.#deferredProgress;
    let ok = false;
    try {
      ok = await this.#checkpoint(this.#pendingOps, progress === undefined ? patch : { ...patch, progress });
    } catch (err) {
      this.log.error(
        { err },
        'could not record the session end; the execution resumes when its lease runs out',
      );
    }
    this.#state = 'done';
    if (!ok) {
      this.#end('lost');
      return;
    }
    if (patch.status === 'succeeded' || patch.status === 'failed' || patch.status === 'timed_out') {
      this.log.level = this.deps.log.level;
      this.log.info({ status: patch.status }, 'workflow execution finished');
    }
    this.#end(end);
  }
}

/** A journaled error (JSON of an error record) as an Error for a span. */
function errorOf(text: string | null): Error {
  try {
    const record = JSON.parse(text ?? 'null') as { name?: string; message?: string } | null;
    const err = new Error(record?.message ?? 'failed');
    if (record?.name) err.name = record.name;
    return err;
  } catch {
    return new Error(String(text));
  }
}
