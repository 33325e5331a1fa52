// The error catalogue: every error mainspring raises on purpose carries a stable
// string code from this table and the HTTP status the API answers with.
// Codes are never reused or renamed; docs/errors.md documents each one (a test checks).

export const ERROR_CODES = {
  E_INTERNAL: 500,
  E_VALIDATION: 400,
  E_NOT_FOUND: 404,
  E_UNAUTHORIZED: 401,
  E_FORBIDDEN: 403,
  E_PAYLOAD_TOO_LARGE: 413,
  E_UNSUPPORTED_MEDIA_TYPE: 415,
  E_CONFLICT: 409,
  E_CONFIG_INVALID: 400,
  E_CONFIG_NOT_FOUND: 400,
  E_STORE_URL_INVALID: 400,
  E_STORE_UNREACHABLE: 503,
  E_STORE_NOT_DATABASE: 500,
  E_STORE_NOT_WRITABLE: 500,
  E_STORE_SCHEMA_TOO_NEW: 500,
  E_STORE_CLOSED: 503,
  E_STORE_NOT_FOUND: 404,
  E_API_UNREACHABLE: 503,
  E_API_TOKEN_REQUIRED: 400,
  E_API_LISTEN: 500,
  E_BAD_REQUEST: 400,
  E_REQUEST_TIMEOUT: 408,
  E_URI_TOO_LONG: 414,
  E_HEADERS_TOO_LARGE: 431,
  E_OVERLOADED: 503,
  E_SHUTTING_DOWN: 503,
  E_LOCK_INVALID: 400,
  E_LOCK_LOST: 409,
  E_CLOCK_INVALID: 400,
  E_QUEUE_NOT_FOUND: 404,
  E_QUEUE_INVALID: 400,
  E_MESSAGE_INVALID: 400,
  E_MESSAGE_NOT_FOUND: 404,
  E_FUNCTION_INVALID: 400,
  E_SCHEDULE_INVALID: 400,
  E_PATTERN_INVALID: 400,
  E_RULE_INVALID: 400,
  E_EVENT_INVALID: 400,
  E_EVENT_NOT_FOUND: 404,
  E_WEBHOOK_NOT_FOUND: 404,
  E_WEBHOOK_SIGNATURE: 401,
  E_FILE_TRIGGER_INVALID: 400,
  E_FUNCTION_NOT_FOUND: 404,
  E_RUN_NOT_FOUND: 404,
  E_RUN_TIMED_OUT: 504,
  E_RUN_CANCELLED: 409,
  E_RUN_LOST: 500,
  E_RESULT_INVALID: 500,
  E_RESULT_TOO_LARGE: 500,
  E_COMMAND_NOT_FOUND: 500,
  E_COMMAND_NOT_EXECUTABLE: 500,
  E_COMMAND_FAILED: 500,
  E_SECRET_MISSING: 500,
  E_ALERT_INVALID: 400,
  E_SCHEDULE_NOT_FOUND: 404,
  E_SCHEDULE_EXISTS: 409,
  E_SCHEDULE_READ_ONLY: 409,
  E_TASK_INVALID: 400,
  E_TASK_NOT_FOUND: 404,
  E_WORKFLOW_INVALID: 400,
  E_WORKFLOW_NOT_FOUND: 404,
  E_WORKFLOW_LIMIT: 400,
  E_WORKFLOW_NONDETERMINISM: 500,
  E_WORKFLOW_VERSION: 500,
  E_EXECUTION_NOT_FOUND: 404,
  E_EXECUTION_EXISTS: 409,
  E_EXECUTION_NOT_FINISHED: 409,
  E_EXECUTION_STOPPED: 409,
  E_EXECUTION_TIMED_OUT: 504,
  E_STEP_INTERRUPTED: 500,
  E_CALLBACK_NOT_FOUND: 404,
  E_CALLBACK_CLOSED: 409,
  E_CALLBACK_TIMED_OUT: 504,
  E_EVENT_WAIT_TIMED_OUT: 504,
  E_NOT_SETTLED: 504,
  E_IMPORT_INVALID: 400,
  E_IMPORT_OUTPUT_EXISTS: 409,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface MainspringErrorOptions {
  cause?: unknown;
  details?: unknown;
}

/**
 * Base class of every deliberate mainspring error.
 *
 * Recognise errors by `code`, which survives serialisation and child processes,
 * rather than by `instanceof` alone.
 *
 * @example
 * ```ts
 * try { await openStore('mysql://x') } catch (err) {
 *   if (isMainspringError(err) && err.code === 'E_STORE_URL_INVALID') console.error(err.message);
 * }
 * ```
 */
export class MainspringError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: MainspringErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MainspringError';
    this.code = code;
    this.status = ERROR_CODES[code];
    this.details = options.details;
  }

  toJSON(): { code: ErrorCode; message: string; details?: unknown } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** True when `err` is a mainspring error (by its code, so it also works across module copies). */
export function isMainspringError(err: unknown): err is MainspringError {
  if (!(err instanceof Error)) return false;
  const code: unknown = (err as Error & { code?: unknown }).code;
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}
