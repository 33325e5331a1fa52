// `mainspring workflows list|start|get|history|stop|delete` and `workflows callback
// succeed|fail|heartbeat`: durable workflow executions, read and driven from the store.
//
// `start --wait` does not run workflow code itself: like `invoke --wait` (and Temporal's
// `workflow execute`), it waits for a worker of the same store (`mainspring start` or
// `mainspring worker`) to run the execution to its end.

import type { Command } from 'commander';
import { parseDuration } from '../../core/duration.ts';
import { isMainspringError, MainspringError } from '../../core/errors.ts';
import type { ExecutionStatus } from '../../store/workflow-row.ts';
import { EXECUTION_STATUSES, type Execution, type Operation } from '../../workflow/client.ts';
import { table } from '../table.ts';
import { out, type StoreFlags, withApp } from '../with-app.ts';
import { wholeNumber } from './schedules.ts';
import { addConfigOption, addStoreOption } from './start.ts';

interface Flags extends StoreFlags {
  json?: boolean;
}

const WORKER_NOTE =
  'A worker must be running against the same store (`mainspring start` or `mainspring worker` in another terminal) for the execution to run.';

// The workflow client names its fields (`id`, `limit`); on the command line they are flags.
const FLAG_OF: Record<string, string> = {
  id: '--id',
  input: '--input',
  result: '--result',
  limit: '--limit',
  status: '--status',
  cursor: '--cursor',
};

function asFlagError(e: unknown): unknown {
  if (!isMainspringError(e) || e.code !== 'E_WORKFLOW_INVALID') return e;
  const field = (e.details as { field?: string } | undefined)?.field;
  const flag = field === undefined ? undefined : FLAG_OF[field];
  if (flag === undefined || !e.message.startsWith(`${field} `)) return e;
  return new MainspringError(e.code, `${flag}${e.message.slice(field!.length)}`, {
    details: e.details,
    cause: e,
  });
}

function parseJsonFlag(text: string, flag: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new MainspringError(
      'E_VALIDATION',
      `${flag} is not valid JSON (${(e as Error).message}); pass JSON such as '{"orderId": 42}'`,
      { details: { field: flag.slice(2), value: text } },
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
      { details: { field: flag.slice(2), value: text }, cause: e },
    );
  }
}

function err(line: string): void {
  process.stderr.write(`mainspring: ${line}\n`);
}

function errorText(e: { name: string; message: string; code?: string } | undefined, status: string): string {
  if (e === undefined) return status;
  return `${e.name}: ${e.message}${e.code ? ` [${e.code}]` : ''}`;
}

/** `wait "cool-off", until …`, `callback 5f0c…, until …` */
function waitText(e: Execution): string {
  const w = e.wait;
  if (w === null) return '-';
  // waitForCallback's own operation is named after its kind: the name would only repeat it.
  const name = w.name === w.kind ? '' : ` "${w.name}"`;
  const id = w.callbackId !== undefined ? ` ${w.callbackId}` : '';
  return `${w.kind}${name}${id}${w.until !== null ? `, until ${w.until}` : ''}`;
}

function printExecutions(executions: readonly Execution[], nextCursor: string | null): void {
  if (executions.length === 0) out('no executions');
  else
    table([
      ['ID', 'WORKFLOW', 'VERSION', 'STATUS', 'WAITING FOR', 'CREATED', 'FINISHED'],
      ...executions.map((e) => [
        e.id,
        e.workflow,
        e.version,
        e.status,
        waitText(e),
        e.createdAt,
        e.finishedAt ?? '-',
      ]),
    ]);
  if (nextCursor !== null) out(`next page: --cursor ${nextCursor}`);
}

function printExecution(e: Execution): void {
  const rows: [string, string][] = [
    ['id', e.id],
    ['workflow', e.workflow],
    ['version', e.version],
    ['status', e.status],
    ['input', JSON.stringify(e.input)],
  ];
  if (e.status === 'succeeded') rows.push(['output', JSON.stringify(e.output ?? null)]);
  if (e.error !== undefined) rows.push(['error', errorText(e.error, e.status)]);
  rows.push(
    ['progress', JSON.stringify(e.progress)],
    ['waiting for', waitText(e)],
    ['parent', e.parentId ?? '-'],
    ['operations', String(e.operations)],
    ['replays', String(e.replays)],
  );
  if (e.stopRequested) rows.push(['stop requested', 'yes']);
  rows.push(
    ['created', e.createdAt],
    ['started', e.startedAt ?? '-'],
    ['updated', e.updatedAt],
    ['finished', e.finishedAt ?? '-'],
  );
  const width = Math.max(...rows.map(([k]) => k.length)) + 1;
  for (const [k, v] of rows) out(`${`${k}:`.padEnd(width)} ${v}`);
}

/** What an operation holds beyond its status: its result or error, what it waits on. */
function operationDetail(o: Operation): string {
  const parts: string[] = [];
  if (o.callbackId !== undefined) parts.push(`callback ${o.callbackId}`);
  if (o.childId !== undefined) parts.push(`child ${o.childId}`);
  if (o.wakeAt !== null && o.finishedAt === null) parts.push(`until ${o.wakeAt}`);
  if (o.error !== undefined) parts.push(errorText(o.error, o.status));
  else if (o.result !== undefined) parts.push(JSON.stringify(o.result));
  const text = parts.join('; ');
  // A table row is one line: a long result is cut (--json prints it whole).
  return text.length > 80 ? `${text.slice(0, 79)}…` : text || '-';
}

function printHistory(ops: readonly Operation[]): void {
  if (ops.length === 0) {
    out('no operations yet');
    return;
  }
  table([
    ['OP', 'TYPE', 'NAME', 'STATUS', 'ATTEMPTS', 'STARTED', 'FINISHED', 'DETAIL'],
    ...ops.map((o) => [
      o.id,
      o.type,
      o.name,
      o.status,
      String(o.attempts),
      o.startedAt,
      o.finishedAt ?? '-',
      operationDetail(o),
    ]),
  ]);
}

export function registerWorkflowsCommand(program: Command): void {
  const workflows = program
    .command('workflows')
    .description('durable workflow executions: list, start, get, history, stop, delete; callbacks');
  const store = (cmd: Command) => addConfigOption(addStoreOption(cmd));
  const sub = (name: string, description: string) =>
    store(workflows.command(name).description(description)).option('--json', 'print JSON');

  sub('list', 'executions, newest first')
    .option('--workflow <name>', 'only executions of this workflow')
    .option('--status <status>', `only executions in this status: ${EXECUTION_STATUSES.join(', ')}`)
    .option('--limit <n>', 'at most this many (1 to 500)', '50')
    .option('--cursor <cursor>', 'the next page: the cursor the previous page printed')
    .action((flags: Flags & { workflow?: string; status?: string; limit: string; cursor?: string }) => {
      if (flags.status !== undefined && !EXECUTION_STATUSES.includes(flags.status as ExecutionStatus)) {
        throw new MainspringError(
          'E_VALIDATION',
          `--status is ${JSON.stringify(flags.status)}; use one of ${EXECUTION_STATUSES.join(', ')}`,
          { details: { field: 'status', value: flags.status } },
        );
      }
      const limit = wholeNumber(flags.limit, '--limit', 500);
      return withApp(flags, async (ms) => {
        const page = await ms.workflows
          .list({
            limit,
            ...(flags.workflow !== undefined ? { workflow: flags.workflow } : {}),
            ...(flags.status !== undefined ? { status: flags.status as ExecutionStatus } : {}),
            ...(flags.cursor !== undefined ? { cursor: flags.cursor } : {}),
          })
          .catch((e: unknown) => {
            throw asFlagError(e);
          });
        if (flags.json) out(JSON.stringify(page, null, 2));
        else printExecutions(page.executions, page.nextCursor);
      });
    });

  sub('start', 'start an execution of a workflow (a worker runs it: see --help)')
    .argument('<workflow>', 'the workflow to start')
    .option('--input <json>', 'the input, as JSON (default: null)')
    .option(
      '--id <id>',
      'idempotency key: 1–200 letters, digits, "_", ".", ":", "/", "-"; an id already stored is not started again',
    )
    .option('--wait', 'wait for it to finish: print its output, exit 0 if it succeeded, else 1')
    .option('--timeout <duration>', 'with --wait: give up waiting after this long (e.g. 30s, 5m) and exit 1')
    .addHelpText(
      'after',
      `\n${WORKER_NOTE}\n\nExamples:\n  mainspring workflows start order-fulfilment --input '{"orderId": 42}' --id order-42\n  mainspring workflows start nightly-report --wait --timeout 10m`,
    )
    .action(
      async (
        name: string,
        flags: Flags & { input?: string; id?: string; wait?: boolean; timeout?: string },
      ) => {
        const input = flags.input === undefined ? undefined : parseJsonFlag(flags.input, '--input');
        const timeoutMs = flags.timeout === undefined ? null : flagDuration(flags.timeout, '--timeout');
        await withApp(flags, async (ms) => {
          const started = await ms.workflows
            .start(name, input, flags.id !== undefined ? { id: flags.id } : {})
            .catch((e: unknown) => {
              throw asFlagError(e);
            });
          if (!flags.wait) {
            if (flags.json) out(JSON.stringify(started, null, 2));
            else if (started.created) out(`${started.id} ${started.status}`);
            else out(`${started.id} already exists (${started.status}); not started again`);
            return;
          }
          const interrupt = interruptSignal();
          const signal =
            timeoutMs === null
              ? interrupt.signal
              : AbortSignal.any([interrupt.signal, AbortSignal.timeout(timeoutMs)]);
          let final: Execution;
          try {
            final = await ms.workflows.wait(started.id, { signal });
          } catch (e) {
            if (!signal.aborted) throw e;
            err(
              `execution ${started.id} of "${name}" did not finish ${timeoutMs === null ? 'before Ctrl-C' : `within ${flags.timeout}`}; it goes on. ` +
                `See it with: mainspring workflows get ${started.id}`,
            );
            process.exitCode = 1;
            return;
          } finally {
            interrupt.done();
          }
          if (flags.json) out(JSON.stringify(final, null, 2));
          else if (final.status === 'succeeded') out(JSON.stringify(final.output ?? null));
          if (final.status !== 'succeeded') {
            err(`execution ${final.id} ${final.status}: ${errorText(final.error, final.status)}`);
            process.exitCode = 1;
          }
        });
      },
    );

  sub('get', 'one execution in detail')
    .argument('<id>', 'the execution id')
    .action((id: string, flags: Flags) =>
      withApp(flags, async (ms) => {
        const e = await ms.workflows.get(id);
        if (flags.json) out(JSON.stringify(e, null, 2));
        else printExecution(e);
      }),
    );

  sub('history', "an execution's journal: every operation, in the order they started")
    .argument('<id>', 'the execution id')
    .action((id: string, flags: Flags) =>
      withApp(flags, async (ms) => {
        const ops = await ms.workflows.history(id);
        if (flags.json) out(JSON.stringify({ operations: ops }, null, 2));
        else printHistory(ops);
      }),
    );

  sub('stop', 'stop an execution: a waiting one at once; a running one starts nothing further')
    .argument('<id>', 'the execution id')
    .action((id: string, flags: Flags) =>
      withApp(flags, async (ms) => {
        // Read first: a stopped execution looks the same whether this call or an earlier one stopped it.
        const before = await ms.workflows.get(id);
        const e = await ms.workflows.stop(id);
        if (flags.json) out(JSON.stringify(e, null, 2));
        else if (before.status === 'running' && e.status === 'running')
          out(`${e.id} running; stop requested`);
        else if (before.status === 'running' || before.status === 'waiting') out(`${e.id} ${e.status}`);
        else out(`${e.id} already ${e.status}; nothing to stop`);
      }),
    );

  store(workflows.command('delete').description('delete a finished execution and its journal'))
    .argument('<id>', 'the execution id')
    .action((id: string, flags: StoreFlags) =>
      withApp(flags, async (ms) => {
        await ms.workflows.delete(id);
        out(`${id} deleted`);
      }),
    );

  const callback = workflows
    .command('callback')
    .description('complete, fail or keep alive a callback an execution waits on');
  const cb = (name: string, description: string) =>
    store(callback.command(name).description(description)).argument(
      '<callbackId>',
      'the callback id (the execution shows it while waiting; `workflows get`)',
    );

  cb('succeed', 'complete a callback with a result: the execution resumes')
    .option('--result <json>', 'the result, as JSON (default: none)')
    .action((callbackId: string, flags: StoreFlags & { result?: string }) => {
      const result = flags.result === undefined ? undefined : parseJsonFlag(flags.result, '--result');
      return withApp(flags, async (ms) => {
        await ms.workflows.succeedCallback(callbackId, result).catch((e: unknown) => {
          throw asFlagError(e);
        });
        out(`callback ${callbackId} succeeded`);
      });
    });

  cb('fail', "fail a callback: the execution's await of it throws this error")
    .requiredOption('--error <message>', 'the error message')
    .option('--name <name>', 'the error name (default CallbackError)')
    .action((callbackId: string, flags: StoreFlags & { error: string; name?: string }) =>
      withApp(flags, async (ms) => {
        await ms.workflows.failCallback(callbackId, {
          message: flags.error,
          ...(flags.name !== undefined ? { name: flags.name } : {}),
        });
        out(`callback ${callbackId} failed`);
      }),
    );

  cb('heartbeat', 'keep a callback alive: its heartbeatTimeout starts again').action(
    (callbackId: string, flags: StoreFlags) =>
      withApp(flags, async (ms) => {
        await ms.workflows.heartbeatCallback(callbackId);
        out(`callback ${callbackId} heartbeat recorded`);
      }),
  );
}

/** An AbortSignal that fires on the first SIGINT (Ctrl-C); `done` removes the handler. */
function interruptSignal(): { signal: AbortSignal; done: () => void } {
  const ac = new AbortController();
  const onInt = () => ac.abort();
  process.once('SIGINT', onInt);
  return { signal: ac.signal, done: () => process.off('SIGINT', onInt) };
}
