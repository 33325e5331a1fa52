// The runs of a user's queue (or a rule's delivery queue): begun with no store round trip,
// recorded write-behind (a short run is written once, when it finishes, as a narrow record),
// and settled by the message: ack, retry at the backoff's end, or dead letter.

import { attemptRunId } from '../functions/ids.ts';
import type { Settlement, SettlingCounter } from '../queue/settle.ts';
import type { QueueRunSource } from '../store/run-row.ts';
import { runIdPrefix } from '../store/run-row.ts';
import type { ClaimedMessage } from '../store/types.ts';
import type { AttemptOutcome } from './attempt.ts';
import type { QueueRecord, RunInfo, TriggerInfo } from './function.ts';
import {
  alertFailure,
  attemptOf,
  failedIds,
  logFailure,
  type RunKind,
  type RunKindDeps,
  type Verdict,
  verdict,
} from './run-kind.ts';
import { Begun, finishedRow, LOST_ERROR, NO_INPUT } from './run-rows.ts';

export class MessageRuns implements RunKind {
  readonly #d: RunKindDeps;
  readonly #settlement: Settlement;
  /** For a rule's delivery queue: the rule's name (runs are triggered by an event). */
  readonly #rule: string | null;
  /** Where this queue's one-message runs come from, for their narrow records. */
  readonly #source: QueueRunSource;

  constructor(deps: RunKindDeps, settlement: Settlement, rule: string | null) {
    this.#d = deps;
    this.#settlement = settlement;
    this.#rule = rule;
    this.#source = { functionName: deps.fn.name, queue: deps.queue, rule, owner: deps.runtime.owner };
  }

  begin(messages: ClaimedMessage[], records: QueueRecord[]): Begun {
    const { runtime, fn, queue } = this.#d;
    const first = messages[0]!;
    const invocationId = `${runIdPrefix(first.sentAtMs)}m${first.id.toString(36)}`;
    let attempt = 0;
    let receives = 0;
    for (const m of messages) {
      attempt = Math.max(attempt, attemptOf(m));
      receives = Math.max(receives, m.receiveCount);
    }
    const messageIds = records.map((r) => r.id);
    const rule = this.#rule;
    const trigger: TriggerInfo =
      rule === null ? { kind: 'queue', queue, messageIds } : { kind: 'event', rule, queue, messageIds };
    const info: RunInfo = {
      id: attemptRunId(invocationId, attempt),
      invocationId,
      attempt,
      trigger,
      scheduledFor: null,
    };
    const record = runtime.recordRuns ? fn.record : 'none';
    const begun = new Begun(runtime, fn, info, NO_INPUT, null, record !== 'none', receives);
    if (record === 'none') return begun;
    if (attempt > 1) {
      void runtime.store.runs
        .failAbandoned(invocationId, attempt, LOST_ERROR, runtime.clock.now())
        .catch((err: unknown) => this.#d.log.warn({ err }, 'could not close abandoned attempts'));
    }
    // Short runs are written once, when they finish; a run still going after a moment is written as running.
    if (record === 'all') begun.deadline = runtime.recorder.runningWrites.arm(begun, begun.startedAtMs);
    else begun.failuresOnly = true;
    return begun;
  }

  message(records: readonly QueueRecord[]): QueueRecord | undefined {
    return this.#d.batchSize === 1 ? records[0] : undefined;
  }

  settle(
    messages: ClaimedMessage[],
    begun: Begun,
    outcome: AttemptOutcome,
    counter: SettlingCounter,
  ): Promise<void> | undefined {
    const { runtime, fn, settings } = this.#d;
    const { status } = outcome;
    runtime.metrics?.runFinished(fn.name, status, outcome.finishedAtMs - outcome.startedAtMs);
    const v = verdict(begun, outcome, settings);
    if (v.failed) logFailure(this.#d, begun, outcome, v, this.#fate(v.nonRetryable), messages);
    if (begun.recorded && !(begun.failuresOnly && status === 'succeeded')) {
      // A run whose running row never went out is written once, and a one-message one goes in
      // as a narrow queue-run record (see docs/architecture.md). Nobody waits for it.
      const narrow = !begun.runningWritten && messages.length === 1;
      runtime.recorder.writeLater(
        finishedRow(
          fn,
          begun,
          outcome,
          runtime.owner,
          narrow ? this.#source : null,
          narrow ? messages[0]!.id : null,
        ),
      );
    }
    if (status === 'timed_out' || v.final) void alertFailure(this.#d, begun, outcome);
    if (outcome.released) return undefined;
    // The common case, thousands a second: one message handled, acked with no promise.
    if (status === 'succeeded' && messages.length === 1 && !(this.#d.batchSize > 1)) {
      counter.settling(1);
      this.#settlement.ackQuiet(messages[0]!, counter);
      return undefined;
    }
    return this.#settle(messages, begun, outcome, v);
  }

  async #settle(
    messages: ClaimedMessage[],
    begun: Begun,
    outcome: AttemptOutcome,
    v: Verdict,
  ): Promise<void> {
    const { status } = outcome;
    try {
      const settle = this.#settlement;
      if (status === 'succeeded' && !(this.#d.batchSize > 1)) {
        await Promise.all(messages.map((m) => settle.ack(m)));
      } else if (status === 'succeeded') {
        const failed = failedIds(outcome.value, messages);
        await Promise.all([
          ...messages.filter((m) => !failed.has(m.id)).map((m) => settle.ack(m)),
          settle.fail(
            messages.filter((m) => failed.has(m.id)),
            new Error('reported in batchItemFailures'),
            null,
            true,
          ),
        ]);
      } else if (status === 'cancelled') {
        await Promise.all(messages.map((m) => settle.ack(m)));
      } else {
        await settle.fail(messages, outcome.thrown, v.retryAtMs, true);
      }
    } catch (err) {
      this.#d.log.error(
        { err, queue: this.#d.queue, ids: begun.info.trigger },
        'could not record the outcome; the messages will be redelivered',
      );
    }
  }

  /** What became of a message whose attempt failed for good, for the log. */
  #fate(nonRetryable: boolean): string {
    const dlq = this.#d.settings.deadLetterQueue;
    // maxReceiveCount needs a dead-letter queue: without one, only a NonRetryableError ends a queue run.
    if (dlq === null) return 'not retryable; message dropped (the queue has no dead-letter queue)';
    return `${nonRetryable ? 'not retryable; ' : ''}dead-lettered to ${dlq}`;
  }
}
