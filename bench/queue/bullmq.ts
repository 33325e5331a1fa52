import { Queue, Worker } from 'bullmq';
import type { Job, QueueSystem } from './system.ts';

const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };

// BullMQ on the local Redis, concurrency 50 (its documented way to raise throughput for I/O-bound jobs).
export function bullmqSystem(): QueueSystem {
  let queue: Queue | undefined;
  let worker: Worker | undefined;
  const name = 'mainspring-bench';
  return {
    name: 'BullMQ',
    settings: 'best: Worker concurrency 50; removeOnComplete true',
    async setup() {
      queue = new Queue(name, { connection });
      await queue.obliterate({ force: true });
    },
    async enqueueBulk(jobs) {
      for (let i = 0; i < jobs.length; i += 5000) {
        await queue!.addBulk(
          jobs.slice(i, i + 5000).map((data) => ({ name: 'noop', data, opts: { removeOnComplete: true } })),
        );
      }
    },
    async enqueueOne(job, runAt) {
      await queue!.add('noop', job, {
        removeOnComplete: true,
        ...(runAt ? { delay: Math.max(0, runAt.getTime() - Date.now()) } : {}),
      });
    },
    async startWorkers(concurrency, handler) {
      worker = new Worker(name, async (job) => handler(job.data as Job), {
        connection,
        concurrency: concurrency === 'best' ? 50 : concurrency,
      });
      await worker.waitUntilReady();
    },
    async stopWorkers() {
      await worker?.close();
    },
    async teardown() {
      await queue?.obliterate({ force: true });
      await queue?.close();
    },
  };
}
