// `mainspring functions list|pause|resume`: the functions and commands the app defines, with
// what triggers them, how they retry and whether they are paused; pausing one stops every
// process starting its runs. Speaks to the API (/v1/functions), over HTTP with --url or in
// this process (then the functions are those of the local config).

import type { Command } from 'commander';
import { addClientOptions, type ClientFlags, out, withClient } from '../connect.ts';
import { shortDuration, table } from '../table.ts';

/** A function as GET /v1/functions describes it. */
interface FunctionJson {
  readonly name: string;
  readonly kind: 'function' | 'command';
  readonly triggers: readonly string[];
  readonly schedules: readonly string[];
  readonly timeoutMs: number | null;
  readonly retry: { readonly maxAttempts: number };
  readonly paused: boolean;
}

const list = (items: readonly string[]): string => (items.length === 0 ? '-' : items.join(', '));

function printFunctions(functions: readonly FunctionJson[]): void {
  if (functions.length === 0) {
    out('no functions');
    return;
  }
  table([
    ['NAME', 'KIND', 'TRIGGERS', 'SCHEDULES', 'TIMEOUT', 'RETRIES', 'PAUSED'],
    ...functions.map((f) => [
      f.name,
      f.kind,
      list(f.triggers),
      list(f.schedules),
      shortDuration(f.timeoutMs),
      // Retries after the first attempt, as the column says.
      String(f.retry.maxAttempts - 1),
      f.paused ? 'yes' : 'no',
    ]),
  ]);
}

export function registerFunctionsCommand(program: Command): void {
  const functions = program.command('functions').description("the app's functions: list, pause, resume");
  addClientOptions(
    functions
      .command('list')
      .description('every function and command, with the queues and schedules that trigger it'),
  )
    .addHelpText(
      'after',
      '\nTRIGGERS are the queues a function consumes; RETRIES, the attempts after the first.',
    )
    .action((flags: ClientFlags) =>
      withClient(flags, 'read', async (client) => {
        const { functions: all } = await client.get<{ functions: FunctionJson[] }>('/v1/functions');
        if (flags.json) out(JSON.stringify(all, null, 2));
        else printFunctions(all);
      }),
    );

  for (const action of ['pause', 'resume'] as const) {
    addClientOptions(
      functions
        .command(action)
        .description(
          action === 'pause'
            ? 'stop every process starting runs of a function (its work is still stored) until it is resumed'
            : 'let a paused function run again',
        ),
    )
      .argument('<function>')
      .action((name: string, flags: ClientFlags) =>
        withClient(flags, 'write', async (client) => {
          const state = await client.post<{ name: string; paused: boolean; pausedAt: string | null }>(
            `/v1/functions/${encodeURIComponent(name)}/${action}`,
          );
          out(
            flags.json
              ? JSON.stringify(state)
              : state.paused
                ? `${name} is paused (since ${state.pausedAt})`
                : `${name} is running`,
          );
        }),
      );
  }
}
