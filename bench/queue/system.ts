// The one interface every queue system in the benchmark is driven through.

export interface Job {
  readonly i: number;
}

export interface QueueSystem {
  readonly name: string;
  /** Settings used, as recorded in BENCHMARKS.md. */
  readonly settings: string;
  /** Fresh, empty state. */
  setup(): Promise<void>;
  enqueueBulk(jobs: readonly Job[]): Promise<void>;
  enqueueOne(job: Job, runAt?: Date): Promise<void>;
  /** Starts workers calling `handler` for each job; `concurrency` is 'best' or a number. */
  startWorkers(concurrency: number | 'best', handler: (job: Job) => void): Promise<void>;
  stopWorkers(): Promise<void>;
  teardown(): Promise<void>;
}
