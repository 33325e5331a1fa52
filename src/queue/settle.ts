// Settling leased messages once their handler has run: acknowledge (batched, so many acks
// become one statement), hand back for a retry at its backoff's end, or dead-letter (or
// drop, without a dead-letter queue). Each outcome is told to the consumer's events.

import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import { isNonRetryable, retryAfterOf, toErrorRecord } from '../functions/errors.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { ClaimedMessage, QueueStore, Receipt } from '../store/types.ts';
import type { Batcher, BatchReceiver } from './batcher.ts';
import type { WorkerEvents } from './consumer-events.ts';
import { backoffMs, type QueueSettings } from './define.ts';

export interface SettlementDeps {
  readonly queue: string;
  readonly store: QueueStore;
  readonly clock: Clock;
  readonly settings: QueueSettings;
  /** Acks of every consumer of the process, coalesced. */
  readonly acks: Batcher<Receipt>;
  readonly events: WorkerEvents;
  readonly log: Logger;
  readonly metrics: Metrics | null;
}

/** Counts messages whose outcome is still being written (the lease loop: claims wait while too many are). */
export interface SettlingCounter {
  settling(messages: number): void;
  settled(messages: number): void;
}

/** An ack written with no promise (`ackQuiet`): the counter to tell once it is. */
interface QuietAck extends Receipt {
  readonly counter: SettlingCounter;
}

export class Settlement implements BatchReceiver<Receipt> {
  readonly #d: SettlementDeps;

  constructor(deps: SettlementDeps) {
    this.#d = deps;
  }

  /** Resolves once the acks queued so far are written. */
  idle(): Promise<void> {
    return this.#d.acks.idle();
  }

  /** Acknowledges one message: it is gone, unless its lease was lost meanwhile (then it runs again). */
  async ack(m: ClaimedMessage): Promise<void> {
    this.#acked(m.id, await this.#d.acks.add({ id: m.id, receiveCount: m.receiveCount }));
  }

  /**
   * As `ack`, for the common case of a handled message nobody waits on: no promise, and
   * `counter` is told once the ack is written (or failed, and said so; the message is then
   * redelivered). The worker's stop waits for it through `idle`.
   */
  ackQuiet(m: ClaimedMessage, counter: SettlingCounter): void {
    const ack: QuietAck = { id: m.id, receiveCount: m.receiveCount, counter };
    this.#d.acks.send(ack, this);
  }

  /** The acks batch holding a quiet ack was written. */
  flushed(receipt: Receipt, deleted: boolean): void {
    try {
      this.#acked(receipt.id, deleted);
    } catch (err) {
      // A listener of the worker's events threw: the ack itself is written.
      this.#d.log.error(
        { err, queue: this.#d.queue, id: receipt.id },
        "a listener of the worker's events threw on an ack",
      );
    } finally {
      (receipt as QuietAck).counter.settled(1);
    }
  }

  /** The acks batch holding a quiet ack could not be written. */
  failed(receipt: Receipt, err: unknown): void {
    this.#d.log.error(
      { err, queue: this.#d.queue, ids: [String(receipt.id)] },
      'could not record the outcome; the messages will be redelivered',
    );
    (receipt as QuietAck).counter.settled(1);
  }

  #acked(messageId: number, deleted: boolean): void {
    const { events, queue } = this.#d;
    if (deleted) {
      // The event's object only when someone listens: this runs for every message handled.
      if (events.listenerCount('message:acked') > 0)
        events.emit('message:acked', { queue, id: String(messageId) });
      return;
    }
    const id = String(messageId);
    this.#d.log.warn({ queue, id }, 'handler finished after its lease was lost; the message was redelivered');
    events.emit('message:lease-lost', { queue, id });
  }

  /** Acknowledges every message; a store that fails leaves them to be redelivered, and says so. */
  async ackAll(messages: readonly ClaimedMessage[]): Promise<void> {
    try {
      await Promise.all(messages.map((m) => this.ack(m)));
    } catch (err) {
      this.#d.log.error(
        { err, queue: this.#d.queue },
        'could not acknowledge; the messages will be redelivered',
      );
    }
  }

  /**
   * Settles messages whose attempt failed with `error`: dead-letters those out of receives (or
   * failed for good) when `mayDeadLetter`, and hands the rest back, visible again at `retryAtMs`
   * or, when null, after the queue's backoff (or the error's RetryAfterError delay).
   */
  async fail(
    messages: readonly ClaimedMessage[],
    error: unknown,
    retryAtMs: number | null,
    mayDeadLetter: boolean,
  ): Promise<void> {
    if (messages.length === 0) return;
    const { settings, store, clock, events, queue, metrics } = this.#d;
    if (metrics) for (let i = 0; i < messages.length; i++) metrics.deliveryFailed('queue', queue);
    const now = clock.now();
    const record = { ...toErrorRecord(error), at: new Date(now).toISOString() };
    const permanent = isNonRetryable(error);
    const dead = mayDeadLetter
      ? messages.filter(
          (m) =>
            permanent || (settings.maxReceiveCount !== null && m.receiveCount >= settings.maxReceiveCount),
        )
      : [];
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
        for (const m of dead)
          events.emit('message:dead', { queue, id: String(m.id), deadLetterQueue: settings.deadLetterQueue });
      } else {
        // The run's failure line says the message was dropped.
        await store.ack(dead);
        for (const m of dead) events.emit('message:dropped', { queue, id: String(m.id) });
      }
    }
    if (retry.length > 0) {
      const after = retryAfterOf(error);
      const receipts = retry.map((m) => ({
        id: m.id,
        receiveCount: m.receiveCount,
        visibleAtMs: retryAtMs ?? now + (after ?? backoffMs(settings.retry, m.receiveCount)),
        error: { ...record, receiveCount: m.receiveCount },
      }));
      await store.fail(receipts, now);
      for (const r of receipts)
        events.emit('message:failed', {
          queue,
          id: String(r.id),
          error: record,
          retryAt: new Date(r.visibleAtMs),
        });
    }
  }

  /** Of claimed messages, those received more often than maxReceiveCount (needs a dead-letter queue). */
  overReceived(claimed: readonly ClaimedMessage[]): ClaimedMessage[] {
    const { maxReceiveCount, deadLetterQueue } = this.#d.settings;
    if (maxReceiveCount === null || deadLetterQueue === null) return [];
    return claimed.filter((m) => m.receiveCount > maxReceiveCount);
  }

  /**
   * Dead-letters messages received more often than maxReceiveCount before any attempt of them
   * finished (their leases kept running out): they go unhandled.
   */
  async deadLetterUnhandled(over: readonly ClaimedMessage[], functionName: string): Promise<void> {
    const { maxReceiveCount, deadLetterQueue } = this.#d.settings;
    if (over.length === 0 || maxReceiveCount === null || deadLetterQueue === null) return;
    const { clock, queue } = this.#d;
    const error = {
      name: 'MaxReceiveCountExceeded',
      message: `received ${maxReceiveCount + 1} times without being acknowledged (visibility timeout expired)`,
      at: new Date(clock.now()).toISOString(),
    };
    await this.#d.store.deadLetter(
      over.map((m) => ({ ...m, error })),
      deadLetterQueue,
      clock.now(),
    );
    for (const m of over) this.#d.events.emit('message:dead', { queue, id: String(m.id), deadLetterQueue });
    // No attempt of these ran to an outcome, so no run's failure line covers them.
    this.#d.log.error(
      { function: functionName, queue, messageIds: over.map((m) => String(m.id)), err: error.message },
      `dead-lettered to ${deadLetterQueue} unhandled: no attempt finished before its lease ran out`,
    );
  }
}
