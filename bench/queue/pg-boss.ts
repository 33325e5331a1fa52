import { PgBoss } from 'pg-boss';
import type { Job, QueueSystem } from './system.ts';

// pg-boss with several workers, large batches and its shortest polling interval (0.5 s).
export function pgBossSystem(connectionString: string): QueueSystem {
  let boss: PgBoss | undefined;
  const name = 'bench';
  return {
    name: 'pg-boss',
    settings:
      'best: 4 workers (localConcurrency 4) × batchSize 500, pollingIntervalSeconds 0.5 (its minimum); concurrency 1: one worker, batchSize 500',
    async setup() {
      boss = new PgBoss({ connectionString, schema: 'bench_pgboss', supervise: false, schedule: false });
      boss.on('error', () => {});
      await boss.start();
      await boss.createQueue(name).catch(() => {});
      await boss.deleteAllJobs?.(name).catch?.(() => {});
    },
    async enqueueBulk(jobs) {
      for (let i = 0; i < jobs.length; i += 5000) {
        await boss!.insert(
          name,
          jobs.slice(i, i + 5000).map((data) => ({ data })),
        );
      }
    },
    async enqueueOne(job, runAt) {
      await boss!.send(name, job, runAt ? { startAfter: runAt } : {});
    },
    async startWorkers(concurrency, handler) {
      const workers = concurrency === 'best' ? 4 : 1;
      await boss!.work<Job>(
        name,
        { batchSize: 500, pollingIntervalSeconds: 0.5, localConcurrency: workers },
        async (jobs) => {
          for (const j of jobs) handler(j.data);
        },
      );
    },
    async stopWorkers() {
      await boss!.offWork(name);
    },
    async teardown() {
      await boss?.stop({ graceful: false });
    },
  };
}
