// Builds the `mainspring` command tree. Each command lives in cli/commands/ and
// registers itself here; every command gets --help, and the root --version.

import { Command } from 'commander';
import { VERSION } from '../version.ts';
import { registerEventsCommand } from './commands/events.ts';
import { registerMigrateCommand } from './commands/migrate.ts';
import { registerQueuesCommand } from './commands/queues.ts';
import { registerRunDueCommand } from './commands/run-due.ts';
import { registerRunsCommands } from './commands/runs.ts';
import { registerScheduleCommand } from './commands/schedule.ts';
import { registerSchedulesCommand } from './commands/schedules.ts';
import { registerSchedulerCommand, registerStartCommand, registerWorkerCommand } from './commands/start.ts';
import { registerTasksCommand } from './commands/tasks.ts';
import { registerWorkflowsCommand } from './commands/workflows.ts';

export function buildProgram(): Command {
  const program = new Command('mainspring')
    .description('Scheduled and background work for TypeScript, on SQLite or PostgreSQL')
    .version(VERSION, '-v, --version', 'print the mainspring version')
    .showHelpAfterError()
    .enablePositionalOptions();
  registerStartCommand(program);
  registerWorkerCommand(program);
  registerSchedulerCommand(program);
  registerQueuesCommand(program);
  registerEventsCommand(program);
  registerMigrateCommand(program);
  registerScheduleCommand(program);
  registerRunsCommands(program);
  registerSchedulesCommand(program);
  registerTasksCommand(program);
  registerWorkflowsCommand(program);
  registerRunDueCommand(program);
  const addVersion = (cmd: Command) => {
    for (const sub of cmd.commands) {
      sub.version(VERSION, '-v, --version', 'print the mainspring version');
      addVersion(sub);
    }
  };
  addVersion(program);
  return program;
}
