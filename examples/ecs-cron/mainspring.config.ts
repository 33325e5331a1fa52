// Seed 002, "Running Node.js cron jobs on ECS", as one mainspring app:
//
// - Method 1 (EventBridge rule → ECS task): `node jobs/db-cleanup.js` as a command on
//   the seed's cron(0 2 * * ? *), with the task definition's environment and secrets,
//   exit code 0 = success, a timeout, and an alert where the CloudWatch alarm was.
// - Method 2 (node-cron inside the app): the three jobs of jobs/scheduler.js as
//   functions on the same expressions. Run as many replicas as you like (`mainspring
//   start` or `worker` on one PostgreSQL): each tick runs once.
//
//   npm run example:ecs-cron                      # SQLite under .mainspring/, API on :7400
//   DATABASE_URL=postgres://… npm run example:ecs-cron

import { fileURLToPath } from 'node:url';
import { defineCommand, defineConfig, defineFunction, schedule } from 'mainspringjs';
import { refreshCache } from './jobs/tasks/cache-refresh.ts';
import { generateDailyReport } from './jobs/tasks/daily-report.ts';
import { cleanupSessions } from './jobs/tasks/session-cleanup.ts';

const env = process.env;

// Where the CloudWatch alarm's SNS topic went: a webhook (Slack, a pager, …), if set. It
// hears of every run that fails for good or times out, the in-process jobs' included.
const alerts = env['ALERT_WEBHOOK_URL'] ? { webhooks: [env['ALERT_WEBHOOK_URL']] } : undefined;

// The task definition (command, environment, secrets), the EventBridge rule, its target.
const dbCleanup = defineCommand({
  name: 'db-cleanup',
  command: ['node', 'jobs/db-cleanup.js'],
  // This folder, wherever the config is loaded from (the showcase loads it from the root).
  cwd: fileURLToPath(new URL('.', import.meta.url)),
  env: {
    NODE_ENV: env['NODE_ENV'] ?? 'development',
    JOB_NAME: 'db-cleanup',
    DB_HOST: env['DB_HOST'] ?? '127.0.0.1',
    DB_PORT: env['DB_PORT'] ?? '5432',
    DB_NAME: env['DB_NAME'] ?? 'app',
    ...(env['DB_SCHEMA'] ? { DB_SCHEMA: env['DB_SCHEMA'] } : {}),
  },
  // Secrets Manager's db_username and db_password, which ECS put in the container's
  // environment: here read from the server's environment (or a `secretsFile` in the
  // config), passed to this command only, and redacted from its output.
  secrets: ['DB_USERNAME', 'DB_PASSWORD'],
  // The seed's 10-minute JOB_TIMEOUT, enforced from outside the process.
  timeout: env['JOB_TIMEOUT'] ?? '10m',
  // One attempt per tick, as EventBridge → ECS: a failure alerts rather than retries.
  retry: { maxAttempts: 1 },
  triggers: [schedule('cron(0 2 * * ? *)')],
});

// jobs/scheduler.js: cron.schedule(expression, task, { timezone: 'UTC' }) three times.
const cacheRefresh = defineFunction({
  name: 'cache-refresh',
  triggers: [schedule('*/5 * * * *', { timezone: 'UTC' })],
  handler: refreshCache,
});
const sessionCleanup = defineFunction({
  name: 'session-cleanup',
  triggers: [schedule('0 * * * *', { timezone: 'UTC' })],
  handler: cleanupSessions,
});
const dailyReport = defineFunction({
  name: 'daily-report',
  timeout: '10m',
  triggers: [schedule('0 3 * * *', { timezone: 'UTC' })],
  handler: generateDailyReport,
});

export default defineConfig({
  db: 'sqlite:.mainspring/ecs-cron.db',
  functions: [dbCleanup, cacheRefresh, sessionCleanup, dailyReport],
  // CloudWatch Logs' 30-day retention, for runs and their log lines.
  runs: { retention: '30d' },
  ...(alerts ? { alerts } : {}),
});
