// `mainspring functions list`: the functions and commands the app defines, with what
// triggers them and how they retry. Speaks to the API (GET /v1/functions), over HTTP with
// --url or in this process (then the functions are those of the local config).

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
}

const list = (items: readonly string[]): string => (items.length === 0 ? '-' : items.join(', '));

function printFunctions(functions: readonly FunctionJson[]): void {
  if (functions.length === 0) {
    out('no functions');
    return;
  }
  table([
    ['NAME', 'KIND', 'TRIGGERS', 'SCHEDULES', 'TIMEOUT', 'RETRIES'],
    ...functions.map((f) => [
      f.name,
      f.kind,
      list(f.triggers),
      list(f.schedules),
      shortDuration(f.timeoutMs),
      // Retries after the first attempt, as the column says.
      String(f.retry.maxAttempts - 1),
    ]),
  ]);
}

export function registerFunctionsCommand(program: Command): void {
  const functions = program.command('functions').description("the app's functions: list");
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
}
