// One queue trigger of one function in one process: leases messages (up to its
// prefetch), runs the handler on them (up to its concurrency and the process's
// limit), then acks, retries with backoff, or dead-letters each one.
//
// It sleeps on the clock until the next message becomes visible, a send wakes
// it (LISTEN/NOTIFY or in-process), a handler slot frees up, or the poll
// interval passes — whichever comes first.

import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import { backoffMs, type QueueSettings } from '../queue/define.ts';
import type { ClaimedMessage, QueueStore, Receipt } from '../store/types.ts';
import type { Batcher } from './batcher.ts';
import { isNonRetryable, retryAfterOf, toErrorRecord } from './errors.ts';
import type {
  BatchResult,
  FunctionContext,
  FunctionDefinition,
  QueueBatch,
  QueueRecord,
  QueueTrigger,
  TriggerInfo,
} from './function.ts';
import type { Limiter } from './limiter.ts';
import type { WorkerEvents } from './worker-events.ts';

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
}

interface Running {
  readonly messages: readonly ClaimedMessage[];
  readonly abort: AbortController;
  readonly done: Promise<void>;
}

const ERROR_BACKOFF_MS = 1000;
// Messages due within this window are leased ahead and started on a timer at their due
// time, so a delayed message starts within a timer tick of due rather than a claim later.
const LEASE_AHEAD_MS = 250;
// Aborting with a plain reason: the default reason is a DOMException, costly at thousands of wakes per second.
const WOKEN = Symbol('woken');

export class QueueConsumer {
  readonly #d: ConsumerDeps;
  readonly #queue: string;
  #buffer: ClaimedMessage[] = [];
  /** Leased ahead of their due time, soonest first: each starts at its due time, not a poll later. */
  #scheduled: ClaimedMessage[] = [];
  readonly #running = new Set<Running>();
  /** Outcomes (acks, retries, dead letters) still being written. */
  readonly #recording = new Set<Promise<void>>();
  #stopping = false;
  #loop: Promise<void> | null = null;
  #sleep: AbortController | null = null;
  #wakePending = false;
  readonly #onLimiterFree = () => this.#dispatch(false);
  /** Refill when the local buffer falls to this many messages (half the prefetch). */
  readonly #lowWater: number;

  constructor(deps: ConsumerDeps) {
    this.#d = deps;
    this.#queue = deps.trigger.queue;
    this.#lowWater = Math.floor(deps.trigger.prefetch / 2);
  }

  get queue(): string {
    return this.#queue;
  }

  start(): void {
    this.#loop = this.#run();
  }

  /** Interrupts the current sleep (new messages, a free slot, or shutdown). */
  wake(): void {
    this.#wakePending = true;
    this.#sleep?.abort(WOKEN);
  }

  /** Stops leasing, returns unstarted messages, and waits up to `graceMs` for running handlers. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    this.wake();
    await this.#loop;
    const unstarted = [...this.#buffer.splice(0), ...this.#scheduled.splice(0)];
    if (unstarted.length > 0) await this.#d.store.release(unstarted, this.#d.clock.now());
    if (this.#running.size > 0) {
      const all = Promise.all([...this.#running].map((r) => r.done));
      const timer = new AbortController();
      const timedOut = await Promise.race([
        all.then(() => false),
        this.#d.clock.sleep(graceMs, timer.signal).then(
          () => true,
          () => false,
        ),
      ]);
      timer.abort();
      if (timedOut) {
        // Past the grace period: abort the handlers and hand their messages back at once.
        const left = [...this.#running];
        for (const r of left) r.abort.abort(new Error('worker is shutting down'));
        const receipts = left.flatMap((r) => r.messages);
        const released = await this.#d.store.release(receipts, this.#d.clock.now());
        this.#d.log.warn(
          { queue: this.#queue, released },
          'handlers still running at shutdown; released their messages',
        );
      }
    }
    await Promise.all(this.#recording);
    await this.#d.acks.idle();
    this.#d.limiter.forget(this.#onLimiterFree);
  }

  async #run(): Promise<void> {
    const { trigger, settings, store, clock } = this.#d;
    while (!this.#stopping) {
      this.#wakePending = false;
      let claimedAll = false;
      try {
        this.#dispatch(true);
        const room =
          trigger.prefetch - this.#buffer.length - this.#scheduled.length - this.#runningMessages();
        // Claim in large batches: only once the buffer has drained to its low-water mark.
        const worthIt = room > 0 && this.#buffer.length <= this.#lowWater;
        if (worthIt && this.#d.limiter.available > 0) {
          const now = clock.now();
          const claimed = await store.claim(this.#queue, {
            limit: room,
            nowMs: now,
            dueByMs: now + LEASE_AHEAD_MS,
            visibilityMs: settings.visibilityTimeoutMs,
            fifo: settings.fifo,
          });
          claimedAll = claimed.length === room;
          await this.#accept(claimed);
          this.#dispatch(true);
        }
        if (claimedAll && !this.#stopping) continue;
        await this.#idle(worthIt);
      } catch (err) {
        this.#d.log.error({ err, queue: this.#queue }, 'queue consumer failed; retrying');
        this.#d.events.emit('consumer:error', err as Error);
        await this.#pause(ERROR_BACKOFF_MS);
      }
    }
  }

  #runningMessages(): number {
    let n = 0;
    for (const r of this.#running) n += r.messages.length;
    return n;
  }

  /** Messages received more often than maxReceiveCount (their leases kept expiring) go to the DLQ unhandled. */
  async #accept(claimed: ClaimedMessage[]): Promise<void> {
    const { maxReceiveCount, deadLetterQueue } = this.#d.settings;
    if (maxReceiveCount === null || deadLetterQueue === null) {
      this.#take(claimed);
      return;
    }
    const over = claimed.filter((m) => m.receiveCount > maxReceiveCount);
    this.#take(claimed.filter((m) => m.receiveCount <= maxReceiveCount));
    if (over.length === 0) return;
    const error = {
      name: 'MaxReceiveCountExceeded',
      message: `received ${maxReceiveCount + 1} times without being acknowledged (visibility timeout expired)`,
      at: new Date(this.#d.clock.now()).toISOString(),
    };
    await this.#d.store.deadLetter(
      over.map((m) => ({ ...m, error })),
      deadLetterQueue,
      this.#d.clock.now(),
    );
    for (const m of over)
      this.#d.events.emit('message:dead', { queue: this.#queue, id: String(m.id), deadLetterQueue });
  }

  /** Due messages join the buffer; those leased ahead wait in `#scheduled` for their due time. */
  #take(claimed: readonly ClaimedMessage[]): void {
    const now = this.#d.clock.now();
    let added = false;
    for (const m of claimed) {
      if (m.visibleAtMs <= now) this.#buffer.push(m);
      else {
        this.#scheduled.push(m);
        added = true;
      }
    }
    if (added) this.#scheduled.sort((a, b) => a.visibleAtMs - b.visibleAtMs);
  }

  /**
   * Starts handlers on buffered messages while slots are free. Called from outside
   * the claim loop (a handler finished, the limiter freed up), it also wakes the
   * loop when the buffer runs low.
   */
  #dispatch(fromLoop = false): void {
    const { trigger, limiter } = this.#d;
    if (this.#scheduled.length > 0 && this.#scheduled[0]!.visibleAtMs <= this.#d.clock.now()) {
      const now = this.#d.clock.now();
      const due = this.#scheduled.findIndex((m) => m.visibleAtMs > now);
      this.#buffer.push(...this.#scheduled.splice(0, due === -1 ? this.#scheduled.length : due));
    }
    while (this.#buffer.length > 0 && this.#running.size < trigger.concurrency && !this.#stopping) {
      if (!limiter.tryAcquire()) {
        limiter.notifyOnRelease(this.#onLimiterFree);
        break;
      }
      this.#start(
        this.#buffer.length <= trigger.batchSize
          ? this.#buffer.splice(0)
          : this.#buffer.splice(0, trigger.batchSize),
      );
    }
    if (!fromLoop && this.#buffer.length <= this.#lowWater) this.wake();
  }

  async #idle(couldClaim: boolean): Promise<void> {
    if (this.#stopping || this.#wakePending) return;
    const now = this.#d.clock.now();
    let wait = this.#d.pollIntervalMs;
    if (this.#scheduled.length > 0) wait = Math.min(wait, this.#scheduled[0]!.visibleAtMs - now);
    if (couldClaim) {
      // Everything due within the lease-ahead window is claimed; wake when the next one enters it.
      const next = await this.#d.store.nextVisibleAt(this.#queue, now + LEASE_AHEAD_MS);
      if (next !== null) wait = Math.min(wait, next - LEASE_AHEAD_MS - now);
    }
    await this.#pause(Math.max(0, wait));
  }

  async #pause(ms: number): Promise<void> {
    if (this.#stopping || this.#wakePending) return;
    const ac = new AbortController();
    this.#sleep = ac;
    try {
      await this.#d.clock.sleep(ms, ac.signal);
    } catch {
      // woken
    } finally {
      this.#sleep = null;
    }
  }

  #start(messages: ClaimedMessage[]): void {
    const abort = new AbortController();
    let finish!: () => void;
    const entry: Running = { messages, abort, done: new Promise<void>((r) => (finish = r)) };
    this.#running.add(entry);
    // The slot frees when the handler returns; recording the outcome (a batched ack)
    // continues in the background, so a slow store never idles the handlers.
    void this.#handle(messages, abort.signal, () => {
      this.#running.delete(entry);
      this.#d.limiter.release();
      finish();
      this.#dispatch();
    });
  }

  async #handle(messages: ClaimedMessage[], signal: AbortSignal, handlerDone: () => void): Promise<void> {
    const { fn, trigger, events } = this.#d;
    const single = trigger.batchSize === 1;
    const records = messages.map(toRecord);
    if (events.listenerCount('message:started') > 0) {
      for (const r of records)
        events.emit('message:started', { queue: this.#queue, id: r.id, receiveCount: r.receiveCount });
    }
    const ctx = new QueueContext(this.#d, this.#queue, messages, records, signal);
    let failed: Set<number> | null = null;
    let error: unknown;
    try {
      const result = await fn.handler(single ? records[0]!.body : ({ records } satisfies QueueBatch), ctx);
      if (!single) {
        failed = failedIds(result, messages);
        if (failed.size > 0) error = new Error('reported in batchItemFailures');
      }
    } catch (err) {
      failed = new Set(messages.map((m) => m.id));
      error = err;
    }
    handlerDone();
    // Tracked so shutdown waits for outcomes being written (but never for a handler that ignored its abort).
    const recording = this.#record(messages, failed, error, ctx.trigger.messageIds);
    this.#recording.add(recording);
    await recording;
    this.#recording.delete(recording);
  }

  async #record(
    messages: ClaimedMessage[],
    failed: Set<number> | null,
    error: unknown,
    ids: readonly string[],
  ) {
    try {
      if (failed === null || failed.size === 0) {
        await (messages.length === 1
          ? this.#ack(messages[0]!)
          : Promise.all(messages.map((m) => this.#ack(m))));
      } else {
        await Promise.all([
          ...messages.filter((m) => !failed.has(m.id)).map((m) => this.#ack(m)),
          this.#fail(
            messages.filter((m) => failed.has(m.id)),
            error,
          ),
        ]);
      }
    } catch (err) {
      this.#d.log.error(
        { err, queue: this.#queue, ids },
        'could not record the outcome; the messages will be redelivered',
      );
    }
    // A FIFO group's next message becomes deliverable only once this one is gone.
    if (this.#d.settings.fifo) this.wake();
  }

  async #ack(m: ClaimedMessage): Promise<void> {
    const deleted = await this.#d.acks.add({ id: m.id, receiveCount: m.receiveCount });
    const id = String(m.id);
    if (deleted) this.#d.events.emit('message:acked', { queue: this.#queue, id });
    else {
      this.#d.log.warn(
        { queue: this.#queue, id },
        'handler finished after its lease was lost; the message was redelivered',
      );
      this.#d.events.emit('message:lease-lost', { queue: this.#queue, id });
    }
  }

  async #fail(messages: ClaimedMessage[], error: unknown): Promise<void> {
    if (messages.length === 0) return;
    const { settings, store, clock, events } = this.#d;
    const now = clock.now();
    const record = { ...toErrorRecord(error), at: new Date(now).toISOString() };
    const permanent = isNonRetryable(error);
    const dead = messages.filter(
      (m) => permanent || (settings.maxReceiveCount !== null && m.receiveCount >= settings.maxReceiveCount),
    );
    const retry = messages.filter((m) => !dead.includes(m));
    if (dead.length > 0) {
      if (settings.deadLetterQueue) {
        await store.deadLetter(
          dead.map((m) => ({
            id: m.id,
            receiveCount: m.receiveCount,
            error: { ...record, receiveCount: m.receiveCount },
          })),
          settings.deadLetterQueue,
          now,
        );
        for (const m of dead) {
          events.emit('message:dead', {
            queue: this.#queue,
            id: String(m.id),
            deadLetterQueue: settings.deadLetterQueue,
          });
        }
      } else {
        await store.ack(dead);
        this.#d.log.error(
          { queue: this.#queue, ids: dead.map((m) => m.id), error: record },
          'NonRetryableError with no dead-letter queue: message dropped',
        );
        for (const m of dead) events.emit('message:dropped', { queue: this.#queue, id: String(m.id) });
      }
    }
    if (retry.length > 0) {
      const after = retryAfterOf(error);
      const receipts = retry.map((m) => ({
        id: m.id,
        receiveCount: m.receiveCount,
        visibleAtMs: now + (after ?? backoffMs(settings.retry, m.receiveCount)),
        error: { ...record, receiveCount: m.receiveCount },
      }));
      await store.fail(receipts, now);
      for (const r of receipts) {
        events.emit('message:failed', {
          queue: this.#queue,
          id: String(r.id),
          error: record,
          retryAt: new Date(r.visibleAtMs),
        });
      }
    }
  }
}

/** The handler's context. A class with a lazy logger: most handlers never log, and a pino child costs. */
class QueueContext implements FunctionContext {
  readonly signal: AbortSignal;
  readonly trigger: TriggerInfo;
  readonly message: QueueRecord | undefined;
  readonly #deps: ConsumerDeps;
  readonly #messages: readonly ClaimedMessage[];
  #log: Logger | undefined;

  constructor(
    deps: ConsumerDeps,
    queue: string,
    messages: readonly ClaimedMessage[],
    records: readonly QueueRecord[],
    signal: AbortSignal,
  ) {
    this.#deps = deps;
    this.#messages = messages;
    this.signal = signal;
    this.trigger = { kind: 'queue', queue, messageIds: records.map((r) => r.id) };
    this.message = deps.trigger.batchSize === 1 ? records[0] : undefined;
  }

  get log(): Logger {
    this.#log ??= this.#deps.log.child({
      function: this.#deps.fn.name,
      queue: this.trigger.queue,
      messageIds: this.trigger.messageIds,
    });
    return this.#log;
  }

  async extendVisibility(seconds: number): Promise<void> {
    if (!Number.isFinite(seconds) || seconds < 0 || seconds > 43_200) {
      throw new RangeError(`extendVisibility(${seconds}): give seconds from 0 to 43200 (12 hours)`);
    }
    const { clock, store } = this.#deps;
    const now = clock.now();
    const held = await Promise.all(this.#messages.map((m) => store.extend(m, now + seconds * 1000, now)));
    if (held.includes(false)) {
      throw new Error(
        `extendVisibility: the lease on message ${this.trigger.messageIds.join(', ')} was already lost to another consumer`,
      );
    }
  }
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

function failedIds(result: unknown, messages: readonly ClaimedMessage[]): Set<number> {
  const failures = (result as Partial<BatchResult> | undefined)?.batchItemFailures;
  if (!Array.isArray(failures)) return new Set();
  const known = new Map(messages.map((m) => [String(m.id), m.id]));
  const out = new Set<number>();
  for (const f of failures) {
    const id = known.get(String((f as { itemIdentifier?: unknown })?.itemIdentifier));
    if (id !== undefined) out.add(id);
  }
  return out;
}
