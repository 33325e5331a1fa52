// The worker: runs every queue-triggered function of the app in this process,
// within a per-process concurrency limit, and shuts down gracefully.

import pino, { type Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import { MainspringError } from '../core/errors.ts';
import type { Queues } from '../queue/queues.ts';
import { MESSAGES_CHANNEL } from '../store/message-row.ts';
import type { Receipt, Store, Unlisten } from '../store/types.ts';
import { Batcher } from './batcher.ts';
import { QueueConsumer } from './consumer.ts';
import type { FunctionDefinition } from './function.ts';
import { Limiter } from './limiter.ts';
import { WorkerEvents } from './worker-events.ts';

export interface WorkerOptions {
  /** Handler calls at once in this process, across all functions (default 1000). */
  readonly maxConcurrency?: number;
  /** Longest sleep between checks for work when no wake-up arrives (default 1000 ms). */
  readonly pollIntervalMs?: number;
  readonly logger?: Logger;
}

export interface StopOptions {
  /** How long running handlers may take to finish before their messages are released (default 30 s). */
  readonly graceMs?: number;
}

export interface WorkerDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly queues: Queues;
  readonly functions: readonly FunctionDefinition[];
}

/**
 * Consumes the queues that functions are triggered from.
 *
 * @example
 * ```ts
 * const worker = await ms.startWorker({ maxConcurrency: 50 });
 * worker.events.on('message:dead', (m) => console.warn('dead letter', m.id));
 * process.on('SIGTERM', () => worker.stop({ graceMs: 10_000 }));
 * ```
 */
export class Worker {
  readonly events = new WorkerEvents();
  readonly #deps: WorkerDeps;
  readonly #options: WorkerOptions;
  readonly #consumers: QueueConsumer[] = [];
  #unlisten: Unlisten | null = null;
  #state: 'new' | 'running' | 'stopped' = 'new';

  constructor(deps: WorkerDeps, options: WorkerOptions = {}) {
    this.#deps = deps;
    this.#options = options;
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error('a worker starts once; create another');
    const { store, clock, queues, functions } = this.#deps;
    const log = this.#options.logger ?? pino({ level: 'silent' });
    const limiter = new Limiter(this.#options.maxConcurrency ?? 1000);
    const acks = new Batcher<Receipt>(async (items) => {
      const deleted = new Set(await store.queues.ack(items));
      return new Set(items.filter((r) => deleted.has(r.id)));
    });
    for (const fn of functions) {
      for (const trigger of fn.triggers) {
        if (trigger.kind !== 'queue') continue;
        const settings = await queues.settings(trigger.queue).catch((err: unknown) => {
          throw new MainspringError(
            'E_FUNCTION_INVALID',
            `function "${fn.name}" is triggered from queue "${trigger.queue}", which does not exist; define it with defineQueue`,
            { cause: err, details: { field: 'triggers', value: trigger.queue } },
          );
        });
        this.#consumers.push(
          new QueueConsumer({
            store: store.queues,
            clock,
            fn,
            trigger,
            settings,
            limiter,
            acks,
            events: this.events,
            log,
            pollIntervalMs: this.#options.pollIntervalMs ?? 1000,
          }),
        );
      }
    }
    this.#unlisten = await store.listen(MESSAGES_CHANNEL, (queue) => {
      for (const c of this.#consumers) if (queue === '*' || c.queue === queue) c.wake();
    });
    this.#state = 'running';
    for (const c of this.#consumers) c.start();
    log.info({ consumers: this.#consumers.map((c) => c.queue) }, 'worker started');
  }

  /** Stops taking messages, lets running handlers finish within `graceMs`, then releases what is left. */
  async stop(options: StopOptions = {}): Promise<void> {
    if (this.#state !== 'running') return;
    this.#state = 'stopped';
    await Promise.all(this.#consumers.map((c) => c.stop(options.graceMs ?? 30_000)));
    await this.#unlisten?.();
  }
}
