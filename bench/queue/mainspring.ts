import { createMainspring, type Mainspring } from '../../src/app.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { defineFunction, fromQueue } from '../../src/runtime/function.ts';
import type { Worker } from '../../src/runtime/worker.ts';
import type { Job, QueueSystem } from './system.ts';

const queue = defineQueue({ name: 'bench' });

export function mainspringSystem(
  name: string,
  url: () => string,
  options: { recordRuns?: boolean; logEach?: boolean; defaults?: boolean } = {},
): QueueSystem {
  let ms: Mainspring | undefined;
  let worker: Worker | undefined;
  let app: Mainspring | undefined;
  return {
    name,
    settings: options.defaults
      ? 'defaults, as a user writes it and `npm start` runs it: fromQueue(queue) with no options (concurrency 1, adaptive prefetch) in both W1 columns, run records on'
      : `best: fromQueue concurrency 50, prefetch 4000 (the adaptive prefetch's ceiling; 1000 until 2026-12-06); concurrency 1: prefetch 500; run records ${
          options.recordRuns === false ? 'off (as BullMQ removeOnComplete; their cost: bench:runtime)' : 'on'
        }`,
    async setup() {
      ms = await createMainspring({ db: url(), queues: [queue] });
      await ms.queues.purge('bench');
    },
    async enqueueBulk(jobs) {
      for (let i = 0; i < jobs.length; i += 5000) {
        await ms!.queues.sendBatch(
          queue,
          jobs.slice(i, i + 5000).map((body) => ({ body })),
        );
      }
    },
    async enqueueOne(job, runAt) {
      await ms!.queues.send(queue, job, runAt ? { delay: Math.max(0, runAt.getTime() - Date.now()) } : {});
    },
    async startWorkers(concurrency, handler) {
      const c = concurrency === 'best' ? 50 : concurrency;
      const fn = defineFunction({
        name: 'noop',
        triggers: [
          options.defaults
            ? fromQueue(queue)
            : fromQueue(queue, { concurrency: c, prefetch: concurrency === 'best' ? 4000 : 500 }),
        ],
        handler: options.logEach
          ? (job: Job, ctx) => {
              ctx.log.info({ i: job.i }, 'handled');
              handler(job);
            }
          : (job: Job) => handler(job),
      });
      app = await createMainspring({
        db: url(),
        queues: [queue],
        functions: [fn],
        ...(options.recordRuns !== undefined ? { recordRuns: options.recordRuns } : {}),
      });
      worker = await app.startWorker();
    },
    async stopWorkers() {
      await worker?.stop({ graceMs: 1000 });
      await app?.close();
    },
    async teardown() {
      await ms?.close();
    },
  };
}
