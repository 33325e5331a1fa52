// `mainspring invoke`, `mainspring runs list|get|cancel` and `mainspring logs`: call a
// function, read and cancel its runs, and print or follow their log lines. Each speaks to
// the API, over HTTP with --url or in this process over the store.

import type { Command } from 'commander';
import { MainspringError } from '../../core/errors.ts';
import type { Run, RunLogLine } from '../../runtime/runs.ts';
import { RUN_STATUSES, TERMINAL_STATUSES } from '../../store/run-row.ts';
import type { ApiClient } from '../client.ts';
import { addClientOptions, type ClientFlags, err, out, withClient } from '../connect.ts';
import { flagDuration, flagInt, interruptSignal, parseInput } from '../flags.ts';
import { shortDuration, table } from '../table.ts';
import { Ticker } from '../ticker.ts';

const TRIGGERS = ['manual', 'queue', 'event', 'schedule', 'task', 'webhook'];

const WORKER_NOTE =
  'A worker must be running against the same store (`mainspring start` or `npm start` in another terminal) for the run to start.';

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

const enc = encodeURIComponent;

export function registerInvokeCommand(program: Command): void {
  addClientOptions(program.command('invoke'))
    .description(
      'queue a run of a function; prints its run id and status (a worker must be running: see --help)',
    )
    .argument('<function>', 'the function to run')
    .option('--input <json>', 'the input, as JSON (default: none)')
    .option(
      '--wait',
      'wait for the final attempt: print its id, status and result; exit 0 if it succeeded, else 1',
    )
    .option('--timeout <duration>', 'with --wait: give up after this long (e.g. 30s, 5m) and exit 1')
    .addHelpText(
      'after',
      `\n${WORKER_NOTE}\n\nExamples:\n  mainspring invoke db-cleanup --input '{"dryRun": true}'\n  mainspring invoke db-cleanup --wait --timeout 5m\n  mainspring invoke db-cleanup --url https://jobs.example.com --token "$TOKEN"`,
    )
    .action(
      async (name: string, flags: ClientFlags & { input?: string; wait?: boolean; timeout?: string }) => {
        const input = flags.input === undefined ? undefined : parseInput(flags.input);
        const timeoutMs = flags.timeout === undefined ? null : flagDuration(flags.timeout, '--timeout');
        await withClient(flags, 'write', async (client) => {
          const { run } = await client.post<{ run: Run }>(`/v1/functions/${enc(name)}/invoke`, {
            ...(input !== undefined ? { input } : {}),
          });
          if (!flags.wait) {
            out(flags.json ? JSON.stringify(run, null, 2) : `${run.id} ${run.status}`);
            return;
          }
          if (!flags.json) out(`${run.id} ${run.status}`);
          const final = await waitForRun(client, run, timeoutMs, name);
          if (final === null) {
            err(
              `run ${run.id} of "${name}" did not finish within ${flags.timeout}; it goes on. ` +
                `Follow it with: mainspring logs ${run.id} --follow`,
            );
            process.exitCode = 1;
            return;
          }
          if (flags.json) out(JSON.stringify(final, null, 2));
          else {
            out(`${final.id} ${final.status}`);
            if (final.status === 'succeeded') out(JSON.stringify(final.result ?? null));
          }
          if (final.status !== 'succeeded') {
            err(`run ${final.id} ${final.status}: ${errorText(final)}`);
            process.exitCode = 1;
          }
        });
      },
    );
}

/** How long a run may stay queued before the wait says no worker seems to be taking it. */
const NO_WORKER_NOTE_MS = 5000;

/**
 * The invocation's final attempt, or null when `timeoutMs` passes first. On a terminal, a
 * status line shows the elapsed time and the current attempt's status while it waits.
 */
async function waitForRun(
  client: ApiClient,
  run: Run,
  timeoutMs: number | null,
  name: string,
): Promise<Run | null> {
  const started = Date.now();
  const ticker = new Ticker();
  let warned = false;
  try {
    for (;;) {
      const left = timeoutMs === null ? 1000 : timeoutMs - (Date.now() - started);
      if (left <= 0) return null;
      // The server follows the invocation across retries: 200 once it is over, 202 while not.
      const res = await client.call<{ run: Run }>('POST', `/v1/runs/${enc(run.id)}/wait`, {
        body: { timeoutMs: Math.max(1, Math.min(1000, left)) },
      });
      const current = res.body.run;
      if (res.status === 200) return current;
      const elapsed = Date.now() - started;
      if (!warned && current.status === 'queued' && current.attempt === 1 && elapsed >= NO_WORKER_NOTE_MS) {
        warned = true;
        ticker.note(
          `no worker has picked up run ${current.id} after ${Math.round(elapsed / 1000)}s; is \`mainspring start\` (or \`mainspring worker\`) running on this store with "${name}" defined?`,
        );
      }
      ticker.show(`${current.id} ${current.status} (attempt ${current.attempt}), ${shortDuration(elapsed)}`);
    }
  } finally {
    ticker.clear();
  }
}

export function registerRunsCommand(program: Command): void {
  const runs = program.command('runs').description('the run history: list, get, cancel');
  const sub = (name: string, description: string) =>
    addClientOptions(runs.command(name).description(description));

  sub('list', 'runs, newest first')
    .option('--function <name>', 'only runs of this function')
    .option('--status <status>', `only runs in this status: ${RUN_STATUSES.join(', ')}`)
    .option('--trigger <kind>', `only runs started this way: ${TRIGGERS.join(', ')}`)
    .option('--since <duration>', 'only runs created in the last … (e.g. 1h, 2d)')
    .option('--limit <n>', 'at most this many (1 to 500)', '50')
    .option('--cursor <cursor>', 'the next page: the cursor the previous page printed')
    .action(
      (
        flags: ClientFlags & {
          function?: string;
          status?: string;
          trigger?: string;
          since?: string;
          limit: string;
          cursor?: string;
        },
      ) => {
        if (flags.status !== undefined && !(RUN_STATUSES as readonly string[]).includes(flags.status)) {
          throw new MainspringError(
            'E_VALIDATION',
            `--status is ${JSON.stringify(flags.status)}; use one of ${RUN_STATUSES.join(', ')}`,
            { details: { field: 'status', value: flags.status } },
          );
        }
        if (flags.trigger !== undefined && !TRIGGERS.includes(flags.trigger)) {
          throw new MainspringError(
            'E_VALIDATION',
            `--trigger is ${JSON.stringify(flags.trigger)}; use one of ${TRIGGERS.join(', ')}`,
            { details: { field: 'trigger', value: flags.trigger } },
          );
        }
        const limit = flagInt(flags.limit, '--limit', 1, 500);
        const sinceMs = flags.since === undefined ? null : flagDuration(flags.since, '--since');
        return withClient(flags, 'read', async (client) => {
          const page = await client.get<{ runs: Run[]; nextCursor: string | null }>('/v1/runs', {
            limit,
            function: flags.function,
            status: flags.status,
            trigger: flags.trigger,
            from: sinceMs === null ? undefined : new Date(Date.now() - sinceMs).toISOString(),
            cursor: flags.cursor,
          });
          if (flags.json) out(JSON.stringify(page, null, 2));
          else printRuns(page.runs, page.nextCursor);
        });
      },
    );

  sub('get', 'one run in detail')
    .argument('<id>', 'the run id')
    .action((id: string, flags: ClientFlags) =>
      withClient(flags, 'read', async (client) => {
        const run = await client.get<Run>(`/v1/runs/${enc(id)}`);
        if (flags.json) out(JSON.stringify(run, null, 2));
        else printRun(run);
      }),
    );

  sub(
    'cancel',
    'cancel a run: a queued one never starts; a running one is signalled (a command gets SIGTERM)',
  )
    .argument('<id>', 'the run id')
    .action((id: string, flags: ClientFlags) =>
      withClient(flags, 'write', async (client) => {
        // Read first: a cancelled run looks the same whether this call or an earlier one ended it.
        const before = await client.get<Run>(`/v1/runs/${enc(id)}`);
        const { run } = await client.post<{ run: Run }>(`/v1/runs/${enc(id)}/cancel`);
        if (flags.json) out(JSON.stringify(run, null, 2));
        else if (run.status === 'running') out(`${run.id} running; cancellation requested`);
        else if (run.status === 'cancelled' && !TERMINAL_STATUSES.includes(before.status))
          out(`${run.id} cancelled`);
        else out(`${run.id} already ${run.status}; nothing to cancel`);
      }),
    );
}

export function registerLogsCommand(program: Command): void {
  addClientOptions(program.command('logs'))
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
    .action(async (target: string, flags: ClientFlags & { follow?: boolean; since: string }) => {
      const sinceMs = flagDuration(flags.since, '--since');
      await withClient(flags, 'read', async (client) => {
        const print = (l: RunLogLine) => out(flags.json ? JSON.stringify(l) : formatLogLine(l));
        const run = await client.get<Run>(`/v1/runs/${enc(target)}`).catch((e: unknown) => {
          if ((e as { code?: string }).code === 'E_RUN_NOT_FOUND') return null;
          throw e;
        });
        const interrupt = interruptSignal();
        try {
          if (run !== null && flags.follow) {
            for await (const e of client.events(
              `/v1/runs/${enc(run.id)}/logs`,
              { follow: 1 },
              interrupt.signal,
            ))
              streamed(e, print);
          } else if (run !== null) {
            let afterSeq = 0;
            for (;;) {
              const page = await client.get<{ lines: RunLogLine[]; nextAfterSeq: number }>(
                `/v1/runs/${enc(run.id)}/logs`,
                { afterSeq },
              );
              for (const l of page.lines) print(l);
              if (page.lines.length < 1000) break;
              afterSeq = page.nextAfterSeq;
            }
          } else {
            const since = new Date(Date.now() - sinceMs).toISOString();
            const path = `/v1/functions/${enc(target)}/logs`;
            if (flags.follow) {
              for await (const e of client.events(path, { since, follow: 1 }, interrupt.signal))
                streamed(e, print);
            } else {
              let afterId = 0;
              for (;;) {
                const page = await client.get<{ lines: RunLogLine[]; nextAfterId: number }>(path, {
                  since,
                  afterId,
                });
                for (const l of page.lines) print(l);
                if (page.lines.length < 1000) break;
                afterId = page.nextAfterId;
              }
            }
          }
        } finally {
          interrupt.done();
        }
      });
    });
}

/** One event of a followed log stream: a line is printed, an error ends the command. */
function streamed(e: { event: string; data: string }, print: (l: RunLogLine) => void): void {
  if (e.event === 'line') print(JSON.parse(e.data) as RunLogLine);
  else if (e.event === 'error') {
    const { code, message } = JSON.parse(e.data) as { code: string; message: string };
    throw new MainspringError('E_INTERNAL', `the log stream ended with an error: ${message} [${code}]`);
  }
}
