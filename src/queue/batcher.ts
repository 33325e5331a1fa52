// Coalesces many small store writes (acks) into one statement: items added while
// a flush is in flight wait for the next one, so under load batches grow on their
// own and when idle a single item goes out at once, with no added delay.

/**
 * Told what became of an item once its batch was flushed (one object serves many items: no
 * closure each). Its methods must not throw: the batches after would never be flushed.
 */
export interface BatchReceiver<T> {
  flushed(item: T, tookEffect: boolean): void;
  failed(item: T, err: unknown): void;
}

/** A promise's resolve and reject as a receiver, for `add`. */
class Settles<T> implements BatchReceiver<T> {
  readonly #resolve: (ok: boolean) => void;
  readonly #reject: (err: unknown) => void;

  constructor(resolve: (ok: boolean) => void, reject: (err: unknown) => void) {
    this.#resolve = resolve;
    this.#reject = reject;
  }

  flushed(_item: T, tookEffect: boolean): void {
    this.#resolve(tookEffect);
  }

  failed(_item: T, err: unknown): void {
    this.#reject(err);
  }
}

export class Batcher<T> {
  readonly #flush: (items: T[]) => Promise<Set<T>>;
  readonly #max: number;
  #pending: { item: T; to: BatchReceiver<T> }[] = [];
  #running: Promise<void> | null = null;

  /** `flush` returns the items that took effect; each `add` resolves true for those. */
  constructor(flush: (items: T[]) => Promise<Set<T>>, max = 1000) {
    this.#flush = flush;
    this.#max = max;
  }

  add(item: T): Promise<boolean> {
    return new Promise((resolve, reject) => this.send(item, new Settles(resolve, reject)));
  }

  /** As `add`, with `to` told the outcome instead of a promise: at thousands of acks a second, a promise each adds up. */
  send(item: T, to: BatchReceiver<T>): void {
    this.#pending.push({ item, to });
    this.#running ??= this.#drain();
  }

  /** Resolves once everything added so far has been flushed. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #drain(): Promise<void> {
    // Let completions of the same turn of the event loop join this batch.
    await new Promise((r) => setImmediate(r));
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, this.#max);
      let done: Set<T>;
      try {
        done = await this.#flush(batch.map((b) => b.item));
      } catch (err) {
        for (const b of batch) b.to.failed(b.item, err);
        continue;
      }
      for (const b of batch) b.to.flushed(b.item, done.has(b.item));
    }
    this.#running = null;
  }
}
