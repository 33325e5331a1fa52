// dailyReport (seed: src/daily-report.ts): runs at 09:00 UTC each day and mails a summary
// of the day before. The report itself is a stand-in: what it would query from your
// database and send with SES is one function call each.

import type { FunctionContext } from 'mainspringjs';

/** Who gets the report; in the seed, SES sent it. */
export const REPORT_TO = process.env['REPORT_TO'] ?? 'team@example.com';

export interface DailyReport {
  /** The day reported on, YYYY-MM-DD (UTC): the day before the tick. */
  readonly day: string;
  readonly sentTo: string;
}

export async function buildDailyReport(_input: unknown, ctx: FunctionContext): Promise<DailyReport> {
  // A tick's run knows the instant it was due, so a late or retried run reports on the same day.
  const due = ctx.run.trigger.kind === 'schedule' ? new Date(ctx.run.trigger.tickAt) : new Date();
  const day = new Date(due.getTime() - 86_400_000).toISOString().slice(0, 10);
  ctx.log.info({ day, to: REPORT_TO }, 'daily report sent');
  return { day, sentTo: REPORT_TO };
}
