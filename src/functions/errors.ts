// Errors a handler throws to steer what happens to its work. Recognised by
// `name`, which survives serialisation, not by instanceof alone.

/**
 * The failure is permanent: do not retry. A queue message goes straight to its
 * dead-letter queue (or is dropped, with an error logged, when it has none).
 *
 * @example
 * ```ts
 * if (!order) throw new NonRetryableError(`order ${id} does not exist`);
 * ```
 */
export class NonRetryableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NonRetryableError';
  }
}

/**
 * Retry, but not before `retryAfterMs` (e.g. a rate limit's Retry-After).
 *
 * @example
 * ```ts
 * if (res.status === 429) throw new RetryAfterError(Number(res.headers.get('retry-after')) * 1000);
 * ```
 */
export class RetryAfterError extends Error {
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number, message = `retry after ${retryAfterMs} ms`) {
    super(message);
    this.name = 'RetryAfterError';
    this.retryAfterMs = Math.max(0, retryAfterMs);
  }
}

export function isNonRetryable(err: unknown): boolean {
  return (err as { name?: unknown } | null)?.name === 'NonRetryableError';
}

export function retryAfterOf(err: unknown): number | undefined {
  const e = err as { name?: unknown; retryAfterMs?: unknown } | null;
  return e?.name === 'RetryAfterError' && typeof e.retryAfterMs === 'number' ? e.retryAfterMs : undefined;
}

/** What is recorded of a failure: JSON-safe whatever was thrown. */
export interface ErrorRecord {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly stack?: string;
}

export function toErrorRecord(err: unknown): ErrorRecord {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      name: err.name,
      message: err.message,
      ...(typeof code === 'string' ? { code } : {}),
      ...(err.stack ? { stack: err.stack.split('\n').slice(0, 12).join('\n') } : {}),
    };
  }
  let shown: string;
  try {
    shown = typeof err === 'string' ? err : (JSON.stringify(err) ?? String(err));
  } catch {
    shown = String(err);
  }
  return { name: 'NonErrorThrown', message: `handler threw a non-Error value: ${shown.slice(0, 500)}` };
}
