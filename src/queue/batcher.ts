// Coalesces many small store writes (acks) into one statement: items added while
// a flush is in flight wait for the next one, so under load batches grow on their
// own and when idle a single item goes out at once, with no added delay.

export class Batcher<T> {
  readonly #flush: (items: T[]) => Promise<Set<T>>;
  readonly #max: number;
  #pending: { item: T; resolve: (ok: boolean) => void; reject: (err: unknown) => void }[] = [];
  #running: Promise<void> | null = null;

  /** `flush` returns the items that took effect; each `add` resolves true for those. */
  constructor(flush: (items: T[]) => Promise<Set<T>>, max = 1000) {
    this.#flush = flush;
    this.#max = max;
  }

  add(item: T): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      this.#running ??= this.#drain();
    });
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
      try {
        const done = await this.#flush(batch.map((b) => b.item));
        for (const b of batch) b.resolve(done.has(b.item));
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
    this.#running = null;
  }
}
