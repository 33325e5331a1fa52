// What an attempt ends with, as stored: the handler's result as JSON text within its cap, and
// the error a run stopped from outside (timeout, cancel, shutdown) ends with.

import { MainspringError } from '../core/errors.ts';
import type { FunctionDefinition } from './function.ts';

export type StopReason = 'timeout' | 'cancel' | 'shutdown';

/** The error a run stopped for `reason` fails with. */
export function stopErrorFor(fn: FunctionDefinition, reason: StopReason): MainspringError {
  if (reason === 'timeout') {
    return new MainspringError(
      'E_RUN_TIMED_OUT',
      `function "${fn.name}" ran past its timeout of ${fn.timeoutMs} ms; raise \`timeout\` or make it faster`,
    );
  }
  if (reason === 'cancel') return new MainspringError('E_RUN_CANCELLED', `run of "${fn.name}" was cancelled`);
  return new MainspringError(
    'E_RUN_LOST',
    `the worker shut down before the run of "${fn.name}" finished; its work was released for another attempt`,
  );
}

function refuseUnserialisable(_key: string, value: unknown): unknown {
  const t = typeof value;
  if (t === 'function' || t === 'symbol' || t === 'bigint') {
    throw new MainspringError(
      'E_RESULT_INVALID',
      `the handler returned a ${t} (at "${_key || '(root)'}"), which JSON cannot hold; return plain data`,
    );
  }
  return value;
}

/** The result as JSON text; a value JSON cannot hold or one over the cap fails the run. */
export function toResultJson(fn: FunctionDefinition, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(value, refuseUnserialisable);
  } catch (err) {
    if (err instanceof MainspringError) throw err;
    throw new MainspringError(
      'E_RESULT_INVALID',
      `the handler's result cannot be stored as JSON (${(err as Error).message}); return plain data without cycles`,
      { cause: err },
    );
  }
  if (text === undefined) return null;
  if (text.length > fn.maxResultBytes / 3 && Buffer.byteLength(text) > fn.maxResultBytes) {
    throw new MainspringError(
      'E_RESULT_TOO_LARGE',
      `the result is ${Buffer.byteLength(text)} bytes, over the cap of ${fn.maxResultBytes}; store it elsewhere and return a reference, or raise maxResultBytes`,
    );
  }
  return text;
}
