// One error shape for every failure the API reports:
//   { "error": { "code": "E_…", "message": "…", "details": … } }
// Codes come from the catalogue in core/errors.ts.

import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, isMainspringError, MainspringError } from '../core/errors.ts';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

interface ValidationIssue {
  instancePath: string;
  message?: string;
  params?: Record<string, unknown>;
}

function describeIssue(context: string, issue: ValidationIssue): { field: string; message: string } {
  const path = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
  const extra = issue.params?.['additionalProperty'];
  // A missing property is reported on its parent; name the property itself.
  const missing = issue.params?.['missingProperty'];
  const named = typeof extra === 'string' ? extra : typeof missing === 'string' ? missing : '';
  const field = [context, path, named].filter(Boolean).join('.');
  const message = typeof extra === 'string' ? 'is not a known field' : (issue.message ?? 'is invalid');
  return { field, message };
}

/** Maps anything thrown in a route (ours, Fastify's, or unexpected) to a MainspringError. */
export function toApiError(err: FastifyError | Error): MainspringError {
  if (isMainspringError(err)) return err;
  const fe = err as FastifyError & { validation?: ValidationIssue[]; validationContext?: string };
  if (fe.validation) {
    const issues = fe.validation.map((i) => describeIssue(fe.validationContext ?? 'request', i));
    const message = issues.map((i) => `${i.field} ${i.message}`).join('; ');
    return new MainspringError('E_VALIDATION', `invalid request: ${message}`, { details: issues });
  }
  if (fe.statusCode === 413) {
    return new MainspringError(
      'E_PAYLOAD_TOO_LARGE',
      `request body is larger than the server's limit: ${fe.message}`,
    );
  }
  if (fe.statusCode === 415) {
    return new MainspringError(
      'E_VALIDATION',
      `${fe.message}; send JSON with Content-Type: application/json`,
    );
  }
  if (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new MainspringError('E_VALIDATION', `invalid request: ${fe.message}`);
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
  const apiError = toApiError(err);
  if (apiError.status >= 500) req.log.error({ err }, 'request failed');
  return sendError(reply, apiError);
}
