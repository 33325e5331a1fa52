// How a run started from a queue is begun and settled. Two kinds: a queue message's run
// (message-runs.ts: begun with no store round trip, recorded write-behind, settled by ack,
// retry or dead letter) and an invocation's (invocation-runs.ts: its queued row becomes
// running, its outcome is stored before its message goes, retries are queued rows).
// What both share — deciding whether a failed attempt is retried, its log line, its
// alert — is here.

import type { Logger } from 'pino';
import { isNonRetryable, retryAfterOf } from '../functions/errors.ts';
import { runAlert } from '../observability/alerts.ts';
import { backoffMs, type QueueSettings } from '../queue/define.ts';
import type { SettlingCounter } from '../queue/settle.ts';
import type { ClaimedMessage } from '../store/types.ts';
import type { AttemptOutcome, Runtime } from './attempt.ts';
import { logFailedAttempt } from './failure-log.ts';
import type { FunctionDefinition, QueueRecord } from './function.ts';
import type { Begun } from './run-rows.ts';

export interface RunKind {
  /** Begins the run of a lease's messages; null when there is nothing to run (its messages are acked). */
  begin(messages: ClaimedMessage[], records: QueueRecord[]): Begun | null | Promise<Begun | null>;
  /** What `ctx.message` shows the handler, if anything. */
  message(records: readonly QueueRecord[]): QueueRecord | undefined;
  /**
   * Records the attempt's outcome and settles its messages (ack, retry, dead letter). Returns
   * undefined when there is nothing to wait on: nothing to settle (released at shutdown), or a
   * quiet ack (Settlement.ackQuiet), which `counter` counts until it is written.
   */
  settle(
    messages: ClaimedMessage[],
    begun: Begun,
    outcome: AttemptOutcome,
    counter: SettlingCounter,
  ): Promise<void> | undefined;
}

/** What every kind needs. */
export interface RunKindDeps {
  readonly runtime: Runtime;
  readonly fn: FunctionDefinition;
  readonly queue: string;
  readonly settings: QueueSettings;
  readonly batchSize: number;
  readonly log: Logger;
}

/** Whether a failed attempt is retried, and when. */
export interface Verdict {
  /** Failed or timed out (and not released at shutdown). */
  readonly failed: boolean;
  /** Failed with no retry left: not retryable, out of attempts, or past its maximum event age. */
  readonly final: boolean;
  readonly nonRetryable: boolean;
  readonly exhausted: boolean;
  readonly maxAttempts: number | null;
  /** When the retry is due (null: none). */
  readonly retryAtMs: number | null;
}

export function verdict(begun: Begun, outcome: AttemptOutcome, settings: QueueSettings): Verdict {
  const { status } = outcome;
  const maxAttempts = begun.maxAttempts ?? settings.maxReceiveCount;
  const failed = (status === 'failed' || status === 'timed_out') && !outcome.released;
  const retryAtMs = failed
    ? outcome.finishedAtMs + (retryAfterOf(outcome.thrown) ?? backoffMs(settings.retry, begun.receives))
    : null;
  const nonRetryable = failed && isNonRetryable(outcome.thrown);
  const exhausted = maxAttempts !== null && begun.receives >= maxAttempts;
  const expired = begun.expiresAtMs !== null && retryAtMs !== null && retryAtMs > begun.expiresAtMs;
  const final = failed && (nonRetryable || exhausted || expired);
  return { failed, final, nonRetryable, exhausted, maxAttempts, retryAtMs: final ? null : retryAtMs };
}

/** Logs a failed attempt with what comes next: a retry, or `fate`. */
export function logFailure(
  d: RunKindDeps,
  begun: Begun,
  outcome: AttemptOutcome,
  v: Verdict,
  fate: string,
  messages: readonly ClaimedMessage[] | null,
): void {
  logFailedAttempt(
    d.log,
    {
      function: d.fn.name,
      info: begun.info,
      timedOut: outcome.status === 'timed_out',
      message: outcome.error?.message ?? 'failed',
      ...(messages ? { queue: { name: d.queue, messageIds: messages.map((m) => String(m.id)) } } : {}),
    },
    v.retryAtMs !== null ? { retryInMs: v.retryAtMs - outcome.finishedAtMs } : { fate },
  );
}

/** Alerts the app's and the function's targets about a run that failed for good or timed out. */
export async function alertFailure(d: RunKindDeps, begun: Begun, outcome: AttemptOutcome): Promise<void> {
  const { runtime, fn } = d;
  if (!runtime.alerter) return;
  const targets = [runtime.alerts, runtime.functionAlerts.get(fn.name) ?? null].filter((a) => a !== null);
  if (targets.length === 0) return;
  const alert = runAlert(
    {
      function: fn.name,
      runId: begun.info.id,
      invocationId: begun.info.invocationId,
      attempt: begun.info.attempt,
      trigger: begun.info.trigger,
      timedOut: outcome.status === 'timed_out',
      error: outcome.error,
      startedAtMs: outcome.startedAtMs,
      finishedAtMs: outcome.finishedAtMs,
    },
    runtime.baseUrl,
  );
  await runtime.alerter.send(alert, targets);
}

/** The ids a batch handler reported in `batchItemFailures` (as Lambda's SQS integration takes them). */
export function failedIds(result: unknown, messages: readonly ClaimedMessage[]): Set<number> {
  const failures = (result as { batchItemFailures?: unknown } | undefined)?.batchItemFailures;
  if (!Array.isArray(failures)) return new Set();
  const known = new Map(messages.map((m) => [String(m.id), m.id]));
  const out = new Set<number>();
  for (const f of failures) {
    const id = known.get(String((f as { itemIdentifier?: unknown })?.itemIdentifier));
    if (id !== undefined) out.add(id);
  }
  return out;
}

/** The attempt a receive of `m` is: it counts every receive the message ever had, so its run id is new. */
export function attemptOf(m: ClaimedMessage): number {
  return m.priorReceives + m.receiveCount;
}
