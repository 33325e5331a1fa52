// What a session reads from and writes to its journal: values as JSON text within the
// checkpoint limit, errors rebuilt the same way live and on replay, and the errors a
// session ends an execution with.

import { MainspringError } from '../core/errors.ts';
import { type ErrorRecord, toErrorRecord } from '../functions/errors.ts';
import { show, type WorkflowDefinition } from './define.ts';

export const MAX_CHECKPOINT_BYTES = 256 * 1024;

/** An error from the journal, rebuilt the same way live and on replay. */
export class WorkflowOperationError extends Error {
  readonly code: string | undefined;
  constructor(record: ErrorRecord) {
    super(record.message);
    this.name = record.name;
    this.code = record.code;
    if (record.stack) this.stack = record.stack;
  }
}

/** JSON text of a value (null for undefined), or the error to fail with. */
export function encode(value: unknown, what: string): string | null | MainspringError {
  if (value === undefined) return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    return new MainspringError(
      'E_WORKFLOW_INVALID',
      `${what} is not JSON-serialisable (${(err as Error).message}); return plain data`,
      { details: { field: what } },
    );
  }
  if (text === undefined) {
    return new MainspringError(
      'E_WORKFLOW_INVALID',
      `${what} is ${show(value)}, which JSON cannot hold; return plain data`,
      {
        details: { field: what },
      },
    );
  }
  if (text.length > MAX_CHECKPOINT_BYTES / 4 && Buffer.byteLength(text) > MAX_CHECKPOINT_BYTES) {
    return new MainspringError(
      'E_WORKFLOW_LIMIT',
      `${what} is ${Buffer.byteLength(text)} bytes of JSON; a checkpointed value may be at most 256 KiB: store large data elsewhere and return a reference`,
      { details: { field: what, limit: MAX_CHECKPOINT_BYTES } },
    );
  }
  return text;
}

export function parseResult(text: string | null): unknown {
  return text === null ? undefined : JSON.parse(text);
}

export function rebuild(text: string | null): WorkflowOperationError {
  return new WorkflowOperationError(
    text === null ? { name: 'Error', message: 'failed' } : (JSON.parse(text) as ErrorRecord),
  );
}

export function json(err: MainspringError): string {
  return JSON.stringify(toErrorRecord(err));
}

export function stoppedError(): MainspringError {
  return new MainspringError('E_EXECUTION_STOPPED', 'the execution was stopped');
}

export function stoppedAbort(): MainspringError {
  return stoppedError();
}

export function timedOutError(def: WorkflowDefinition): MainspringError {
  return new MainspringError(
    'E_EXECUTION_TIMED_OUT',
    `the execution ran longer than workflow "${def.name}"'s timeout of ${def.timeoutMs} ms`,
  );
}

export function invalid(op: string, field: string, value: unknown, fix: string): MainspringError {
  return new MainspringError('E_WORKFLOW_INVALID', `ctx.${op}: ${field} is ${show(value)}; ${fix}`, {
    details: { field },
  });
}

export function isDefinition(v: unknown): v is WorkflowDefinition {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'workflow';
}
