// `mainspring invoke`, `mainspring runs list|get|cancel` and `mainspring logs`: call a
// function, read and cancel its runs, and print or follow their log lines.

import type { Command } from 'commander';
import type { Mainspring } from '../../app.ts';
import { parseDuration } from '../../core/duration.ts';
import { isMainspringError, MainspringError } from '../../core/errors.ts';
import { RUN_STATUSES, type Run, type RunLogLine } from '../../runtime/runs.ts';
import { type RunStatus, TERMINAL_STATUSES, type TriggerKind } from '../../store/run-row.ts';
import { shortDuration, table } from '../table.ts';
import { out, type StoreFlags, withApp } from '../with-app.ts';
import { addConfigOption, addStoreOption } from './start.ts';

interface Flags extends StoreFlags {
  json?: boolean;
}

const WORKER_NOTE =
  'A worker must be running against the same store (`mainspring start` or `npm start` in another terminal) for the run to start.';

function withStore(cmd: Command): Command {
  return addConfigOption(addStoreOption(cmd)).option('--json', 'print JSON');
}

function err(line: string): void {
  process.stderr.write(`mainspring: ${line}\n`);
}

function parseInput(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new MainspringError(
      'E_VALIDATION',
      `--input is not valid JSON (${(e as Error).message}); pass JSON such as '{"id": 1}'`,
      { details: { field: 'input', value: text } },
    );
  }
}

function flagDuration(text: string, flag: string): number {
  try {
    return parseDuration(text, flag);
  } catch (e) {
    throw new MainspringError(
      'E_VALIDATION',
      `${flag} is ${JSON.stringify(text)}: ${(e as Error).message}; use e.g. 30s, 5m, 1h`,
      { details: { field: flag, value: text }, cause: e },
    );
  }
}

/** Runtime validation errors name the option (`status`); on the command line it is `--status`. */
function asFlagError(e: unknown): unknown {
  if (isMainspringError(e) && e.code === 'E_VALIDATION' && /^[a-z]+ /.test(e.message)) {
    return new MainspringError('E_VALIDATION', `--${e.message}`, { details: e.details, cause: e });
  }
  return e;
}

function printRuns(runs: readonly Run[], nextCursor: string | null): void {
  if (runs.length === 0) out('no runs');
  else
    table([
      ['ID', 'FUNCTION', 'ATTEMPT', 'STATUS', 'TRIGGER', 'STARTED', 'DURATION'],
      ...runs.map((r) => [
        r.id,
        r.function,
        String(r.attempt),
        r.status,
        r.trigger.kind,
        r.startedAt ?? '-',
        shortDuration(r.durationMs),
      ]),
    ]);
  if (nextCursor !== null) out(`next page: --cursor ${nextCursor}`);
}

function printRun(r: Run): void {
  const rows: [string, string][] = [
    ['id', r.id],
    ['function', r.function],
    ['invocation', r.invocationId],
    ['attempt', String(r.attempt)],
    ['status', r.status],
    ['trigger', JSON.stringify(r.trigger)],
    ['input', JSON.stringify(r.input)],
    ['scheduled for', r.scheduledFor ?? '-'],
    ['created', r.createdAt],
    ['started', r.startedAt ?? '-'],
    ['finished', r.finishedAt ?? '-'],
    ['duration', shortDuration(r.durationMs)],
    ['owner', r.owner ?? '-'],
    ['log lines', String(r.logCount)],
  ];
  if (r.cancelRequestedAt !== null) rows.push(['cancel requested', r.cancelRequestedAt]);
  if (r.status === 'succeeded') rows.push(['result', JSON.stringify(r.result)]);
  if (r.error !== null) rows.push(['error', errorText(r)]);
  const width = Math.max(...rows.map(([k]) => k.length)) + 1;
  for (const [k, v] of rows) out(`${`${k}:`.padEnd(width)} ${v}`);
}

function errorText(r: Run): string {
  const e = r.error;
  if (e === null) return r.status;
  const code = e.code ? ` [${e.code}]` : '';
  const exit = e.exitCode !== undefined && e.exitCode !== null ? ` (exit code ${e.exitCode})` : '';
  return `${e.name ?? 'Error'}: ${e.message}${code}${exit}`;
}

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** `<ISO time> <LEVEL> [<run id> #<attempt>] <msg> <fields as compact JSON>` */
export function formatLogLine(l: RunLogLine): string {
  const attempt = /-(\d+)$/.exec(l.runId)?.[1];
  const level = LEVELS[l.level] ?? `L${l.level}`;
  const fields = l.fields !== null && Object.keys(l.fields).length > 0 ? ` ${JSON.stringify(l.fields)}` : '';
  return `${l.time} ${level} [${l.runId}${attempt ? ` #${attempt}` : ''}] ${l.msg}${fields}`;
}

/** An AbortSignal that fires on the first SIGINT (Ctrl-C); `done` removes the handler. */
function interruptSignal(): { signal: AbortSignal; done: () => void } {
  const ac = new AbortController();
  const onInt = () => ac.abort();
  process.once('SIGINT', onInt);
  return { signal: ac.signal, done: () => process.off('SIGINT', onInt) };
}

async function findRun(ms: Mainspring, id: string): Promise<Run | null> {
  try {
    return await ms.runs.get(id);
  } catch (e) {
    if (isMainspringError(e) && e.code === 'E_RUN_NOT_FOUND') return null;
    throw e;
  }
}

function registerInvoke(program: Command): void {
  withStore(program.command('invoke'))
    .description(
      'queue a run of a function; prints its run id and status (a worker must be running: see --help)',
    )
    .argument('<function>', 'the function to run')
    .option('--input <json>', 'the input, as JSON (default: none)')
    .option('--wait', 'wait for the final attempt: print its result, exit 0 if it succeeded, else 1')
    .option('--timeout <duration>', 'with --wait: give up after this long (e.g. 30s, 5m) and exit 1')
    .addHelpText(
      'after',
      `\n${WORKER_NOTE}\n\nExamples:\n  mainspring invoke db-cleanup --input '{"dryRun": true}'\n  mainspring invoke db-cleanup --wait --timeout 5m`,
    )
    .action(async (name: string, flags: Flags & { input?: string; wait?: boolean; timeout?: string }) => {
      const input = flags.input === undefined ? undefined : parseInput(flags.input);
      const timeoutMs = flags.timeout === undefined ? null : flagDuration(flags.timeout, '--timeout');
      await withApp(flags, async (ms) => {
        const run = await ms.runs.invoke(name, input);
        if (!flags.wait) {
          out(flags.json ? JSON.stringify(run, null, 2) : `${run.id} ${run.status}`);
          return;
        }
        const final = await waitFor(ms, run, timeoutMs);
        if (final === null) {
          err(
            `run ${run.id} of "${name}" did not finish within ${flags.timeout}; it goes on. ` +
              `Follow it with: mainspring logs ${run.id} --follow`,
          );
          process.exitCode = 1;
          return;
        }
        if (flags.json) out(JSON.stringify(final, null, 2));
        else if (final.status === 'succeeded') out(JSON.stringify(final.result ?? null));
        if (final.status !== 'succeeded') {
          err(`run ${final.id} ${final.status}: ${errorText(final)}`);
          process.exitCode = 1;
        }
      });
    });
}

/** The invocation's final attempt, or null when `timeoutMs` passes first. */
async function waitFor(ms: Mainspring, run: Run, timeoutMs: number | null): Promise<Run | null> {
  // Runs.wait is raced rather than given a signal: it must not outlive the store, and
  // its loop is only stopped by the store closing, whose error is not ours to report.
  const waiting = ms.runs.wait(run.id);
  waiting.catch(() => {});
  if (timeoutMs === null) return waiting;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), timeoutMs);
  });
  try {
    return await Promise.race([waiting, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

function registerRuns(program: Command): void {
  const runs = program.command('runs').description('the run history: list, get, cancel');
  const sub = (name: string, description: string) => withStore(runs.command(name).description(description));

  sub('list', 'runs, newest first')
    .option('--function <name>', 'only runs of this function')
    .option('--status <status>', `only runs in this status: ${RUN_STATUSES.join(', ')}`)
    .option('--trigger <kind>', 'only runs started this way: manual, queue, event, schedule, task, webhook')
    .option('--since <duration>', 'only runs created in the last … (e.g. 1h, 2d)')
    .option('--limit <n>', 'at most this many (1 to 500)', '50')
    .option('--cursor <cursor>', 'the next page: the cursor the previous page printed')
    .action(
      (
        flags: Flags & {
          function?: string;
          status?: string;
          trigger?: string;
          since?: string;
          limit: string;
          cursor?: string;
        },
      ) => {
        if (flags.status !== undefined && !RUN_STATUSES.includes(flags.status as RunStatus)) {
          throw new MainspringError(
            'E_VALIDATION',
            `--status is ${JSON.stringify(flags.status)}; use one of ${RUN_STATUSES.join(', ')}`,
            { details: { field: 'status', value: flags.status } },
          );
        }
        const limit = Number(flags.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
          throw new MainspringError(
            'E_VALIDATION',
            `--limit is ${JSON.stringify(flags.limit)}; use a whole number from 1 to 500`,
            { details: { field: 'limit', value: flags.limit } },
          );
        }
        const sinceMs = flags.since === undefined ? null : flagDuration(flags.since, '--since');
        return withApp(flags, async (ms) => {
          if (flags.function !== undefined) ms.runs.function(flags.function);
          const page = await ms.runs
            .list({
              limit,
              ...(flags.function !== undefined ? { function: flags.function } : {}),
              ...(flags.status !== undefined ? { status: flags.status as RunStatus } : {}),
              ...(flags.trigger !== undefined ? { trigger: flags.trigger as TriggerKind } : {}),
              ...(sinceMs !== null ? { from: new Date(ms.clock.now() - sinceMs) } : {}),
              ...(flags.cursor !== undefined ? { cursor: flags.cursor } : {}),
            })
            .catch((e: unknown) => {
              throw asFlagError(e);
            });
          if (flags.json) out(JSON.stringify(page, null, 2));
          else printRuns(page.runs, page.nextCursor);
        });
      },
    );

  sub('get', 'one run in detail')
    .argument('<id>', 'the run id')
    .action((id: string, flags: Flags) =>
      withApp(flags, async (ms) => {
        const run = await ms.runs.get(id);
        if (flags.json) out(JSON.stringify(run, null, 2));
        else printRun(run);
      }),
    );

  sub(
    'cancel',
    'cancel a run: a queued one never starts; a running one is signalled (a command gets SIGTERM)',
  )
    .argument('<id>', 'the run id')
    .action((id: string, flags: Flags) =>
      withApp(flags, async (ms) => {
        // Read first: a cancelled run looks the same whether this call or an earlier one ended it.
        const before = await ms.runs.get(id);
        const run = await ms.runs.cancel(id);
        if (flags.json) out(JSON.stringify(run, null, 2));
        else if (run.status === 'running') out(`${run.id} running; cancellation requested`);
        else if (run.status === 'cancelled' && !TERMINAL_STATUSES.includes(before.status))
          out(`${run.id} cancelled`);
        else out(`${run.id} already ${run.status}; nothing to cancel`);
      }),
    );
}

function registerLogs(program: Command): void {
  withStore(program.command('logs'))
    .description("print a run's log lines, or those of a function's recent runs")
    .argument('<target>', 'a run id, or a function name')
    .option(
      '-f, --follow',
      'keep printing new lines: for a run, until it finishes; for a function, until Ctrl-C',
    )
    .option('--since <duration>', "for a function: its runs' lines from the last … (default 1h)", '1h')
    .addHelpText(
      'after',
      '\nLine format: <ISO time> <LEVEL> [<run id> #<attempt>] <message> <fields as JSON>',
    )
    .action(async (target: string, flags: Flags & { follow?: boolean; since: string }) => {
      const sinceMs = flagDuration(flags.since, '--since');
      await withApp(flags, async (ms) => {
        const print = (l: RunLogLine) => out(flags.json ? JSON.stringify(l) : formatLogLine(l));
        const run = await findRun(ms, target);
        if (run === null && !ms.runs.functions.has(target)) {
          const known = [...ms.runs.functions.keys()];
          throw new MainspringError(
            'E_FUNCTION_NOT_FOUND',
            `"${target}" is neither a run id nor a function; ${known.length > 0 ? `functions: ${known.join(', ')}` : 'the app defines no functions'}`,
            { details: { field: 'target', value: target } },
          );
        }
        const interrupt = interruptSignal();
        try {
          if (run !== null && flags.follow) {
            for await (const l of ms.runs.follow(run.id, { signal: interrupt.signal })) print(l);
          } else if (run !== null) {
            let afterSeq = 0;
            for (;;) {
              const lines = await ms.runs.logs(run.id, { afterSeq, limit: 1000 });
              for (const l of lines) print(l);
              if (lines.length < 1000) break;
              afterSeq = lines.at(-1)!.seq;
            }
          } else {
            const lines = ms.runs.followFunction(target, {
              since: new Date(ms.clock.now() - sinceMs),
              signal: interrupt.signal,
              follow: flags.follow === true,
            });
            for await (const l of lines) print(l);
          }
        } finally {
          interrupt.done();
        }
      });
    });
}

export function registerRunsCommands(program: Command): void {
  registerInvoke(program);
  registerRuns(program);
  registerLogs(program);
}
