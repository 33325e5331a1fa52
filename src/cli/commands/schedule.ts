// `mainspring schedule next '<expression>'`: validate a schedule expression and show
// its description and next fire times, in UTC and in the schedule's zone (or as JSON).
// A client of the schedule module, loaded only when the command runs (so --help stays
// fast); invalid input is an E_SCHEDULE_INVALID error, which main.ts turns into
// "mainspring: <message> [E_SCHEDULE_INVALID]" and exit code 2.

import type { Command } from 'commander';
import { clockFromEnv } from '../../core/clock.ts';
import { MainspringError } from '../../core/errors.ts';
import type { CronObject } from '../../expressions/index.ts';

interface NextFlags {
  tz: string;
  from?: string;
  count: string;
  json?: boolean;
}

/** What the schedule module's ScheduleError carries, without loading the module for it. */
function invalid(field: string, message: string, options: { token?: string; cause?: unknown } = {}) {
  return new MainspringError('E_SCHEDULE_INVALID', message, {
    details: options.token === undefined ? { field } : { field, token: options.token },
    cause: options.cause,
  });
}

const MAX_SHOWN = 1000;
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** A CDK cron object may be given as JSON, e.g. '{"minute":"0","hour":"9","weekDay":"MON-FRI"}'. */
function readExpression(text: string): string | CronObject {
  if (!text.trim().startsWith('{')) return text;
  try {
    return JSON.parse(text) as CronObject;
  } catch (cause) {
    throw invalid(
      'expression',
      `"${text}" starts like a JSON cron object but is not valid JSON; write e.g. '{"minute":"0","hour":"9"}'`,
      { cause },
    );
  }
}

function readFrom(text: string | undefined): Date {
  if (text === undefined) return new Date(clockFromEnv().now());
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(ms)) {
    throw invalid('from', `--from "${text}" is not an ISO-8601 time; use e.g. 2026-03-08T06:00:00Z`, {
      token: text,
    });
  }
  return new Date(ms);
}

function readCount(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_SHOWN) {
    throw invalid('count', `-n "${text}" must be a whole number from 1 to ${MAX_SHOWN}`, {
      token: text,
    });
  }
  return n;
}

function utc(date: Date): string {
  return date.toISOString().replace('.000Z', 'Z');
}

export function registerScheduleCommand(program: Command): void {
  const schedule = program.command('schedule').description('work with schedule expressions');
  schedule
    .command('next')
    .description(
      'print what a schedule expression means and when it fires next: cron(...), rate(...), at(...), a Unix cron line, or a CDK cron object as JSON',
    )
    .argument('<expression>', "the expression, quoted, e.g. 'cron(0 9 ? * MON-FRI *)' or '*/15 * * * *'")
    .option('--tz <zone>', 'IANA time zone the expression is read in', 'UTC')
    .option('--from <iso>', 'list fire times after this instant (default: now)')
    .option('-n, --count <n>', 'how many fire times to list', '5')
    .option('--json', 'print JSON: { expression, timezone, summary, next: [ISO instants] }')
    .action(async (expression: string, flags: NextFlags) => {
      const count = readCount(flags.count);
      const from = readFrom(flags.from);
      const text = readExpression(expression);
      const { formatInTimeZone, parseSchedule } = await import('../../expressions/index.ts');
      const s = parseSchedule(text, { timezone: flags.tz });
      const times = s.next(from, count);
      if (flags.json) {
        const next = times.map((t) => t.toISOString());
        const summary = s.describe();
        process.stdout.write(
          `${JSON.stringify({ expression: s.expression, timezone: s.timezone, summary, next }, null, 2)}\n`,
        );
        return;
      }
      const lines = [s.describe()];
      if (times.length === 0) {
        lines.push(`no fire times after ${utc(from)}`);
      } else {
        lines.push(`${'UTC'.padEnd(22)}${s.timezone}`);
        for (const t of times) {
          const local = formatInTimeZone(t, s.timezone);
          const weekday = WEEKDAYS[new Date(`${local.slice(0, 10)}T00:00:00Z`).getUTCDay()];
          lines.push(`${utc(t).padEnd(22)}${local} ${weekday}`);
        }
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
