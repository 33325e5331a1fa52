// Method 2's job 1 (jobs/tasks/cache-refresh.js): every 5 minutes. A stand-in for
// reloading whatever the app caches; the run's result says what was refreshed.

import type { FunctionContext } from 'mainspringjs';

export async function refreshCache(_input: unknown, ctx: FunctionContext) {
  const entries = 3;
  ctx.log.info({ entries }, 'cache refreshed');
  return { entries };
}
