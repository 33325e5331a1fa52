// Builds the `mainspring` command tree. Each command lives in cli/commands/ and
// registers itself here; every command gets --help, and the root --version.

import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.ts';

type Register = (program: Command) => void;

interface Entry {
  /** One line for the root's command list. */
  readonly summary: string;
  /** Loads the module that registers the command (its whole tree of options and actions). */
  readonly load: () => Promise<Register>;
}

// Only the command argv names is loaded, so `mainspring runs list --help` reads one small
// module, not the engine behind every command (measured: BENCHMARKS.md, "CLI start-up").
const COMMANDS: Readonly<Record<string, Entry>> = {
  start: {
    summary: 'run mainspring: the API, the workers and a scheduler',
    load: async () => (await import('./commands/start.ts')).registerStartCommand,
  },
  worker: {
    summary: "run the app's workers (and a scheduler), no API",
    load: async () => (await import('./commands/start.ts')).registerWorkerCommand,
  },
  scheduler: {
    summary: 'fire due ticks and tasks only',
    load: async () => (await import('./commands/start.ts')).registerSchedulerCommand,
  },
  migrate: {
    summary: 'create the store if needed and apply its migrations',
    load: async () => (await import('./commands/migrate.ts')).registerMigrateCommand,
  },
  invoke: {
    summary: 'queue a run of a function, optionally waiting for it',
    load: async () => (await import('./commands/runs.ts')).registerInvokeCommand,
  },
  runs: {
    summary: 'the run history: list, get, cancel',
    load: async () => (await import('./commands/runs.ts')).registerRunsCommand,
  },
  logs: {
    summary: "print or follow a run's or a function's log lines",
    load: async () => (await import('./commands/runs.ts')).registerLogsCommand,
  },
  functions: {
    summary: "the app's functions: list",
    load: async () => (await import('./commands/functions.ts')).registerFunctionsCommand,
  },
  queues: {
    summary: 'queues: list, stats, send, dlq, redrive, purge',
    load: async () => (await import('./commands/queues.ts')).registerQueuesCommand,
  },
  schedule: {
    summary: 'schedule expressions: next fire times',
    load: async () => (await import('./commands/schedule.ts')).registerScheduleCommand,
  },
  schedules: {
    summary: 'stored schedules: list, get, create, update, enable, disable, next, delete',
    load: async () => (await import('./commands/schedules.ts')).registerSchedulesCommand,
  },
  tasks: {
    summary: 'one-off tasks: list, get, upsert, delete',
    load: async () => (await import('./commands/tasks.ts')).registerTasksCommand,
  },
  'run-due': {
    summary: 'fire what is due (as of --now) once and wait for it',
    load: async () => (await import('./commands/run-due.ts')).registerRunDueCommand,
  },
  workflows: {
    summary: 'workflow executions: start, list, get, watch, history, stop, delete, callback',
    load: async () => (await import('./commands/workflows.ts')).registerWorkflowsCommand,
  },
  events: {
    summary: 'the event bus: put, get, replay',
    load: async () => (await import('./commands/events.ts')).registerEventsCommand,
  },
  locks: {
    summary: 'leases: list, release',
    load: async () => (await import('./commands/locks.ts')).registerLocksCommand,
  },
  import: {
    summary:
      'write a mainspring.config.ts from Terraform, Serverless, Stacktape, Amplify, AWS CLI JSON or crontabs',
    load: async () => (await import('./commands/import.ts')).registerImportCommand,
  },
};

/**
 * The `mainspring` command tree for `argv`: the command it names in full, every other one
 * as a line of the root's help.
 */
export async function buildProgram(argv: readonly string[] = process.argv): Promise<Command> {
  const program = new Command('mainspring')
    .description('Scheduled and background work for TypeScript, on SQLite or PostgreSQL')
    .version(VERSION, '-v, --version', 'print the mainspring version')
    .enablePositionalOptions()
    // Usage errors are reported by usageError as one line; subcommands inherit both settings.
    .exitOverride()
    .configureOutput({ outputError: () => {} });
  const words = argv.slice(2).filter((a) => !a.startsWith('-'));
  // `mainspring help runs` is `mainspring runs --help`.
  const named = words[0] === 'help' ? words[1] : words[0];
  for (const [name, entry] of Object.entries(COMMANDS)) {
    if (name === named) (await entry.load())(program);
    else program.command(name).summary(entry.summary);
  }
  const addVersion = (cmd: Command) => {
    for (const sub of cmd.commands) {
      sub.version(VERSION, '-v, --version', 'print the mainspring version');
      addVersion(sub);
    }
  };
  addVersion(program);
  return program;
}

/**
 * A usage error (unknown flag, missing argument, unknown command) as one line naming it and
 * where to read the usage, with exit code 2; help and --version end with their own code.
 */
export function usageError(
  program: Command,
  err: unknown,
  argv: readonly string[],
): { line: string | null; exitCode: number } | null {
  if (!(err instanceof CommanderError)) return null;
  if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version')
    return { line: null, exitCode: 0 };
  // A command group run without its subcommand has printed its help: that is the fix.
  if (err.code === 'commander.help') return { line: null, exitCode: 2 };
  const path = commandPath(program, argv.slice(2));
  const what = err.message
    .replace(/^error: /, '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ');
  return { line: `${what}; see \`${path} --help\` for its usage`, exitCode: 2 };
}

/** `mainspring runs list`: the commands named in argv, as far as they exist. */
function commandPath(program: Command, args: readonly string[]): string {
  const names = [program.name()];
  let cmd = program;
  for (const arg of args) {
    if (arg.startsWith('-')) continue;
    const sub = cmd.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (!sub) break;
    names.push(sub.name());
    cmd = sub;
  }
  return names.join(' ');
}
