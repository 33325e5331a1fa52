// The queue client: send and sendBatch for producers; list, stats, dead letters,
// redrive and purge for operators. Everything a caller can get wrong is checked
// before anything is stored; a batch is stored whole or not at all.

import type { Clock } from '../core/clock.ts';
import { type Duration, parseDuration } from '../core/duration.ts';
import { isMainspringError, MainspringError } from '../core/errors.ts';
import { captureTraceContext } from '../observability/tracing.ts';
import {
  checkTx,
  type MessageRow,
  type NewMessage,
  type QueueCounts,
  type QueueStore,
  type SqlClient,
} from '../store/types.ts';
import { checkQueueName, type QueueDefinition, type QueueSettings } from './define.ts';
import { type DebounceOptions, resolveGate, type ThrottleOptions } from './gate-options.ts';

export interface SendOptions {
  /** Invisible until this long after sending: milliseconds or `'10m'`, `'30d'`; any length. */
  readonly delay?: Duration;
  /** Higher first; default 0. A whole number. */
  readonly priority?: number;
  /** A second send with this key within the queue's dedup window stores nothing and returns the first id. */
  readonly dedupKey?: string;
  /**
   * Collapse sends under a key into one message, run with the last body after a quiet period;
   * a send replaces the pending message and returns its id. Not with dedupKey, throttle, delay or tx.
   */
  readonly debounce?: DebounceOptions;
  /**
   * At most one message per key per period: later sends dropped, or delayed to keep the
   * spacing. Not with dedupKey, debounce or tx.
   */
  readonly throttle?: ThrottleOptions;
  /** FIFO queues: messages of one group are delivered in send order, one at a time. Required there. */
  readonly groupId?: string;
}

export interface BatchEntry extends SendOptions {
  readonly body: unknown;
}

export type { SqlClient };

/** How a send is carried out, for the whole call (one message or a batch). */
export interface SendTransactionOptions {
  /**
   * PostgreSQL only: your own client, inside a transaction you opened (a node-postgres
   * Client or PoolClient as it is; postgres.js through a one-line adapter). The messages are
   * inserted through it, by the store schema's SQL function `send`, so they exist if and
   * only if you commit; idle workers wake on your commit.
   */
  readonly tx?: SqlClient;
}

export interface QueueCountsInfo {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
  readonly dead: number;
  /** Of the visible: turned back by a function's keyed concurrency limit, waiting for a slot of their key. */
  readonly waitingForSlot: number;
  /** Of the delayed: held back by a function's rate limit until their token. */
  readonly rateLimited: number;
  /** Age of the oldest message now in the queue, or null when it is empty. */
  readonly oldestAgeMs: number | null;
}

export interface QueueInfo {
  readonly name: string;
  readonly settings: QueueSettings;
  readonly counts: QueueCountsInfo;
  /** Paused: no process receives its messages (sends are still stored) until it is resumed. */
  readonly paused: boolean;
  /** When it was paused, or null. */
  readonly pausedAt: Date | null;
}

/** A queue's pause state, as pause and resume return it. */
export type QueuePauseInfo = Pick<QueueInfo, 'name' | 'paused' | 'pausedAt'>;

/** A stored message as operators see it. */
export interface MessageInfo {
  readonly id: string;
  readonly queue: string;
  readonly body: unknown;
  readonly priority: number;
  readonly receiveCount: number;
  readonly state: 'visible' | 'in_flight' | 'delayed';
  readonly sentAt: Date;
  readonly visibleAt: Date;
  readonly groupId: string | null;
  /** Every failure so far, oldest first. */
  readonly errors: unknown[];
  /** For dead letters: the queue the message came from, and when it died. */
  readonly sourceQueue: string | null;
  readonly deadAt: Date | null;
}

const MAX_DEDUP_KEY = 128;
const MAX_GROUP_ID = 128;
const MAX_BATCH = 10_000;
const SEND_CALL = { noun: 'a send', verb: 'send' };

function invalid(field: string, message: string, value: unknown): MainspringError {
  return new MainspringError('E_MESSAGE_INVALID', `${field} ${message}`, { details: { field, value } });
}

export function encodeBody(body: unknown, field: string, maxBytes: number): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(body);
  } catch (err) {
    throw invalid(field, `is not JSON-serialisable (${(err as Error).message}); send plain data`, undefined);
  }
  if (json === undefined) {
    throw invalid(
      field,
      `is ${typeof body === 'function' ? 'a function' : String(body)}, which JSON cannot hold; send plain data`,
      undefined,
    );
  }
  const bytes = Buffer.byteLength(json);
  if (bytes > maxBytes) {
    throw new MainspringError(
      'E_PAYLOAD_TOO_LARGE',
      `${field} is ${bytes} bytes of JSON, over the queue's limit of ${maxBytes}; store large data elsewhere and send a reference, or raise maxBodyBytes`,
      { details: { field, bytes, limit: maxBytes } },
    );
  }
  return json;
}

export function toMessageInfo(row: MessageRow, nowMs: number): MessageInfo {
  const held = row.leased && row.leaseUntilMs !== null && row.leaseUntilMs > nowMs;
  return {
    id: String(row.id),
    queue: row.queue,
    body: JSON.parse(row.body) as unknown,
    priority: row.priority,
    receiveCount: row.receiveCount,
    state: held ? 'in_flight' : row.visibleAtMs <= nowMs ? 'visible' : 'delayed',
    sentAt: new Date(row.sentAtMs),
    visibleAt: new Date(held ? row.leaseUntilMs! : row.visibleAtMs),
    groupId: row.groupId,
    errors: row.errors,
    sourceQueue: row.sourceQueue,
    deadAt: row.deadAtMs === null ? null : new Date(row.deadAtMs),
  };
}

function parseId(id: string | number, field = 'id'): number {
  const n = typeof id === 'number' ? id : /^[1-9]\d{0,15}$/.test(id) ? Number(id) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw invalid(field, `${JSON.stringify(id)} is not a message id`, id);
  return n;
}

/**
 * Sends and manages messages.
 *
 * @example
 * ```ts
 * const id = await ms.queues.send('orders', { orderId: 42 }, { delay: '10m' });
 * const stats = await ms.queues.stats('orders'); // { counts: { visible, inFlight, delayed, dead, oldestAgeMs } }
 * await ms.queues.redrive('orders');             // dead letters back into 'orders'
 * ```
 */
export class Queues {
  readonly #store: QueueStore;
  readonly #clock: Clock;
  readonly #defined = new Map<string, QueueSettings>();
  readonly #fromStore = new Map<string, { settings: QueueSettings; at: number }>();

  constructor(store: QueueStore, clock: Clock, definitions: readonly QueueDefinition[] = []) {
    this.#store = store;
    this.#clock = clock;
    for (const d of definitions) {
      if (this.#defined.has(d.name)) {
        throw new MainspringError(
          'E_QUEUE_INVALID',
          `queue "${d.name}" is defined twice; give each queue one definition`,
        );
      }
      this.#defined.set(d.name, d.settings);
    }
  }

  /** Stores this process's queue definitions, after checking every dead-letter queue exists. */
  async register(): Promise<void> {
    for (const [name, s] of this.#defined) {
      if (
        s.deadLetterQueue &&
        !this.#defined.has(s.deadLetterQueue) &&
        !(await this.#store.getQueue(s.deadLetterQueue))
      ) {
        throw new MainspringError(
          'E_QUEUE_INVALID',
          `queue "${name}": deadLetterQueue "${s.deadLetterQueue}" does not exist; define it with defineQueue({ name: '${s.deadLetterQueue}' })`,
          { details: { field: 'deadLetterQueue', value: s.deadLetterQueue } },
        );
      }
    }
    const now = this.#clock.now();
    for (const [name, settings] of this.#defined) await this.#store.upsertQueue(name, settings, now);
  }

  /** The settings of a queue defined here or by any process sharing the store. */
  async settings(queue: string | QueueDefinition): Promise<QueueSettings> {
    const name = typeof queue === 'string' ? queue : queue.name;
    const local = this.#defined.get(name);
    if (local) return local;
    const cached = this.#fromStore.get(name);
    const now = this.#clock.now();
    // Definitions change only when a process restarts with a new config: a short cache
    // (five real seconds, however the clock is scaled) is safe.
    if (cached && now - cached.at < this.#clock.real(5000)) return cached.settings;
    const row = await this.#store.getQueue(checkQueueName(name, 'queue'));
    if (!row) throw queueNotFound(name);
    const settings = row.config as QueueSettings;
    this.#fromStore.set(name, { settings, at: now });
    return settings;
  }

  /**
   * Sends one message; returns its id (or, for a live dedup key or a dropping throttle, the first
   * message's id; for a debounce key with a pending message, that message's id).
   * With `tx` (PostgreSQL), the send is part of your open transaction.
   *
   * @example
   * ```ts
   * await client.query('BEGIN');
   * await client.query(insertOrder, [42]);                          // your own write
   * await ms.queues.send('emails', { orderId: 42 }, { tx: client }); // commits or rolls back with the order
   * await client.query('COMMIT');
   * ```
   */
  async send(
    queue: string | QueueDefinition,
    body: unknown,
    options: SendOptions & SendTransactionOptions = {},
  ): Promise<string> {
    const { tx, ...rest } = options ?? {};
    const [id] = await this.#send(queue, [{ ...rest, body }], 'body', tx);
    return id!;
  }

  /**
   * Sends messages in order, atomically: all are stored or none. Returns their ids in order.
   * With `tx` (PostgreSQL), all are stored if and only if your transaction commits.
   */
  async sendBatch(
    queue: string | QueueDefinition,
    entries: readonly BatchEntry[],
    options: SendTransactionOptions = {},
  ): Promise<string[]> {
    return this.#send(queue, entries, 'entries', options?.tx);
  }

  async #send(
    queue: string | QueueDefinition,
    entries: readonly BatchEntry[],
    field: string,
    tx: SqlClient | undefined,
  ): Promise<string[]> {
    const name = typeof queue === 'string' ? queue : queue.name;
    if (tx !== undefined) {
      checkTx(tx, this.#store.sendThrough !== undefined, SEND_CALL);
      refuseGatesWithTx(entries, field);
    }
    const settings = await this.settings(queue);
    if (!Array.isArray(entries) || entries.length === 0 || entries.length > MAX_BATCH) {
      throw invalid(
        field,
        `must be a list of 1 to ${MAX_BATCH} messages`,
        Array.isArray(entries) ? entries.length : entries,
      );
    }
    const now = this.#clock.now();
    // Once per batch: every message of it is sent in the same context (null when none is active).
    const trace = captureTraceContext();
    const prepared = entries.map((e, i) =>
      this.#prepare(
        name,
        settings,
        e,
        entries.length === 1 && field === 'body' ? '' : `${field}[${i}].`,
        now,
        trace,
      ),
    );
    // The dedup window guards against a producer's retries, which come at real speed: real time.
    const dedupWindowMs = this.#clock.real(settings.dedupWindowMs);
    if (tx !== undefined) return this.#store.sendThrough!(tx, name, prepared, now, dedupWindowMs);
    const inserted = await this.#store.send(name, prepared, now, dedupWindowMs);
    return inserted.map((m) => String(m.id));
  }

  #prepare(
    queue: string,
    s: QueueSettings,
    e: BatchEntry,
    at: string,
    now: number,
    traceContext: string | null,
  ): NewMessage {
    const f = (name: string) => (at ? `${at}${name}` : name);
    const body = encodeBody(e?.body, f('body'), s.maxBodyBytes);
    let delayMs = 0;
    if (e.delay !== undefined) {
      try {
        delayMs = parseDuration(e.delay, f('delay'));
      } catch (err) {
        if (!isMainspringError(err)) throw err;
        throw invalid(f('delay'), err.message.replace(/^\S+ /, ''), e.delay);
      }
    }
    const priority = e.priority ?? 0;
    if (!Number.isInteger(priority) || Math.abs(priority) > 2 ** 31 - 1) {
      throw invalid(
        f('priority'),
        `is ${JSON.stringify(priority)}; use a whole number (higher is delivered first)`,
        priority,
      );
    }
    if (
      e.dedupKey !== undefined &&
      (typeof e.dedupKey !== 'string' || e.dedupKey.length === 0 || e.dedupKey.length > MAX_DEDUP_KEY)
    ) {
      throw invalid(f('dedupKey'), `must be a string of 1 to ${MAX_DEDUP_KEY} characters`, e.dedupKey);
    }
    const gate = resolveGate(e, f, s.fifo ? queue : null);
    if (e.groupId !== undefined && !s.fifo) {
      throw invalid(
        f('groupId'),
        `is set, but queue "${queue}" is not FIFO; drop groupId or define the queue with fifo: true`,
        e.groupId,
      );
    }
    if (
      s.fifo &&
      (typeof e.groupId !== 'string' || e.groupId.length === 0 || e.groupId.length > MAX_GROUP_ID)
    ) {
      throw invalid(
        f('groupId'),
        `is required on FIFO queue "${queue}": a string of 1 to ${MAX_GROUP_ID} characters naming the ordered group`,
        e.groupId,
      );
    }
    return {
      body,
      priority,
      visibleAtMs: now + delayMs,
      groupId: e.groupId ?? null,
      dedupKey: e.dedupKey ?? null,
      traceContext,
      ...(gate ? { gate } : {}),
    };
  }

  /** Every known queue with its settings and counts. */
  async list(): Promise<QueueInfo[]> {
    const now = this.#clock.now();
    const [rows, counts] = await Promise.all([this.#store.listQueues(), this.#store.counts(now)]);
    const byQueue = new Map(counts.map((c) => [c.queue, c]));
    return rows.map((r) => ({
      name: r.name,
      settings: r.config as QueueSettings,
      counts: toCountsInfo(byQueue.get(r.name), now),
      ...pauseOf(r.pausedAtMs),
    }));
  }

  async stats(queue: string): Promise<QueueInfo> {
    const settings = await this.settings(queue);
    const now = this.#clock.now();
    // The row, not the settings cache: a pause in another process shows at once.
    const [all, row] = await Promise.all([this.#store.counts(now), this.#store.getQueue(queue)]);
    const counts = all.find((c) => c.queue === queue);
    return { name: queue, settings, counts: toCountsInfo(counts, now), ...pauseOf(row?.pausedAtMs ?? null) };
  }

  async getMessage(id: string | number): Promise<MessageInfo> {
    const row = await this.#store.getMessage(parseId(id));
    if (!row)
      throw new MainspringError(
        'E_MESSAGE_NOT_FOUND',
        `message ${id} does not exist (it may have been processed)`,
      );
    return toMessageInfo(row, this.#clock.now());
  }

  /** The messages in `queue` (waiting, in flight or delayed), oldest first, `limit` at a time after `after`. */
  async messages(queue: string, options: { limit?: number; after?: string } = {}): Promise<MessageInfo[]> {
    await this.settings(queue);
    const rows = await this.#store.listMessages(queue, {
      limit: Math.min(Math.max(options.limit ?? 100, 1), 1000),
      ...(options.after ? { afterId: parseId(options.after, 'after') } : {}),
    });
    const now = this.#clock.now();
    return rows.map((r) => toMessageInfo(r, now));
  }

  /** The dead letters that came from `queue`, oldest first, `limit` at a time after `after`. */
  async deadLetters(queue: string, options: { limit?: number; after?: string } = {}): Promise<MessageInfo[]> {
    const dlq = await this.#deadLetterQueueOf(queue);
    const rows = await this.#store.listMessages(dlq, {
      limit: Math.min(Math.max(options.limit ?? 100, 1), 1000),
      sourceQueue: queue,
      ...(options.after ? { afterId: parseId(options.after, 'after') } : {}),
    });
    const now = this.#clock.now();
    return rows.map((r) => toMessageInfo(r, now));
  }

  /** Moves the dead letters of `queue` (all, or `ids`) back into it, with fresh receive counts. */
  async redrive(queue: string, options: { ids?: readonly (string | number)[] } = {}): Promise<number> {
    const dlq = await this.#deadLetterQueueOf(queue);
    const ids = options.ids?.map((id, i) => parseId(id, `ids[${i}]`));
    return this.#store.redrive(dlq, { sourceQueue: queue, ...(ids ? { ids } : {}) }, this.#clock.now());
  }

  /** Deletes every message in the queue (visible, in flight and delayed). */
  async purge(queue: string): Promise<number> {
    await this.settings(queue);
    return this.#store.purge(queue);
  }

  /**
   * Pauses the queue: every process stops receiving from it at its next claim (within its poll
   * interval, at most), while sends are still stored and leased messages finish or time out as
   * usual. Idempotent; it stays paused across restarts until `resume`.
   */
  async pause(queue: string | QueueDefinition): Promise<QueuePauseInfo> {
    return this.#setPaused(queue, true);
  }

  /** Resumes a paused queue and wakes its idle consumers; idempotent. */
  async resume(queue: string | QueueDefinition): Promise<QueuePauseInfo> {
    return this.#setPaused(queue, false);
  }

  async #setPaused(queue: string | QueueDefinition, paused: boolean): Promise<QueuePauseInfo> {
    const name = checkQueueName(typeof queue === 'string' ? queue : queue.name, 'queue');
    const row = await this.#store.setPaused(name, paused, this.#clock.now());
    if (!row) throw queueNotFound(name);
    return { name, ...pauseOf(row.pausedAtMs) };
  }

  async #deadLetterQueueOf(queue: string): Promise<string> {
    const settings = await this.settings(queue);
    if (!settings.deadLetterQueue) {
      throw new MainspringError(
        'E_QUEUE_INVALID',
        `queue "${queue}" has no dead-letter queue; set deadLetterQueue and maxReceiveCount in its definition`,
        { details: { field: 'queue', value: queue } },
      );
    }
    return settings.deadLetterQueue;
  }
}

/** Debounce and throttle have no place in a send through `tx`: the SQL function `send` has neither. */
function refuseGatesWithTx(entries: readonly BatchEntry[], field: string): void {
  const i = Array.isArray(entries)
    ? entries.findIndex((e) => e?.debounce !== undefined || e?.throttle !== undefined)
    : -1;
  if (i < 0) return;
  const which = entries[i]!.debounce !== undefined ? 'debounce' : 'throttle';
  const at = entries.length === 1 && field === 'body' ? which : `${field}[${i}].${which}`;
  throw invalid(
    at,
    `cannot be combined with tx: a send in your transaction has no ${which}; send it after your commit without tx, or drop ${which}`,
    entries[i]![which],
  );
}

function queueNotFound(name: string): MainspringError {
  return new MainspringError(
    'E_QUEUE_NOT_FOUND',
    `queue "${name}" does not exist; define it with defineQueue({ name: '${name}' }) in the config`,
    { details: { field: 'queue', value: name } },
  );
}

function pauseOf(pausedAtMs: number | null): { paused: boolean; pausedAt: Date | null } {
  return { paused: pausedAtMs !== null, pausedAt: pausedAtMs === null ? null : new Date(pausedAtMs) };
}

function toCountsInfo(c: Omit<QueueCounts, 'queue'> | undefined, now: number): QueueCountsInfo {
  return {
    visible: c?.visible ?? 0,
    inFlight: c?.inFlight ?? 0,
    delayed: c?.delayed ?? 0,
    dead: c?.dead ?? 0,
    waitingForSlot: c?.waitingForSlot ?? 0,
    rateLimited: c?.rateLimited ?? 0,
    oldestAgeMs: c?.oldestSentAtMs == null ? null : Math.max(0, now - c.oldestSentAtMs),
  };
}
