// One queue trigger of one function in one process: the queue's lease loop
// (queue/lease-loop.ts) hands leased messages to a handler, and the run kind — a queue
// message's run or an invocation's (run-kind.ts) — begins the run, and afterwards records
// it and settles its messages (queue/settle.ts).

import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import { invocationQueueName } from '../functions/ids.ts';
import type { Batcher } from '../queue/batcher.ts';
import type { WorkerEvents } from '../queue/consumer-events.ts';
import type { QueueSettings } from '../queue/define.ts';
import { type Lease, LeaseLoop } from '../queue/lease-loop.ts';
import type { Limiter } from '../queue/limiter.ts';
import { Settlement } from '../queue/settle.ts';
import { type FlowLimits, WHOLE } from '../store/flow.ts';
import type { ClaimedMessage, QueueStore, Receipt } from '../store/types.ts';
import { type Runtime, runAttempt } from './attempt.ts';
import type { FunctionDefinition, QueueBatch, QueueRecord, QueueTrigger } from './function.ts';
import { InvocationRuns } from './invocation-runs.ts';
import { MessageRuns } from './message-runs.ts';
import type { RunKind } from './run-kind.ts';
import { type Begun, NO_INPUT } from './run-rows.ts';

export interface ConsumerDeps {
  readonly store: QueueStore;
  readonly clock: Clock;
  readonly fn: FunctionDefinition;
  readonly trigger: QueueTrigger;
  readonly settings: QueueSettings;
  readonly limiter: Limiter;
  readonly acks: Batcher<Receipt>;
  readonly events: WorkerEvents;
  readonly log: Logger;
  readonly pollIntervalMs: number;
  readonly runtime: Runtime;
  /** The function's own invocation queue (manual calls, retries) rather than a queue trigger. */
  readonly invocations: boolean;
  /** For a rule's delivery queue: the rule's name (runs are triggered by an event). */
  readonly ruleName: string | null;
  /** The function's limits across processes (every queue it runs from), when it has any. */
  readonly limits: FlowLimits | null;
  /** This consumer among every process's: messages are pushed to it by this name. */
  readonly id: string;
}

export class QueueConsumer {
  readonly #d: ConsumerDeps;
  readonly #loop: LeaseLoop;
  readonly #kind: RunKind;
  readonly #settlement: Settlement;

  constructor(deps: ConsumerDeps) {
    this.#d = deps;
    const { trigger, settings } = deps;
    const queue = trigger.queue;
    const settlement = new Settlement({
      queue,
      store: deps.store,
      clock: deps.clock,
      settings,
      acks: deps.acks,
      events: deps.events,
      log: deps.log,
      metrics: deps.runtime.metrics,
    });
    this.#settlement = settlement;
    const kindDeps = {
      runtime: deps.runtime,
      fn: deps.fn,
      queue,
      settings,
      batchSize: trigger.batchSize,
      log: deps.log,
    };
    this.#kind = deps.invocations
      ? new InvocationRuns(kindDeps, settlement)
      : new MessageRuns(kindDeps, settlement, deps.ruleName);
    this.#loop = new LeaseLoop({
      queue,
      store: deps.store,
      clock: deps.clock,
      settings,
      batchSize: trigger.batchSize,
      concurrency: trigger.concurrency,
      prefetch: trigger.prefetch,
      autoPrefetch: trigger.autoPrefetch,
      limiter: deps.limiter,
      settlement,
      events: deps.events,
      log: deps.log,
      pollIntervalMs: deps.pollIntervalMs,
      consumerId: deps.id,
      functionName: deps.fn.name,
      functionQueue: invocationQueueName(deps.fn.name),
      flow: deps.limits === null ? null : { limits: deps.limits, keyOf: this.#keyOf() },
      handle: (lease, done) => this.#handle(lease, done),
    });
  }

  /**
   * A message's key under the function's limits: the user's key function of the input (an
   * invocation's input, else the body). A key that cannot be computed, or is not a string or
   * a number, counts under the key "" (logged), so a bad key never stops the queue.
   */
  #keyOf(): (m: ClaimedMessage) => string {
    const { fn, invocations, log } = this.#d;
    const key = fn.flow?.concurrency?.key ?? fn.flow?.rate?.key ?? null;
    if (key === null) return () => WHOLE;
    return (m) => {
      let input: unknown;
      try {
        const body = JSON.parse(m.body) as unknown;
        input = invocations ? (body as { input?: unknown } | null)?.input : body;
        const k = key(input);
        if (typeof k === 'string') return k;
        if (typeof k === 'number' && Number.isFinite(k)) return String(k);
        log.warn(
          { function: fn.name, message: m.id, key: typeof k },
          'flow key is not a string or number; counted under ""',
        );
      } catch (err) {
        log.warn({ err, function: fn.name, message: m.id }, 'flow key function threw; counted under ""');
      }
      return WHOLE;
    };
  }

  get queue(): string {
    return this.#loop.queue;
  }

  start(): void {
    this.#loop.start();
  }

  /** Interrupts the current sleep (new messages, a free slot, or shutdown). */
  wake(): void {
    this.#loop.wake();
  }

  get id(): string {
    return this.#d.id;
  }

  /** A message a send leased to this consumer; false once it stops (hand the message back). */
  pushed(message: ClaimedMessage): boolean {
    return this.#loop.pushed(message);
  }

  /** Stops leasing, returns unstarted messages, and waits up to `graceMs` for running handlers. */
  stop(graceMs: number): Promise<void> {
    return this.#loop.stop(graceMs);
  }

  async #handle(lease: Lease, handlerDone: () => void): Promise<void> {
    const { messages } = lease;
    const { fn, trigger, events, runtime } = this.#d;
    const records = messages.map(toRecord);
    if (events.listenerCount('message:started') > 0) {
      for (const r of records)
        events.emit('message:started', { queue: trigger.queue, id: r.id, receiveCount: r.receiveCount });
    }
    let begun: Begun | null;
    // A queue message's run begins with no store round trip: no await (and its microtask) for
    // it, and the attempt starts when the run did. An invocation's waits for its row.
    let waited = false;
    try {
      const b = this.#kind.begin(messages, records);
      waited = b instanceof Promise;
      begun = waited ? await b : (b as Begun | null);
    } catch (err) {
      // The run could not be started (the store failed): the message comes back after its lease.
      this.#d.log.error(
        { err, queue: trigger.queue },
        'could not start a run; its message will be redelivered',
      );
      handlerDone();
      return;
    }
    if (begun === null) {
      handlerDone();
      await this.#loop.track(this.#settlement.ackAll(messages), messages.length);
      return;
    }
    runtime.metrics?.runStarted(fn.name, begun.info.trigger.kind);
    const outcome = await runAttempt(runtime, fn, {
      info: begun.info,
      triggerKind: begun.info.trigger.kind,
      input: inputOf(begun, records, trigger.batchSize),
      onStart: (run) => {
        lease.run = run;
      },
      message: this.#kind.message(records),
      extendVisibility: (seconds) => this.#loop.extend(messages, seconds),
      traceContexts: traceContextsOf(messages),
      startedAtMs: waited ? undefined : begun.startedAtMs,
    });
    begun.settle();
    handlerDone();
    const settling = this.#kind.settle(messages, begun, outcome, this.#loop);
    if (settling !== undefined) await this.#loop.track(settling, messages.length);
  }
}

/** The handler's input: the invocation's, else the body of one message, or the batch. */
function inputOf(begun: Begun, records: QueueRecord[], batchSize: number): unknown {
  if (begun.input !== NO_INPUT) return begun.input;
  return batchSize === 1 ? records[0]!.body : ({ records } satisfies QueueBatch);
}

/** The trace contexts the messages were sent in; none (no allocation) for one sent untraced. */
function traceContextsOf(messages: readonly ClaimedMessage[]): (string | null)[] | undefined {
  if (messages.length === 1) {
    const only = messages[0]!.traceContext;
    return only === null ? undefined : [only];
  }
  return messages.map((m) => m.traceContext);
}

function toRecord(m: ClaimedMessage): QueueRecord {
  return {
    id: String(m.id),
    body: JSON.parse(m.body) as unknown,
    receiveCount: m.receiveCount,
    sentAt: new Date(m.sentAtMs),
    groupId: m.groupId,
  };
}
