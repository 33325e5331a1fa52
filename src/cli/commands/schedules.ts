// `mainspring schedules list|get|enable|disable|next|delete`: the stored schedules of
// a store (those the config declares and those created through the API or client).
// Not to be confused with `mainspring schedule next '<expression>'`, which explains an
// expression without any store.

import type { Command } from 'commander';
import { MainspringError } from '../../core/errors.ts';
import type { ScheduleInfo } from '../../scheduler/schedules.ts';
import { table } from '../table.ts';
import { out, type StoreFlags, withApp } from '../with-app.ts';
import { addConfigOption, addStoreOption } from './start.ts';

interface Flags extends StoreFlags {
  json?: boolean;
}

function usage(flag: string, message: string, value?: unknown): MainspringError {
  return new MainspringError('E_VALIDATION', `${flag} ${message}`, {
    details: { field: flag.replace(/^--/, ''), ...(value !== undefined ? { value } : {}) },
  });
}

/** A whole number from 1 to `max`, or a usage error naming the flag. */
export function wholeNumber(text: string, flag: string, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > max) {
    throw usage(flag, `is ${JSON.stringify(text)}; use a whole number from 1 to ${max}`, text);
  }
  return n;
}

function target(s: ScheduleInfo): string {
  const t = s.target;
  if (t.kind === 'function') return `function ${t.function}`;
  if (t.kind === 'queue') return `queue ${t.queue}`;
  if (t.kind === 'workflow') return `workflow ${t.workflow}`;
  return `http ${t.method ?? 'POST'} ${t.url}`;
}

function printSchedules(schedules: readonly ScheduleInfo[], nextCursor: string | null): void {
  if (schedules.length === 0) out('no schedules');
  else
    table([
      ['NAME', 'EXPRESSION', 'TIMEZONE', 'ENABLED', 'SOURCE', 'TARGET', 'NEXT TICK', 'LAST RUN'],
      ...schedules.map((s) => [
        s.name,
        s.expression,
        s.timezone,
        s.enabled ? 'yes' : 'no',
        s.source,
        target(s),
        s.state.nextTick ?? (s.state.ended ? 'ended' : '-'),
        s.state.lastRun ? `${s.state.lastRun.status} ${s.state.lastRun.id}` : '-',
      ]),
    ]);
  if (nextCursor !== null) out(`next page: --cursor ${nextCursor}`);
}

function printSchedule(s: ScheduleInfo): void {
  const rows: [string, string][] = [
    ['name', s.name],
    ['expression', s.expression],
    ['summary', s.summary],
    ['timezone', s.timezone],
    ['enabled', s.enabled ? 'yes' : 'no'],
    ['source', s.source === 'config' ? 'config (change it in the config)' : 'api'],
    ['target', target(s)],
    ['payload', JSON.stringify(s.payload)],
    ['start', s.start ?? '-'],
    ['end', s.end ?? '-'],
    ['misfire', s.misfire === 'all' ? `all (at most ${s.misfireLimit})` : s.misfire],
    ['overlap', s.overlap],
    ['next tick', s.state.nextTick ?? (s.state.ended ? 'none (ended)' : '-')],
    ['next fire at', s.state.nextFireAt ?? '-'],
    ['last tick', s.state.lastTick ?? '-'],
    ['last fired at', s.state.lastFiredAt ?? '-'],
    ['last run', s.state.lastRun ? `${s.state.lastRun.id} ${s.state.lastRun.status}` : '-'],
    ['created', s.createdAt],
    ['updated', s.updatedAt],
  ];
  if (s.flexibleWindowMs > 0) rows.push(['flexible window', `${s.flexibleWindowMs} ms`]);
  if (s.retry.maxAttempts !== null) rows.push(['max attempts', String(s.retry.maxAttempts)]);
  if (s.retry.maxEventAgeMs !== null) rows.push(['max event age', `${s.retry.maxEventAgeMs} ms`]);
  if (s.description !== null) rows.push(['description', s.description]);
  const width = Math.max(...rows.map(([k]) => k.length)) + 1;
  for (const [k, v] of rows) out(`${`${k}:`.padEnd(width)} ${v}`);
}

export function registerSchedulesCommand(program: Command): void {
  const schedules = program
    .command('schedules')
    .description('stored schedules: list, get, enable, disable, next, delete')
    .addHelpText(
      'after',
      "\nThe config's schedules are stored when a scheduler starts (mainspring start, mainspring run-due); until then only those created through the API or client are listed.",
    );
  const sub = (name: string, description: string) =>
    addConfigOption(addStoreOption(schedules.command(name).description(description))).option(
      '--json',
      'print JSON',
    );

  sub('list', 'schedules, by name')
    .option('--source <source>', 'only those declared in the config (config) or created at run time (api)')
    .option('--enabled', 'only enabled ones')
    .option('--disabled', 'only disabled ones')
    .option('--limit <n>', 'at most this many (1 to 500)', '50')
    .option('--cursor <cursor>', 'the next page: the cursor the previous page printed')
    .action(
      (
        flags: Flags & {
          source?: string;
          enabled?: boolean;
          disabled?: boolean;
          limit: string;
          cursor?: string;
        },
      ) => {
        if (flags.source !== undefined && flags.source !== 'config' && flags.source !== 'api') {
          throw usage('--source', `is ${JSON.stringify(flags.source)}; use config or api`, flags.source);
        }
        if (flags.enabled && flags.disabled)
          throw usage('--enabled', 'and --disabled exclude each other; give one');
        const limit = wholeNumber(flags.limit, '--limit', 500);
        return withApp(flags, async (ms) => {
          const page = await ms.schedules.list({
            limit,
            ...(flags.source !== undefined ? { source: flags.source as 'config' | 'api' } : {}),
            ...(flags.enabled ? { enabled: true } : flags.disabled ? { enabled: false } : {}),
            ...(flags.cursor !== undefined ? { cursor: flags.cursor } : {}),
          });
          if (flags.json) out(JSON.stringify(page, null, 2));
          else printSchedules(page.schedules, page.nextCursor);
        });
      },
    );

  sub('get', 'one schedule in detail, with its next and last tick')
    .argument('<name>', 'the schedule name')
    .action((name: string, flags: Flags) =>
      withApp(flags, async (ms) => {
        const s = await ms.schedules.get(name);
        if (flags.json) out(JSON.stringify(s, null, 2));
        else printSchedule(s);
      }),
    );

  sub('enable', 'fire the schedule again, from its next tick after now')
    .argument('<name>', 'the schedule name')
    .action((name: string, flags: Flags) =>
      withApp(flags, async (ms) => {
        const s = await ms.schedules.enable(name);
        if (flags.json) out(JSON.stringify(s, null, 2));
        else out(`${s.name} enabled; next tick ${s.state.nextTick ?? 'none (ended)'}`);
      }),
    );

  sub('disable', 'stop firing the schedule until enabled again (config schedules too)')
    .argument('<name>', 'the schedule name')
    .action((name: string, flags: Flags) =>
      withApp(flags, async (ms) => {
        const s = await ms.schedules.disable(name);
        if (flags.json) out(JSON.stringify(s, null, 2));
        else out(`${s.name} disabled`);
      }),
    );

  sub('next', 'the next ticks of a schedule, enabled or not')
    .argument('<name>', 'the schedule name')
    .option('-n, --count <n>', 'how many (1 to 1000)', '5')
    .action((name: string, flags: Flags & { count: string }) => {
      const count = wholeNumber(flags.count, '--count', 1000);
      return withApp(flags, async (ms) => {
        const next = (await ms.schedules.next(name, count)).map((d) => d.toISOString());
        if (flags.json) out(JSON.stringify({ next }, null, 2));
        else if (next.length === 0) out(`${name} has no tick left`);
        else for (const t of next) out(t);
      });
    });

  sub('delete', 'delete a schedule created at run time (config schedules: remove them from the config)')
    .argument('<name>', 'the schedule name')
    .action((name: string, flags: Flags) =>
      withApp(flags, async (ms) => {
        const s = await ms.schedules.delete(name);
        if (flags.json) out(JSON.stringify(s, null, 2));
        else out(`${s.name} deleted`);
      }),
    );
}
