// How `start`, `worker` and `scheduler` write their log: pino-pretty's coloured
// lines for a person at a terminal, or one JSON object a line for everything else
// (piped output, log collectors, the e2e tests).

import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { LogLevel } from '../config.ts';
import { MainspringError } from '../core/errors.ts';
import { REDACTED, redactor } from '../runtime/secrets.ts';

const AUTH_HEADERS = ['req.headers.authorization', 'headers.authorization', '*.headers.authorization'];

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

export interface CreateLoggerOptions {
  /** Where lines go; stdout when not given. */
  readonly destination?: DestinationStream;
  /** Values never to show: the API token, the store's password. Unset ones are skipped. */
  readonly secrets?: readonly (string | undefined)[];
}

/**
 * The password of a PostgreSQL store URL, decoded; undefined for SQLite or a URL without one.
 *
 * @example
 * storePassword('postgres://app:s%40crt@db/ms'); // 's@crt'
 */
export function storePassword(url: string): string | undefined {
  if (!/^postgres(ql)?:/i.test(url)) return undefined;
  let password: string;
  try {
    password = new URL(url).password;
  } catch {
    return undefined;
  }
  if (password === '') return undefined;
  try {
    return decodeURIComponent(password);
  } catch {
    return password;
  }
}

/** The process logger, writing to stdout in `format`. */
export async function createLogger(
  format: LogFormat,
  level: LogLevel,
  extra: CreateLoggerOptions = {},
): Promise<Logger> {
  const secrets: Record<string, string> = {};
  for (const [i, value] of (extra.secrets ?? []).entries()) if (value) secrets[i] = value;
  const hide = redactor(secrets);
  const options: LoggerOptions = {
    level,
    name: 'mainspring',
    // Any credential a request carries, ours or not.
    redact: { paths: AUTH_HEADERS, censor: REDACTED },
    // Known values in every form, wherever they are in the line (a message, an error's
    // stack, a URL): the whole serialized line is redacted, so JSON-escaped forms match.
    ...(hide.maxBytes > 0 ? { hooks: { streamWrite: (line: string) => hide.redact(line) } } : {}),
  };
  if (format === 'json') return extra.destination ? pino(options, extra.destination) : pino(options);
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
      ...(extra.destination ? { destination: extra.destination } : {}),
    }),
  );
}
