// The records of runs a queue consumer starts, built in one place: a run being made
// (`Begun`) and the rows written for it — running, finished, failed for good.

import { attemptRunId } from '../functions/ids.ts';
import type { QueueRunSource, RunStatus, RunWrite } from '../store/run-row.ts';
import type { AttemptOutcome, Runtime } from './attempt.ts';
import type { Deadline, DeadlineTarget } from './deadlines.ts';
import type { FunctionDefinition, RunInfo } from './function.ts';

/** The handler's input is the message body (or the batch), not a stored input. */
export const NO_INPUT = Symbol('no input');

export const LOST_MESSAGE =
  'the process running this attempt stopped before it finished (crash or lost lease); a later attempt took over';
export const LOST_ERROR = JSON.stringify({
  name: 'MainspringError',
  code: 'E_RUN_LOST',
  message: LOST_MESSAGE,
});

/** A run being made: what its records are built from. */
export class Begun implements DeadlineTarget {
  readonly rt: Runtime;
  readonly fn: FunctionDefinition;
  readonly info: RunInfo;
  /** The handler's input, or NO_INPUT to use the message body. */
  readonly input: unknown;
  readonly inputJson: string | null;
  readonly startedAtMs: number;
  /** Whether the run gets a record. */
  readonly recorded: boolean;
  /**
   * The receive count in the message's current queue, which the limits (maxReceiveCount, an
   * invocation's attempts) and the backoff go by. `info.attempt` counts on across dead-lettering
   * and redrive, naming a new run each time; this starts again, as SQS's does on a redrive.
   */
  readonly receives: number;
  /** When a queue-triggered run's `running` row is due to be written. */
  deadline: Deadline | null = null;
  /** Whether the `running` row was queued for writing. */
  runningWritten = false;
  /** A queue-triggered run of a function with `record: 'failures'`: a success leaves no record. */
  failuresOnly = false;
  /** An invocation's own attempt limit (a schedule's retry policy), over the queue's. */
  maxAttempts: number | null = null;
  /** No retry of this invocation starts after this instant (a schedule's maximum event age). */
  expiresAtMs: number | null = null;

  constructor(
    rt: Runtime,
    fn: FunctionDefinition,
    info: RunInfo,
    input: unknown,
    inputJson: string | null,
    recorded: boolean,
    receives: number,
  ) {
    this.rt = rt;
    this.fn = fn;
    this.info = info;
    this.input = input;
    this.inputJson = inputJson;
    this.startedAtMs = rt.clock.now();
    this.recorded = recorded;
    this.receives = receives;
  }

  /** Still running a moment after it started: write the row, so the run shows while it lasts. */
  onDeadline(): void {
    this.deadline = null;
    this.runningWritten = true;
    this.rt.recorder.write(runRow(this.fn, this, 'running', this.rt.owner)).catch(() => {});
  }

  settle(): void {
    if (this.deadline === null) return;
    this.rt.recorder.runningWrites.disarm(this.deadline);
    this.deadline = null;
  }
}

/** What a run row is built from. */
export interface RowSource {
  readonly info: RunInfo;
  readonly inputJson: string | null;
  readonly startedAtMs: number;
}

/** A row of a run not finished (queued, running) or given up without an outcome. */
export function runRow(
  fn: FunctionDefinition,
  b: RowSource,
  status: RunStatus,
  owner: string | null,
): RunWrite {
  return row(fn, b, status, owner, b.startedAtMs, null, null, null, 0, null, null);
}

/**
 * The row of a finished attempt; `source` and `messageId` for a one-message queue run written
 * once (its narrow record).
 */
export function finishedRow(
  fn: FunctionDefinition,
  b: RowSource,
  o: AttemptOutcome,
  owner: string,
  source: QueueRunSource | null,
  messageId: number | null,
): RunWrite {
  const error = o.error === null ? null : JSON.stringify(o.error);
  const { startedAtMs, finishedAtMs, resultJson, logLines } = o;
  return row(
    fn,
    b,
    o.status,
    owner,
    startedAtMs,
    finishedAtMs,
    resultJson,
    error,
    logLines,
    source,
    messageId,
  );
}

// Positional, and one object literal: this runs once per message.
function row(
  fn: FunctionDefinition,
  b: RowSource,
  status: RunStatus,
  owner: string | null,
  startedAtMs: number,
  finishedAtMs: number | null,
  result: string | null,
  error: string | null,
  logCount: number,
  source: QueueRunSource | null,
  messageId: number | null,
): RunWrite {
  return {
    id: b.info.id,
    functionName: fn.name,
    invocationId: b.info.invocationId,
    attempt: b.info.attempt,
    status,
    triggerKind: b.info.trigger.kind,
    // A narrow record's trigger follows from its source and id: not built for every message.
    trigger: source === null ? JSON.stringify(b.info.trigger) : '',
    input: b.inputJson,
    scheduledForMs: b.info.scheduledFor?.getTime() ?? null,
    createdAtMs: b.startedAtMs,
    startedAtMs,
    finishedAtMs,
    result,
    error,
    owner,
    logCount,
    source,
    messageId,
  };
}

/** The next attempt of an invocation, queued until its backoff ends. */
export function queuedRetryRow(fn: FunctionDefinition, b: RowSource, retryAtMs: number): RunWrite {
  const attempt = b.info.attempt + 1;
  const next: RowSource = {
    ...b,
    info: { ...b.info, id: attemptRunId(b.info.invocationId, attempt), attempt },
  };
  return { ...runRow(fn, next, 'queued', null), startedAtMs: null, scheduledForMs: retryAtMs };
}
