// The event bus: stores events durably (`put`), routes each to the rules it matches
// by sending one message per (event, rule, target) with a dedup key, sweeps events
// a crash left unrouted, deletes events past their retention, and replays a range.
//
// Routing uses the rules in the store (stored-rules.ts), which serving processes store
// from their configs (`storeRules`), so any process that puts an event routes it alike.
//
// Exactly once per (event, rule, target): the event is stored first, then sent to
// every target queue with dedupKey "<event>:<rule>:<target>", then marked routed.
// A crash between those steps leaves it unrouted; the sweep sends it again and the
// dedup keys (kept a day on internal queues) drop what already went out.

import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import { isMainspringError, MainspringError } from '../core/errors.ts';
import { readInstant } from '../core/instant.ts';
import { NAME_LIMITS } from '../core/names.ts';
import type { BatchEntry, Queues } from '../queue/queues.ts';
import { EVENTS_CHANNEL, type EventRow, type EventStore, type NewEvent } from '../store/event-row.ts';
import { checkTx, type SqlClient, type Unlisten } from '../store/types.ts';
import type {
  BusEvent,
  PutEventEntry,
  PutEventResultEntry,
  PutEventsResult,
  ReplayOptions,
  ReplayResult,
  StoredEvent,
} from './event.ts';
import type { RuleDefinition } from './rules-define.ts';
import { StoredRules } from './stored-rules.ts';

export interface EventBusOptions {
  readonly store: EventStore;
  readonly queues: Queues;
  readonly clock: Clock;
  /** The rules this process's config declares: stored by `storeRules`, checked by `checkTargets`. */
  readonly rules: readonly RuleDefinition[];
  /** How long events are kept for replay (default 30 days). */
  readonly retentionMs?: number;
  /**
   * Subscribes to a store channel (`Store.listen`): events put through a caller's transaction
   * are routed when its commit is announced on EVENTS_CHANNEL. Without it, `put` refuses `tx`.
   */
  readonly listen?: (channel: string, handler: (payload: string) => void) => Promise<Unlisten>;
  /** How often the background sweep runs (default 60 s of real time, however the clock is scaled). */
  readonly sweepIntervalMs?: number;
  readonly logger?: Logger;
}

export const MAX_EVENT_BYTES = 256 * 1024;
export const MAX_PUT_ENTRIES = 1000;
export const DEFAULT_RETENTION_MS = 30 * 86_400_000;
const MAX_NAME = 256;
const MAX_ID = NAME_LIMITS.event;
const ID = new RegExp(`^[\\x21-\\x7e]{1,${MAX_ID}}$`);
const PAGE = 500;
/** The sweep leaves younger unrouted events to the put that is routing them now (real time). */
const SWEEP_GRACE_MS = 30_000;
const PUT_CALL = { noun: 'a put', verb: 'put the events' };

/** How a put is carried out. */
export interface PutTransactionOptions {
  /**
   * PostgreSQL only: your own client, inside a transaction you opened (a node-postgres Client
   * or PoolClient as it is; postgres.js through a one-line adapter). The events are stored
   * through it, so only if you commit, and routed by this bus once you have.
   */
  readonly tx?: SqlClient;
}

type Validated = { ok: true; event: NewEvent } | { ok: false; code: string; message: string };

/** A value for an error message: JSON nested deeper than the stack goes must not throw here. */
function shown(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return Array.isArray(value) ? 'a nested array' : typeof value;
  }
}

function bad(index: number, field: string, message: string): Validated {
  return { ok: false, code: 'E_EVENT_INVALID', message: `entries[${index}].${field} ${message}` };
}

// The one instant reader: a zone is required, the calendar is checked, years 0000–9999.
function parseTime(value: unknown): number | null {
  const ms = readInstant(value);
  return typeof ms === 'number' ? ms : null;
}

function validate(entry: unknown, index: number, nowMs: number): Validated {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    return {
      ok: false,
      code: 'E_EVENT_INVALID',
      message: `entries[${index}] is not an object; send { source, detailType, detail }`,
    };
  }
  const e = entry as Record<string, unknown>;
  for (const field of ['source', 'detailType'] as const) {
    const v = e[field];
    // A control character or half a surrogate pair is no name (PostgreSQL refuses a NUL).
    if (
      typeof v !== 'string' ||
      v.length === 0 ||
      v.length > MAX_NAME ||
      /\p{Cc}/u.test(v) ||
      !v.isWellFormed()
    ) {
      return bad(
        index,
        field,
        `is ${v === undefined ? 'missing' : shown(v)}; give a string of 1 to ${MAX_NAME} printable characters`,
      );
    }
  }
  let detail = e['detail'];
  if (typeof detail === 'string') {
    try {
      detail = JSON.parse(detail) as unknown;
    } catch (err) {
      return bad(index, 'detail', `is not valid JSON (${(err as Error).message}); send a JSON object`);
    }
  }
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
    return bad(
      index,
      'detail',
      `is ${detail === undefined ? 'missing' : Array.isArray(detail) ? 'an array' : JSON.stringify(detail)}; send a JSON object, e.g. {}`,
    );
  }
  let timeMs = nowMs;
  if (e['time'] !== undefined) {
    const t = readInstant(e['time']);
    if (typeof t !== 'number') return bad(index, 'time', t.why);
    timeMs = t;
  }
  let id: string = randomUUID();
  if (e['id'] !== undefined) {
    if (typeof e['id'] !== 'string' || !ID.test(e['id'])) {
      return bad(
        index,
        'id',
        `is ${shown(e['id'])}; use 1 to ${MAX_ID} printable ASCII characters without spaces`,
      );
    }
    id = e['id'];
  }
  let json: string;
  try {
    json = JSON.stringify(detail);
  } catch (err) {
    return bad(index, 'detail', `cannot be JSON (${(err as Error).message}); send plain data`);
  }
  const source = e['source'] as string;
  const detailType = e['detailType'] as string;
  const bytes = Buffer.byteLength(json) + Buffer.byteLength(source) + Buffer.byteLength(detailType);
  if (bytes > MAX_EVENT_BYTES) {
    return {
      ok: false,
      code: 'E_PAYLOAD_TOO_LARGE',
      message: `entries[${index}] is ${bytes} bytes, over the event limit of ${MAX_EVENT_BYTES} (256 KiB); store large data elsewhere and send a reference`,
    };
  }
  return { ok: true, event: { id, source, detailType, detail: json, timeMs } };
}

function toBusEvent(row: NewEvent, replayed: boolean): BusEvent {
  const event = {
    id: row.id,
    source: row.source,
    detailType: row.detailType,
    detail: JSON.parse(row.detail) as unknown,
    time: new Date(row.timeMs).toISOString(),
  };
  return replayed ? { ...event, replayed: true } : event;
}

/** The dedup key of one delivery; hashed when it would pass the queue's 128-character limit. */
export function deliveryKey(eventId: string, rule: string, target: string, replayId?: string): string {
  const key = `${eventId}:${rule}:${target}${replayId ? `:replay:${replayId}` : ''}`;
  return key.length <= 128 ? key : `sha256:${createHash('sha256').update(key).digest('base64url')}`;
}

/**
 * The event bus. `ms.events` in an app.
 *
 * @example
 * ```ts
 * const result = await ms.events.put([
 *   { source: 'shop', detailType: 'Order Placed', detail: { id: 'o-1', total: 250 } },
 * ]);
 * // { failedEntryCount: 0, entries: [{ eventId: '…' }] }
 * await ms.events.replay({ from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z', rule: 'big-orders' });
 * ```
 */
export class EventBus {
  readonly #store: EventStore;
  readonly #queues: Queues;
  readonly #clock: Clock;
  readonly #rules: ReadonlyMap<string, RuleDefinition>;
  readonly #stored: StoredRules;
  readonly #retentionMs: number;
  readonly #sweepIntervalMs: number;
  readonly #logger: Logger | undefined;
  #loop: { abort: AbortController; done: Promise<void> } | undefined;
  readonly #listen: EventBusOptions['listen'];
  /** Names this bus in the commit announcements of its transactional puts. */
  readonly #putter = randomUUID();
  #listening: Promise<Unlisten> | undefined;
  /** Ids of events whose put through a caller's transaction has committed, to route. */
  readonly #committed = new Set<string>();
  #routingCommitted: Promise<void> | undefined;

  readonly #watchers: ((events: readonly BusEvent[]) => Promise<void>)[] = [];

  constructor(options: EventBusOptions) {
    this.#store = options.store;
    this.#queues = options.queues;
    this.#clock = options.clock;
    const rules = new Map<string, RuleDefinition>();
    for (const r of options.rules) {
      if (rules.has(r.name)) {
        throw new MainspringError(
          'E_RULE_INVALID',
          `rule "${r.name}" is defined twice; give each rule one name`,
          {
            details: { field: 'name', value: r.name },
          },
        );
      }
      rules.set(r.name, r);
    }
    this.#rules = rules;
    this.#stored = new StoredRules(options.store.rules, options.logger);
    this.#retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.#sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
    this.#logger = options.logger;
    this.#listen = options.listen;
  }

  /** The rules this process's config declares (events are routed by the stored rules). */
  get rules(): readonly RuleDefinition[] {
    return [...this.#rules.values()];
  }

  /**
   * Stores this process's rules, replacing stored rules of the same names and removing the
   * rules its config declared before and no longer does (see stored-rules.ts). Serving
   * processes call it at start; with no rules it writes and removes nothing.
   */
  async storeRules(): Promise<void> {
    await this.#stored.declare([...this.#rules.values()], this.#clock.now());
  }

  /** The names of the stored rules, which every process routes by. */
  async storedRules(): Promise<string[]> {
    return [...(await this.#stored.current()).byName.keys()];
  }

  /**
   * Removes a stored rule by name, for a rule no config speaks for any more (a config's
   * last rule, or every rule of a config renamed at once). A serving process whose config
   * still declares it stores it again when it starts. Returns whether it was stored.
   *
   * @example
   * ```ts
   * await ms.events.removeRule('old-orders');
   * ```
   */
  async removeRule(name: string): Promise<boolean> {
    return this.#store.rules.remove(name);
  }

  /** Checks that every queue target exists (defined here or by a process sharing the store). */
  async checkTargets(): Promise<void> {
    for (const rule of this.#rules.values()) {
      for (const t of rule.targets) {
        if (t.kind !== 'queue') continue;
        await this.#queues.settings(t.queue).catch((err: unknown) => {
          throw new MainspringError(
            'E_RULE_INVALID',
            `rule "${rule.name}": target queue "${t.name}" does not exist; define it with defineQueue({ name: '${t.name}' }) in the config`,
            { cause: err, details: { rule: rule.name, field: 'targets', value: t.name } },
          );
        });
      }
    }
  }

  /**
   * Stores the valid entries and routes them to the matching rules. Invalid entries
   * get an error in their place and store nothing; the others are stored.
   *
   * With `tx` (PostgreSQL), they are stored through your client in your open transaction, so
   * only if you commit, and routed once you do: this bus hears the commit and routes them as
   * any put (one delivery per rule target, event-waiting workflows resumed).
   *
   * @example
   * ```ts
   * await client.query('BEGIN');
   * await client.query(insertOrder, [42]);                                             // your own write
   * await ms.events.put([{ source: 'shop', detailType: 'Order Placed', detail: { id: 42 } }], { tx: client });
   * await client.query('COMMIT');                                                      // routed from here on
   * ```
   */
  async put(
    entries: readonly PutEventEntry[] | readonly unknown[],
    options: PutTransactionOptions = {},
  ): Promise<PutEventsResult> {
    const tx = options?.tx;
    if (tx !== undefined) {
      checkTx(tx, this.#store.insertThrough !== undefined && this.#listen !== undefined, PUT_CALL);
    }
    if (!Array.isArray(entries) || entries.length === 0 || entries.length > MAX_PUT_ENTRIES) {
      throw new MainspringError(
        'E_EVENT_INVALID',
        `entries must be a list of 1 to ${MAX_PUT_ENTRIES} events; got ${Array.isArray(entries) ? `${entries.length}` : typeof entries}`,
        { details: { field: 'entries' } },
      );
    }
    const now = this.#clock.now();
    const checked = entries.map((e, i) => validate(e, i, now));
    const valid = checked.flatMap((c) => (c.ok ? [c.event] : []));
    if (tx === undefined) {
      const stored = await this.#store.insert(valid, now);
      await this.#routeStored(valid.filter((_, i) => stored[i]));
    } else if (valid.length > 0) {
      // Listening before the insert: the announcement comes with the caller's commit.
      await this.#hearCommits();
      await this.#store.insertThrough!(tx, valid, now, this.#putter);
    }
    let failed = 0;
    const results = checked.map((c): PutEventResultEntry => {
      if (c.ok) return { eventId: c.event.id };
      failed++;
      return { errorCode: c.code, errorMessage: c.message };
    });
    return { failedEntryCount: failed, entries: results };
  }

  /**
   * Stores and routes one event; throws E_EVENT_INVALID (or E_PAYLOAD_TOO_LARGE) when it
   * is invalid. `duplicate`: an event with its id was already stored, and nothing changed.
   */
  async ingest(entry: PutEventEntry): Promise<{ eventId: string; duplicate: boolean }> {
    const now = this.#clock.now();
    const checked = validate(entry, 0, now);
    if (!checked.ok) {
      throw new MainspringError(
        checked.code === 'E_PAYLOAD_TOO_LARGE' ? 'E_PAYLOAD_TOO_LARGE' : 'E_EVENT_INVALID',
        checked.message.replace(/^entries\[0\]\.?/, 'event '),
      );
    }
    const [stored] = await this.#store.insert([checked.event], now);
    if (stored) await this.#routeStored([checked.event]);
    return { eventId: checked.event.id, duplicate: !stored };
  }

  /** A stored event by id. */
  async get(id: string): Promise<StoredEvent> {
    const row = await this.#store.get(id);
    if (!row) {
      throw new MainspringError(
        'E_EVENT_NOT_FOUND',
        `event "${id}" is not stored (never put, or past its retention)`,
        {
          details: { field: 'id', value: id },
        },
      );
    }
    return {
      ...toBusEvent(row, false),
      putAt: new Date(row.putAtMs).toISOString(),
      routedAt: row.routedAtMs === null ? null : new Date(row.routedAtMs).toISOString(),
    };
  }

  /**
   * Routes events stored at least `graceMs` (real time) ago that were never routed (a crash
   * between storing and routing). Returns how many were routed.
   */
  async routePending(graceMs = 0): Promise<number> {
    const before = this.#clock.now() - this.#clock.real(graceMs);
    let after = 0;
    let total = 0;
    for (;;) {
      const rows = await this.#store.listUnrouted(before, after, PAGE);
      if (rows.length === 0) return total;
      await this.#route(rows, null);
      total += rows.length;
      after = rows[rows.length - 1]!.seq;
    }
  }

  /**
   * Stored events whose time is in [from, to), oldest first after `after` (the previous
   * page's last `cursor`), each with the stored rules it matches now and the queues those
   * rules deliver to.
   */
  async list(options: { from: number; to: number; after?: string | undefined; limit: number }): Promise<{
    events: (StoredEvent & { rules: { name: string; queues: string[] }[] })[];
    nextCursor: string | null;
  }> {
    let after: { timeMs: number; seq: number } | null = null;
    if (options.after !== undefined) {
      const [timeMs, seq] = options.after.split('.').map(Number);
      if (!Number.isSafeInteger(timeMs) || !Number.isSafeInteger(seq)) {
        throw new MainspringError('E_EVENT_INVALID', 'cursor: pass the nextCursor of the previous page', {
          details: { field: 'cursor', value: options.after },
        });
      }
      after = { timeMs: timeMs!, seq: seq! };
    }
    const rows = await this.#store.listByTime(options.from, options.to, after, options.limit + 1);
    const page = rows.slice(0, options.limit);
    const rules = await this.#stored.current();
    const last = page[page.length - 1];
    return {
      events: page.map((row) => {
        const event = toBusEvent(row, false);
        return {
          ...event,
          putAt: new Date(row.putAtMs).toISOString(),
          routedAt: row.routedAtMs === null ? null : new Date(row.routedAtMs).toISOString(),
          rules: [...rules.matcher.match(event)].map((name) => ({
            name,
            queues: [...new Set(rules.byName.get(name)?.targets.map((t) => t.queue) ?? [])],
          })),
        };
      }),
      nextCursor: rows.length > options.limit && last ? `${last.timeMs}.${last.seq}` : null,
    };
  }

  /** Sends the events whose time is in [from, to) to the rules again (or one rule), marked replayed. */
  async replay(options: ReplayOptions): Promise<ReplayResult> {
    const from = parseTime(options.from);
    const to = parseTime(options.to);
    if (from === null || to === null || from >= to) {
      throw new MainspringError(
        'E_EVENT_INVALID',
        `replay range from ${JSON.stringify(options.from)} to ${JSON.stringify(options.to)} is not valid; give two ISO 8601 times, from before to`,
        { details: { field: from === null ? 'from' : 'to', from: options.from, to: options.to } },
      );
    }
    const stored = (await this.#stored.current()).byName;
    if (options.rule !== undefined && !stored.has(options.rule)) {
      throw new MainspringError(
        'E_RULE_INVALID',
        `replay: no rule "${options.rule}"; the stored rules are ${[...stored.keys()].join(', ') || '(none)'}`,
        { details: { field: 'rule', value: options.rule } },
      );
    }
    const replayId = randomUUID();
    let cursor: { timeMs: number; seq: number } | null = null;
    let events = 0;
    let deliveries = 0;
    for (;;) {
      const rows: EventRow[] = await this.#store.listByTime(from, to, cursor, PAGE);
      if (rows.length === 0) break;
      deliveries += await this.#route(rows, { id: replayId, rule: options.rule });
      events += rows.length;
      const last = rows[rows.length - 1]!;
      cursor = { timeMs: last.timeMs, seq: last.seq };
    }
    this.#logger?.info({ replayId, events, deliveries, rule: options.rule }, 'events replayed');
    return { replayId, events, deliveries };
  }

  /** Deletes events stored longer ago than the retention; returns how many. */
  async sweepRetention(): Promise<number> {
    const before = this.#clock.now() - this.#retentionMs;
    let total = 0;
    for (;;) {
      const n = await this.#store.deleteStoredBefore(before, 1000);
      total += n;
      if (n < 1000) return total;
    }
  }

  /** Routes what a crash left unrouted, then sweeps periodically until `stop`. */
  async start(): Promise<void> {
    if (this.#loop) return;
    await this.checkTargets();
    await this.routePending(0);
    const abort = new AbortController();
    const done = (async () => {
      while (!abort.signal.aborted) {
        await this.#clock.sleep(this.#clock.real(this.#sweepIntervalMs), abort.signal).catch(() => {});
        if (abort.signal.aborted) return;
        try {
          await this.routePending(SWEEP_GRACE_MS);
          await this.sweepRetention();
        } catch (err) {
          this.#logger?.error({ err }, 'event bus sweep failed; retrying at the next sweep');
        }
      }
    })();
    this.#loop = { abort, done };
  }

  async stop(): Promise<void> {
    const loop = this.#loop;
    const listening = this.#listening;
    this.#loop = undefined;
    this.#listening = undefined;
    loop?.abort.abort();
    await loop?.done;
    await (await listening?.catch(() => undefined))?.();
    await this.#routingCommitted;
  }

  /** Subscribes (once) to the commit announcements of this bus's transactional puts. */
  async #hearCommits(): Promise<void> {
    this.#listening ??= this.#listen!(EVENTS_CHANNEL, (payload) => this.#heard(payload));
    try {
      await this.#listening;
    } catch (err) {
      this.#listening = undefined;
      throw err;
    }
  }

  /** One announcement, `<putter> <event id>`: an event this bus put has been committed. */
  #heard(payload: string): void {
    const space = payload.indexOf(' ');
    if (space < 0 || payload.slice(0, space) !== this.#putter) return;
    this.#committed.add(payload.slice(space + 1));
    this.#routingCommitted ??= this.#routeCommitted();
  }

  /**
   * Routes the committed events as a put routes its own. An announcement lost (the listener
   * was reconnecting, the process stopped) leaves its events unrouted for the sweep, as a
   * crash between storing and routing does.
   */
  async #routeCommitted(): Promise<void> {
    try {
      // The announcements of one commit arrive together: route them as one batch.
      await new Promise((resolve) => setImmediate(resolve));
      while (this.#committed.size > 0) {
        const ids = [...this.#committed].slice(0, PAGE);
        for (const id of ids) this.#committed.delete(id);
        try {
          const rows = await Promise.all(ids.map((id) => this.#store.get(id)));
          await this.#routeStored(rows.filter((r): r is EventRow => r !== null && r.routedAtMs === null));
        } catch (err) {
          this.#logger?.error(
            { err, events: ids.length },
            'routing committed events failed; the bus sweep will route them',
          );
        }
      }
    } finally {
      this.#routingCommitted = undefined;
    }
  }

  /**
   * Routes just-stored events. They are durable already, so a failure here does not fail
   * the put: the events stay unrouted and the sweep routes them.
   */
  async #routeStored(rows: readonly NewEvent[]): Promise<void> {
    try {
      await this.#route(rows, null);
    } catch (err) {
      this.#logger?.error(
        { err, events: rows.length },
        'routing stored events failed; the bus sweep will route them again',
      );
    }
    if (rows.length === 0 || this.#watchers.length === 0) return;
    const events = rows.map((r) => toBusEvent(r, false));
    for (const watch of this.#watchers) {
      await watch(events).catch((err: unknown) =>
        this.#logger?.error({ err, events: rows.length }, 'an event watcher failed'),
      );
    }
  }

  /**
   * Calls `watch` with the events of each put, once stored and routed (not with replays).
   * Workflows waiting for events (`ctx.waitForEvent`) are resumed this way.
   */
  watch(watch: (events: readonly BusEvent[]) => Promise<void>): void {
    this.#watchers.push(watch);
  }

  /** Sends each event to the targets of the stored rules it matches; returns the messages sent. */
  async #route(
    rows: readonly NewEvent[],
    replay: { id: string; rule: string | undefined } | null,
  ): Promise<number> {
    if (rows.length === 0) return 0;
    const rules = await this.#stored.current();
    const perQueue = new Map<string, BatchEntry[]>();
    for (const row of rows) {
      const event = toBusEvent(row, replay !== null);
      for (const name of rules.matcher.match(event)) {
        if (replay?.rule !== undefined && replay.rule !== name) continue;
        const rule = rules.byName.get(name)!;
        const body = rule.transform(event);
        for (const t of rule.targets) {
          const list = perQueue.get(t.queue) ?? [];
          list.push({ body, dedupKey: deliveryKey(row.id, name, t.key, replay?.id) });
          perQueue.set(t.queue, list);
        }
      }
    }
    let sent = 0;
    for (const [queue, entries] of perQueue) sent += await this.#send(queue, entries);
    if (!replay)
      await this.#store.markRouted(
        rows.map((r) => r.id),
        this.#clock.now(),
      );
    return sent;
  }

  async #send(queue: string, entries: BatchEntry[]): Promise<number> {
    try {
      await this.#queues.sendBatch(queue, entries);
      return entries.length;
    } catch (err) {
      // A message the queue refuses (too large for it, queue gone) will be refused again:
      // deliver the others, log the refused one. Store failures propagate: the event stays
      // unrouted and the sweep tries again.
      if (
        !isMainspringError(err) ||
        !['E_PAYLOAD_TOO_LARGE', 'E_MESSAGE_INVALID', 'E_QUEUE_NOT_FOUND'].includes(err.code)
      ) {
        throw err;
      }
    }
    let sent = 0;
    for (const e of entries) {
      try {
        await this.#queues.sendBatch(queue, [e]);
        sent++;
      } catch (err) {
        if (!isMainspringError(err)) throw err;
        this.#logger?.error(
          { err, queue, dedupKey: e.dedupKey },
          'event delivery refused by its target queue',
        );
      }
    }
    return sent;
  }
}
