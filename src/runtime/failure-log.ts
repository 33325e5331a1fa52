// The process log's line for an attempt that failed or timed out: one line per
// attempt, so an operator watching the console sees failures without opening the
// run history (issue 16). Warn while a retry is coming; error once it is final, and
// for every timeout (a hung handler is worth a look even when a retry follows, as
// timeouts also raise alerts).

import type { Logger } from 'pino';
import type { RunInfo } from './function.ts';

export interface FailedAttempt {
  readonly function: string;
  readonly info: RunInfo;
  readonly timedOut: boolean;
  /** The error's message. */
  readonly message: string;
  /** For queue runs: what a run id alone does not say when run records are off. */
  readonly queue?: { readonly name: string; readonly messageIds: readonly string[] };
}

/** What comes after the attempt: a retry in `retryInMs`, or nothing, for the reason `fate`. */
export type AfterFailure = { readonly retryInMs: number } | { readonly fate: string };

export function logFailedAttempt(log: Logger, a: FailedAttempt, after: AfterFailure): void {
  const fields = {
    function: a.function,
    runId: a.info.id,
    attempt: a.info.attempt,
    trigger: a.info.trigger.kind,
    ...(a.queue ? { queue: a.queue.name, messageIds: a.queue.messageIds } : {}),
    err: a.message,
  };
  const what = a.timedOut ? 'run timed out' : 'run failed';
  if ('retryInMs' in after) {
    const msg = `${what}; retrying in ${inWords(after.retryInMs)}`;
    if (a.timedOut) log.error(fields, msg);
    else log.warn(fields, msg);
  } else {
    log.error(fields, `${what} for good; ${after.fate}`);
  }
}

/** `850ms`, `2s`, `12.5s`, `14m`, `3h`. */
function inWords(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 120_000) return `${Number((ms / 1000).toFixed(1))}s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)}m`;
  return `${Math.round(ms / 3_600_000)}h`;
}
