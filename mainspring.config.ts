// The example app `npm start` runs: embedded SQLite under .mainspring/, the API on
// http://127.0.0.1:7400, and one queue with a function consuming it. Users write
// this file in TypeScript; Node 24 runs it as is.
//
//   curl -X POST http://127.0.0.1:7400/v1/queues/greetings/messages \
//        -H 'content-type: application/json' -d '{"body": {"name": "Ada"}}'
//   npm run mainspring -- invoke greet --input '{"name": "Grace"}' --wait
//   npm run mainspring -- runs list

import { defineConfig, defineFunction, defineQueue, fromQueue, NonRetryableError } from 'mainspring';

const greetingsDlq = defineQueue({ name: 'greetings-dlq' });
const greetings = defineQueue({
  name: 'greetings',
  maxReceiveCount: 3,
  deadLetterQueue: greetingsDlq,
  retry: { backoff: 'exponential', base: '1s', max: '1m' },
});

const greet = defineFunction({
  name: 'greet',
  triggers: [fromQueue(greetings, { concurrency: 4 })],
  handler: async (body: { name?: unknown }, ctx) => {
    if (typeof body.name !== 'string') throw new NonRetryableError('a greeting needs { "name": string }');
    ctx.log.info({ person: body.name }, `hello, ${body.name}`);
  },
});

export default defineConfig({
  api: { port: 7400, host: '127.0.0.1' },
  queues: [greetings, greetingsDlq],
  functions: [greet],
  log: { level: 'info' },
});
