// The runs of a function's own invocation queue (manual calls, schedule ticks, tasks,
// retries): the store queued the run's row when it was invoked; beginning it makes the
// row running (unless it was cancelled or ran already), its outcome is stored before its
// message goes (a crash in between re-runs it rather than losing the outcome), and a retry
// is the next attempt's row, queued in the same batch as the failure.

import { attemptRunId } from '../functions/ids.ts';
import type { Settlement } from '../queue/settle.ts';
import type { ClaimedMessage } from '../store/types.ts';
import type { AttemptOutcome, RunStart } from './attempt.ts';
import { logFailedAttempt } from './failure-log.ts';
import type { QueueRecord } from './function.ts';
import {
  alertFailure,
  attemptOf,
  logFailure,
  type RunKind,
  type RunKindDeps,
  type Verdict,
  verdict,
} from './run-kind.ts';
import { Begun, finishedRow, LOST_ERROR, LOST_MESSAGE, queuedRetryRow, runRow } from './run-rows.ts';
import type { InvocationMessage } from './runs.ts';

export class InvocationRuns implements RunKind {
  readonly #d: RunKindDeps;
  readonly #settlement: Settlement;

  constructor(deps: RunKindDeps, settlement: Settlement) {
    this.#d = deps;
    this.#settlement = settlement;
  }

  async begin(messages: ClaimedMessage[], records: QueueRecord[]): Promise<Begun | null> {
    const { runtime, fn } = this.#d;
    const message = messages[0]!;
    const record = records[0]!;
    const body = record.body as Partial<InvocationMessage> | null;
    if (typeof body?.invocationId !== 'string' || typeof body.trigger !== 'object' || body.trigger === null) {
      this.#d.log.error({ queue: this.#d.queue, id: record.id }, 'not an invocation message; dropped');
      return null;
    }
    const attempt = attemptOf(message);
    const receives = message.receiveCount;
    const invocationId = body.invocationId;
    const id = attemptRunId(invocationId, attempt);
    const now = runtime.clock.now();
    const scheduledFor = body.scheduledForMs == null ? null : new Date(body.scheduledForMs);
    const input = body.input ?? null;
    const inputJson = body.input === undefined ? null : JSON.stringify(body.input);
    const info = { id, invocationId, attempt, trigger: body.trigger, scheduledFor };
    const begun = new Begun(runtime, fn, info, input, inputJson, true, receives);
    const maxAttempts = body.retry?.maxAttempts ?? fn.retry.maxAttempts;
    begun.maxAttempts = maxAttempts;
    if (body.retry?.maxEventAgeMs != null) {
      begun.expiresAtMs = (body.scheduledForMs ?? message.sentAtMs) + body.retry.maxEventAgeMs;
    }
    if (attempt === 1 && body.trigger.kind === 'schedule' && body.scheduledForMs != null) {
      runtime.metrics?.scheduleLateness(body.trigger.schedule, now - body.scheduledForMs);
    }
    if (receives > maxAttempts) {
      // Redelivered past its attempts (its workers kept dying): give up, on the record.
      await runtime.recorder.write(
        { ...runRow(fn, begun, 'failed', runtime.owner), finishedAtMs: now, error: LOST_ERROR },
        true,
      );
      await runtime.store.runs.failAbandoned(invocationId, attempt, LOST_ERROR, now);
      logFailedAttempt(
        this.#d.log,
        { function: fn.name, info: begun.info, timedOut: false, message: LOST_MESSAGE },
        {
          fate: `no attempts left (${maxAttempts}): the processes running it kept stopping before it finished`,
        },
      );
      return null;
    }
    const start: RunStart = { id, row: null };
    await runtime.starts.add(start);
    const row = start.row;
    if (row === null) {
      const existing = await runtime.store.runs.get(id);
      // Cancelled while queued, or finished already: nothing to run.
      if (existing !== null) return null;
      if (attempt > 1) {
        const previous = await runtime.store.runs.get(attemptRunId(invocationId, attempt - 1));
        if (previous?.status === 'succeeded' || previous?.status === 'cancelled') return null;
      }
      // The previous attempt's process died before it could queue this one.
      await runtime.recorder.write(runRow(fn, begun, 'running', runtime.owner), true);
    } else if (row.scheduledForMs !== null) {
      (begun.info as { scheduledFor: Date | null }).scheduledFor = new Date(row.scheduledForMs);
    }
    if (attempt > 1) await runtime.store.runs.failAbandoned(invocationId, attempt, LOST_ERROR, now);
    return begun;
  }

  message(): undefined {
    return undefined;
  }

  async settle(messages: ClaimedMessage[], begun: Begun, outcome: AttemptOutcome): Promise<void> {
    const { runtime, fn, settings } = this.#d;
    const { status } = outcome;
    runtime.metrics?.runFinished(fn.name, status, outcome.finishedAtMs - outcome.startedAtMs);
    const v = verdict(begun, outcome, settings);
    if (v.failed) logFailure(this.#d, begun, outcome, v, fate(v, begun.receives), null);
    const writes = [runtime.recorder.write(finishedRow(fn, begun, outcome, runtime.owner, null, null), true)];
    // Queued in the same batch as the failure, so a waiter never sees a gap between attempts.
    if (v.retryAtMs !== null)
      writes.push(runtime.recorder.write(queuedRetryRow(fn, begun, v.retryAtMs), true));
    if (status === 'timed_out' || v.final) void alertFailure(this.#d, begun, outcome);
    try {
      await Promise.all(writes);
      if (outcome.released) return;
      // Nothing left to try once it succeeded, was cancelled or failed for good: its record
      // holds the outcome (invocations have no dead-letter queue).
      if (status === 'succeeded' || status === 'cancelled' || v.final)
        await Promise.all(messages.map((m) => this.#settlement.ack(m)));
      else await this.#settlement.fail(messages, outcome.thrown, v.retryAtMs, false);
    } catch (err) {
      this.#d.log.error(
        { err, queue: this.#d.queue, ids: begun.info.trigger },
        'could not record the outcome; the messages will be redelivered',
      );
    }
  }
}

/** What became of an invocation whose attempt failed for good, for the log. */
function fate(v: Verdict, receives: number): string {
  if (v.nonRetryable) return 'not retryable';
  return v.exhausted ? `no attempts left (${receives} of ${v.maxAttempts})` : 'past its maximum event age';
}
