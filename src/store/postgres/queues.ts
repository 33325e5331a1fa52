// Queues on PostgreSQL, shared by any number of processes. Claims lock rows with
// FOR UPDATE SKIP LOCKED so concurrent consumers never wait on each other; every
// batch operation is one statement over arrays (unnest), whatever its size.

import type pg from 'pg';
import { admit, budget, type FlowLimits, FORGET_EVERY_MS, type LimitedClaim, took, WHOLE } from '../flow.ts';
import { type GateSlot, gatedResults, gateKeys, gateSlotId, idOf, planGated } from '../message-gate.ts';
import {
  type ClaimedMessage,
  type ClaimOptions,
  type FailedReceipt,
  type InsertedMessage,
  type ListMessagesOptions,
  MESSAGE_COLUMNS,
  type MessageRow,
  type NewMessage,
  NO_MESSAGES,
  type PushOffer,
  QUEUE_COLUMNS,
  type QueueCounts,
  type QueueRow,
  type QueueStore,
  type RawClaimed,
  type RawQueue,
  type Receipt,
  type RedriveFilter,
  toClaimed,
  toMessageRow,
  toQueueRow,
} from '../message-row.ts';
import type { SqlClient } from '../sql-client.ts';
import { arrayLiteral } from './array-literal.ts';
import { readRow, readRows, transaction } from './connect.ts';

const RETURN_CLAIMED =
  'RETURNING m.id, m.body, m.priority, m.receive_count, m.prior_receives, m.sent_at_ms, m.group_id, m.visible_at_ms, m.trace_context';

// Neither queue $1 nor the consuming function's invocation queue (parameter `fn`, may be
// null) is paused; a queue without a row never is.
const notPaused = (fn: string) =>
  `NOT EXISTS (SELECT 1 FROM queues WHERE name IN ($1, ${fn}::text) AND paused_at_ms IS NOT NULL)`;

const SQL = {
  // Create or replace queue $1's settings $2 at $3.
  upsertQueue: `INSERT INTO queues AS q (name, config, created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $3)
    ON CONFLICT (name) DO UPDATE SET config = excluded.config, updated_at_ms = excluded.updated_at_ms
    WHERE q.config IS DISTINCT FROM excluded.config`,
  getQueue: `SELECT ${QUEUE_COLUMNS} FROM queues WHERE name = $1`,
  listQueues: `SELECT ${QUEUE_COLUMNS} FROM queues ORDER BY name`,
  // Pause queue $1 at $2 (an earlier pause keeps its time); the change moves updated_at_ms, the
  // dashboard's change mark.
  pause: `UPDATE queues SET paused_at_ms = coalesce(paused_at_ms, $2),
      updated_at_ms = CASE WHEN paused_at_ms IS NULL THEN $2 ELSE updated_at_ms END
    WHERE name = $1 RETURNING ${QUEUE_COLUMNS}`,
  // Resume queue $1 at $2 and wake its consumers (channel $3) on commit.
  resume: `WITH u AS (
      UPDATE queues SET paused_at_ms = NULL,
        updated_at_ms = CASE WHEN paused_at_ms IS NULL THEN updated_at_ms ELSE $2 END
      WHERE name = $1 RETURNING ${QUEUE_COLUMNS})
    SELECT u.* FROM u, (SELECT pg_notify($3, $1)) AS n`,
  // Insert messages of queue $1 sent at $6 (bodies $2, priorities $3, due $4, groups $5, trace
  // contexts $8), in array order, and wake its consumers (channel $7). $8 may be shorter, or
  // empty: unnest pads it with NULLs.
  insert: `WITH ins AS (
      INSERT INTO messages (queue, body, priority, visible_at_ms, group_id, sent_at_ms, trace_context)
      SELECT $1, t.body, t.priority, t.visible_at_ms, t.group_id, $6, t.trace_context
        FROM unnest($2::text[], $3::int[], $4::bigint[], $5::text[], $8::text[]) WITH ORDINALITY
             AS t(body, priority, visible_at_ms, group_id, trace_context, ord)
       ORDER BY t.ord
      RETURNING id)
    SELECT id FROM ins, (SELECT pg_notify($7, $1)) AS n ORDER BY id`,
  // One message due now, in one round trip, pushed if a consumer waits (migration 0019).
  sendOne: 'CALL send_one($1, $2, $3, $4, $5, $6, $7)',
  // Consumer $2 of queue $1 (for function queue $3) takes the queue's next message, leased for
  // $4 ms, from $6 (now) until $5, through LISTEN connection $7. Offers left over a minute by
  // consumers that are gone go too.
  // The lease runs from the later of the send and the offer: a sender whose clock is behind
  // the consumer's (a test's fake clock) must not hand over a lease that is already over.
  offer: `WITH gone AS (
      DELETE FROM queue_waiters WHERE queue = $1 AND consumer <> $2 AND expires_at_ms < $6::bigint - 60000)
    INSERT INTO queue_waiters AS w (queue, consumer, function_queue, visibility_ms, offered_at_ms,
                                    expires_at_ms, listener_pid)
    VALUES ($1, $2, $3, $4, $6, $5, $7)
    ON CONFLICT (queue, consumer) DO UPDATE SET function_queue = excluded.function_queue,
      visibility_ms = excluded.visibility_ms, offered_at_ms = excluded.offered_at_ms,
      expires_at_ms = excluded.expires_at_ms, listener_pid = excluded.listener_pid`,
  withdraw: 'DELETE FROM queue_waiters WHERE queue = $1 AND consumer = $2',
  // Reserve $1 message ids, ascending.
  reserveIds: `SELECT nextval(pg_get_serial_sequence('messages', 'id')) AS id FROM generate_series(1, $1) ORDER BY 1`,
  // Take dedup keys $2 of queue $1 for messages $3 until $4, unless live at $5; returns the keys taken.
  takeKeys: `INSERT INTO queue_dedup AS d (queue, key, message_id, expires_at_ms)
    SELECT $1, t.key, t.id, $4 FROM unnest($2::text[], $3::bigint[]) AS t(key, id)
    ON CONFLICT (queue, key) DO UPDATE SET message_id = excluded.message_id, expires_at_ms = excluded.expires_at_ms
    WHERE d.expires_at_ms <= $5
    RETURNING key`,
  // The messages holding dedup keys $2 of queue $1.
  keyHolders: 'SELECT key, message_id FROM queue_dedup WHERE queue = $1 AND key = ANY($2::text[])',
  // Debounce and throttle (message-gate.ts). Lock the rows of keys $2 of namespaced queues $1,
  // in array order (sorted by the caller: two batches never wait on each other crosswise),
  // creating absent ones with holder 0; returns each row as it stands. Concurrent sends under
  // one key queue up here until the first commits.
  gateLock: `INSERT INTO queue_dedup AS d (queue, key, message_id, expires_at_ms)
    SELECT t.queue, t.key, 0, 0 FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(queue, key, ord)
     ORDER BY t.ord
    ON CONFLICT (queue, key) DO UPDATE SET message_id = d.message_id
    RETURNING queue, key, message_id, expires_at_ms`,
  // Of messages $2, those still pending in queue $1 (never received, not leased) with their send
  // times, locked: a claim skips them until commit, and one that leased first keeps them.
  gatePending: `SELECT id, sent_at_ms FROM messages
    WHERE id = ANY($2::bigint[]) AND queue = $1 AND NOT leased AND receive_count = 0 AND prior_receives = 0
    FOR UPDATE`,
  // Replace pending messages $1: by id in $2, [body, priority, due time, trace context] (by id,
  // not joined: see ack). Their send times stay.
  gateReplace: `UPDATE messages m SET body = $2::jsonb -> m.id::text ->> 0,
      priority = ($2::jsonb -> m.id::text ->> 1)::int,
      visible_at_ms = ($2::jsonb -> m.id::text ->> 2)::bigint,
      trace_context = $2::jsonb -> m.id::text ->> 3
     WHERE m.id = ANY($1::bigint[])`,
  // Set the (locked) rows of keys $2 of namespaced queues $1 to messages $3 and times $4.
  gateKeep: `UPDATE queue_dedup d SET message_id = r.message_id, expires_at_ms = r.expires_at_ms
      FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) AS r(queue, key, message_id, expires_at_ms)
     WHERE d.queue = r.queue AND d.key = r.key`,
  // Insert messages with reserved ids $7 into queue $1, sent at $6 in trace contexts $9 (padded
  // with NULLs when shorter), and wake its consumers (channel $8).
  insertWithIds: `WITH ins AS (
      INSERT INTO messages (id, queue, body, priority, visible_at_ms, group_id, sent_at_ms, trace_context)
      SELECT t.id, $1, t.body, t.priority, t.visible_at_ms, t.group_id, $6, t.trace_context
        FROM unnest($7::bigint[], $2::text[], $3::int[], $4::bigint[], $5::text[], $9::text[])
             AS t(id, body, priority, visible_at_ms, group_id, trace_context)
      RETURNING id)
    SELECT count(*) AS n FROM ins, (SELECT pg_notify($8, $1)) AS n`,
  // Lease up to $3 messages of queue $1 due by $5, each for $4 ms from its due time; $2 = now.
  // ctid = ANY(ARRAY(…)) makes the update a fetch of each row the select locked (its row lock
  // keeps the tuple where it is), not a join over the table nor an index the planner may pick
  // wrongly: a TID scan is the one plan, generic or not (src/store/postgres/pg-store.ts on why
  // plans matter here).
  // Nothing while the queue is paused: an uncorrelated primary-key lookup, evaluated once.
  claim: `UPDATE messages m SET lease_until_ms = greatest(m.visible_at_ms, $2) + $4,
            receive_count = m.receive_count + 1, leased = true
     WHERE m.ctid = ANY(ARRAY(
             SELECT ctid FROM messages WHERE queue = $1 AND visible_at_ms <= $5
                AND (NOT leased OR lease_until_ms <= $2) AND ${notPaused('$6')}
              ORDER BY priority DESC, visible_at_ms, id LIMIT $3 FOR UPDATE SKIP LOCKED))
     ${RETURN_CLAIMED}`,
  // FIFO: as claim, but only group heads: a grouped message waits while an older one of its group exists.
  claimFifo: `UPDATE messages m SET lease_until_ms = greatest(m.visible_at_ms, $2) + $4,
            receive_count = m.receive_count + 1, leased = true
     WHERE m.ctid = ANY(ARRAY(
             SELECT x.ctid FROM messages x WHERE x.queue = $1 AND x.visible_at_ms <= $5
                AND (NOT x.leased OR x.lease_until_ms <= $2) AND ${notPaused('$6')}
                AND (x.group_id IS NULL OR NOT EXISTS (
                     SELECT 1 FROM messages p WHERE p.queue = x.queue AND p.group_id = x.group_id AND p.id < x.id))
              ORDER BY x.id LIMIT $3 FOR UPDATE SKIP LOCKED))
     ${RETURN_CLAIMED}`,
  // Flow limits (src/store/flow.ts): serialise the claims of one limited function, everywhere.
  flowLock: 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))',
  // As claim, but skipping messages of keys $6 (those at their concurrency limit).
  claimLimited: `UPDATE messages m SET lease_until_ms = greatest(m.visible_at_ms, $2) + $4,
            receive_count = m.receive_count + 1, leased = true
     WHERE m.ctid = ANY(ARRAY(
             SELECT ctid FROM messages WHERE queue = $1 AND visible_at_ms <= $5
                AND (NOT leased OR lease_until_ms <= $2) AND ${notPaused('$7')}
                AND (flow_key IS NULL OR NOT (flow_key = ANY($6::text[])))
              ORDER BY priority DESC, visible_at_ms, id LIMIT $3 FOR UPDATE SKIP LOCKED))
     ${RETURN_CLAIMED}`,
  // Messages running at $2 in queues $1: leased, their lease not over.
  flowRunning:
    'SELECT count(*)::int AS n FROM messages WHERE queue = ANY($1::text[]) AND leased AND lease_until_ms > $2',
  // Keys with at least $3 messages running at $2 in queues $1.
  flowFull: `SELECT flow_key FROM messages
    WHERE queue = ANY($1::text[]) AND flow_key IS NOT NULL AND leased AND lease_until_ms > $2
    GROUP BY flow_key HAVING count(*) >= $3`,
  // Messages of keys $2 running at $3 in queues $1, other than messages $4.
  flowRunningByKey: `SELECT flow_key AS key, count(*)::int AS n FROM messages
    WHERE queue = ANY($1::text[]) AND flow_key = ANY($2::text[]) AND leased AND lease_until_ms > $3
      AND NOT (id = ANY($4::bigint[]))
    GROUP BY flow_key`,
  flowTats: 'SELECT key, tat_ms FROM flow_rates WHERE scope = $1 AND key = ANY($2::text[])',
  flowSetTats: `INSERT INTO flow_rates AS f (scope, key, tat_ms)
    SELECT $1, u.key, u.tat FROM unnest($2::text[], $3::bigint[]) AS u(key, tat)
    ON CONFLICT (scope, key) DO UPDATE SET tat_ms = excluded.tat_ms`,
  // A key whose tat has passed is as good as none.
  flowForget: 'DELETE FROM flow_rates WHERE scope = $1 AND tat_ms < $2',
  // Keep the keys of admitted messages $1 (by id in $2; by id, not joined: see ack).
  flowKeep: `UPDATE messages m SET flow_key = $2::jsonb ->> m.id::text WHERE m.id = ANY($1::bigint[])`,
  // Hand messages $1 back unreceived: by id in $2, [key, due no sooner than (null: as they were)].
  flowDefer: `UPDATE messages m SET flow_key = $2::jsonb -> m.id::text ->> 0, leased = false,
      lease_until_ms = NULL, receive_count = m.receive_count - 1,
      visible_at_ms = greatest(m.visible_at_ms, coalesce(($2::jsonb -> m.id::text ->> 1)::bigint, 0))
    WHERE m.id = ANY($1::bigint[])`,
  // The statements that settle held messages find each row by its id alone and read the
  // receipt's values from one JSON object keyed by id ($2): no join for the planner to get
  // wrong. Joined with unnest, they turned quadratic whenever the statistics said `messages`
  // was empty, as they do after a vacuum of the empty table: 1,000 acks took 140 ms, not 3.
  // A matching receive count means nobody received the message since: the receipt stands.
  // Delete messages held with receipts: ids $1, receive counts by id $2.
  ack: `DELETE FROM messages m
     WHERE m.id = ANY($1::bigint[]) AND m.receive_count = ($2::jsonb ->> m.id::text)::int RETURNING m.id`,
  // Return held messages ($1) to their queue: by id in $2, [receive count, due time, error to append].
  fail: `UPDATE messages m SET leased = false, lease_until_ms = NULL,
      visible_at_ms = ($2::jsonb -> m.id::text ->> 1)::bigint,
      errors = coalesce(m.errors, '[]'::jsonb) || jsonb_build_array($2::jsonb -> m.id::text -> 2)
     WHERE m.id = ANY($1::bigint[]) AND m.receive_count = ($2::jsonb -> m.id::text ->> 0)::int AND m.leased`,
  // Move messages held with receipts ($1; by id in $2, [receive count] or [receive count, error to
  // append]) into dead-letter queue $3 at $4. Their receives so far move to prior_receives (see
  // migration 0008).
  deadLetter: `UPDATE messages m SET source_queue = m.queue, queue = $3,
      prior_receives = m.prior_receives + m.receive_count, receive_count = 0, leased = false,
      lease_until_ms = NULL, visible_at_ms = $4, dead_at_ms = $4,
      errors = CASE WHEN $2::jsonb -> m.id::text -> 1 IS NULL THEN m.errors
               ELSE coalesce(m.errors, '[]'::jsonb) || jsonb_build_array($2::jsonb -> m.id::text -> 1) END
     WHERE m.id = ANY($1::bigint[]) AND m.receive_count = ($2::jsonb -> m.id::text ->> 0)::int`,
  extend: `UPDATE messages SET lease_until_ms = $3
    WHERE id = $1 AND receive_count = $2 AND leased AND lease_until_ms > $4`,
  // Hand held messages back at once: unleased, they are receivable again. Receipts as for ack.
  release: `UPDATE messages m SET leased = false, lease_until_ms = NULL
     WHERE m.id = ANY($1::bigint[]) AND m.receive_count = ($2::jsonb ->> m.id::text)::int AND m.leased`,
  // Only a delayed message can come due later (migration 0020): the term matches its index's.
  nextVisible:
    'SELECT min(visible_at_ms) AS t FROM messages WHERE queue = $1 AND visible_at_ms > $2 AND visible_at_ms > sent_at_ms',
  counts: `SELECT queue,
      count(*) FILTER (WHERE visible_at_ms <= $1 AND NOT (leased AND lease_until_ms > $1)) AS visible,
      count(*) FILTER (WHERE leased AND lease_until_ms > $1) AS in_flight,
      count(*) FILTER (WHERE visible_at_ms > $1 AND NOT (leased AND lease_until_ms > $1)) AS delayed,
      count(*) FILTER (WHERE flow_key IS NOT NULL AND visible_at_ms <= $1
                         AND NOT (leased AND lease_until_ms > $1)) AS waiting_for_slot,
      count(*) FILTER (WHERE flow_key IS NOT NULL AND receive_count = 0 AND visible_at_ms > $1
                         AND NOT (leased AND lease_until_ms > $1)) AS rate_limited,
      min(sent_at_ms) AS oldest
    FROM messages GROUP BY queue`,
  deadCounts:
    'SELECT source_queue AS queue, count(*) AS dead FROM messages WHERE source_queue IS NOT NULL GROUP BY 1',
  getMessage: `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = $1`,
  // Messages of queue $1 after id $2, at most $3, only from source queue $4 if not null.
  listMessages: `SELECT ${MESSAGE_COLUMNS} FROM messages
    WHERE queue = $1 AND id > $2 AND ($4::text IS NULL OR source_queue = $4) ORDER BY id LIMIT $3`,
  // Move dead letters of $1 (from source $3 if not null; only ids $4 if not null) back to
  // their source queue, visible at $2, with a fresh receive count (the old one added to prior_receives).
  redrive: `UPDATE messages SET queue = source_queue, source_queue = NULL, dead_at_ms = NULL,
      prior_receives = prior_receives + receive_count, receive_count = 0, leased = false,
      lease_until_ms = NULL, visible_at_ms = $2
    WHERE queue = $1 AND source_queue IS NOT NULL AND ($3::text IS NULL OR source_queue = $3)
      AND ($4::bigint[] IS NULL OR id = ANY($4))`,
  purge: 'DELETE FROM messages WHERE queue = $1',
  // Up to $3 key rows over before $1 - $2, skipping rows a send holds; a debounce key only
  // once its message is no longer pending (see gatePending).
  deleteSpentKeys: `DELETE FROM queue_dedup WHERE ctid = ANY(ARRAY(
      SELECT d.ctid FROM queue_dedup d
       WHERE d.expires_at_ms <= $1::bigint - $2::bigint
         AND (d.queue NOT LIKE 'debounce:%' OR NOT EXISTS (
               SELECT 1 FROM messages m WHERE m.id = d.message_id
                  AND NOT m.leased AND m.receive_count = 0 AND m.prior_receives = 0))
       LIMIT $3 FOR UPDATE SKIP LOCKED))`,
} as const;

export class PgQueueStore implements QueueStore {
  readonly #db: pg.Pool;
  /** Connections with synchronous_commit off, for lease changes a crash may safely forget. */
  readonly #leases: pg.Pool;
  readonly #channel: string;
  /** Sends through a caller's client: the schema's send() (migration 0013), one call per message in array order. */
  readonly #sendThrough: string;
  readonly #schema: string;
  /** The server process of this store's LISTEN connection, or null while it is down. */
  readonly #listenerPid: () => number | null;
  /** When idle rate-limit keys were last deleted. */
  #forgotAtMs = 0;

  constructor(
    db: pg.Pool,
    leases: pg.Pool,
    messagesChannel: string,
    schema: string,
    listenerPid: () => number | null,
  ) {
    this.#db = db;
    this.#listenerPid = listenerPid;
    this.#schema = schema;
    this.#leases = leases;
    this.#channel = messagesChannel;
    // Schema-qualified: the caller's connection has its own search_path. One JSON parameter
    // rather than arrays, so any driver's client (postgres.js through an adapter) passes it alike,
    // typed text: postgres.js would JSON-encode again a string it is told is jsonb.
    this.#sendThrough = `SELECT "${schema}".send($1, e -> 'body', e -> 'options') AS id
      FROM jsonb_array_elements($2::text::jsonb) WITH ORDINALITY AS t(e, i) ORDER BY i`;
  }

  async upsertQueue(name: string, config: unknown, nowMs: number): Promise<void> {
    await this.#db.query(SQL.upsertQueue, [name, JSON.stringify(config), nowMs]);
  }

  async getQueue(name: string): Promise<QueueRow | null> {
    return readRow(this.#db, SQL.getQueue, [name], toQueueRow);
  }

  async listQueues(): Promise<QueueRow[]> {
    return (await this.#db.query<RawQueue>(SQL.listQueues)).rows.map(toQueueRow);
  }

  async setPaused(name: string, paused: boolean, nowMs: number): Promise<QueueRow | null> {
    return paused
      ? readRow(this.#db, SQL.pause, [name, nowMs], toQueueRow)
      : readRow(this.#db, SQL.resume, [name, nowMs, this.#channel], toQueueRow);
  }

  async send(queue: string, messages: readonly NewMessage[], nowMs: number, dedupWindowMs: number) {
    if (messages.some((m) => m.gate)) return this.#sendGated(queue, messages, nowMs, dedupWindowMs);
    const one = messages.length === 1 ? messages[0]! : null;
    if (one && one.dedupKey === null && !one.gate && one.groupId === null && one.visibleAtMs <= nowMs) {
      // Visible, and pushed or announced, a WAL flush before the call returns (migration 0019).
      const { rows } = await this.#db.query<{ message_id: number }>({
        name: 'ms_send_one',
        text: SQL.sendOne,
        values: [
          queue,
          one.body,
          one.priority,
          one.visibleAtMs,
          nowMs,
          this.#channel,
          one.traceContext ?? null,
        ],
      });
      return [{ id: rows[0]!.message_id, deduplicated: false }];
    }
    if (messages.every((m) => m.dedupKey === null)) {
      const ids = await this.#insert(this.#db, queue, messages, nowMs);
      return ids.map((id): InsertedMessage => ({ id, deduplicated: false }));
    }
    return this.#sendDeduplicated(queue, messages, nowMs, dedupWindowMs);
  }

  /**
   * Sends with dedup keys in a constant number of statements whatever the batch size:
   * reserve ids, take the keys that are free, look up the holders of the others, insert
   * the winners. A key repeated within the batch counts from its first occurrence.
   */
  async #sendDeduplicated(
    queue: string,
    messages: readonly NewMessage[],
    nowMs: number,
    dedupWindowMs: number,
  ) {
    const firstOfKey = new Map<string, number>();
    const candidates: number[] = [];
    messages.forEach((m, i) => {
      if (m.dedupKey === null) candidates.push(i);
      else if (!firstOfKey.has(m.dedupKey)) {
        firstOfKey.set(m.dedupKey, i);
        candidates.push(i);
      }
    });
    return transaction(this.#db, async (client) => {
      const reserved = await client.query<{ id: number }>(SQL.reserveIds, [candidates.length]);
      const idOf = new Map(candidates.map((i, k) => [i, Number(reserved.rows[k]!.id)]));
      const keys = [...firstOfKey.keys()];
      const taken = await client.query<{ key: string }>(SQL.takeKeys, [
        queue,
        keys,
        keys.map((k) => idOf.get(firstOfKey.get(k)!)),
        nowMs + dedupWindowMs,
        nowMs,
      ]);
      const won = new Set(taken.rows.map((r) => r.key));
      const lost = keys.filter((k) => !won.has(k));
      const holders = new Map<string, number>();
      if (lost.length > 0) {
        const { rows } = await client.query<{ key: string; message_id: number }>(SQL.keyHolders, [
          queue,
          lost,
        ]);
        for (const r of rows) holders.set(r.key, Number(r.message_id));
      }
      const inserts = candidates.filter(
        (i) => messages[i]!.dedupKey === null || won.has(messages[i]!.dedupKey!),
      );
      if (inserts.length > 0) {
        const rows = inserts.map((i) => messages[i]!);
        await client.query(SQL.insertWithIds, [
          queue,
          ...columnsOf(rows),
          nowMs,
          inserts.map((i) => idOf.get(i)),
          this.#channel,
          traceColumn(rows),
        ]);
      }
      return messages.map((m, i): InsertedMessage => {
        if (m.dedupKey === null) return { id: idOf.get(i)!, deduplicated: false };
        const first = firstOfKey.get(m.dedupKey)!;
        if (won.has(m.dedupKey)) return { id: idOf.get(first)!, deduplicated: first !== i };
        return { id: holders.get(m.dedupKey)!, deduplicated: true };
      });
    });
  }

  /**
   * A batch with debounce or throttle keys, in one transaction of six statements at most whatever
   * its size: lock the keys, read their pending messages, then (planned as one send after another)
   * reserve ids, insert, replace, and set the keys.
   */
  async #sendGated(queue: string, messages: readonly NewMessage[], nowMs: number, dedupWindowMs: number) {
    const keys = gateKeys(queue, messages, dedupWindowMs);
    return transaction(this.#db, async (client) => {
      const { rows } = await client.query<{
        queue: string;
        key: string;
        message_id: string;
        expires_at_ms: string;
      }>(SQL.gateLock, [keys.map((k) => k.queue), keys.map((k) => k.key)]);
      const debounced = new Set(keys.filter((k) => k.debounce).map((k) => gateSlotId(k.queue, k.key)));
      const holders = rows.filter(
        (r) => Number(r.message_id) > 0 && debounced.has(gateSlotId(r.queue, r.key)),
      );
      const pending = new Map<number, number>();
      if (holders.length > 0) {
        const found = await client.query<{ id: string; sent_at_ms: string }>(SQL.gatePending, [
          queue,
          holders.map((r) => r.message_id),
        ]);
        for (const r of found.rows) pending.set(Number(r.id), Number(r.sent_at_ms));
      }
      const stored = new Map<string, GateSlot>();
      for (const r of rows) {
        stored.set(gateSlotId(r.queue, r.key), {
          messageId: Number(r.message_id),
          untilMs: Number(r.expires_at_ms),
          pendingSentAtMs: pending.get(Number(r.message_id)) ?? null,
        });
      }
      const plan = planGated(queue, messages, nowMs, dedupWindowMs, stored);
      let ids: number[] = [];
      if (plan.inserts.length > 0) {
        const reserved = await client.query<{ id: string }>(SQL.reserveIds, [plan.inserts.length]);
        ids = reserved.rows.map((r) => Number(r.id));
        await client.query(SQL.insertWithIds, [
          queue,
          ...columnsOf(plan.inserts),
          nowMs,
          ids,
          this.#channel,
          traceColumn(plan.inserts),
        ]);
      }
      if (plan.replaces.size > 0) {
        const replaced = [...plan.replaces].map(([id, m]) => ({ id, m }));
        await client.query(SQL.gateReplace, [
          arrayLiteral(replaced.map((r) => r.id)),
          byId(replaced, ({ m }) =>
            JSON.stringify([m.body, m.priority, m.visibleAtMs, m.traceContext ?? null]),
          ),
        ]);
        // A replaced message may now be due sooner (a shorter period than the send before): wake.
        if (plan.inserts.length === 0) await client.query('SELECT pg_notify($1, $2)', [this.#channel, queue]);
      }
      await client.query(SQL.gateKeep, [
        plan.slots.map((s) => s.queue),
        plan.slots.map((s) => s.key),
        plan.slots.map((s) => idOf(s.ref, ids)),
        plan.slots.map((s) => s.untilMs),
      ]);
      return gatedResults(plan, ids);
    });
  }

  async sendThrough(
    client: SqlClient,
    queue: string,
    messages: readonly NewMessage[],
    nowMs: number,
    dedupWindowMs: number,
  ): Promise<string[]> {
    // Each body is the JSON text the client checked, inlined. The function stores it as jsonb
    // prints it: the same value, with object keys in jsonb's order.
    const entries = messages.map((m) => {
      const options = JSON.stringify({
        priority: m.priority,
        delay: m.visibleAtMs - nowMs,
        sentAtMs: nowMs,
        dedupWindowMs,
        ...(m.groupId === null ? {} : { groupId: m.groupId }),
        ...(m.dedupKey === null ? {} : { dedupKey: m.dedupKey }),
        ...(m.traceContext == null ? {} : { traceContext: m.traceContext }),
      });
      return `{"body":${m.body},"options":${options}}`;
    });
    const { rows } = await client.query(this.#sendThrough, [queue, `[${entries.join(',')}]`]);
    return rows.map((row, i) => {
      const id = (row as { id?: unknown } | null)?.id;
      if (typeof id !== 'string' && typeof id !== 'number' && typeof id !== 'bigint') {
        throw new Error(`send through the caller's client returned no id for message ${i}`);
      }
      return String(id);
    });
  }

  async #insert(db: pg.Pool | pg.PoolClient, queue: string, messages: readonly NewMessage[], nowMs: number) {
    return insertMessages(db, this.#channel, queue, messages, nowMs);
  }

  async claim(queue: string, o: ClaimOptions): Promise<ClaimedMessage[]> {
    // A named statement: its generic plan is the custom one (a TID scan over what an ordered walk
    // of the claim index locked, with sorts off on this pool), and it saves planning the claim
    // again on every idle wake-up (about 0.5 ms of send-to-handler time).
    const { rows } = await this.#leases.query<RawClaimed>({
      name: o.fifo ? 'ms_claim_fifo' : 'ms_claim',
      text: o.fifo ? SQL.claimFifo : SQL.claim,
      values: [queue, o.nowMs, o.limit, o.visibilityMs, o.dueByMs, o.functionQueue ?? null],
      rowMode: 'array',
    });
    return toClaimed(rows, o.fifo);
  }

  async claimLimited(
    queue: string,
    o: ClaimOptions,
    limits: FlowLimits,
    keyOf: (m: ClaimedMessage) => string,
  ): Promise<LimitedClaim<ClaimedMessage>> {
    return transaction(this.#leases, async (c) => {
      await c.query(SQL.flowLock, [`${this.#schema}:flow:${limits.scope}`]);
      const now = o.nowMs;
      const queues = limits.queues;
      const { concurrency, rate } = limits;
      const running =
        concurrency && !concurrency.keyed
          ? (await c.query<{ n: number }>(SQL.flowRunning, [queues, now])).rows[0]!.n
          : 0;
      const wholeTat =
        rate && !rate.keyed ? (await this.#tats(c, limits.scope, [WHOLE])).get(WHOLE) : undefined;
      const { limit, retryAtMs } = budget(limits, o.limit, running, wholeTat, now);
      if (limit === 0) return { claimed: [], retryAtMs };
      const full = concurrency?.keyed
        ? (await c.query<{ flow_key: string }>(SQL.flowFull, [queues, now, concurrency.limit])).rows.map(
            (r) => r.flow_key,
          )
        : [];
      const { rows } = await c.query<RawClaimed>({
        text: SQL.claimLimited,
        values: [queue, now, limit, o.visibilityMs, o.dueByMs, full, o.functionQueue ?? null],
        rowMode: 'array',
      });
      const claimed = toClaimed(rows, false);
      if (rate && !rate.keyed && claimed.length > 0) {
        await c.query(SQL.flowSetTats, [limits.scope, [WHOLE], [took(rate, wholeTat, now, claimed.length)]]);
      }
      if (!concurrency?.keyed && !rate?.keyed) return { claimed, retryAtMs };
      const keys = [...new Set(claimed.map(keyOf))];
      const runningByKey = new Map<string, number>();
      if (concurrency?.keyed && keys.length > 0) {
        const counted = await c.query<{ key: string; n: number }>(SQL.flowRunningByKey, [
          queues,
          keys,
          now,
          claimed.map((m) => m.id),
        ]);
        for (const r of counted.rows) runningByKey.set(r.key, r.n);
      }
      const tats = rate?.keyed ? await this.#tats(c, limits.scope, keys) : new Map<string, number>();
      const a = admit(limits, claimed, keyOf, runningByKey, tats, now);
      if (a.admitted.length > 0) {
        await c.query(SQL.flowKeep, [
          arrayLiteral(a.admitted.map((m) => m.id)),
          byId(a.admitted, (m) => JSON.stringify(a.keys.get(m.id) ?? null)),
        ]);
      }
      if (a.deferred.length > 0) {
        await c.query(SQL.flowDefer, [
          arrayLiteral(a.deferred.map((d) => d.message.id)),
          byId(
            a.deferred.map((d) => ({ id: d.message.id, key: d.key, due: d.dueAtMs })),
            (d) => `[${JSON.stringify(d.key)},${d.due ?? 'null'}]`,
          ),
        ]);
      }
      if (a.tats.size > 0) {
        await c.query(SQL.flowSetTats, [limits.scope, [...a.tats.keys()], [...a.tats.values()]]);
        if (rate?.keyed && now - this.#forgotAtMs > FORGET_EVERY_MS) {
          this.#forgotAtMs = now;
          await c.query(SQL.flowForget, [limits.scope, now]);
        }
      }
      return { claimed: a.admitted, retryAtMs: a.retryAtMs ?? retryAtMs };
    });
  }

  async #tats(c: pg.PoolClient, scope: string, keys: readonly string[]): Promise<Map<string, number>> {
    const { rows } = await c.query<{ key: string; tat_ms: string }>(SQL.flowTats, [scope, keys]);
    return new Map(rows.map((r) => [r.key, Number(r.tat_ms)]));
  }

  async ack(receipts: readonly Receipt[]): Promise<number[]> {
    const { rows } = await this.#leases.query<{ id: number }>(SQL.ack, receiptValues(receipts));
    return rows.map((r) => r.id);
  }

  async fail(receipts: readonly FailedReceipt[], _nowMs: number): Promise<number> {
    const { rowCount } = await this.#leases.query(SQL.fail, [
      arrayLiteral(receipts.map((r) => r.id)),
      byId(
        receipts,
        (r) => `[${r.receiveCount},${r.visibleAtMs},${JSON.stringify(r.error ?? null) ?? 'null'}]`,
      ),
    ]);
    return rowCount ?? 0;
  }

  async deadLetter(
    receipts: readonly (Receipt & { error?: unknown })[],
    dlq: string,
    nowMs: number,
  ): Promise<number> {
    const { rowCount } = await this.#db.query(SQL.deadLetter, [
      arrayLiteral(receipts.map((r) => r.id)),
      byId(receipts, (r) =>
        r.error === undefined
          ? `[${r.receiveCount}]`
          : `[${r.receiveCount},${JSON.stringify(r.error) ?? 'null'}]`,
      ),
      dlq,
      nowMs,
    ]);
    if (rowCount) await this.#db.query('SELECT pg_notify($1, $2)', [this.#channel, dlq]);
    return rowCount ?? 0;
  }

  async extend(receipt: Receipt, visibleAtMs: number, nowMs: number): Promise<boolean> {
    const { rowCount } = await this.#leases.query(SQL.extend, [
      receipt.id,
      receipt.receiveCount,
      visibleAtMs,
      nowMs,
    ]);
    return rowCount === 1;
  }

  async release(receipts: readonly Receipt[], _nowMs: number): Promise<number> {
    const { rowCount } = await this.#leases.query(SQL.release, receiptValues(receipts));
    return rowCount ?? 0;
  }

  async offer(queue: string, o: PushOffer, nowMs: number): Promise<boolean> {
    // Pushes arrive on the LISTEN connection: none is asked for while it is down.
    const pid = this.#listenerPid();
    if (pid === null) return false;
    // On the lease pool (synchronous_commit off): an offer a crash forgets is only a claim later.
    await this.#leases.query({
      name: 'ms_offer',
      text: SQL.offer,
      values: [queue, o.consumer, o.functionQueue, o.visibilityMs, o.untilMs, nowMs, pid],
    });
    return true;
  }

  async withdraw(queue: string, consumer: string): Promise<void> {
    await this.#leases.query(SQL.withdraw, [queue, consumer]);
  }

  async nextVisibleAt(queue: string, nowMs: number): Promise<number | null> {
    const { rows } = await this.#db.query<{ t: number | null }>({
      name: 'ms_next_visible',
      text: SQL.nextVisible,
      values: [queue, nowMs],
    });
    return rows[0]?.t ?? null;
  }

  async counts(nowMs: number): Promise<QueueCounts[]> {
    const [main, dead] = await Promise.all([
      this.#db.query<{
        queue: string;
        visible: number;
        in_flight: number;
        delayed: number;
        waiting_for_slot: number;
        rate_limited: number;
        oldest: number | null;
      }>(SQL.counts, [nowMs]),
      this.#db.query<{ queue: string; dead: number }>(SQL.deadCounts),
    ]);
    const deadBy = new Map(dead.rows.map((r) => [r.queue, r.dead]));
    const out: QueueCounts[] = main.rows.map((r) => ({
      queue: r.queue,
      visible: r.visible,
      inFlight: r.in_flight,
      delayed: r.delayed,
      dead: deadBy.get(r.queue) ?? 0,
      waitingForSlot: r.waiting_for_slot,
      rateLimited: r.rate_limited,
      oldestSentAtMs: r.oldest,
    }));
    for (const [queue, n] of deadBy) {
      if (!out.some((r) => r.queue === queue)) {
        out.push({ ...NO_MESSAGES, queue, dead: n });
      }
    }
    return out;
  }

  async getMessage(id: number): Promise<MessageRow | null> {
    return readRow(this.#db, SQL.getMessage, [id], toMessageRow);
  }

  async listMessages(queue: string, o: ListMessagesOptions): Promise<MessageRow[]> {
    return readRows(
      this.#db,
      SQL.listMessages,
      [queue, o.afterId ?? 0, o.limit, o.sourceQueue ?? null],
      toMessageRow,
    );
  }

  async redrive(dlq: string, filter: RedriveFilter, nowMs: number): Promise<number> {
    const { rowCount } = await this.#db.query(SQL.redrive, [
      dlq,
      nowMs,
      filter.sourceQueue ?? null,
      filter.ids ?? null,
    ]);
    if (rowCount) await this.#db.query('SELECT pg_notify($1, $2)', [this.#channel, '*']);
    return rowCount ?? 0;
  }

  async purge(queue: string): Promise<number> {
    const { rowCount } = await this.#db.query(SQL.purge, [queue]);
    return rowCount ?? 0;
  }

  async deleteSpentKeys(nowMs: number, graceMs: number, limit: number): Promise<number> {
    const { rowCount } = await this.#db.query(SQL.deleteSpentKeys, [nowMs, graceMs, limit]);
    return rowCount ?? 0;
  }
}

/**
 * Inserts messages into `queue` without dedup keys (ids ascend in array order) and wakes its
 * consumers on `channel`, on commit when `db` is in a transaction. The scheduler's fire uses it too.
 */
export async function insertMessages(
  db: pg.Pool | pg.PoolClient,
  channel: string,
  queue: string,
  messages: readonly NewMessage[],
  nowMs: number,
): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>({
    name: 'ms_send',
    text: SQL.insert,
    values: [queue, ...columnsOf(messages), nowMs, channel, traceColumn(messages)],
  });
  return rows.map((r) => r.id);
}

/**
 * The messages' trace contexts as an array for unnest, or an empty one when none has any (the
 * common case: an untraced app sends no array of NULLs; unnest pads the column with them).
 */
function traceColumn(messages: readonly NewMessage[]): (string | null)[] {
  if (messages.every((m) => m.traceContext == null)) return [];
  return messages.map((m) => m.traceContext ?? null);
}

/** A JSON object of a value per message id (`value` gives its JSON text), for lookups by `m.id::text`. */
function byId<T extends { readonly id: number }>(items: readonly T[], value: (item: T) => string): string {
  let json = '';
  for (const item of items) json += `${json ? ',' : ''}"${item.id}":${value(item)}`;
  return `{${json}}`;
}

/** Receipts as the settling statements take them: the ids, and each one's receive count by id. */
function receiptValues(receipts: readonly Receipt[]): [string, string] {
  return [arrayLiteral(receipts.map((r) => r.id)), byId(receipts, (r) => String(r.receiveCount))];
}

/** New messages as the arrays unnest takes: bodies, priorities, visible-at times, groups. */
function columnsOf(messages: readonly NewMessage[]): [string[], number[], number[], (string | null)[]] {
  const columns: [string[], number[], number[], (string | null)[]] = [[], [], [], []];
  for (const m of messages) {
    columns[0].push(m.body);
    columns[1].push(m.priority);
    columns[2].push(m.visibleAtMs);
    columns[3].push(m.groupId);
  }
  return columns;
}
