// A worker thread that writes for a store (run records), and the main thread's handle on
// it: each message gets an id and its promise settles when the thread answers. The thread
// posts 'running' once it can take work, answers { id } or { id, error, code }, and exits
// after 'close' once everything before it is written.

import { Worker } from 'node:worker_threads';
import { MainspringError } from '../core/errors.ts';

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

type Answer = 'running' | { readonly id: number; readonly error?: string; readonly code?: string };

export class WriterThread {
  readonly #name: string;
  readonly #thread: Worker;
  readonly #waiting = new Map<number, Waiter>();
  readonly #exited: Promise<void>;
  readonly #onStop: () => void;
  #next = 1;
  #ready = false;
  #stopped = false;

  /** `source`: the thread's CommonJS code; `onStop`: it stopped (failed to start, died or closed). */
  constructor(name: string, source: string, workerData: unknown, onStop: () => void = () => {}) {
    this.#name = name;
    this.#onStop = onStop;
    this.#thread = new Worker(source, { eval: true, workerData });
    // Idle, it must not keep the process alive; with work queued, it must.
    this.#thread.unref();
    this.#exited = new Promise((resolve) => this.#thread.once('exit', () => resolve()));
    this.#thread.on('message', (m: Answer) => {
      if (m === 'running') {
        this.#ready = true;
        return;
      }
      const waiter = this.#waiting.get(m.id);
      this.#waiting.delete(m.id);
      if (this.#waiting.size === 0) this.#thread.unref();
      if (m.error === undefined) waiter?.resolve();
      else waiter?.reject(Object.assign(new Error(m.error), m.code ? { code: m.code } : {}));
    });
    this.#thread.once('error', (err) => this.#stop(err));
    this.#thread.once('exit', () => this.#stop(null));
  }

  /** Whether it has started and takes work. */
  get ready(): boolean {
    return this.#ready;
  }

  post(message: object): Promise<void> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      if (this.#waiting.size === 0) this.#thread.ref();
      this.#waiting.set(id, { resolve, reject });
      this.#thread.postMessage({ id, ...message });
    });
  }

  /** Lets the queued writes finish, then stops the thread. */
  async close(): Promise<void> {
    this.#thread.ref();
    this.#thread.postMessage('close');
    await this.#exited;
  }

  #stop(err: Error | null): void {
    this.#ready = false;
    for (const w of this.#waiting.values()) {
      w.reject(
        new MainspringError('E_STORE_WRITER', `the ${this.#name} stopped: ${err?.message ?? 'it exited'}`, {
          cause: err,
        }),
      );
    }
    this.#waiting.clear();
    if (this.#stopped) return;
    this.#stopped = true;
    this.#onStop();
  }
}
