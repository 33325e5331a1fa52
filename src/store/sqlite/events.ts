// The event archive and file announcements on SQLite. Inserts of a batch run in
// one transaction; every other operation is one statement.

import {
  ANNOUNCEMENT_COLUMNS,
  EVENT_COLUMNS,
  type EventRow,
  type EventStore,
  type FileAnnouncement,
  type NewEvent,
  type RawAnnouncement,
  type RawEvent,
  toAnnouncement,
  toEventRow,
} from '../event-row.ts';
import type { RuleStore } from '../rule-row.ts';
import { type Connection, type Prepared, prepareAll, transaction } from './database.ts';
import { SqliteRuleStore } from './event-rules.ts';

// Store event ?1 (source ?2, detail type ?3, detail JSON ?4, event time ?5) at ?6 (now, ms) unless its id exists.
const INSERT = `
  INSERT INTO events (id, source, detail_type, detail, time_ms, put_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
  ON CONFLICT (id) DO NOTHING`;

const SQL = {
  insert: INSERT,
  // One event by id ?1.
  get: `SELECT ${EVENT_COLUMNS} FROM events WHERE id = ?1`,
  // Up to ?3 unrouted events stored at or before ?1 (ms) with seq after ?2, oldest first.
  listUnrouted: `
  SELECT ${EVENT_COLUMNS} FROM events
   WHERE routed_at_ms IS NULL AND seq > ?2 AND put_at_ms <= ?1
   ORDER BY seq LIMIT ?3`,
  // Mark event ?1 routed at ?2 (now, ms).
  markRouted: `UPDATE events SET routed_at_ms = ?2 WHERE id = ?1 AND routed_at_ms IS NULL`,
  // Up to ?5 events with ?1 <= time_ms < ?2 after the cursor (time ?3, seq ?4), in time then seq order.
  listByTime: `
  SELECT ${EVENT_COLUMNS} FROM events
   WHERE time_ms >= ?1 AND time_ms < ?2 AND (time_ms > ?3 OR (time_ms = ?3 AND seq > ?4))
   ORDER BY time_ms, seq LIMIT ?5`,
  // Delete up to ?2 events stored before ?1 (ms), oldest first.
  deleteBefore: `
  DELETE FROM events WHERE seq IN (
    SELECT seq FROM events WHERE put_at_ms < ?1 ORDER BY put_at_ms, seq LIMIT ?2)`,
  // The announcement of key ?2 by trigger ?1.
  getAnnouncement: `SELECT ${ANNOUNCEMENT_COLUMNS} FROM file_announcements WHERE trigger = ?1 AND key = ?2`,
  // Record key ?2 of trigger ?1 announced with etag ?3, size ?4, as event ?5 at ?6 (ms); replaces an older announcement.
  recordAnnouncement: `
  INSERT INTO file_announcements (${ANNOUNCEMENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
  ON CONFLICT (trigger, key) DO UPDATE
     SET etag = excluded.etag, size = excluded.size, event_id = excluded.event_id,
         announced_at_ms = excluded.announced_at_ms`,
} as const;

export class SqliteEventStore implements EventStore {
  readonly #s: Prepared<typeof SQL>;
  readonly rules: RuleStore;
  readonly #db: Connection;

  constructor(db: Connection) {
    this.#s = prepareAll(db, SQL);
    this.#db = db;
    this.rules = new SqliteRuleStore(db);
  }

  async insert(events: readonly NewEvent[], nowMs: number): Promise<boolean[]> {
    if (events.length === 0) return [];
    return transaction(this.#db, () =>
      events.map(
        (e) =>
          Number(this.#s.insert.run(e.id, e.source, e.detailType, e.detail, e.timeMs, nowMs).changes) === 1,
      ),
    );
  }

  async get(id: string): Promise<EventRow | null> {
    const row = this.#s.get.get(id) as RawEvent | undefined;
    return row ? toEventRow(row) : null;
  }

  async listUnrouted(putBeforeMs: number, afterSeq: number, limit: number): Promise<EventRow[]> {
    return (this.#s.listUnrouted.all(putBeforeMs, afterSeq, limit) as unknown as RawEvent[]).map(toEventRow);
  }

  async markRouted(ids: readonly string[], nowMs: number): Promise<void> {
    if (ids.length === 0) return;
    transaction(this.#db, () => {
      for (const id of ids) this.#s.markRouted.run(id, nowMs);
    });
  }

  async listByTime(
    fromMs: number,
    toMs: number,
    after: { timeMs: number; seq: number } | null,
    limit: number,
  ): Promise<EventRow[]> {
    const rows = this.#s.listByTime.all(fromMs, toMs, after?.timeMs ?? fromMs, after?.seq ?? 0, limit);
    return (rows as unknown as RawEvent[]).map(toEventRow);
  }

  async deleteStoredBefore(putBeforeMs: number, limit: number): Promise<number> {
    return Number(this.#s.deleteBefore.run(putBeforeMs, limit).changes);
  }

  async getAnnouncement(trigger: string, key: string): Promise<FileAnnouncement | null> {
    const row = this.#s.getAnnouncement.get(trigger, key) as RawAnnouncement | undefined;
    return row ? toAnnouncement(row) : null;
  }

  async recordAnnouncement(a: FileAnnouncement): Promise<void> {
    this.#s.recordAnnouncement.run(a.trigger, a.key, a.etag, a.size, a.eventId, a.announcedAtMs);
  }
}
