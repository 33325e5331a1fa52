// A counting limit on handler calls shared by every consumer of a process
// (back-pressure): a consumer that finds it full waits to be woken by a release.

export class Limiter {
  readonly #max: number;
  #used = 0;
  readonly #waiting = new Set<() => void>();

  constructor(max: number) {
    this.#max = max;
  }

  get available(): number {
    return this.#max - this.#used;
  }

  tryAcquire(): boolean {
    if (this.#used >= this.#max) return false;
    this.#used++;
    return true;
  }

  release(): void {
    this.#used--;
    for (const wake of this.#waiting) wake();
  }

  /** Registers a callback for when capacity frees up; returns its removal. */
  onRelease(wake: () => void): () => void {
    this.#waiting.add(wake);
    return () => this.#waiting.delete(wake);
  }
}
