// Method 2's job 2 (jobs/tasks/session-cleanup.js): hourly. A stand-in for deleting the
// sessions that expired before the tick.

import type { FunctionContext } from 'mainspringjs';

export async function cleanupSessions(_input: unknown, ctx: FunctionContext) {
  const before = ctx.run.trigger.kind === 'schedule' ? ctx.run.trigger.tickAt : new Date().toISOString();
  ctx.log.info({ expiredBefore: before }, 'expired sessions removed');
  return { expiredBefore: before };
}
