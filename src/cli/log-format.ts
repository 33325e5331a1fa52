// How `start`, `worker` and `scheduler` write their log: pino-pretty's coloured
// lines for a person at a terminal, or one JSON object a line for everything else
// (piped output, log collectors, the e2e tests).

import pino, { type Logger } from 'pino';
import type { LogLevel } from '../config.ts';
import { MainspringError } from '../core/errors.ts';

export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * `--log-format`, else `MAINSPRING_LOG_FORMAT`, else pretty on a terminal and JSON otherwise.
 *
 * @example
 * resolveLogFormat(undefined, {}, false); // 'json'
 */
export function resolveLogFormat(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  stdoutIsTTY: boolean,
): LogFormat {
  const fromEnv = env['MAINSPRING_LOG_FORMAT'] || undefined;
  const [value, source] = flag !== undefined ? [flag, '--log-format'] : [fromEnv, 'MAINSPRING_LOG_FORMAT'];
  if (value === undefined) return stdoutIsTTY ? 'pretty' : 'json';
  if (!(LOG_FORMATS as readonly string[]).includes(value)) {
    throw new MainspringError(
      'E_CONFIG_INVALID',
      `${source} is ${JSON.stringify(value)}; use pretty (lines for people) or json (one JSON object a line)`,
      { details: { field: source, value } },
    );
  }
  return value as LogFormat;
}

/** The process logger, writing to stdout in `format`. */
export async function createLogger(format: LogFormat, level: LogLevel): Promise<Logger> {
  const options = { level, name: 'mainspring' };
  if (format === 'json') return pino(options);
  // Loaded only when used. In-process and synchronous rather than a worker-thread transport:
  // a line is written before the next statement runs, so nothing is lost on process.exit().
  // Colours follow pino-pretty's own test (a terminal; NO_COLOR and FORCE_COLOR honoured).
  const { default: pretty } = await import('pino-pretty');
  return pino(
    options,
    pretty({
      sync: true,
      singleLine: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,name',
    }),
  );
}
