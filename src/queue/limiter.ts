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
    if (this.#waiting.size === 0) return;
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const wake of waiting) wake();
  }

  /** Calls `wake` once, at the next release: for a consumer that found the limit full. */
  notifyOnRelease(wake: () => void): void {
    this.#waiting.add(wake);
  }

  forget(wake: () => void): void {
    this.#waiting.delete(wake);
  }
}
