// `mainspring run-due`: fire every schedule tick and task due now, once, run them in
// this process, wait for them, print what happened, and exit 1 if any run failed.
// Started every few minutes by cron or a CI job, it is a scheduler without a server.
// --now tries the tasks due by a made-up instant (schedules too only when it is near the
// clock, or with --schedules); --dry-run lists what would fire and changes nothing.

import type { Command } from 'commander';
import { createMainspring } from '../../app.ts';
import { appFromConfig, resolveOptions } from '../../config.ts';
import { clockFromEnv } from '../../core/clock.ts';
import { parseDuration } from '../../core/duration.ts';
import { MainspringError } from '../../core/errors.ts';
import type { RunDueResult } from '../../scheduler/run-due.ts';
import type { Due } from '../../scheduler/scheduler.ts';
import { instantMs } from '../../scheduler/spec.ts';
import { loadConfig } from '../load-config.ts';
import { table } from '../table.ts';
import { out, type StoreFlags } from '../with-app.ts';
import { addConfigOption, addStoreOption } from './start.ts';

interface Flags extends StoreFlags {
  now?: string;
  dryRun?: boolean;
  schedules?: boolean;
  misfireGrace: string;
  timeout: string;
  json?: boolean;
}

function flagDuration(text: string, flag: string): string {
  try {
    parseDuration(text, flag);
  } catch (e) {
    throw new MainspringError(
      'E_VALIDATION',
      `${flag} is ${JSON.stringify(text)}: ${(e as Error).message}; use e.g. 30s, 5m, 1h`,
      { details: { field: flag.replace(/^--/, ''), value: text }, cause: e },
    );
  }
  return text;
}

/** Ticks named in the left-alone line; more are counted. */
const LEFT_ALONE_NAMED = 5;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** "1 schedule tick, 2 tasks": what a list holds, by kind. */
function kinds(list: readonly Due[]): string {
  const ticks = list.filter((d) => d.kind === 'schedule').length;
  const tasks = list.length - ticks;
  return [
    ...(ticks > 0 ? [plural(ticks, 'schedule tick')] : []),
    ...(tasks > 0 ? [plural(tasks, 'task')] : []),
  ].join(', ');
}

function kindCell(d: Due): string {
  return d.catchUp ? `${d.kind} (catch-up)` : d.kind;
}

function printLeftAlone(result: RunDueResult): void {
  if (result.schedules) return;
  const left = result.leftAlone;
  const head = 'schedules left alone: --now is more than a minute from the clock; ';
  if (left.length === 0) {
    out(`${head}no tick is due by then (--schedules would tick them as of --now)`);
    return;
  }
  const named = left.slice(0, LEFT_ALONE_NAMED).map((d) => `${d.name} ${d.tickAt.toISOString()}`);
  const more = left.length > LEFT_ALONE_NAMED ? `, and ${left.length - LEFT_ALONE_NAMED} more` : '';
  out(`${head}--schedules would also fire ${plural(left.length, 'tick')}: ${named.join(', ')}${more}`);
}

function printDryRun(result: RunDueResult, now: string): void {
  const due = result.wouldFire;
  if (due.length === 0) out(`dry run at ${now}: nothing due; nothing was changed`);
  else {
    table([
      ['KIND', 'NAME', 'DUE', 'TARGET'],
      ...due.map((d) => [kindCell(d), d.name, d.tickAt.toISOString(), d.target]),
    ]);
    out(`dry run at ${now}: would fire ${due.length} (${kinds(due)}); nothing was changed`);
  }
  printLeftAlone(result);
}

function printResult(result: RunDueResult, now: string): void {
  if (result.fired.length === 0) out(`nothing due at ${now}`);
  else {
    table([
      ['KIND', 'NAME', 'DUE', 'TARGET', 'RUN', 'STATUS'],
      ...result.fired.map((f) => [
        kindCell(f),
        f.name,
        f.tickAt.toISOString(),
        f.target,
        f.run?.id ?? f.runId ?? '-',
        f.run?.status ?? (f.runId === null ? 'sent' : 'unknown'),
      ]),
    ]);
    const succeeded = result.fired.filter((f) => f.run?.status === 'succeeded').length;
    const sent = result.fired.filter((f) => f.runId === null).length;
    out(
      `fired ${result.fired.length} at ${now} (${kinds(result.fired)}): ${succeeded} succeeded, ${result.failed} failed` +
        (result.unfinished > 0 ? `, ${result.unfinished} still running at the timeout` : '') +
        (sent > 0 ? `, ${sent} sent to queues` : ''),
    );
  }
  printLeftAlone(result);
}

export function registerRunDueCommand(program: Command): void {
  addConfigOption(addStoreOption(program.command('run-due')))
    .description(
      'fire the schedule ticks and tasks due now, once; run and wait for them; exit 1 if any run failed or outlasted --timeout',
    )
    .option(
      '--now <iso>',
      'fire what is due at this instant (ISO-8601 with a zone), e.g. 2026-12-31T00:00:00Z; more than a minute from the clock, tasks only unless --schedules',
    )
    .option('--schedules', 'with --now away from the clock: tick the schedules as of --now too')
    .option('--dry-run', 'list what would fire (ticks and tasks, due times, targets) and change nothing')
    .option(
      '--misfire-grace <duration>',
      "ticks up to this late fire as on time; older ones follow their schedule's misfire policy",
      '1h',
    )
    .option('--timeout <duration>', 'stop waiting for the runs after this long', '1h')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nRun it every few minutes (cron, a CI schedule) instead of keeping `mainspring start` running; ' +
        'a tick or task fires once however many run-due or schedulers share the store.\n' +
        'A --now more than a minute from the clock fires the tasks due by then and leaves every ' +
        "schedule's next tick where it is; --schedules ticks them as of --now too.\n\n" +
        'Examples:\n  mainspring run-due\n  mainspring run-due --now 2026-12-31T00:00:00Z --dry-run\n' +
        '  mainspring run-due --now 2026-12-31T00:00:00Z --schedules --json',
    )
    .action(async (flags: Flags) => {
      const nowMs = flags.now === undefined ? null : instantMs(flags.now, '--now', 'E_VALIDATION');
      const misfireGrace = flagDuration(flags.misfireGrace, '--misfire-grace');
      const timeout = flagDuration(flags.timeout, '--timeout');

      const { config, path } = await loadConfig(process.cwd(), flags.config);
      const { dbUrl } = resolveOptions(flags.db ? { db: flags.db } : {}, config);
      // The app keeps the real clock: its records are stamped with it, and --now only
      // decides what is due.
      const ms = await createMainspring({ ...appFromConfig(config, path), db: dbUrl, clock: clockFromEnv() });
      try {
        const result = await ms.runDue({
          misfireGrace,
          timeout,
          ...(nowMs !== null ? { now: new Date(nowMs) } : {}),
          ...(flags.schedules ? { schedules: true } : {}),
          ...(flags.dryRun ? { dryRun: true } : {}),
        });
        const now = result.now.toISOString();
        if (flags.json) out(JSON.stringify(result, null, 2));
        else if (result.dryRun) printDryRun(result, now);
        else printResult(result, now);
        if (result.failed > 0 || result.unfinished > 0) process.exitCode = 1;
      } finally {
        await ms.close();
      }
    });
}
