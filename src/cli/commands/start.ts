// `mainspring start`: the store, the API, and the app's workers in one process.

import type { Command } from 'commander';
import { addConfigOption, addStoreOption } from '../connect.ts';
import type { RunFlags, RunMode } from '../run-app.ts';

/** The serving code (pino, Fastify, the engine) loads only when a command runs, not for --help. */
async function runApp(flags: RunFlags, mode: RunMode): Promise<void> {
  const { runApp: run } = await import('../run-app.ts');
  return run(flags, mode);
}

// Shared with every command that opens a store; defined with the client options.
export { addConfigOption, addStoreOption } from '../connect.ts';

function addLogFormatOption(cmd: Command): Command {
  return cmd.option(
    '--log-format <format>',
    'pretty (coloured lines for people) or json (one object a line) (default: $MAINSPRING_LOG_FORMAT, else pretty on a terminal, json otherwise)',
  );
}

export function registerStartCommand(program: Command): void {
  const cmd = program
    .command('start')
    .description(
      "run mainspring: open the store, apply migrations, serve the HTTP API, run the app's workers",
    )
    .option(
      '--port <port>',
      'API port (default: $MAINSPRING_PORT, config api.port, else 7400; 0 = any free port)',
    )
    .option('--host <host>', 'API address (default 127.0.0.1; any other needs MAINSPRING_API_TOKEN)')
    .option(
      '--max-in-flight <n>',
      'most API requests served at once; past it 503 with Retry-After (default: $MAINSPRING_MAX_IN_FLIGHT, config api.maxInFlight, else 128)',
    )
    .option(
      '--no-scheduler',
      'fire no schedules or tasks here: other processes do, or `mainspring run-due` when you choose',
    );
  addLogFormatOption(addConfigOption(addStoreOption(cmd))).action(
    (flags: RunFlags & { scheduler: boolean }) =>
      runApp(flags, { api: true, worker: true, scheduler: flags.scheduler }),
  );
}

export function registerWorkerCommand(program: Command): void {
  const cmd = program
    .command('worker')
    .description(
      "run the app's workers and a scheduler (no API): add processes like this to scale out on PostgreSQL",
    )
    .option('--no-scheduler', 'run no scheduler here (other processes fire the schedules)');
  addLogFormatOption(addConfigOption(addStoreOption(cmd))).action(
    (flags: RunFlags & { scheduler: boolean }) =>
      runApp(flags, { api: false, worker: true, scheduler: flags.scheduler }),
  );
}

export function registerSchedulerCommand(program: Command): void {
  const cmd = program
    .command('scheduler')
    .description(
      'fire due schedule ticks and tasks only (no API, no handlers); any number may run: each tick fires once',
    );
  addLogFormatOption(addConfigOption(addStoreOption(cmd))).action((flags: RunFlags) =>
    runApp(flags, { api: false, worker: false, scheduler: true }),
  );
}
