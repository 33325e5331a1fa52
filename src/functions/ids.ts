// The names a function's work goes by: the run id of each attempt of an invocation, and
// the internal queue its invocations wait in.

import { createHash } from 'node:crypto';

/** The run id of attempt `attempt` of an invocation: ids of one invocation sort together. */
export function attemptRunId(invocationId: string, attempt: number): string {
  return `${invocationId}-${attempt}`;
}

/** The internal queue a function's invocations wait in (names reserved: `fn.…`). */
export function invocationQueueName(fn: string): string {
  const safe = fn.replaceAll(':', '_');
  if (safe.length <= 77) return `fn.${safe}`;
  const hash = createHash('sha256').update(fn).digest('hex').slice(0, 8);
  return `fn.${safe.slice(0, 68)}.${hash}`;
}
