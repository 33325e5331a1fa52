// The event bus's sub-store contract (`store.events`) and the row mapping both
// backends share: the archive of events and the file-arrival announcements.

import type { RuleStore } from './rule-row.ts';
import type { SqlClient } from './sql-client.ts';

/**
 * Events stored through a caller's transaction, announced on its commit: one notification per
 * stored event, `<putter> <event id>` (`insertThrough`'s `putter`, then a space).
 */
export const EVENTS_CHANNEL = 'mainspring_events';

/** An event to store. `detail` is JSON text. */
export interface NewEvent {
  readonly id: string;
  readonly source: string;
  readonly detailType: string;
  readonly detail: string;
  readonly timeMs: number;
}

/** A stored event. */
export interface EventRow extends NewEvent {
  /** Storage order: ascends with every insert. */
  readonly seq: number;
  readonly putAtMs: number;
  readonly routedAtMs: number | null;
}

/** A file a trigger has announced. */
export interface FileAnnouncement {
  readonly trigger: string;
  readonly key: string;
  readonly etag: string;
  readonly size: number;
  readonly eventId: string;
  readonly announcedAtMs: number;
}

export interface EventStore {
  /** The stored event rules every process routes by. */
  readonly rules: RuleStore;
  /**
   * Stores events whose id is new, in order; returns per event whether it was stored
   * (false: an event with that id is already stored, and it is left as it was).
   */
  insert(events: readonly NewEvent[], nowMs: number): Promise<boolean[]>;
  /**
   * As `insert`, but through `client`, in the caller's open transaction: the events are stored
   * (unrouted) if and only if it commits, and on its commit EVENTS_CHANNEL carries
   * `<putter> <id>` for each event stored, so the putting bus routes them then. Only where the
   * store is the caller's database (PostgreSQL); absent elsewhere.
   */
  insertThrough?(
    client: SqlClient,
    events: readonly NewEvent[],
    nowMs: number,
    putter: string,
  ): Promise<boolean[]>;
  get(id: string): Promise<EventRow | null>;
  /** Events not yet routed, oldest first, stored at or before `putBeforeMs`, after `afterSeq`. */
  listUnrouted(putBeforeMs: number, afterSeq: number, limit: number): Promise<EventRow[]>;
  /** Records that these events were sent to every target of their matching rules. */
  markRouted(ids: readonly string[], nowMs: number): Promise<void>;
  /** Events with `fromMs <= time_ms < toMs`, in time order then storage order, after the cursor. */
  listByTime(
    fromMs: number,
    toMs: number,
    after: { timeMs: number; seq: number } | null,
    limit: number,
  ): Promise<EventRow[]>;
  /** Deletes up to `limit` events stored before `putBeforeMs`; returns how many. */
  deleteStoredBefore(putBeforeMs: number, limit: number): Promise<number>;
  getAnnouncement(trigger: string, key: string): Promise<FileAnnouncement | null>;
  /** Records (or replaces) the announcement of `key` with its etag. */
  recordAnnouncement(a: FileAnnouncement): Promise<void>;
}

/** Columns of `events` as both backends return them. */
export const EVENT_COLUMNS = 'seq, id, source, detail_type, detail, time_ms, put_at_ms, routed_at_ms';

export interface RawEvent {
  seq: number | bigint | string;
  id: string;
  source: string;
  detail_type: string;
  detail: string;
  time_ms: number | bigint | string;
  put_at_ms: number | bigint | string;
  routed_at_ms: number | bigint | string | null;
}

export function toEventRow(r: RawEvent): EventRow {
  return {
    seq: Number(r.seq),
    id: r.id,
    source: r.source,
    detailType: r.detail_type,
    detail: r.detail,
    timeMs: Number(r.time_ms),
    putAtMs: Number(r.put_at_ms),
    routedAtMs: r.routed_at_ms === null ? null : Number(r.routed_at_ms),
  };
}

export const ANNOUNCEMENT_COLUMNS = 'trigger, key, etag, size, event_id, announced_at_ms';

export interface RawAnnouncement {
  trigger: string;
  key: string;
  etag: string;
  size: number | bigint | string;
  event_id: string;
  announced_at_ms: number | bigint | string;
}

export function toAnnouncement(r: RawAnnouncement): FileAnnouncement {
  return {
    trigger: r.trigger,
    key: r.key,
    etag: r.etag,
    size: Number(r.size),
    eventId: r.event_id,
    announcedAtMs: Number(r.announced_at_ms),
  };
}
