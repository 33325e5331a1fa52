// Checks of command-line values the commands share: each bad value is a usage error (exit 2)
// naming the flag and the fix.

import { parseDuration } from '../core/duration.ts';
import { MainspringError } from '../core/errors.ts';

export function parseInput(text: string, flag = '--input'): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new MainspringError(
      'E_VALIDATION',
      `${flag} is not valid JSON (${(e as Error).message}); pass JSON such as '{"id": 1}'`,
      { details: { field: flag.replace(/^--/, ''), value: text } },
    );
  }
}

export function flagDuration(text: string, flag: string): number {
  try {
    return parseDuration(text, flag);
  } catch (e) {
    // parseDuration names the field (the flag) and the fix itself.
    throw new MainspringError('E_VALIDATION', (e as Error).message, {
      details: { field: flag, value: text },
      cause: e,
    });
  }
}

export function flagInt(text: string, flag: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^-?\d+$/.test(text) || n < min || n > max) {
    throw new MainspringError(
      'E_VALIDATION',
      `${flag} is ${JSON.stringify(text)}; use a whole number from ${min} to ${max}`,
      { details: { field: flag, value: text } },
    );
  }
  return n;
}

/** An AbortSignal that fires on the first SIGINT (Ctrl-C); `done` removes the handler. */
export function interruptSignal(): { signal: AbortSignal; done: () => void } {
  const ac = new AbortController();
  const onInt = () => ac.abort();
  process.once('SIGINT', onInt);
  return { signal: ac.signal, done: () => process.off('SIGINT', onInt) };
}
