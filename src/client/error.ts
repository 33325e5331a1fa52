// The error a client call throws for a non-2xx answer: the API's one error shape
// (`{ error: { code, message, details? } }`, docs/errors.md) with the HTTP status.

/**
 * A non-2xx answer of the API.
 *
 * @example
 * try {
 *   await client.getRun({ params: { id: 'nope' } });
 * } catch (err) {
 *   if (err instanceof MainspringApiError && err.code === 'E_RUN_NOT_FOUND') console.log(err.status); // 404
 * }
 */
export class MainspringApiError extends Error {
  override readonly name = 'MainspringApiError';
  /** The HTTP status, e.g. 404. */
  readonly status: number;
  /** The stable error code, e.g. `E_VALIDATION`; `E_HTTP` when the body was not the API's shape. */
  readonly code: string;
  /** What the server added: the field at fault, the value, … */
  readonly details: unknown;

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** Reads an error answer; a body that is not the API's shape still gives status and text. */
  static fromBody(status: number, text: string): MainspringApiError {
    try {
      const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
      const e = body.error;
      if (e && typeof e.code === 'string' && typeof e.message === 'string')
        return new MainspringApiError(status, e.code, e.message, e.details);
    } catch {
      // Not JSON (a proxy's HTML page): answered below with the text.
    }
    return new MainspringApiError(status, 'E_HTTP', `HTTP ${status}: ${text.slice(0, 500)}`);
  }
}
