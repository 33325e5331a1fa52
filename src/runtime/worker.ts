// The worker: runs every queue-triggered function of the app in this process,
// within a per-process concurrency limit, and shuts down gracefully.

import { randomBytes } from 'node:crypto';
import pino, { type Logger } from 'pino';
import { MainspringError } from '../core/errors.ts';
import { invocationQueueName } from '../functions/ids.ts';
import { Batcher } from '../queue/batcher.ts';
import { WorkerEvents } from '../queue/consumer-events.ts';
import type { QueueSettings } from '../queue/define.ts';
import { Limiter } from '../queue/limiter.ts';
import type { Queues } from '../queue/queues.ts';
import type { FlowLimits } from '../store/flow.ts';
import { MESSAGES_CHANNEL, pushedMessage } from '../store/message-row.ts';
import type { Receipt, Unlisten } from '../store/types.ts';
import type { WorkflowDefinition } from '../workflow/define.ts';
import { WorkflowEngine, type WorkflowEngineOptions } from '../workflow/engine.ts';
import { Runtime, type RuntimeSettings } from './attempt.ts';
import { QueueConsumer } from './consumer.ts';
import type { FunctionDefinition, QueueTrigger } from './function.ts';
import { RUN_CANCEL_CHANNEL } from './recorder.ts';
import { RunRetention } from './retention.ts';

export interface WorkerOptions {
  /** Handler calls at once in this process, across all functions (default 1000). */
  readonly maxConcurrency?: number;
  /** Workflow executions run here: settings, or false to run none (default: run the app's). */
  readonly workflows?: WorkflowEngineOptions | false;
  /** Longest sleep between checks for work when no wake-up arrives (default 1000 ms). */
  readonly pollIntervalMs?: number;
  readonly logger?: Logger;
}

export interface StopOptions {
  /** How long running handlers may take to finish before their messages are released (default 30 s). */
  readonly graceMs?: number;
}

export interface WorkerDeps extends RuntimeSettings {
  readonly queues: Queues;
  readonly functions: readonly FunctionDefinition[];
  /** How long finished runs and their logs are kept. */
  readonly runRetentionMs: number;
  /** The app's workflows, by name. */
  readonly workflows: ReadonlyMap<string, WorkflowDefinition>;
}

/**
 * How often running runs are checked for a cancellation a notification did not bring (another
 * SQLite process), unless the worker's poll interval says otherwise.
 */
const CANCEL_POLL_MS = 1000;

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
  /** Prefixes its consumers' names: a message pushed to one of them is this worker's to start or hand back. */
  readonly #id = `w${randomBytes(9).toString('base64url')}`;
  #unlisten: Unlisten | null = null;
  #unlistenCancel: Unlisten | null = null;
  #workflows: WorkflowEngine | null = null;
  #runtime: Runtime | null = null;
  #retention: RunRetention | null = null;
  #cancelPoll: AbortController | null = null;
  #state: 'new' | 'running' | 'stopped' = 'new';

  constructor(deps: WorkerDeps, options: WorkerOptions = {}) {
    this.#deps = deps;
    this.#options = options;
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error('a worker starts once; create another');
    const d = this.#deps;
    const { store, clock, queues, functions } = d;
    const log = this.#options.logger ?? pino({ level: 'silent' });
    const limiter = new Limiter(this.#options.maxConcurrency ?? 1000);
    const acks = new Batcher<Receipt>(async (items) => {
      const deleted = new Set(await store.queues.ack(items));
      return new Set(items.filter((r) => deleted.has(r.id)));
    });
    // Handlers' console lines are shown in the process log when there is one, else on stderr.
    const runtime = new Runtime(d, log, this.#options.logger ? 'logger' : 'stderr');
    this.#runtime = runtime;
    const consumer = async (fn: FunctionDefinition, trigger: QueueTrigger, invocations: boolean) => {
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
          runtime,
          invocations,
          ruleName: invocations ? null : ruleOf(trigger.queue, fn.name),
          limits: flowLimits(fn, trigger, settings),
          id: `${this.#id}.${this.#consumers.length}`,
        }),
      );
    };
    for (const fn of functions) {
      const queue = invocationQueueName(fn.name);
      await consumer(
        fn,
        {
          kind: 'queue',
          queue,
          batchSize: 1,
          concurrency: fn.concurrency,
          prefetch: fn.concurrency,
          autoPrefetch: false,
        },
        true,
      );
      for (const trigger of fn.triggers) if (trigger.kind === 'queue') await consumer(fn, trigger, false);
    }
    this.#unlistenCancel = await store.listen(RUN_CANCEL_CHANNEL, (id) => runtime.cancel(id));
    this.#cancelPoll = new AbortController();
    void this.#pollCancellations(runtime, this.#cancelPoll.signal);
    this.#retention = new RunRetention({ store, clock, locks: d.locks, retentionMs: d.runRetentionMs, log });
    this.#retention.start();
    this.#unlisten = await store.listen(MESSAGES_CHANNEL, (payload) => {
      const push = pushedMessage(payload);
      if (push === null) {
        for (const c of this.#consumers) if (payload === '*' || c.queue === payload) c.wake();
        return;
      }
      if (!push.consumer.startsWith(`${this.#id}.`)) return;
      const to = this.#consumers.find((c) => c.id === push.consumer);
      if (to?.pushed(push.message)) return;
      // Pushed to a consumer that is stopping or became busy: back to the queue at once, not
      // after its lease, and its consumers told.
      const queue = to?.queue;
      store.queues
        .release([push.message], clock.now())
        .then(() => (queue === undefined ? undefined : store.notify(MESSAGES_CHANNEL, queue)))
        .catch((err: unknown) => {
          log.warn(
            { err, message: push.message.id },
            'could not hand back a message pushed to a busy consumer',
          );
        });
    });
    const wf = this.#options.workflows;
    if (wf !== false && d.workflows.size > 0) {
      this.#workflows = new WorkflowEngine(
        { store, clock, log, definitions: d.workflows, observer: d.metrics },
        wf ?? (this.#options.pollIntervalMs !== undefined ? { pollMs: this.#options.pollIntervalMs } : {}),
      );
      await this.#workflows.start();
    }
    this.#state = 'running';
    for (const c of this.#consumers) c.start();
    log.info({ consumers: this.#consumers.map((c) => c.queue) }, 'worker started');
  }

  /** Stops taking messages, lets running handlers finish within `graceMs`, then releases what is left. */
  async stop(options: StopOptions = {}): Promise<void> {
    if (this.#state !== 'running') return;
    this.#state = 'stopped';
    this.#cancelPoll?.abort();
    await this.#retention?.stop();
    await Promise.all([
      ...this.#consumers.map((c) => c.stop(options.graceMs ?? 30_000)),
      this.#workflows?.stop(options.graceMs ?? 30_000),
    ]);
    await this.#unlisten?.();
    await this.#unlistenCancel?.();
    await this.#runtime?.recorder.idle();
    this.#runtime?.close();
  }

  /** The queues this worker consumes, the functions' invocation queues among them. */
  get queues(): readonly string[] {
    return this.#consumers.map((c) => c.queue);
  }

  /** Looks for work now, as a notification would make it: every consumer and the workflow engine. */
  wake(): void {
    for (const c of this.#consumers) c.wake();
    this.#workflows?.wake();
  }

  /** Handler calls and workflow executions this worker is running now. */
  get running(): number {
    return (this.#runtime?.active.size ?? 0) + (this.#workflows?.active ?? 0);
  }

  /** Resolves once the run records and log lines of finished work are in the store. */
  async flushed(): Promise<void> {
    await this.#runtime?.recorder.idle();
  }

  /** This worker's workflow engine, when it runs workflows. */
  get workflows(): WorkflowEngine | null {
    return this.#workflows;
  }

  /** The runtime of this worker: runs in progress here. */
  get runtime(): Runtime | null {
    return this.#runtime;
  }

  async #pollCancellations(runtime: Runtime, signal: AbortSignal): Promise<void> {
    const { clock, store } = this.#deps;
    while (!signal.aborted) {
      try {
        await clock.sleep(clock.real(this.#options.pollIntervalMs ?? CANCEL_POLL_MS), signal);
        if (runtime.active.size === 0) continue;
        const ids = [...runtime.active.keys()].slice(0, 1000);
        for (const id of await store.runs.cancelRequested(ids)) runtime.cancel(id);
      } catch (err) {
        if (signal.aborted) return;
        this.#options.logger?.warn({ err }, 'could not check for cancelled runs');
      }
    }
  }
}

/**
 * A function's limits across processes, as one of its queues' claims applies them: shared by
 * all its queues (its invocations' and its triggers'), counted by the function's name.
 */
function flowLimits(
  fn: FunctionDefinition,
  trigger: QueueTrigger,
  settings: QueueSettings,
): FlowLimits | null {
  const flow = fn.flow;
  if (flow === null) return null;
  const refuse = (why: string) =>
    new MainspringError('E_FUNCTION_INVALID', `function "${fn.name}": ${why}`, {
      details: { field: flow.concurrency ? 'concurrency' : 'rateLimit', value: trigger.queue },
    });
  if (settings.fifo) {
    throw refuse(
      `queue "${trigger.queue}" is FIFO, which already runs one message per group at a time; drop the function's concurrency object and rateLimit, or use a standard queue`,
    );
  }
  const keyed = (flow.concurrency?.key ?? flow.rate?.key) != null;
  if (keyed && trigger.batchSize > 1) {
    throw refuse(
      `a key counts one message per run, and queue "${trigger.queue}" hands ${trigger.batchSize} at a time; use batchSize 1 or a limit without key`,
    );
  }
  const queues = [
    invocationQueueName(fn.name),
    ...fn.triggers.flatMap((t) => (t.kind === 'queue' ? [t.queue] : [])),
  ];
  const rate = flow.rate;
  // Whole milliseconds, rounded up: never more starts than the limit says.
  const intervalMs = rate && Math.ceil(rate.periodMs / rate.limit);
  return {
    scope: fn.name,
    queues,
    concurrency: flow.concurrency && { limit: flow.concurrency.limit, keyed: flow.concurrency.key !== null },
    rate: rate && {
      intervalMs: intervalMs!,
      toleranceMs: (rate.burst - 1) * intervalMs!,
      keyed: rate.key !== null,
    },
  };
}

/** The rule whose delivery queue `queue` is (`rule.<rule>.<function>`), or null. */
function ruleOf(queue: string, fn: string): string | null {
  const suffix = `.${fn.replaceAll(':', '_')}`;
  if (!queue.startsWith('rule.') || !queue.endsWith(suffix)) return null;
  return queue.slice('rule.'.length, queue.length - suffix.length) || null;
}
