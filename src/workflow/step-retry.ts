// A step's retry strategy, resolved and checked once, and the delay before each next attempt.

import { backoffDelayMs } from '../core/backoff.ts';
import { isNonRetryable, retryAfterOf } from '../functions/errors.ts';
import { type RetryStrategy, waitMs } from './define.ts';
import { invalid } from './journal-values.ts';

export interface ResolvedRetry {
  maxAttempts: number;
  initialDelayMs: number;
  backoffRate: number;
  maxDelayMs: number;
  jitter: 'full' | 'half' | 'none';
  retryableErrors: readonly (string | RegExp)[] | null;
  retryableErrorTypes: readonly string[] | null;
}

export const NO_RETRY: Required<ResolvedRetry> = {
  maxAttempts: 1,
  initialDelayMs: 0,
  backoffRate: 1,
  maxDelayMs: 0,
  jitter: 'none',
  retryableErrors: null,
  retryableErrorTypes: null,
};

export function resolveRetry(
  retry: RetryStrategy | false | undefined,
  field: string,
): Required<ResolvedRetry> {
  if (retry === false) return NO_RETRY;
  const r = retry ?? {};
  const maxAttempts = r.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 1000) {
    throw invalid('step', `${field}.maxAttempts`, maxAttempts, 'give a whole number from 1 to 1000');
  }
  const backoffRate = r.backoffRate ?? 2;
  if (typeof backoffRate !== 'number' || !(backoffRate >= 1 && backoffRate <= 100)) {
    throw invalid('step', `${field}.backoffRate`, backoffRate, 'give a number from 1 to 100');
  }
  const jitter = r.jitter ?? 'full';
  if (!['full', 'half', 'none'].includes(jitter)) {
    throw invalid('step', `${field}.jitter`, jitter, "give 'full', 'half' or 'none'");
  }
  return {
    maxAttempts,
    initialDelayMs: waitMs(r.initialDelay ?? 1000, `${field}.initialDelay`),
    backoffRate,
    maxDelayMs: waitMs(r.maxDelay ?? 300_000, `${field}.maxDelay`),
    jitter,
    retryableErrors: r.retryableErrors ?? null,
    retryableErrorTypes: r.retryableErrorTypes ?? null,
  };
}

/** Milliseconds until the next attempt, or null when the failure is final. */
export function retryDelay(r: Required<ResolvedRetry>, attempt: number, err: unknown): number | null {
  if (attempt >= r.maxAttempts || isNonRetryable(err)) return null;
  const e = err instanceof Error ? err : null;
  if (r.retryableErrors !== null || r.retryableErrorTypes !== null) {
    const byMessage = (r.retryableErrors ?? []).some((m) =>
      typeof m === 'string' ? (e?.message ?? '').includes(m) : m.test(e?.message ?? ''),
    );
    const byType = (r.retryableErrorTypes ?? []).includes(e?.name ?? '');
    if (!byMessage && !byType) return null;
  }
  const after = retryAfterOf(err);
  if (after !== undefined) return after;
  return backoffDelayMs(
    { initialMs: r.initialDelayMs, rate: r.backoffRate, maxMs: r.maxDelayMs, jitter: r.jitter },
    attempt,
  );
}
