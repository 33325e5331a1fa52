// The event archive and file announcements on PostgreSQL. Every operation is one
// statement; a batch insert passes arrays (unnest), whatever its size.

import type pg from 'pg';
import {
  ANNOUNCEMENT_COLUMNS,
  EVENT_COLUMNS,
  type EventRow,
  type EventStore,
  type FileAnnouncement,
  type NewEvent,
  toAnnouncement,
  toEventRow,
} from '../event-row.ts';
import type { RuleStore } from '../rule-row.ts';
import type { SqlClient } from '../sql-client.ts';
import { readRow, readRows } from './connect.ts';
import { PgRuleStore } from './event-rules.ts';

// Store events (ids $1, sources $2, detail types $3, details $4, times $5) at $6 (now, ms), skipping ids
// that exist; returns the ids stored. Ordinality keeps seq in array order.
const INSERT = `
  INSERT INTO events (id, source, detail_type, detail, time_ms, put_at_ms)
  SELECT id, source, detail_type, detail, time_ms, $6
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) WITH ORDINALITY
         AS e(id, source, detail_type, detail, time_ms, n)
   ORDER BY n
  ON CONFLICT (id) DO NOTHING
  RETURNING id`;

// Through the caller's client, in its open transaction (issue 25): as INSERT, with the tables of
// schema `s` (the caller's search_path is its own) and events $1 as one JSON array of { id,
// source, detail_type, detail, time_ms } (one text parameter: any driver passes it alike), at $2
// (now, ms). Each event stored notifies channel $3 with "$4 <id>": delivered on commit, when the
// putting bus routes it. Returns the ids stored.
const insertThrough = (s: string) => `
  WITH ins AS (
    INSERT INTO ${s}.events (id, source, detail_type, detail, time_ms, put_at_ms)
    SELECT e ->> 'id', e ->> 'source', e ->> 'detail_type', e ->> 'detail', (e ->> 'time_ms')::bigint, $2::bigint
      FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS t(e, n)
     ORDER BY n
    ON CONFLICT (id) DO NOTHING
    RETURNING id)
  SELECT ins.id FROM ins, LATERAL (SELECT pg_notify($3::text, $4::text || ' ' || ins.id)) AS n`;

// One event by id $1.
const GET = `SELECT ${EVENT_COLUMNS} FROM events WHERE id = $1`;

// Up to $3 unrouted events stored at or before $1 (ms) with seq after $2, oldest first.
const LIST_UNROUTED = `
  SELECT ${EVENT_COLUMNS} FROM events
   WHERE routed_at_ms IS NULL AND seq > $2 AND put_at_ms <= $1
   ORDER BY seq LIMIT $3`;

// Mark events $1 (ids) routed at $2 (now, ms).
const MARK_ROUTED = `UPDATE events SET routed_at_ms = $2 WHERE id = ANY($1::text[]) AND routed_at_ms IS NULL`;

// Up to $5 events with $1 <= time_ms < $2 after the cursor (time $3, seq $4), in time then seq order.
const LIST_BY_TIME = `
  SELECT ${EVENT_COLUMNS} FROM events
   WHERE time_ms >= $1 AND time_ms < $2 AND (time_ms, seq) > ($3::bigint, $4::bigint)
   ORDER BY time_ms, seq LIMIT $5`;

// Delete up to $2 events stored before $1 (ms), oldest first.
const DELETE_BEFORE = `
  DELETE FROM events WHERE seq IN (
    SELECT seq FROM events WHERE put_at_ms < $1 ORDER BY put_at_ms, seq LIMIT $2)`;

// The announcement of key $2 by trigger $1.
const GET_ANNOUNCEMENT = `SELECT ${ANNOUNCEMENT_COLUMNS} FROM file_announcements WHERE trigger = $1 AND key = $2`;

// Record key $2 of trigger $1 announced with etag $3, size $4, as event $5 at $6 (ms); replaces an older announcement.
const RECORD_ANNOUNCEMENT = `
  INSERT INTO file_announcements (${ANNOUNCEMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
  ON CONFLICT (trigger, key) DO UPDATE
     SET etag = excluded.etag, size = excluded.size, event_id = excluded.event_id,
         announced_at_ms = excluded.announced_at_ms`;

export class PgEventStore implements EventStore {
  readonly rules: RuleStore;
  readonly #db: pg.Pool;
  readonly #channel: string;
  readonly #insertThrough: string;

  /** `channel`: EVENTS_CHANNEL as named in this store's schema; `schema` qualifies what runs on a caller's client. */
  constructor(db: pg.Pool, channel: string, schema: string) {
    this.#db = db;
    this.rules = new PgRuleStore(db);
    this.#channel = channel;
    this.#insertThrough = insertThrough(`"${schema}"`);
  }

  async insert(events: readonly NewEvent[], nowMs: number): Promise<boolean[]> {
    if (events.length === 0) return [];
    const { rows } = await this.#db.query<{ id: string }>(INSERT, [
      events.map((e) => e.id),
      events.map((e) => e.source),
      events.map((e) => e.detailType),
      events.map((e) => e.detail),
      events.map((e) => e.timeMs),
      nowMs,
    ]);
    return storedFlags(events, rows);
  }

  async insertThrough(
    client: SqlClient,
    events: readonly NewEvent[],
    nowMs: number,
    putter: string,
  ): Promise<boolean[]> {
    if (events.length === 0) return [];
    const json = JSON.stringify(
      events.map((e) => ({
        id: e.id,
        source: e.source,
        detail_type: e.detailType,
        detail: e.detail,
        time_ms: e.timeMs,
      })),
    );
    const { rows } = await client.query(this.#insertThrough, [json, nowMs, this.#channel, putter]);
    return storedFlags(events, rows as { id: string }[]);
  }

  async get(id: string): Promise<EventRow | null> {
    return readRow(this.#db, GET, [id], toEventRow);
  }

  async listUnrouted(putBeforeMs: number, afterSeq: number, limit: number): Promise<EventRow[]> {
    return readRows(this.#db, LIST_UNROUTED, [putBeforeMs, afterSeq, limit], toEventRow);
  }

  async markRouted(ids: readonly string[], nowMs: number): Promise<void> {
    if (ids.length === 0) return;
    await this.#db.query(MARK_ROUTED, [ids, nowMs]);
  }

  async listByTime(
    fromMs: number,
    toMs: number,
    after: { timeMs: number; seq: number } | null,
    limit: number,
  ): Promise<EventRow[]> {
    return readRows(
      this.#db,
      LIST_BY_TIME,
      [fromMs, toMs, after?.timeMs ?? fromMs, after?.seq ?? 0, limit],
      toEventRow,
    );
  }

  async deleteStoredBefore(putBeforeMs: number, limit: number): Promise<number> {
    const { rowCount } = await this.#db.query(DELETE_BEFORE, [putBeforeMs, limit]);
    return rowCount ?? 0;
  }

  async getAnnouncement(trigger: string, key: string): Promise<FileAnnouncement | null> {
    return readRow(this.#db, GET_ANNOUNCEMENT, [trigger, key], toAnnouncement);
  }

  async recordAnnouncement(a: FileAnnouncement): Promise<void> {
    await this.#db.query(RECORD_ANNOUNCEMENT, [a.trigger, a.key, a.etag, a.size, a.eventId, a.announcedAtMs]);
  }
}

/** Per event, whether it was stored: a batch repeating an id stores it once, at its first occurrence. */
function storedFlags(events: readonly NewEvent[], rows: readonly { id: string }[]): boolean[] {
  const stored = new Set(rows.map((r) => r.id));
  const seen = new Set<string>();
  return events.map((e) => {
    const first = !seen.has(e.id);
    seen.add(e.id);
    return first && stored.has(e.id);
  });
}
