// `mainspring workflows list|start|get|history|watch|stop|delete` and `workflows callback
// succeed|fail|heartbeat`: durable workflow executions, read and driven through the API,
// over HTTP with --url or in this process over the store.
//
// `start --wait` and `watch` do not run workflow code themselves: like `invoke --wait` (and
// Temporal's `workflow execute`), they wait for a worker of the same store (`mainspring
// start` or `mainspring worker`) to run the execution to its end.

import type { Command } from 'commander';
import { isMainspringError, MainspringError } from '../../core/errors.ts';
import type { ExecutionStatus } from '../../store/workflow-row.ts';
import type { Execution, Operation } from '../../workflow/client.ts';
import { addClientOptions, type ClientFlags, err, out, withClient } from '../connect.ts';
import { flagDuration, flagInt, parseInput } from '../flags.ts';
import { table } from '../table.ts';
import {
  EXECUTION_STATUSES,
  enc,
  errorText,
  isFinished,
  registerWatch,
  waitForExecution,
  waitText,
} from './workflows-follow.ts';

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

/** Runs an API call whose field errors should name flags. */
async function flagged<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (e) {
    throw asFlagError(e);
  }
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
    .description('durable workflow executions: list, start, get, history, watch, stop, delete; callbacks');
  const sub = (name: string, description: string) =>
    addClientOptions(workflows.command(name).description(description));

  sub('list', 'executions, newest first')
    .option('--workflow <name>', 'only executions of this workflow')
    .option('--status <status>', `only executions in this status: ${EXECUTION_STATUSES.join(', ')}`)
    .option('--limit <n>', 'at most this many (1 to 500)', '50')
    .option('--cursor <cursor>', 'the next page: the cursor the previous page printed')
    .action((flags: ClientFlags & { workflow?: string; status?: string; limit: string; cursor?: string }) => {
      if (flags.status !== undefined && !EXECUTION_STATUSES.includes(flags.status as ExecutionStatus)) {
        throw new MainspringError(
          'E_VALIDATION',
          `--status is ${JSON.stringify(flags.status)}; use one of ${EXECUTION_STATUSES.join(', ')}`,
          { details: { field: 'status', value: flags.status } },
        );
      }
      const limit = flagInt(flags.limit, '--limit', 1, 500);
      return withClient(flags, 'read', async (client) => {
        const page = await flagged(
          client.get<{ executions: Execution[]; nextCursor: string | null }>('/v1/executions', {
            limit,
            workflow: flags.workflow,
            status: flags.status,
            cursor: flags.cursor,
          }),
        );
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
    .option(
      '--wait',
      'print its id, then wait for it to finish: print its output, exit 0 if it succeeded, else 1',
    )
    .option('--timeout <duration>', 'with --wait: give up waiting after this long (e.g. 30s, 5m) and exit 1')
    .addHelpText(
      'after',
      `\n${WORKER_NOTE}\n\nWith --wait on a terminal, a status line shows the status, the progress the workflow reports and the time waited.\n\nExamples:\n  mainspring workflows start order-fulfilment --input '{"orderId": 42}' --id order-42\n  mainspring workflows start nightly-report --wait --timeout 10m\n  mainspring workflows start nightly-report --wait --url https://jobs.example.com --token "$TOKEN"`,
    )
    .action(
      async (
        name: string,
        flags: ClientFlags & { input?: string; id?: string; wait?: boolean; timeout?: string },
      ) => {
        const input = flags.input === undefined ? undefined : parseInput(flags.input);
        const timeoutMs = flags.timeout === undefined ? null : flagDuration(flags.timeout, '--timeout');
        await withClient(flags, 'write', async (client) => {
          const { created, ...started } = await flagged(
            client.post<Execution & { created: boolean }>(`/v1/workflows/${enc(name)}/executions`, {
              ...(input !== undefined ? { input } : {}),
              ...(flags.id !== undefined ? { id: flags.id } : {}),
            }),
          );
          const first = created
            ? `${started.id} ${started.status}`
            : `${started.id} already exists (${started.status}); not started again`;
          if (!flags.wait) {
            out(flags.json ? JSON.stringify({ ...started, created }, null, 2) : first);
            return;
          }
          if (!flags.json) out(first);
          const { final, interrupted } = isFinished(started)
            ? { final: started, interrupted: false }
            : await waitForExecution(client, started, timeoutMs);
          if (final === null) {
            err(
              `execution ${started.id} of "${name}" did not finish ${interrupted ? 'before Ctrl-C' : `within ${flags.timeout}`}; it goes on. ` +
                `See it with: mainspring workflows get ${started.id}`,
            );
            process.exitCode = 1;
            return;
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
    .action((id: string, flags: ClientFlags) =>
      withClient(flags, 'read', async (client) => {
        const e = await client.get<Execution>(`/v1/executions/${enc(id)}`);
        if (flags.json) out(JSON.stringify(e, null, 2));
        else printExecution(e);
      }),
    );

  sub('history', "an execution's journal: every operation, in the order they started")
    .argument('<id>', 'the execution id')
    .action((id: string, flags: ClientFlags) =>
      withClient(flags, 'read', async (client) => {
        const { operations } = await client.get<{ operations: Operation[] }>(
          `/v1/executions/${enc(id)}/history`,
        );
        if (flags.json) out(JSON.stringify({ operations }, null, 2));
        else printHistory(operations);
      }),
    );

  registerWatch(workflows, addClientOptions);

  sub('stop', 'stop an execution: a waiting one at once; a running one starts nothing further')
    .argument('<id>', 'the execution id')
    .action((id: string, flags: ClientFlags) =>
      withClient(flags, 'write', async (client) => {
        // Read first: a stopped execution looks the same whether this call or an earlier one stopped it.
        const before = await client.get<Execution>(`/v1/executions/${enc(id)}`);
        const e = await client.post<Execution>(`/v1/executions/${enc(id)}/stop`);
        if (flags.json) out(JSON.stringify(e, null, 2));
        else if (before.status === 'running' && e.status === 'running')
          out(`${e.id} running; stop requested`);
        else if (before.status === 'running' || before.status === 'waiting') out(`${e.id} ${e.status}`);
        else out(`${e.id} already ${e.status}; nothing to stop`);
      }),
    );

  addClientOptions(workflows.command('delete').description('delete a finished execution and its journal'))
    .argument('<id>', 'the execution id')
    .action((id: string, flags: ClientFlags) =>
      withClient(flags, 'write', async (client) => {
        await client.delete(`/v1/executions/${enc(id)}`);
        out(`${id} deleted`);
      }),
    );

  const callback = workflows
    .command('callback')
    .description('complete, fail or keep alive a callback an execution waits on');
  const cb = (name: string, description: string) =>
    addClientOptions(callback.command(name).description(description)).argument(
      '<callbackId>',
      'the callback id (the execution shows it while waiting; `workflows get`)',
    );
  const callbackPath = (id: string, action: string) => `/v1/callbacks/${enc(id)}/${action}`;

  cb('succeed', 'complete a callback with a result: the execution resumes')
    .option('--result <json>', 'the result, as JSON (default: none)')
    .action((callbackId: string, flags: ClientFlags & { result?: string }) => {
      const result = flags.result === undefined ? undefined : parseInput(flags.result, '--result');
      return withClient(flags, 'write', async (client) => {
        await flagged(
          client.post(callbackPath(callbackId, 'succeed'), result !== undefined ? { result } : {}),
        );
        out(`callback ${callbackId} succeeded`);
      });
    });

  cb('fail', "fail a callback: the execution's await of it throws this error")
    .requiredOption('--error <message>', 'the error message')
    .option('--name <name>', 'the error name (default CallbackError)')
    .action((callbackId: string, flags: ClientFlags & { error: string; name?: string }) =>
      withClient(flags, 'write', async (client) => {
        await client.post(callbackPath(callbackId, 'fail'), {
          error: { message: flags.error, ...(flags.name !== undefined ? { name: flags.name } : {}) },
        });
        out(`callback ${callbackId} failed`);
      }),
    );

  cb('heartbeat', 'keep a callback alive: its heartbeatTimeout starts again').action(
    (callbackId: string, flags: ClientFlags) =>
      withClient(flags, 'write', async (client) => {
        await client.post(callbackPath(callbackId, 'heartbeat'));
        out(`callback ${callbackId} heartbeat recorded`);
      }),
  );
}
