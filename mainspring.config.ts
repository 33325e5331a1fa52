// The showcase `npm start` runs: the five examples of examples/, one per AWS setup our users
// come from, in one app on embedded SQLite under .mainspring/, with the API on
// http://127.0.0.1:7400. `npm start` runs it 120 times faster than real time
// (MAINSPRING_TIME_SCALE, default 120 there): a five-minute cron fires every 2.5 s, an hour
// passes in 30 s, a day in 12 minutes. Users write this file in TypeScript; Node 24 runs it.
//
//   npm run mainspring -- runs list                     # what ran, newest first
//   npm run mainspring -- logs cache-refresh --follow   # one function's lines as they come
//   npm run mainspring -- workflows list                # the seven-day reports under way
//   curl -X POST http://127.0.0.1:7400/v1/queues/job-queue/messages \
//        -H 'content-type: application/json' -d '{"body": {"jobId": "j1", "type": "resize"}}'
//
// Each example also runs on its own (`npm run example:<name>`); its README maps it to AWS.

import { defineConfig, defineFunction, type MainspringConfig, schedule } from 'mainspringjs';
import backgroundJobs from './examples/background-jobs/mainspring.config.ts';
import dailySync from './examples/daily-sync/mainspring.config.ts';
import ecsCron from './examples/ecs-cron/mainspring.config.ts';
import { createReportWorkflow, REPORT_WORKFLOW } from './examples/multi-day-report/workflow.ts';
import slowScheduler from './examples/slow-scheduler/mainspring.config.ts';

// ecs-cron's db-cleanup deletes rows of a PostgreSQL app database (DB_HOST, DB_USERNAME, …):
// it runs with `npm run example:ecs-cron` where one exists, not in the showcase. Its
// daily-report is named apart from background-jobs' one here: names are one per app.
const ecsCronJobs: MainspringConfig = {
  ...ecsCron,
  functions: (ecsCron.functions ?? [])
    .filter((f) => f.name !== 'db-cleanup')
    .map((f) => (f.name === 'daily-report' ? { ...f, name: 'ecs-daily-report' } : f)),
};

// multi-day-report's week-long workflow, started once a (scaled) day with a new id.
const startWeeklyReport = defineFunction({
  name: 'start-weekly-report',
  triggers: [schedule('rate(1 day)')],
  handler: async (_input: unknown, ctx) => {
    const id = `REPORT-${(ctx.run.scheduledFor ?? new Date()).toISOString().slice(0, 10)}`;
    await ctx.workflows.start(
      REPORT_WORKFLOW,
      { config: { reportType: 'weekly', dataSource: 'showcase' } },
      { id },
    );
    ctx.log.info({ execution: id }, 'weekly report started');
  },
});

const parts: readonly MainspringConfig[] = [backgroundJobs, dailySync, ecsCronJobs, slowScheduler];

export default defineConfig({
  db: 'sqlite:.mainspring/mainspring.db',
  api: { port: 7400, host: '127.0.0.1' },
  queues: parts.flatMap((p) => p.queues ?? []),
  functions: [...parts.flatMap((p) => p.functions ?? []), startWeeklyReport],
  rules: parts.flatMap((p) => p.rules ?? []),
  fileTriggers: parts.flatMap((p) => p.fileTriggers ?? []),
  workflows: [createReportWorkflow()],
  webhooks: Object.assign({}, ...parts.map((p) => p.webhooks ?? {})),
  log: { level: 'info' },
});
