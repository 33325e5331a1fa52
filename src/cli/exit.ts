import { isMainspringError } from '../core/errors.ts';

/** Exit codes: 2 for input the user got wrong (HTTP 4xx class), 1 for everything else. */
export function exitCodeFor(err: unknown): number {
  return isMainspringError(err) && err.status >= 400 && err.status < 500 ? 2 : 1;
}
