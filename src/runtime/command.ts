// Command functions: runs one command as a child process (never through a shell),
// feeds it its input on stdin and in MAINSPRING_INPUT, turns its stdout/stderr into
// log lines (JSON lines kept structured, secret values redacted) and stops it on abort
// with SIGTERM, then SIGKILL after a grace period. Knows nothing of queues or the store.

import { type ChildProcess, spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import type { Clock } from '../core/clock.ts';
import { MainspringError } from '../core/errors.ts';
import { type Redactor, redactor } from './secrets.ts';

/** What to run. */
export interface CommandSpec {
  /** `[executable, ...args]`, passed to the OS as is: never a shell, so no globbing, pipes or `$VAR`. */
  readonly argv: readonly string[];
  /** Absolute working directory; a relative executable path (`./jobs/x.sh`) resolves against it. */
  readonly cwd: string;
  /** The command's own environment variables. */
  readonly env: Readonly<Record<string, string>>;
  /** Resolved secret values by name: set as environment variables and redacted from the output. */
  readonly secrets: Readonly<Record<string, string>>;
}

/** One line the command wrote. */
export interface CommandLine {
  readonly stream: 'stdout' | 'stderr';
  /** pino numeric level: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal. */
  readonly level: number;
  readonly msg: string;
  /** The other fields of a JSON line; `null` for a plain-text line. */
  readonly fields: Record<string, unknown> | null;
  /** `clock.now()` when the line was read. */
  readonly atMs: number;
}

export interface RunCommandOptions {
  /** JSON-serialisable; written to stdin as JSON (then stdin is closed) and set as MAINSPRING_INPUT. */
  readonly input: unknown;
  /** Set last, e.g. MAINSPRING_RUN_ID, MAINSPRING_ATTEMPT, MAINSPRING_FUNCTION. */
  readonly extraEnv?: Readonly<Record<string, string>>;
  /** On abort: SIGTERM to the child, then SIGKILL after `killGraceMs` if it is still alive. */
  readonly signal: AbortSignal;
  readonly killGraceMs: number;
  /** For line timestamps, the duration and the kill-grace sleep. */
  readonly clock: Clock;
  /** Called for every non-blank line, in order per stream, all before `runCommand` resolves. */
  onLine(line: CommandLine): void;
}

/** How a command ended. A non-zero exit is an outcome, not a rejection: see {@link commandError}. */
export interface CommandOutcome {
  readonly exitCode: number | null;
  /** The signal that ended it, if any. */
  readonly signal: NodeJS.Signals | null;
  /** True when SIGKILL had to be sent because it outlived the grace period after SIGTERM. */
  readonly killed: boolean;
  /** True when `options.signal` fired before it exited. */
  readonly aborted: boolean;
  readonly durationMs: number;
}

/**
 * The variables a command inherits from the worker's own environment, when set there.
 * Nothing else is inherited: the worker's environment holds other commands' secrets.
 */
export const COMMAND_BASE_ENV = ['PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'] as const;

/** Longest line kept, in bytes; longer lines are cut and end with {@link TRUNCATED_MARKER}. */
export const MAX_LINE_BYTES = 16 * 1024;
export const TRUNCATED_MARKER = '…[truncated]';

/**
 * Inputs whose JSON is longer than this are not put in MAINSPRING_INPUT (stdin still has them):
 * Linux refuses to exec with an environment string over 128 KiB (MAX_ARG_STRLEN) and caps the
 * whole of argv + environment too.
 */
export const MAX_ENV_INPUT_BYTES = 64 * 1024;

/** After the child exits, wait at least this long for its stdout/stderr to end (see 'exit' below). */
const MIN_DRAIN_MS = 2000;

export { MIN_REDACTED_SECRET_LENGTH, REDACTED, type Redactor, redactor, secretForms } from './secrets.ts';

const LEVEL_NAMES: Readonly<Record<string, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  warning: 40,
  error: 50,
  fatal: 60,
};
const PLAIN_LEVEL = { stdout: 30, stderr: 50 } as const;
// Keys a logger adds to every line that say nothing a log store does not already know.
const DROPPED_KEYS = ['time', 'pid', 'hostname'];

/**
 * Runs a command to completion and reports how it ended. Rejects only when it cannot be
 * started: `E_COMMAND_NOT_FOUND` (no such executable or cwd), `E_COMMAND_NOT_EXECUTABLE`
 * (no x bit, a directory, a missing shebang interpreter), `E_FUNCTION_INVALID` (empty argv,
 * relative cwd) or `E_VALIDATION` (input not JSON-serialisable). Resolves after the process
 * exited and its stdout and stderr ended, every line having been passed to `onLine`; if
 * `onLine` threw, rejects with its first error instead, once the process has ended.
 *
 * @example
 * ```ts
 * const outcome = await runCommand(
 *   { argv: ['node', 'jobs/report.js'], cwd: '/srv/app', env: { REGION: 'eu' }, secrets: { API_KEY: key } },
 *   { input: { day: '2026-03-08' }, signal, killGraceMs: 10_000, clock, onLine: (l) => log[l.level](l) },
 * );
 * if (outcome.exitCode !== 0) throw commandError(spec, outcome);
 * ```
 */
export async function runCommand(spec: CommandSpec, options: RunCommandOptions): Promise<CommandOutcome> {
  const { clock, signal } = options;
  const executable = spec.argv[0];
  if (executable === undefined || executable === '') {
    throw new MainspringError('E_FUNCTION_INVALID', `command has an empty argv; give [executable, ...args]`);
  }
  if (!isAbsolute(spec.cwd)) {
    throw new MainspringError(
      'E_FUNCTION_INVALID',
      `command "${commandText(spec)}": cwd "${redactor(spec.secrets).redact(spec.cwd)}" is not absolute; resolve it against the project directory first`,
    );
  }
  let inputJson: string;
  try {
    inputJson = JSON.stringify(options.input === undefined ? null : options.input);
  } catch (err) {
    throw new MainspringError(
      'E_VALIDATION',
      `command "${commandText(spec)}": its input is not JSON-serialisable (${(err as Error).message}); pass plain data`,
      { cause: err },
    );
  }
  const startedAt = clock.now();
  if (signal.aborted) return abortedBeforeStart();
  await checkCwd(spec);
  if (signal.aborted) return abortedBeforeStart();

  const env: Record<string, string> = {};
  for (const name of COMMAND_BASE_ENV) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  Object.assign(env, spec.env, spec.secrets, options.extraEnv);
  if (Buffer.byteLength(inputJson) <= MAX_ENV_INPUT_BYTES) env['MAINSPRING_INPUT'] = inputJson;

  const redact = redactor(spec.secrets);
  let child: ChildProcess;
  try {
    child = spawn(executable, spec.argv.slice(1), {
      cwd: spec.cwd,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      shell: false,
    });
  } catch (err) {
    // Synchronous failures (E2BIG, EINVAL...); ENOENT and EACCES arrive as an 'error' event below.
    throw await startError(spec, err, env['PATH']);
  }

  return new Promise<CommandOutcome>((resolve, reject) => {
    let spawned = false;
    let exited = false;
    let aborted = false;
    let killed = false;
    let settled = false;
    // Cancels the kill-grace and drain sleeps, so no timer outlives the run.
    const sleeps = new AbortController();
    // A throwing onLine must not become an uncaught exception in a stream callback.
    let onLineError: { error: unknown } | undefined;

    const deliver = (stream: 'stdout' | 'stderr') => (raw: Buffer, truncated: boolean) => {
      const line = toLine(stream, redact, raw, truncated, clock.now());
      if (line === null) return;
      try {
        options.onLine(line);
      } catch (error) {
        onLineError ??= { error };
      }
    };
    const out = new LineSplitter(deliver('stdout'), redact.maxBytes);
    const err = new LineSplitter(deliver('stderr'), redact.maxBytes);
    child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => err.push(chunk));
    // A child that exits without reading stdin makes our write fail with EPIPE: that is its
    // business, not an error of the run. Other stdin errors are equally not worth failing for.
    child.stdin!.on('error', () => {});
    child.stdin!.end(inputJson);

    const onAbort = () => {
      if (exited || aborted) return;
      aborted = true;
      child.kill('SIGTERM');
      clock.sleep(clock.real(Math.max(0, options.killGraceMs)), sleeps.signal).then(
        () => {
          if (exited) return;
          killed = true;
          child.kill('SIGKILL');
        },
        () => {},
      );
    };

    // The child's own listeners go with it; the signal outlives the run, and so would a timer.
    const cleanup = () => {
      settled = true;
      signal.removeEventListener('abort', onAbort);
      sleeps.abort();
    };

    child.once('spawn', () => {
      spawned = true;
      signal.addEventListener('abort', onAbort, { once: true });
      // The signal may have fired between the checks above and the spawn.
      if (signal.aborted) onAbort();
    });
    child.on('error', (error) => {
      if (spawned || settled) return; // a failed kill() of a process that already exited
      cleanup();
      child.stdin!.destroy();
      child.stdout!.destroy();
      child.stderr!.destroy();
      void startError(spec, error, env['PATH'], true).then(reject, reject);
    });
    child.once('exit', () => {
      exited = true;
      if (settled) return;
      // A descendant that inherited stdout/stderr can keep them open after the child is gone;
      // stop waiting for them a while after the exit rather than hang the run.
      clock.sleep(clock.real(Math.max(options.killGraceMs, MIN_DRAIN_MS)), sleeps.signal).then(
        () => {
          child.stdout!.destroy();
          child.stderr!.destroy();
        },
        () => {},
      );
    });
    // 'close' follows the exit and the end of stdout and stderr: every chunk has been pushed.
    child.once('close', (exitCode: number | null, exitSignal: NodeJS.Signals | null) => {
      if (settled) return;
      out.end();
      err.end();
      cleanup();
      if (onLineError !== undefined) return reject(onLineError.error);
      resolve({ exitCode, signal: exitSignal, killed, aborted, durationMs: clock.now() - startedAt });
    });
  });

  function abortedBeforeStart(): CommandOutcome {
    return {
      exitCode: null,
      signal: null,
      killed: false,
      aborted: true,
      durationMs: clock.now() - startedAt,
    };
  }
}

/**
 * The `E_COMMAND_FAILED` error for an outcome that is not a clean exit, with
 * `details: { exitCode, signal }`. Secret values in the argv are redacted.
 *
 * @example
 * ```ts
 * const outcome = await runCommand(spec, options);
 * if (outcome.exitCode !== 0) throw commandError(spec, outcome); // command "node jobs/x.js" exited with code 3
 * ```
 */
export function commandError(
  spec: CommandSpec,
  outcome: Pick<CommandOutcome, 'exitCode' | 'signal' | 'killed' | 'aborted'>,
): MainspringError {
  const what = commandText(spec);
  let how: string;
  if (outcome.signal !== null) {
    how = `was killed by ${outcome.signal}`;
    if (outcome.killed) how += ' (it was still running when the grace period after SIGTERM ended)';
  } else if (outcome.exitCode !== null) {
    how = `exited with code ${outcome.exitCode}`;
  } else {
    how = 'did not run';
  }
  if (outcome.aborted) how += ' after it was aborted';
  return new MainspringError('E_COMMAND_FAILED', `command "${what}" ${how}`, {
    details: { exitCode: outcome.exitCode, signal: outcome.signal },
  });
}

/** The command line as errors show it, with every form of every secret redacted. */
function commandText(spec: CommandSpec): string {
  const quoted = spec.argv.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : JSON.stringify(arg))).join(' ');
  const text = redactor(spec.secrets).redact(quoted);
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

async function checkCwd(spec: CommandSpec): Promise<void> {
  const cwd = redactor(spec.secrets).redact(spec.cwd);
  let isDir: boolean;
  try {
    isDir = (await stat(spec.cwd)).isDirectory();
  } catch (err) {
    throw new MainspringError(
      'E_COMMAND_NOT_FOUND',
      `command "${commandText(spec)}": its cwd "${cwd}" does not exist (${(err as NodeJS.ErrnoException).code}); create the directory or fix the function's cwd`,
      { details: { cwd, errno: (err as NodeJS.ErrnoException).code } },
    );
  }
  if (!isDir) {
    throw new MainspringError(
      'E_COMMAND_NOT_FOUND',
      `command "${commandText(spec)}": its cwd "${cwd}" is not a directory; point cwd at the directory to run in`,
      { details: { cwd } },
    );
  }
}

// Node reports ENOENT both for a missing executable and for a script whose shebang
// interpreter is missing; a look at the file tells them apart.
async function startError(
  spec: CommandSpec,
  err: unknown,
  path: string | undefined,
  mayProbe = false,
): Promise<MainspringError> {
  const code = (err as NodeJS.ErrnoException).code;
  // Node's error carries the whole argv (spawnargs): the cause kept is a copy with its code
  // and redacted message only, and every string shown is redacted, so no form of a secret
  // reaches the run's error or a log.
  const hide = redactor(spec.secrets);
  const e = err as NodeJS.ErrnoException;
  const cause = Object.assign(new Error(hide.redact(e.message ?? String(err))), { code, syscall: e.syscall });
  const exe = hide.redact(spec.argv[0]!);
  const cwd = hide.redact(spec.cwd);
  const where = `cwd "${cwd}"`;
  const details = { executable: exe, cwd, errno: code };
  if (code === 'ENOENT') {
    const file = spec.argv[0]!.includes('/') ? resolvePath(spec.cwd, spec.argv[0]!) : undefined;
    if (mayProbe && file !== undefined && (await exists(file))) {
      return new MainspringError(
        'E_COMMAND_NOT_EXECUTABLE',
        `command "${commandText(spec)}": "${hide.redact(file)}" exists but could not be started (ENOENT): its #! interpreter is probably missing; fix the first line or run it through its interpreter`,
        { cause, details },
      );
    }
    const fix = exe.includes('/')
      ? `check the path (relative paths resolve against the cwd) or use an absolute one`
      : `install it, add its directory to PATH, or give an absolute path`;
    return new MainspringError(
      'E_COMMAND_NOT_FOUND',
      `command "${commandText(spec)}": executable "${exe}" was not found (${where}, PATH "${path ?? ''}"); ${fix}`,
      { cause, details },
    );
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'ENOEXEC') {
    return new MainspringError(
      'E_COMMAND_NOT_EXECUTABLE',
      `command "${commandText(spec)}": "${exe}" (${where}) exists but cannot be executed (${code}); make it executable with chmod +x, or run it through its interpreter, e.g. ["node", "${exe}"]`,
      { cause, details },
    );
  }
  return new MainspringError(
    'E_COMMAND_NOT_EXECUTABLE',
    `command "${commandText(spec)}": "${exe}" (${where}) could not be started: ${hide.redact((err as Error).message)}`,
    { cause, details },
  );
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Splits a byte stream into lines at \n (a byte that never occurs inside a UTF-8 sequence,
 * so chunks are split on bytes and decoded per line). Keeps at most MAX_LINE_BYTES of a line,
 * plus enough beyond it to recognise a secret that straddles the cut.
 */
class LineSplitter {
  readonly #emit: (raw: Buffer, truncated: boolean) => void;
  readonly #keepBytes: number;
  #parts: Buffer[] = [];
  #kept = 0;
  #truncated = false;

  constructor(emit: (raw: Buffer, truncated: boolean) => void, secretBytes: number) {
    this.#emit = emit;
    this.#keepBytes = MAX_LINE_BYTES + secretBytes;
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) {
        this.#keep(chunk.subarray(start));
        return;
      }
      this.#keep(chunk.subarray(start, nl));
      this.#flush();
      start = nl + 1;
    }
  }

  /** Emits a last line that had no newline. */
  end(): void {
    if (this.#kept > 0 || this.#truncated) this.#flush();
  }

  #keep(part: Buffer): void {
    const room = this.#keepBytes - this.#kept;
    if (part.length > room) {
      this.#truncated = true;
      part = part.subarray(0, room);
    }
    if (part.length === 0) return;
    this.#parts.push(part);
    this.#kept += part.length;
  }

  #flush(): void {
    const raw = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#kept);
    const truncated = this.#truncated || raw.length > MAX_LINE_BYTES;
    this.#parts = [];
    this.#kept = 0;
    this.#truncated = false;
    this.#emit(raw, truncated);
  }
}

function toLine(
  stream: 'stdout' | 'stderr',
  redactor: Redactor,
  raw: Buffer,
  truncated: boolean,
  atMs: number,
): CommandLine | null {
  let text: string;
  if (truncated) {
    // Cut at a character boundary: back off UTF-8 continuation bytes (10xxxxxx).
    let cut = MAX_LINE_BYTES;
    while (cut > 0 && ((raw[cut] ?? 0) & 0xc0) === 0x80) cut--;
    const limit = raw.subarray(0, cut).toString('utf8').length;
    text = redactor.redact(raw.toString('utf8'), limit) + TRUNCATED_MARKER;
    return { stream, level: PLAIN_LEVEL[stream], msg: text, fields: null, atMs };
  }
  text = raw.toString('utf8');
  if (text.endsWith('\r')) text = text.slice(0, -1);
  if (text === '') return null; // blank lines carry nothing worth storing
  text = redactor.redact(text);
  return { stream, atMs, ...parseJsonLine(text, PLAIN_LEVEL[stream]) };
}

function parseJsonLine(
  text: string,
  plainLevel: number,
): { level: number; msg: string; fields: Record<string, unknown> | null } {
  const plain = { level: plainLevel, msg: text, fields: null };
  const trimmed = text.trim();
  if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) return plain;
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    return plain;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return plain;
  const fields: Record<string, unknown> = { ...(parsed as Record<string, unknown>) };
  let msg = '';
  if (typeof fields['msg'] === 'string') {
    msg = fields['msg'];
    delete fields['msg'];
  } else if (typeof fields['message'] === 'string') {
    msg = fields['message'];
    delete fields['message'];
  }
  // A value we could not use stays in fields rather than being lost.
  const level = levelOf(fields['level']);
  if (level !== undefined) delete fields['level'];
  for (const key of DROPPED_KEYS) delete fields[key];
  return { level: level ?? plainLevel, msg, fields };
}

function levelOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string') return LEVEL_NAMES[value.toLowerCase()];
  return undefined;
}
