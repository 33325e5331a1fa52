// One error shape for every failure the API reports, the framework's and Node's HTTP
// parser's refusals included:
//   { "error": { "code": "E_…", "message": "…", "details": … } }
// Codes come from the catalogue in core/errors.ts.

import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, isMainspringError, MainspringError } from '../core/errors.ts';
import { type AjvIssue, fieldError, inRequestTerms, validationError } from './validation.ts';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

/** Where a request holds a string with U+0000, e.g. `params.id`, `body.entries.0.dedupKey`. */
export function nulFields(parts: Readonly<Record<string, unknown>>): string[] {
  const found: string[] = [];
  // Iterative: a hostile body may nest deeper than the stack.
  const stack: [string, unknown][] = Object.entries(parts);
  while (stack.length > 0 && found.length < 10) {
    const [path, value] = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) found.push(path);
    } else if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value)) {
      for (const [k, v] of Object.entries(value)) {
        if (k.includes('\u0000')) found.push(path);
        else stack.push([`${path}.${k}`, v]);
      }
    }
  }
  return found.sort();
}

export function nulError(fields: readonly string[]): MainspringError {
  const [first, ...rest] = fields.map((field) => ({ field, message: 'contains a NUL character (U+0000)' }));
  return fieldError(
    `${fields.join(', ')} ${fields.length === 1 ? 'holds' : 'hold'} a NUL character (U+0000), which no name, id or key may contain; remove it`,
    first!,
    rest,
  );
}

/**
 * Why the JSON parser refused a non-empty body: its syntax error, or (for valid JSON) the
 * `__proto__` / `constructor.prototype` key the parser refuses, as merging such an object
 * could change every object's prototype.
 */
export function jsonBodyError(text: string): MainspringError {
  try {
    JSON.parse(text);
  } catch (err) {
    return fieldError(
      `the body is not valid JSON (${(err as Error).message}); send a JSON object with Content-Type: application/json`,
      { field: 'body', message: 'is not valid JSON' },
    );
  }
  return fieldError(
    'the body has a "__proto__" or "constructor.prototype" key, which the API refuses; rename the key',
    { field: 'body', message: 'has a __proto__ or constructor.prototype key' },
  );
}

// PostgreSQL's SQLSTATE for a text value holding U+0000 ("invalid byte sequence … 0x00").
const PG_NUL_IN_TEXT = '22021';

/** The refusals Fastify raises itself, by code, in words that say what to fix. */
function fastifyError(fe: FastifyError): MainspringError | null {
  switch (fe.code) {
    case 'FST_ERR_BAD_URL':
      return new MainspringError(
        'E_BAD_REQUEST',
        `the URL path is not valid percent-encoding: ${fe.message.replace(/ is not a valid url component$/, '')}; encode each path segment with encodeURIComponent`,
        { details: { field: 'url' } },
      );
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new MainspringError(
        'E_URI_TOO_LONG',
        'a path segment is longer than the 2400 characters the router takes; no name or id is that long',
        { details: { field: 'url' } },
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return fieldError('the body is empty but Content-Type is application/json; send a JSON object', {
        field: 'body',
        message: 'is empty',
      });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new MainspringError(
        'E_BAD_REQUEST',
        'the body is not as long as its Content-Length says; let the HTTP client set Content-Length',
        { details: { field: 'content-length' } },
      );
    default:
      return null;
  }
}

/** The one media type the API's bodies take (webhook sources take any; see routes/webhooks.ts). */
const ACCEPTED_MEDIA_TYPE = 'application/json';

/** A body of a type no parser takes: 415, naming the type received and the one accepted. */
export function unsupportedMediaType(received: string | undefined): MainspringError {
  const type = received?.trim() || undefined;
  return new MainspringError(
    'E_UNSUPPORTED_MEDIA_TYPE',
    type === undefined
      ? `the body has no Content-Type; send JSON with Content-Type: ${ACCEPTED_MEDIA_TYPE}`
      : `the body's Content-Type is ${JSON.stringify(type.slice(0, 200))}, which this route does not take; send JSON with Content-Type: ${ACCEPTED_MEDIA_TYPE}`,
    {
      details: {
        field: 'headers.content-type',
        ...(type === undefined ? {} : { value: type.slice(0, 200) }),
        accepted: [ACCEPTED_MEDIA_TYPE],
      },
    },
  );
}

/**
 * Maps anything thrown in a route (ours, Fastify's, or unexpected) to a MainspringError;
 * `contentType` is the request's, which Fastify's 415 does not name.
 */
export function toApiError(err: FastifyError | Error, contentType?: string): MainspringError {
  if (isMainspringError(err)) return err;
  const fe = err as FastifyError & { validation?: AjvIssue[]; validationContext?: string };
  if (fe.validation) return validationError(fe.validationContext ?? 'request', fe.validation);
  const known = fastifyError(fe);
  if (known) return known;
  if (fe.statusCode === 413) {
    return new MainspringError(
      'E_PAYLOAD_TOO_LARGE',
      `request body is larger than the server's limit: ${fe.message}`,
    );
  }
  if (fe.statusCode === 415) return unsupportedMediaType(contentType);
  if (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500) {
    return fieldError(`invalid request: ${fe.message}`, { field: 'request', message: fe.message });
  }
  return new MainspringError('E_INTERNAL', 'internal error; see the server log', { cause: err });
}

export function sendError(reply: FastifyReply, err: MainspringError): FastifyReply {
  const body: ErrorBody = { error: { code: err.code, message: err.message } };
  if (err.details !== undefined) body.error.details = err.details;
  return reply.status(err.status).type('application/json').send(body);
}

export function errorHandler(
  err: FastifyError | Error,
  req: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  // PostgreSQL cannot store U+0000 in text; SQLite can. A body field the routes let through
  // (a dedup key, a lock owner) is refused here, naming it, rather than answered with a 500.
  if ((err as { code?: unknown }).code === PG_NUL_IN_TEXT) {
    const fields = nulFields({ params: req.params, query: req.query, body: req.body });
    if (fields.length > 0) return sendError(reply, nulError(fields));
  }
  const apiError = inRequestTerms(toApiError(err, req.headers['content-type']), req);
  if (apiError.status >= 500) req.log.error({ err }, 'request failed');
  return sendError(reply, apiError);
}

/** What Node's HTTP parser reports (llhttp's codes), as the answer a client can act on. */
function clientErrorAnswer(code: string | undefined): MainspringError {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new MainspringError(
        'E_REQUEST_TIMEOUT',
        "the request's headers or body did not arrive in time; send the whole request at once",
      );
    case 'HPE_HEADER_OVERFLOW':
      return new MainspringError(
        'E_HEADERS_TOO_LARGE',
        'the request line and headers are over 16 KiB; shorten the URL (send long values in a body) or the headers',
      );
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return new MainspringError(
        'E_BAD_REQUEST',
        'Content-Length is not one whole number, or comes with Transfer-Encoding: chunked; send one or the other',
        { details: { field: 'content-length', parser: code } },
      );
    case 'HPE_INVALID_CHUNK_SIZE':
    case 'HPE_INVALID_TRANSFER_ENCODING':
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new MainspringError(
        'E_BAD_REQUEST',
        'the chunked body is malformed; let the HTTP client encode it',
        { details: { field: 'transfer-encoding', parser: code } },
      );
    default:
      return new MainspringError(
        'E_BAD_REQUEST',
        `the request is not well-formed HTTP/1.1 (${code ?? 'unreadable'}); check the request line and headers`,
        { details: { parser: code ?? null } },
      );
  }
}

/**
 * Answers what Node's HTTP parser refuses before Fastify sees a request (Fastify's
 * `clientErrorHandler`): a raw response in the one shape, then the connection closes, as
 * the parser cannot find where the next request would start.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  // A reset connection has no one to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  // Once a response has begun on this connection, another one would corrupt it (as Node's own handler).
  const current = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !current?.headersSent) {
    const answer = clientErrorAnswer(err.code);
    const body = JSON.stringify({ error: answer.toJSON() });
    socket.write(
      `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
