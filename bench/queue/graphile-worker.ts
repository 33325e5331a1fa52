import { Logger, makeWorkerUtils, type Runner, run, type WorkerUtils } from 'graphile-worker';

// Per-job log lines would cost graphile-worker more than the jobs themselves.
const silent = new Logger(() => () => {});

import type { Job, QueueSystem } from './system.ts';

// graphile-worker's published performance configuration (worker.graphile.org/docs/performance).
export function graphileSystem(connectionString: string): QueueSystem {
  let utils: WorkerUtils | undefined;
  let runner: Runner | undefined;
  const schema = 'bench_graphile_worker';
  return {
    name: 'graphile-worker',
    settings:
      'concurrentJobs 24, maxPoolSize 25, localQueue.size 500, completeJobBatchDelay 0, failJobBatchDelay 0; pollInterval 200 ms (it polls for jobs run in the future: W3)',
    async setup() {
      utils = await makeWorkerUtils({ connectionString, schema, logger: silent });
      await utils.migrate();
      await utils.withPgClient((c) => c.query(`DELETE FROM ${schema}._private_jobs`));
    },
    async enqueueBulk(jobs) {
      for (let i = 0; i < jobs.length; i += 5000) {
        await utils!.addJobs(jobs.slice(i, i + 5000).map((payload) => ({ identifier: 'noop', payload })));
      }
    },
    async enqueueOne(job, runAt) {
      await utils!.addJob('noop', job, runAt ? { runAt } : {});
    },
    async startWorkers(concurrency, handler) {
      const c = concurrency === 'best' ? 24 : concurrency;
      runner = await run({
        connectionString,
        schema,
        concurrency: c,
        maxPoolSize: c + 1,
        noHandleSignals: true,
        pollInterval: 200,
        logger: silent,
        taskList: { noop: async (payload) => handler(payload as Job) },
        preset: { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
      });
    },
    async stopWorkers() {
      await runner?.stop();
    },
    async teardown() {
      await utils?.release();
    },
  };
}
