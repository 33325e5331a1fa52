// `mainspring tasks list|get|upsert|delete`: one-off tasks, created or moved by id, through
// the API: over HTTP with --url, or in this process over the store.

import type { Command } from 'commander';
import { isMainspringError, MainspringError } from '../../core/errors.ts';
import type { TaskInfo } from '../../scheduler/tasks.ts';
import { addClientOptions, type ClientFlags, out, withClient } from '../connect.ts';
import { flagInt, parseInput } from '../flags.ts';
import { table } from '../table.ts';

const enc = encodeURIComponent;

// The task module names a task's fields (`due`); on the command line they are flags.
const FLAG_OF: Record<string, string> = {
  id: '<id>',
  due: '--due',
  action: '--action',
  payload: '--payload',
  dueBefore: '--due-before',
  dueAfter: '--due-after',
  cursor: '--cursor',
};

function asFlagError(e: unknown): unknown {
  if (!isMainspringError(e) || e.code !== 'E_TASK_INVALID') return e;
  const field = (e.details as { field?: string } | undefined)?.field;
  const flag = field === undefined ? undefined : FLAG_OF[field];
  if (flag === undefined || !e.message.startsWith(`${field}: `)) return e;
  return new MainspringError(e.code, `${flag} ${e.message.slice(field!.length + 2)}`, {
    details: e.details,
    cause: e,
  });
}

function printTasks(tasks: readonly TaskInfo[], nextCursor: string | null): void {
  if (tasks.length === 0) out('no tasks');
  else
    table([
      ['ID', 'ACTION', 'DUE', 'STATUS', 'FIRED', 'RUN'],
      ...tasks.map((t) => [t.id, t.action, t.due, t.status, t.firedAt ?? '-', t.runId ?? '-']),
    ]);
  if (nextCursor !== null) out(`next page: --cursor ${nextCursor}`);
}

function printTask(t: TaskInfo): void {
  const rows: [string, string][] = [
    ['id', t.id],
    ['action', t.action],
    ['payload', JSON.stringify(t.payload)],
    ['due', t.due],
    ['status', t.status],
    ['fired at', t.firedAt ?? '-'],
    ['run', t.runId ?? '-'],
    ['created', t.createdAt],
    ['updated', t.updatedAt],
  ];
  const width = Math.max(...rows.map(([k]) => k.length)) + 1;
  for (const [k, v] of rows) out(`${`${k}:`.padEnd(width)} ${v}`);
}

export function registerTasksCommand(program: Command): void {
  const tasks = program.command('tasks').description('one-off tasks: list, get, upsert, delete');
  const sub = (name: string, description: string) =>
    addClientOptions(tasks.command(name).description(description));

  sub('list', 'tasks, by due time')
    .option('--action <function>', 'only tasks run by this function')
    .option('--status <status>', 'only pending or fired tasks')
    .option('--due-before <iso>', 'only tasks due before this instant')
    .option('--due-after <iso>', 'only tasks due at or after this instant')
    .option('--limit <n>', 'at most this many (1 to 1000)', '50')
    .option('--cursor <cursor>', 'the next page: the cursor the previous page printed')
    .action(
      (
        flags: ClientFlags & {
          action?: string;
          status?: string;
          dueBefore?: string;
          dueAfter?: string;
          limit: string;
          cursor?: string;
        },
      ) => {
        if (flags.status !== undefined && flags.status !== 'pending' && flags.status !== 'fired') {
          throw new MainspringError(
            'E_VALIDATION',
            `--status is ${JSON.stringify(flags.status)}; use pending or fired`,
            { details: { field: 'status', value: flags.status } },
          );
        }
        const limit = flagInt(flags.limit, '--limit', 1, 1000);
        return withClient(flags, 'read', async (client) => {
          const page = await client
            .get<{ tasks: TaskInfo[]; nextCursor: string | null }>('/v1/tasks', {
              limit,
              action: flags.action,
              status: flags.status,
              dueBefore: flags.dueBefore,
              dueAfter: flags.dueAfter,
              cursor: flags.cursor,
            })
            .catch((e: unknown) => {
              throw asFlagError(e);
            });
          if (flags.json) out(JSON.stringify(page, null, 2));
          else printTasks(page.tasks, page.nextCursor);
        });
      },
    );

  sub('get', 'one task')
    .argument('<id>', 'the task id')
    .action((id: string, flags: ClientFlags) =>
      withClient(flags, 'read', async (client) => {
        const t = await client.get<TaskInfo>(`/v1/tasks/${enc(id)}`);
        if (flags.json) out(JSON.stringify(t, null, 2));
        else printTask(t);
      }),
    );

  sub('upsert', 'create a task, or move or change the one with this id (it is pending again)')
    .argument('<id>', "the task id: 1–200 printable characters, e.g. 'some task id'")
    .requiredOption(
      '--due <iso>',
      'when it fires: an ISO-8601 instant with a zone, e.g. 2027-03-01T09:00:00Z',
    )
    .requiredOption('--action <function>', 'the function that runs it')
    .option('--payload <json>', "the function's input, as JSON (default: null)")
    .addHelpText(
      'after',
      '\nA worker and a scheduler must be running against the same store (mainspring start) for the task to fire, or run it with mainspring run-due.\n\nExample:\n  mainspring tasks upsert trial-end:42 --due 2027-03-01T09:00:00Z --action end-trial --payload \'{"user": 42}\'',
    )
    .action((id: string, flags: ClientFlags & { due: string; action: string; payload?: string }) => {
      const payload = flags.payload === undefined ? undefined : parseInput(flags.payload, '--payload');
      return withClient(flags, 'write', async (client) => {
        const t = await client
          .post<TaskInfo>('/v1/tasks', {
            id,
            due: flags.due,
            action: flags.action,
            ...(payload !== undefined ? { payload } : {}),
          })
          .catch((e: unknown) => {
            throw asFlagError(e);
          });
        if (flags.json) out(JSON.stringify(t, null, 2));
        else out(`${t.id} ${t.status}, due ${t.due}`);
      });
    });

  sub('delete', 'delete a task: it never fires')
    .argument('<id>', 'the task id')
    .action((id: string, flags: ClientFlags) =>
      withClient(flags, 'write', async (client) => {
        const t = await client.delete<TaskInfo>(`/v1/tasks/${enc(id)}`);
        if (flags.json) out(JSON.stringify(t, null, 2));
        else out(`${t.id} deleted`);
      }),
    );
}
