// `mainspring run-due`: fire every schedule tick and task due now, once, run them in
// this process, wait for them, print what happened, and exit 1 if any run failed.
// Started every few minutes by cron or a CI job, it is a scheduler without a server;
// with --now it tries schedules and tasks at a made-up instant.

import type { Command } from 'commander';
import { createMainspring } from '../../app.ts';
import { resolveOptions } from '../../config.ts';
import { type Clock, clockFromEnv, ScaledClock } from '../../core/clock.ts';
import { parseDuration } from '../../core/duration.ts';
import { MainspringError } from '../../core/errors.ts';
import type { RunDueResult } from '../../scheduler/run-due.ts';
import { instantMs } from '../../scheduler/spec.ts';
import { loadConfig } from '../load-config.ts';
import { table } from '../table.ts';
import { appFromConfig, out, type StoreFlags } from '../with-app.ts';
import { addConfigOption, addStoreOption } from './start.ts';

interface Flags extends StoreFlags {
  now?: string;
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

function printResult(result: RunDueResult, now: string): void {
  if (result.fired.length === 0) {
    out(`nothing due at ${now}`);
    return;
  }
  table([
    ['KIND', 'NAME', 'TICK', 'RUN', 'STATUS'],
    ...result.fired.map((f) => [
      f.catchUp ? `${f.kind} (catch-up)` : f.kind,
      f.name,
      f.tickAt.toISOString(),
      f.run?.id ?? f.runId ?? '-',
      f.run?.status ?? (f.runId === null ? 'sent' : 'unknown'),
    ]),
  ]);
  const succeeded = result.fired.filter((f) => f.run?.status === 'succeeded').length;
  const sent = result.fired.filter((f) => f.runId === null).length;
  out(
    `fired ${result.fired.length} at ${now}: ${succeeded} succeeded, ${result.failed} failed` +
      (result.unfinished > 0 ? `, ${result.unfinished} still running at the timeout` : '') +
      (sent > 0 ? `, ${sent} sent to queues` : ''),
  );
}

export function registerRunDueCommand(program: Command): void {
  addConfigOption(addStoreOption(program.command('run-due')))
    .description(
      'fire the schedule ticks and tasks due now, once; run and wait for them; exit 1 if any run failed or outlasted --timeout',
    )
    .option('--now <iso>', 'act as if it were this instant (ISO-8601 with a zone), e.g. 2026-12-31T00:00:00Z')
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
        'a tick or task fires once however many run-due or schedulers share the store.\n\n' +
        'Examples:\n  mainspring run-due\n  mainspring run-due --now 2026-12-31T00:00:00Z --json',
    )
    .action(async (flags: Flags) => {
      const nowMs = flags.now === undefined ? null : instantMs(flags.now, '--now', 'E_VALIDATION');
      const misfireGrace = flagDuration(flags.misfireGrace, '--misfire-grace');
      const timeout = flagDuration(flags.timeout, '--timeout');
      const clock: Clock = nowMs === null ? clockFromEnv() : new ScaledClock(1, nowMs);

      const { config, path } = await loadConfig(process.cwd(), flags.config);
      const { dbUrl } = resolveOptions(flags.db ? { db: flags.db } : {}, config);
      const ms = await createMainspring({ ...appFromConfig(config, path), db: dbUrl, clock });
      try {
        // The clock runs on from --now while the app opens: report the instant asked for.
        const now = new Date(nowMs ?? ms.clock.now()).toISOString();
        const result = await ms.runDue({ misfireGrace, timeout });
        if (flags.json) out(JSON.stringify({ now, ...result }, null, 2));
        else printResult(result, now);
        if (result.failed > 0 || result.unfinished > 0) process.exitCode = 1;
      } finally {
        await ms.close();
      }
    });
}
