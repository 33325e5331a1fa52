// Console output of in-process handlers, kept with the run that wrote it, as Lambda sends
// a function's console output to CloudWatch. The console's methods are wrapped once per
// process, the first time a handler runs; an AsyncLocalStorage says which run (if any) is
// writing, so runs executing at once each keep their own lines. Outside a run the console
// behaves as it did.

import { AsyncLocalStorage } from 'node:async_hooks';
import { format } from 'node:util';

/** Where a run's console output goes. */
export interface ConsoleSink {
  /** One console call, formatted as the console would print it; `level` is pino's number. */
  consoleLine(level: number, text: string): void;
}

/** The methods captured and the level each line is kept at (stdout-ish → info, as Lambda). */
export const CONSOLE_LEVELS = { log: 30, info: 30, debug: 20, warn: 40, error: 50 } as const;

type Method = keyof typeof CONSOLE_LEVELS;

const current = new AsyncLocalStorage<ConsoleSink>();
let installed = false;
/** Set while a sink handles a line: console calls it makes (a logger that prints with it) pass through. */
let busy = false;

/**
 * Calls `fn` with the console's output, and that of everything `fn` starts, going to `sink`.
 *
 * @example
 * ```ts
 * const value = await withConsoleSink(run, () => fn.handler(input, ctx));
 * ```
 */
export function withConsoleSink<T>(sink: ConsoleSink, fn: () => T): T {
  if (!installed) install();
  return current.run(sink, fn);
}

function install(): void {
  installed = true;
  for (const method of Object.keys(CONSOLE_LEVELS) as Method[]) {
    const original = console[method];
    const level = CONSOLE_LEVELS[method];
    console[method] = function captured(this: Console, ...args: unknown[]): void {
      const sink = current.getStore();
      if (sink === undefined || busy) {
        original.apply(this, args);
        return;
      }
      busy = true;
      try {
        sink.consoleLine(level, format(...args));
      } finally {
        busy = false;
      }
    };
  }
}
