// Method 2's job 3 (jobs/tasks/daily-report.js): 03:00 UTC. The seed guarded it with a
// Redis `SET lock:daily-report <task> EX 600 NX` so that only one of several ECS tasks
// ran it. mainspring's scheduler already fires each tick once across replicas; the lease
// stays for what the scheduler cannot see: a manual run, or another process, doing the
// report at the same time. It is the same lease whoever takes it: a function here, a
// script with ms.locks, or anything over HTTP (POST /v1/locks/daily-report).

import type { FunctionContext } from 'mainspringjs';

export type ReportResult =
  | { readonly generated: true; readonly fencingToken: number; readonly reportDate: string }
  | { readonly generated: false; readonly reason: string };

export async function generateDailyReport(_input: unknown, ctx: FunctionContext): Promise<ReportResult> {
  const lock = await ctx.locks.withLock(
    'daily-report',
    async ({ token }) => {
      ctx.log.info({ fencingToken: token }, 'lock acquired, generating the report');
      const due = ctx.run.trigger.kind === 'schedule' ? ctx.run.trigger.tickAt : new Date().toISOString();
      const report = await performReportGeneration(due.slice(0, 10));
      ctx.log.info({ reportDate: report.reportDate }, 'report generated');
      return { generated: true as const, fencingToken: token, reportDate: report.reportDate };
    },
    { ttl: '10m' },
  );
  if (!lock.acquired) {
    ctx.log.info('another task is running this job, skipping');
    return { generated: false, reason: 'another holder has the daily-report lock' };
  }
  return lock.result;
}

/** A stand-in for the report itself. */
async function performReportGeneration(reportDate: string): Promise<{ reportDate: string }> {
  return { reportDate };
}
