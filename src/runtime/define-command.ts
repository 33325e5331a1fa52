// Command functions: a child process per run, as an ECS task runs a container.
// Plain data; the worker spawns the process (src/runtime/command.ts).

import { type Duration, parseDuration } from '../core/duration.ts';
import { MainspringError } from '../core/errors.ts';
import {
  checkName,
  checkTriggers,
  commonSettings,
  type FunctionDefinition,
  type FunctionOptions,
} from './function.ts';

export interface CommandOptions
  extends Omit<FunctionOptions<unknown, unknown>, 'handler' | 'env' | 'maxResultBytes'> {
  /** The program and its arguments, e.g. `['node', 'jobs/db-cleanup.js']`. Never run through a shell. */
  readonly command: readonly string[];
  /** Working folder, relative to the app's folder (default: the app's folder). */
  readonly cwd?: string;
  /** Environment variables of the process (it does not inherit the server's, except PATH, HOME, LANG, TZ and the like). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Names of secrets passed to this process only, as environment variables: read from the
   * server's environment, else from the config's `secretsFile`; redacted from the run's log.
   */
  readonly secrets?: readonly string[];
  /** After the timeout or a cancellation the process gets SIGTERM, then SIGKILL this much later (default 10 s). */
  readonly killGrace?: Duration;
}

const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function invalid(name: string, field: string, message: string, value: unknown): MainspringError {
  return new MainspringError('E_FUNCTION_INVALID', `command "${name}": ${field} ${message}`, {
    details: { field, value },
  });
}

/**
 * Declares a function that runs a child process. The input reaches it as JSON on stdin
 * and in `MAINSPRING_INPUT`; exit code 0 is success; stdout and stderr lines become the
 * run's log (JSON lines keep their fields).
 *
 * @example
 * ```ts
 * export const dbCleanup = defineCommand({
 *   name: 'db-cleanup',
 *   command: ['node', 'jobs/db-cleanup.js'],
 *   secrets: ['DB_PASSWORD'],
 *   timeout: '30m',
 * });
 * ```
 */
export function defineCommand(options: CommandOptions): FunctionDefinition {
  const name = checkName(options?.name);
  const argv = options.command;
  if (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== 'string')) {
    throw invalid(
      name,
      'command',
      "must be a non-empty array of strings, e.g. ['node', 'jobs/cleanup.js'] (it is never run through a shell)",
      argv,
    );
  }
  if ((argv[0] as string).length === 0) throw invalid(name, 'command[0]', 'is empty; name the program', argv);
  if (options.cwd !== undefined && (typeof options.cwd !== 'string' || options.cwd.length === 0)) {
    throw invalid(name, 'cwd', 'must be a folder path', options.cwd);
  }
  const secrets = options.secrets ?? [];
  if (!Array.isArray(secrets)) throw invalid(name, 'secrets', 'must be an array of names', secrets);
  for (const s of secrets) {
    if (typeof s !== 'string' || !SECRET_NAME.test(s)) {
      throw invalid(
        name,
        'secrets',
        `has ${JSON.stringify(s)}; use environment variable names like DB_PASSWORD`,
        s,
      );
    }
  }
  let killGraceMs = 10_000;
  if (options.killGrace !== undefined) {
    try {
      killGraceMs = parseDuration(options.killGrace, 'killGrace');
    } catch (err) {
      throw invalid(name, 'killGrace', (err as Error).message, options.killGrace);
    }
  }
  const settings = commonSettings(name, options);
  return {
    kind: 'function',
    name,
    handler() {
      throw new MainspringError(
        'E_FUNCTION_INVALID',
        `command "${name}" runs as a child process in a worker; invoke it (ms.runs.invoke) rather than calling its handler`,
      );
    },
    triggers: checkTriggers(name, options.triggers ?? []),
    ...settings,
    // A command's result is its exit status; its output goes to the log.
    maxResultBytes: 1024,
    command: {
      argv: [...argv],
      cwd: options.cwd ?? null,
      env: settings.env,
      secrets: [...secrets],
      killGraceMs,
    },
  };
}
