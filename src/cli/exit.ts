import { isMainspringError } from '../core/errors.ts';

/**
 * Exit codes: 2 for input the user got wrong (HTTP 4xx class), 1 for everything else, a
 * refused API token included: like an unreachable server, it is not the command's usage.
 */
export function exitCodeFor(err: unknown): number {
  if (!isMainspringError(err) || err.code === 'E_UNAUTHORIZED') return 1;
  return err.status >= 400 && err.status < 500 ? 2 : 1;
}
