// Who may write to an SQLite file next, between this process's main thread and its run
// writer thread. SQLite serialises writers itself, but a connection that finds the file
// locked sleeps in its busy handler for a millisecond or more each time — far longer than
// the other side holds it. So both sides take this lock first, and neither ever waits
// inside SQLite on the other: the main thread waits on a futex for at most the writer's
// current chunk, and the writer waits until the main thread is done.

/** Int32 cells of the shared buffer. */
export const LOCK_CELL = 0;
/** Non-zero while the main thread waits for the lock: the writer yields at its next chunk. */
export const MAIN_WAITING_CELL = 1;
/** Non-zero while the writer sleeps on LOCK_CELL: only then is a release worth a wake-up call. */
export const WRITER_WAITING_CELL = 2;
export const FREE = 0;
export const MAIN = 1;
export const WRITER = 2;

/** How long the main thread waits for the writer before it gives up with an error. */
const GIVE_UP_MS = 30_000;

export class WriteLock {
  readonly buffer = new SharedArrayBuffer(12);
  readonly #cell = new Int32Array(this.buffer);
  /** Nesting on the main thread: a transaction's statements run while it holds the lock. */
  #depth = 0;
  /** Off until a writer thread shares the file: until then SQLite's own locking suffices. */
  #active = false;

  get active(): boolean {
    return this.#active;
  }

  /** Switched only between turns of the event loop, never inside a transaction. */
  setActive(on: boolean): void {
    if (this.#depth !== 0) throw new Error('write lock switched while held');
    this.#active = on;
  }

  enter(): void {
    if (!this.#active || this.#depth++ > 0) return;
    const cell = this.#cell;
    if (Atomics.compareExchange(cell, LOCK_CELL, FREE, MAIN) === FREE) return;
    Atomics.store(cell, MAIN_WAITING_CELL, 1);
    const deadline = Date.now() + GIVE_UP_MS;
    for (;;) {
      const holder = Atomics.compareExchange(cell, LOCK_CELL, FREE, MAIN);
      if (holder === FREE) break;
      Atomics.wait(cell, LOCK_CELL, holder, 50);
      if (Date.now() > deadline) {
        Atomics.store(cell, MAIN_WAITING_CELL, 0);
        this.#depth = 0;
        throw new Error(`the SQLite run writer thread held the write lock for over ${GIVE_UP_MS} ms`);
      }
    }
    Atomics.store(cell, MAIN_WAITING_CELL, 0);
  }

  leave(): void {
    if (!this.#active || --this.#depth > 0) return;
    Atomics.store(this.#cell, LOCK_CELL, FREE);
    if (Atomics.load(this.#cell, WRITER_WAITING_CELL) !== 0) Atomics.notify(this.#cell, LOCK_CELL);
  }

  /** A writer thread that died cannot release what it held. */
  breakWriterHold(): void {
    Atomics.compareExchange(this.#cell, LOCK_CELL, WRITER, FREE);
    Atomics.notify(this.#cell, LOCK_CELL);
  }
}
