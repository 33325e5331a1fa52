// Seed 000, an Amplify Gen 2 scheduled function ("daily-sync"), on mainspring: every day at
// 02:00 UTC fetch records from an HTTP API, store the day's sync, and mark syncs older than
// 30 days inactive. The README maps the Amplify files to these lines.
//
//   npm run example:daily-sync                                   # real days
//   MAINSPRING_TIME_SCALE=1440 npm run example:daily-sync        # a day a minute

import { defineConfig, defineFunction, schedule } from 'mainspringjs';
import { dailySync as handler } from './handler.ts';

const env = process.env;

const dailySync = defineFunction({
  name: 'daily-sync',
  // resource.ts: timeoutSeconds 300.
  timeout: '300s',
  // backend.ts: events.Schedule.cron({ minute: '0', hour: '2', … }), as CDK users write it.
  // The same schedule as an expression: schedule('cron(0 2 * * ? *)').
  triggers: [schedule({ minute: '0', hour: '2', day: '*', month: '*', year: '*' })],
  // EventBridge invokes a Lambda asynchronously and retries twice; so does this.
  retry: { maxAttempts: 3, backoff: 'exponential', base: '1m' },
  handler,
});

export default defineConfig({
  db: 'sqlite:.mainspring/daily-sync.db',
  functions: [dailySync],
  // The CloudWatch alarm on the function's errors: a webhook (Slack, a pager, …) hears of a
  // run that failed for good or timed out.
  ...(env['ALERT_WEBHOOK_URL'] ? { alerts: { webhooks: [env['ALERT_WEBHOOK_URL']] } } : {}),
});
