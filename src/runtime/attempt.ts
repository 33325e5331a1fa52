// One attempt of a function: the handler's context, its timeout and cancellation,
// the child process of a command, and the checks on what it returns.

import { resolve as resolvePath } from 'node:path';
import pino, { type Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import type { MainspringError } from '../core/errors.ts';
import type { EventPublisher } from '../events/event.ts';
import { type ErrorRecord, toErrorRecord } from '../functions/errors.ts';
import type { Locks } from '../locks/locks.ts';
import type { Alerter, ResolvedAlertSettings } from '../observability/alerts.ts';
import type { Metrics } from '../observability/metrics.ts';
import {
  parentOf,
  runIn,
  type Span,
  SpanKind,
  spanContext,
  spanFailed,
  startSpan,
  traceEnv,
} from '../observability/tracing.ts';
import { Batcher } from '../queue/batcher.ts';
import type { Queues } from '../queue/queues.ts';
import type { RunRow, RunStatus, TriggerKind } from '../store/run-row.ts';
import type { Store } from '../store/types.ts';
import type { Workflows } from '../workflow/client.ts';
import { type CommandSpec, commandError, runCommand } from './command.ts';
import { type ConsoleSink, withConsoleSink } from './console-capture.ts';
import { FifoDeadlines } from './deadlines.ts';
import type {
  FunctionContext,
  FunctionDefinition,
  HandlerClients,
  QueueRecord,
  RunInfo,
  TriggerInfo,
} from './function.ts';
import { type StopReason, stopErrorFor, toResultJson } from './outcomes.ts';
import { RunRecorder } from './recorder.ts';
import { loadSecretsFile, resolveSecrets } from './secrets.ts';

/** What a worker's runs are configured with (the app passes these to every worker). */
export interface RuntimeSettings {
  readonly store: Store;
  readonly clock: Clock;
  readonly locks: Locks;
  /** The app's clients handlers send with (`ctx.queues`, `ctx.events`, `ctx.workflows`). */
  readonly clients: HandlerClients;
  readonly owner: string;
  readonly metrics: Metrics | null;
  readonly alerter: Alerter | null;
  readonly alerts: ResolvedAlertSettings | null;
  readonly functionAlerts: ReadonlyMap<string, ResolvedAlertSettings>;
  /** Whether queue-triggered runs get records (invocations always do: they are how invocations are tracked). */
  readonly recordRuns: boolean;
  readonly cwd: string;
  readonly secretsFile: string | null;
  /** Base of the links in alerts, e.g. `http://127.0.0.1:7400`. */
  readonly baseUrl: string;
}

/** What every attempt in a worker shares. */
/** A queued run to start; `row` is the started row once its batch went out. */
export interface RunStart {
  readonly id: string;
  row: RunRow | null;
}

/** Where handlers' console output is shown besides the run's log (see consoleLine). */
export type ConsoleEcho = 'logger' | 'stderr';

export class Runtime {
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  readonly locks: Locks;
  readonly clients: HandlerClients;
  readonly consoleEcho: ConsoleEcho;
  readonly owner: string;
  readonly recorder: RunRecorder;
  readonly metrics: Metrics | null;
  readonly alerter: Alerter | null;
  readonly alerts: ResolvedAlertSettings | null;
  readonly functionAlerts: ReadonlyMap<string, ResolvedAlertSettings>;
  readonly recordRuns: boolean;
  readonly cwd: string;
  readonly secretsFile: string | null;
  readonly baseUrl: string;
  /**
   * Queued runs this worker is starting, coalesced: a burst of due invocations (every
   * schedule firing on the minute) costs one statement, not a round trip each.
   */
  readonly starts: Batcher<RunStart>;
  /** Runs in progress in this process, by id: cancellation finds them here. */
  readonly active = new Map<string, ActiveRun>();
  readonly #timeouts = new Map<number, FifoDeadlines>();
  #runLog: Logger | null = null;
  #secrets: Promise<Record<string, string>> | null = null;

  /**
   * `consoleEcho`: where handlers' console lines are shown besides their run's log: the
   * process `log` (when the worker was given one) or stderr (never stdout, which belongs to
   * the program: `run-due --json` prints its result there).
   */
  constructor(settings: RuntimeSettings, log: Logger, consoleEcho: ConsoleEcho = 'stderr') {
    this.store = settings.store;
    this.clock = settings.clock;
    this.log = log;
    this.locks = settings.locks;
    this.clients = settings.clients;
    this.consoleEcho = consoleEcho;
    this.owner = settings.owner;
    this.recorder = new RunRecorder(settings.store, settings.clock, log);
    this.starts = new Batcher(async (items) => {
      const rows = await this.store.runs.start(
        items.map((s) => s.id),
        this.owner,
        this.clock.now(),
      );
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const s of items) s.row = byId.get(s.id) ?? null;
      return new Set(items.filter((s) => s.row !== null));
    });
    this.metrics = settings.metrics;
    this.alerter = settings.alerter;
    this.alerts = settings.alerts;
    this.functionAlerts = settings.functionAlerts;
    this.recordRuns = settings.recordRuns;
    this.cwd = settings.cwd;
    this.secretsFile = settings.secretsFile;
    this.baseUrl = settings.baseUrl;
  }

  /**
   * The root of every run's `ctx.log`: one pino instance per worker (creating one per run
   * costs more than a short handler), whose lines are routed to their run by `runId`.
   */
  get runLog(): Logger {
    this.#runLog ??= this.#makeRunLog();
    return this.#runLog;
  }

  #makeRunLog(): Logger {
    const parent = this.log;
    const parentStream = (parent as unknown as Record<symbol, { write(s: string): void } | undefined>)[
      pino.symbols.streamSym
    ];
    const parentLevel = parent.levelVal;
    const clock = this.clock;
    return pino(
      {
        level: parent.isLevelEnabled('debug') ? parent.level : 'info',
        base: null,
        timestamp: () => `,"time":${clock.now()}`,
        formatters: { log: keepCallLevel },
      },
      {
        write: (line: string) => {
          const parsed = JSON.parse(line) as Record<string, unknown>;
          const level = typeof parsed.level === 'number' ? parsed.level : 30;
          const run = typeof parsed.runId === 'string' ? this.active.get(parsed.runId) : undefined;
          if (run) {
            const fields: Record<string, unknown> = {};
            let any = false;
            for (const [k, v] of Object.entries(parsed)) {
              if (BASE_KEYS.has(k)) continue;
              fields[k] = v;
              any = true;
            }
            run.keep(
              typeof parsed.time === 'number' ? parsed.time : clock.now(),
              level,
              typeof parsed.msg === 'string' ? parsed.msg : '',
              any ? fields : null,
            );
          }
          if (level >= parentLevel) parentStream?.write(line);
        },
      },
    );
  }

  /**
   * One deadline queue per timeout length: deadlines of equal length fire in arming order.
   * A timeout is real time (a handler runs at real speed, whatever the clock's scale).
   */
  timeouts(ms: number): FifoDeadlines {
    let q = this.#timeouts.get(ms);
    if (!q) {
      q = new FifoDeadlines(this.clock, this.clock.real(ms));
      this.#timeouts.set(ms, q);
    }
    return q;
  }

  secretsFromFile(): Promise<Record<string, string>> {
    if (this.secretsFile === null) return Promise.resolve({});
    // Read once per worker; a failed read is retried by the next run.
    this.#secrets ??= loadSecretsFile(this.secretsFile).catch((err: unknown) => {
      this.#secrets = null;
      throw err;
    });
    return this.#secrets;
  }

  /** Aborts a run in this process; false if it does not run here. */
  cancel(runId: string): boolean {
    const run = this.active.get(runId);
    if (!run) return false;
    run.stop('cancel');
    return true;
  }

  close(): void {
    for (const q of this.#timeouts.values()) q.close();
    this.recorder.close();
  }
}

export interface ActiveRun {
  readonly info: RunInfo;
  readonly fn: FunctionDefinition;
  stop(reason: StopReason): void;
  /** Keeps a log line with the run. */
  keep(atMs: number, level: number, msg: string, fields: Record<string, unknown> | null): void;
}

export interface AttemptSpec {
  readonly info: RunInfo;
  readonly triggerKind: TriggerKind;
  readonly input: unknown;
  /** Receives the run's stop function, which the worker calls when it gives up waiting at shutdown. */
  readonly onStart?: (run: ActiveRun) => void;
  readonly message?: QueueRecord | undefined;
  readonly extendVisibility: (seconds: number) => Promise<void>;
  /** When the run began, if its caller just read the clock (a run's record and outcome start alike). */
  readonly startedAtMs?: number | undefined;
  /**
   * The trace contexts its messages were sent in (ClaimedMessage.traceContext): one is the
   * parent of the run's span, several are its links.
   */
  readonly traceContexts?: readonly (string | null)[];
}

export interface AttemptOutcome {
  readonly status: Exclude<RunStatus, 'queued' | 'running'>;
  /** JSON text of the result, or null. */
  readonly resultJson: string | null;
  /** The raw returned value (for batch handlers' batchItemFailures). */
  readonly value: unknown;
  /** What was thrown (or the timeout/cancel error), kept for NonRetryableError/RetryAfterError. */
  readonly thrown: unknown;
  readonly error:
    | (ErrorRecord & { readonly exitCode?: number | null; readonly signal?: string | null })
    | null;
  /** The worker shut down mid-run: its messages were released, not failed. */
  readonly released: boolean;
  readonly startedAtMs: number;
  readonly finishedAtMs: number;
  /** Log lines kept with the run. */
  readonly logLines: number;
}

/**
 * A logged `level` or `time` field would follow the line's own in its JSON and win when it
 * is parsed (seed 000's `{ level: 'ERROR' }` was stored as INFO): the call's level and time
 * stand, and the handler's fields are kept as `userLevel` and `userTime`.
 */
function keepCallLevel(obj: Record<string, unknown>): Record<string, unknown> {
  if (!Object.hasOwn(obj, 'level') && !Object.hasOwn(obj, 'time')) return obj;
  const { level, time, ...rest } = obj;
  if (level !== undefined) rest['userLevel'] = level;
  if (time !== undefined) rest['userTime'] = time;
  return rest;
}

const LEVEL_NAMES: Record<number, 'debug' | 'info' | 'warn' | 'error'> = {
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
};

const BASE_KEYS = new Set([
  'level',
  'time',
  'msg',
  'function',
  'runId',
  'attempt',
  'trigger',
  'pid',
  'hostname',
]);

/**
 * The handler's context, and the run as the worker tracks it (ActiveRun). A class with
 * a lazy logger and no per-run closures: at thousands of runs a second they add up.
 */
class RunContext implements FunctionContext, ActiveRun, ConsoleSink {
  readonly run: RunInfo;
  readonly fn: FunctionDefinition;
  readonly message: QueueRecord | undefined;
  readonly #rt: Runtime;
  /** Made when the handler first reads its signal: most never do. */
  #abort: AbortController | null = null;
  readonly #extend: (seconds: number) => Promise<void>;
  #log: Logger | undefined;
  #lines = 0;
  get lines(): number {
    return this.#lines;
  }
  stopped: StopReason | null = null;
  stopError: MainspringError | null = null;
  /** Rejects the handler's race when the run is stopped. */
  onStop: ((err: unknown) => void) | null = null;

  constructor(rt: Runtime, fn: FunctionDefinition, spec: AttemptSpec) {
    this.#rt = rt;
    this.fn = fn;
    this.run = spec.info;
    this.message = spec.message;
    this.#extend = spec.extendVisibility;
  }

  get info(): RunInfo {
    return this.run;
  }

  get signal(): AbortSignal {
    if (this.#abort === null) {
      this.#abort = new AbortController();
      if (this.stopError !== null) this.#abort.abort(this.stopError);
    }
    return this.#abort.signal;
  }

  stop(reason: StopReason): void {
    if (this.stopped !== null) return;
    this.stopped = reason;
    this.stopError = stopErrorFor(this.fn, reason);
    this.#abort?.abort(this.stopError);
    this.onStop?.(this.stopError);
  }

  /** Called by the deadline queue at the function's timeout. */
  onDeadline(): void {
    this.stop('timeout');
  }

  get trigger(): TriggerInfo {
    return this.run.trigger;
  }

  get env(): Readonly<Record<string, string>> {
    return this.fn.env;
  }

  get locks(): Locks {
    return this.#rt.locks;
  }

  get queues(): Queues {
    return this.#rt.clients.queues;
  }

  get events(): EventPublisher {
    return this.#rt.clients.events;
  }

  get workflows(): Workflows {
    return this.#rt.clients.workflows;
  }

  get log(): Logger {
    this.#log ??= this.#makeLogger();
    return this.#log;
  }

  extendVisibility(seconds: number): Promise<void> {
    return this.#extend(seconds);
  }

  /** Keeps a line with the run (up to the function's cap). */
  keep(atMs: number, level: number, msg: string, fields: Record<string, unknown> | null): void {
    const cap = this.fn.maxLogLines;
    if (this.#lines > cap) return;
    this.#lines++;
    const capped = this.#lines > cap;
    this.#rt.recorder.log({
      runId: this.run.id,
      functionName: this.fn.name,
      seq: this.#lines,
      atMs,
      level: capped ? 40 : level,
      msg: capped ? `log cap of ${cap} lines reached; later lines are not kept with the run` : msg,
      fields: capped || fields === null ? null : JSON.stringify(fields),
    });
  }

  /**
   * A console call of the handler (or of anything it started): kept with the run while it
   * runs, whatever the logger's level (as Lambda keeps all console output), and shown as the
   * runtime's `consoleEcho` says. A line written after the run ended is only shown.
   */
  consoleLine(level: number, text: string): void {
    const rt = this.#rt;
    if (rt.active.get(this.run.id) === this) this.keep(rt.clock.now(), level, text, null);
    if (rt.consoleEcho === 'stderr') {
      process.stderr.write(`${text}\n`);
      return;
    }
    const bindings = {
      function: this.fn.name,
      runId: this.run.id,
      attempt: this.run.attempt,
      trigger: this.run.trigger.kind,
    };
    rt.log[LEVEL_NAMES[level] ?? 'info'](bindings, text);
  }

  #makeLogger(): Logger {
    return this.#rt.runLog.child({
      function: this.fn.name,
      runId: this.run.id,
      attempt: this.run.attempt,
      trigger: this.run.trigger.kind,
    });
  }
}

/**
 * Runs one attempt to its outcome in a span of its own (`run <function>`, see
 * docs/observability.md), which is active while the handler runs; never throws. One async
 * function per run, not one inside another: each await of one allocates its frame.
 */
export async function runAttempt(
  rt: Runtime,
  fn: FunctionDefinition,
  spec: AttemptSpec,
): Promise<AttemptOutcome> {
  const { parent, links } = parentOf(spec.traceContexts);
  const span = startSpan(`run ${fn.name}`, SpanKind.CONSUMER, parent, () => runAttributes(fn, spec), links);
  const traceCtx = spanContext(span, parent);
  const { clock } = rt;
  const startedAtMs = spec.startedAtMs ?? clock.now();
  const ctx = new RunContext(rt, fn, spec);
  spec.onStart?.(ctx);
  rt.active.set(spec.info.id, ctx);
  const deadline = fn.timeoutMs === null ? null : rt.timeouts(fn.timeoutMs).arm(ctx, startedAtMs);

  let value: unknown;
  let thrown: unknown;
  let ok = false;
  let exit: Exit | null = null;
  try {
    if (fn.command) {
      const { command, outcome } = await runChild(rt, fn, spec, ctx, ctx.signal, span);
      exit = { exitCode: outcome.exitCode, signal: outcome.signal };
      if (!outcome.aborted && outcome.exitCode === 0) {
        ok = true;
        value = null;
      } else if (!outcome.aborted) {
        thrown = commandError(command, outcome);
      }
    } else {
      // A handler that ignores its signal still ends the run at its timeout (as Lambda
      // ends an invocation); what it does afterwards is not recorded.
      value = await new Promise((resolve, reject) => {
        ctx.onStop = reject;
        if (ctx.stopError !== null) reject(ctx.stopError);
        else
          withConsoleSink(ctx, () => runIn(traceCtx, () => callHandler(fn, spec.input, ctx))).then(
            resolve,
            reject,
          );
      });
      ok = true;
    }
  } catch (err) {
    thrown = err;
  } finally {
    ctx.onStop = null;
    if (deadline !== null) rt.timeouts(fn.timeoutMs!).disarm(deadline);
    rt.active.delete(spec.info.id);
  }
  const outcome = outcomeOf(fn, ctx, ok, value, thrown, exit, startedAtMs, clock.now());
  if (span.isRecording()) {
    span.setAttribute('mainspring.outcome', outcome.status);
    if (outcome.released) span.setAttribute('mainspring.released', true);
    if (outcome.status === 'failed' || outcome.status === 'timed_out') spanFailed(span, outcome.thrown);
  }
  span.end();
  return outcome;
}

function runAttributes(fn: FunctionDefinition, spec: AttemptSpec) {
  const { info } = spec;
  const queue = (info.trigger as { queue?: unknown }).queue;
  return {
    'mainspring.function': fn.name,
    'mainspring.trigger': spec.triggerKind,
    'mainspring.attempt': info.attempt,
    'mainspring.run_id': info.id,
    'mainspring.invocation_id': info.invocationId,
    ...(typeof queue === 'string' ? { 'mainspring.queue': queue } : {}),
  };
}

/** How a command's process ended. */
interface Exit {
  readonly exitCode: number | null;
  readonly signal: string | null;
}

/** The attempt's outcome once its handler (or command) returned, threw, or was stopped. */
function outcomeOf(
  fn: FunctionDefinition,
  ctx: RunContext,
  ok: boolean,
  value: unknown,
  thrown: unknown,
  exit: Exit | null,
  startedAtMs: number,
  finishedAtMs: number,
): AttemptOutcome {
  const stopped = ctx.stopped;
  const logLines = ctx.lines;
  if (stopped !== null) {
    const error = ctx.stopError!;
    return {
      status: stopped === 'timeout' ? 'timed_out' : stopped === 'cancel' ? 'cancelled' : 'failed',
      resultJson: null,
      value: undefined,
      thrown: error,
      error: { ...toErrorRecord(error), ...(exit ? exit : {}) },
      released: stopped === 'shutdown',
      startedAtMs,
      finishedAtMs,
      logLines,
    };
  }
  if (ok) {
    try {
      return {
        status: 'succeeded',
        resultJson: toResultJson(fn, value),
        value,
        thrown: undefined,
        error: null,
        released: false,
        startedAtMs,
        finishedAtMs,
        logLines,
      };
    } catch (err) {
      thrown = err;
    }
  }
  const record = toErrorRecord(thrown);
  const details = (thrown as { details?: { exitCode?: number | null; signal?: string | null } } | null)
    ?.details;
  return {
    status: 'failed',
    resultJson: null,
    value: undefined,
    thrown,
    error: {
      ...record,
      ...(exit ? exit : {}),
      ...(details && 'exitCode' in details ? { exitCode: details.exitCode ?? null } : {}),
    },
    released: false,
    startedAtMs,
    finishedAtMs,
    logLines,
  };
}

async function callHandler(fn: FunctionDefinition, input: unknown, ctx: FunctionContext): Promise<unknown> {
  return fn.handler(input, ctx);
}

async function runChild(
  rt: Runtime,
  fn: FunctionDefinition,
  spec: AttemptSpec,
  ctx: RunContext,
  signal: AbortSignal,
  span: Span,
) {
  const cmd = fn.command!;
  const fromFile = await rt.secretsFromFile();
  const secrets = resolveSecrets(cmd.secrets, fromFile, process.env, {
    command: `command "${fn.name}"`,
    ...(rt.secretsFile !== null ? { file: rt.secretsFile } : {}),
  });
  const command: CommandSpec = {
    argv: cmd.argv,
    cwd: resolvePath(rt.cwd, cmd.cwd ?? '.'),
    env: cmd.env,
    secrets,
  };
  const outcome = await runCommand(command, {
    input: spec.input,
    extraEnv: {
      MAINSPRING_FUNCTION: fn.name,
      MAINSPRING_RUN_ID: spec.info.id,
      MAINSPRING_ATTEMPT: String(spec.info.attempt),
      // The run's span as the parent of whatever the command traces (OpenTelemetry's env carrier).
      ...traceEnv(span),
    },
    signal,
    killGraceMs: cmd.killGraceMs,
    clock: rt.clock,
    onLine: (line) => ctx.keep(line.atMs, line.level, line.msg, line.fields),
  });
  return { command, outcome };
}
