// Seed 001, Stacktape's "Background Jobs & Automations", as one mainspring app: each
// resource of the seed's YAML is one declaration below, in the YAML's order, and each
// entry file of the seed is a module in src/. The README maps them side by side.
//
//   npm run example:background-jobs                  # SQLite under .mainspring/, API on :7400
//   npm run example:background-jobs:orders           # the order service, a second process
//   DATABASE_URL=postgres://… npm run example:background-jobs

import { fileURLToPath } from 'node:url';
import {
  defineCommand,
  defineConfig,
  defineFileTrigger,
  defineFunction,
  defineQueue,
  defineRule,
  fromQueue,
  schedule,
} from 'mainspringjs';
import { recordAnalytics } from './src/analytics.ts';
import { buildDailyReport } from './src/daily-report.ts';
import { sendNotification } from './src/notifications.ts';
import { processFile, UPLOADS_DIR } from './src/process-file.ts';
import { sendEmails } from './src/send-emails.ts';
import { NOTIFICATION_QUEUE, receiveWebhook } from './src/webhook.ts';
import { processJob } from './src/worker.ts';

// Scheduled job: dailyReport, cron(0 9 * * ? *), timeout 300.
const dailyReport = defineFunction({
  name: 'daily-report',
  timeout: '300s',
  triggers: [schedule('cron(0 9 * * ? *)')],
  handler: buildDailyReport,
});

// Job queue with retry: jobQueue (visibility 300 s, 3 receives, then deadLetterQueue), and
// the worker with batchSize 1. SQS shows a failed message again after its visibility
// timeout; here a failed job comes back after the retry backoff (1 s, then 2 s).
const deadLetterQueue = defineQueue({ name: 'dead-letter-queue' });
const jobQueue = defineQueue({
  name: 'job-queue',
  visibilityTimeout: '300s',
  maxReceiveCount: 3,
  deadLetterQueue,
  retry: { backoff: 'exponential', base: '1s', max: '1m' },
});
const worker = defineFunction({
  name: 'worker',
  timeout: '300s',
  triggers: [fromQueue(jobQueue, { batchSize: 1 })],
  handler: processJob,
});
// The seed's `api` function only put jobs on the queue: that is mainspring's API,
// POST /v1/queues/job-queue/messages (or ms.queues.send from your own service).

// Webhook processor: webhookReceiver at /webhooks/{provider}, notificationQueue, notificationWorker.
const notificationQueue = defineQueue({ name: NOTIFICATION_QUEUE });
const webhookReceiver = defineFunction({ name: 'webhook-receiver', handler: receiveWebhook });
const notificationWorker = defineFunction({
  name: 'notification-worker',
  triggers: [fromQueue(notificationQueue)],
  handler: sendNotification,
});
const webhookEvents = defineRule({
  name: 'webhooks',
  pattern: { source: [{ prefix: 'webhook.' }] },
  targets: [webhookReceiver],
});

// File processing pipeline: the uploads bucket, and fileProcessor on ObjectCreated under incoming/.
const fileProcessor = defineFunction({ name: 'file-processor', timeout: '300s', handler: processFile });
const uploads = defineFileTrigger({
  name: 'uploads',
  dir: UPLOADS_DIR,
  prefix: 'incoming/',
  targets: [fileProcessor],
});

// Long-running batch job: heavyJob, timeout 3600, cron(0 2 * * ? *); a child process as the container was.
const heavyJob = defineCommand({
  name: 'heavy-job',
  command: ['node', 'src/heavy-processing.ts'],
  // This folder, wherever the config is loaded from (the showcase loads it from the root).
  cwd: fileURLToPath(new URL('.', import.meta.url)),
  timeout: '1h',
  triggers: [schedule('cron(0 2 * * ? *)')],
});

// Event-driven architecture: the bus is the store's; orderService is its own process
// (src/orders.ts); emailService and analyticsService are targets of these two rules.
const emailService = defineFunction({ name: 'email-service', handler: sendEmails });
const analyticsService = defineFunction({ name: 'analytics-service', handler: recordAnalytics });
const orderEmails = defineRule({
  name: 'email-service',
  pattern: { source: ['orders'], 'detail-type': ['OrderCreated', 'OrderShipped'] },
  targets: [emailService],
});
const everyEvent = defineRule({
  name: 'analytics-service',
  pattern: { source: [{ prefix: '' }] },
  targets: [analyticsService],
});

// Signing secrets come from the environment. Outside production a fixed local secret
// stands in, so the example starts as it is; in production an unset one stops the start.
const secret = (name: string) =>
  process.env[name] ?? (process.env['NODE_ENV'] === 'production' ? undefined : `local-${name}`);

export default defineConfig({
  db: 'sqlite:.mainspring/background-jobs.db',
  queues: [jobQueue, deadLetterQueue, notificationQueue],
  functions: [
    dailyReport,
    worker,
    webhookReceiver,
    notificationWorker,
    fileProcessor,
    heavyJob,
    emailService,
    analyticsService,
  ],
  rules: [webhookEvents, orderEmails, everyEvent],
  fileTriggers: [uploads],
  webhooks: {
    github: { scheme: 'github', secret: secret('GITHUB_WEBHOOK_SECRET'), headers: ['X-GitHub-Event'] },
    stripe: { scheme: 'stripe', secret: secret('STRIPE_WEBHOOK_SECRET') },
  },
});
