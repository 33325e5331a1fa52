// Queues on SQLite. One process owns the file and node:sqlite is synchronous, so
// each operation runs to completion without interleaving; batches run in one
// IMMEDIATE transaction with prepared statements.

import { admit, budget, type FlowLimits, FORGET_EVERY_MS, type LimitedClaim, took, WHOLE } from '../flow.ts';
import { type GateSlot, gatedResults, gateKeys, gateSlotId, idOf, planGated } from '../message-gate.ts';
import {
  type ClaimedMessage,
  type ClaimOptions,
  type FailedReceipt,
  type InsertedMessage,
  type ListMessagesOptions,
  MESSAGE_COLUMNS,
  MESSAGES_CHANNEL,
  type MessageRow,
  type NewMessage,
  NO_MESSAGES,
  QUEUE_COLUMNS,
  type QueueCounts,
  type QueueRow,
  type QueueStore,
  type RawClaimed,
  type RawMessage,
  type RawQueue,
  type Receipt,
  type RedriveFilter,
  toClaimed,
  toMessageRow,
  toQueueRow,
} from '../message-row.ts';
import { type Connection, type Prepared, prepareAll, transaction } from './database.ts';

/**
 * The earliest message of queue ?1 coming due after ?2. Only a delayed message can (migration
 * 0018): the last term matches the partial index's, so this is a seek in `messages_delayed`.
 */
export const NEXT_VISIBLE =
  'SELECT min(visible_at_ms) AS t FROM messages WHERE queue = ?1 AND visible_at_ms > ?2 AND visible_at_ms > sent_at_ms';

// Insert one message into queue ?1, sent at ?6 in trace context ?7 (or null). The scheduler's fire
// transaction inserts with it too.
export const INSERT_MESSAGE = `INSERT INTO messages (queue, body, priority, visible_at_ms, group_id, sent_at_ms, trace_context)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id`;

// Neither queue ?1 nor the consuming function's invocation queue (parameter `fn`, may be
// null) is paused; a queue without a row never is.
const notPaused = (fn: string) =>
  `NOT EXISTS (SELECT 1 FROM queues WHERE name IN (?1, ${fn}) AND paused_at_ms IS NOT NULL)`;

const SQL = {
  // Create or replace queue ?1's settings ?2 at ?3.
  upsertQueue: `INSERT INTO queues (name, config, created_at_ms, updated_at_ms) VALUES (?1, ?2, ?3, ?3)
    ON CONFLICT (name) DO UPDATE SET config = excluded.config, updated_at_ms = excluded.updated_at_ms
    WHERE queues.config <> excluded.config`,
  getQueue: `SELECT ${QUEUE_COLUMNS} FROM queues WHERE name = ?1`,
  listQueues: `SELECT ${QUEUE_COLUMNS} FROM queues ORDER BY name`,
  // Pause queue ?1 at ?2 (an earlier pause keeps its time); the change moves updated_at_ms, the
  // dashboard's change mark.
  pause: `UPDATE queues SET paused_at_ms = coalesce(paused_at_ms, ?2),
      updated_at_ms = CASE WHEN paused_at_ms IS NULL THEN ?2 ELSE updated_at_ms END
    WHERE name = ?1 RETURNING ${QUEUE_COLUMNS}`,
  resume: `UPDATE queues SET paused_at_ms = NULL,
      updated_at_ms = CASE WHEN paused_at_ms IS NULL THEN updated_at_ms ELSE ?2 END
    WHERE name = ?1 RETURNING ${QUEUE_COLUMNS}`,
  insert: INSERT_MESSAGE,
  // Take dedup key ?2 of queue ?1 for message ?3 until ?4, unless live at ?5; returns the holder.
  dedup: `INSERT INTO queue_dedup (queue, key, message_id, expires_at_ms) VALUES (?1, ?2, ?3, ?4)
    ON CONFLICT (queue, key) DO UPDATE SET message_id = excluded.message_id, expires_at_ms = excluded.expires_at_ms
    WHERE queue_dedup.expires_at_ms <= ?5
    RETURNING message_id`,
  dedupHolder: 'SELECT message_id FROM queue_dedup WHERE queue = ?1 AND key = ?2',
  // Debounce and throttle (message-gate.ts). Key ?2 of namespaced queue ?1: its holder and time.
  gateSlot: 'SELECT message_id, expires_at_ms FROM queue_dedup WHERE queue = ?1 AND key = ?2',
  // The send time of message ?1 if it is still pending in queue ?2: never received, not leased.
  gatePending: `SELECT sent_at_ms FROM messages
    WHERE id = ?1 AND queue = ?2 AND leased = 0 AND receive_count = 0 AND prior_receives = 0`,
  // Replace pending message ?1's body ?2, priority ?3, due time ?4 and trace context ?5; its send time stays.
  gateReplace:
    'UPDATE messages SET body = ?2, priority = ?3, visible_at_ms = ?4, trace_context = ?5 WHERE id = ?1',
  // Set key ?2 of namespaced queue ?1 to message ?3 and time ?4.
  gateKeep: `INSERT INTO queue_dedup (queue, key, message_id, expires_at_ms) VALUES (?1, ?2, ?3, ?4)
    ON CONFLICT (queue, key) DO UPDATE SET message_id = excluded.message_id, expires_at_ms = excluded.expires_at_ms`,
  nextId: "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0) + 1 AS id",
  // Lease up to ?3 messages of queue ?1 due by ?5 for ?4 ms from their due time; ?2 = now. INDEXED BY: left to itself the
  // planner picks messages_next_visible and sorts every visible message on each claim. Nothing while
  // the queue is paused: one primary-key lookup, evaluated once per claim.
  claim: `UPDATE messages SET lease_until_ms = max(visible_at_ms, ?2) + ?4, receive_count = receive_count + 1, leased = 1
    WHERE id IN (SELECT id FROM messages INDEXED BY messages_claim WHERE queue = ?1 AND visible_at_ms <= ?5
                   AND (leased = 0 OR lease_until_ms <= ?2) AND ${notPaused('?6')}
                 ORDER BY priority DESC, visible_at_ms, id LIMIT ?3)
    RETURNING id, body, priority, receive_count, prior_receives, sent_at_ms, group_id, visible_at_ms, trace_context`,
  // FIFO: as claim, but only group heads (the lowest id of their group) of ungrouped-or-grouped messages.
  claimFifo: `UPDATE messages SET lease_until_ms = max(visible_at_ms, ?2) + ?4, receive_count = receive_count + 1, leased = 1
    WHERE id IN (SELECT m.id FROM messages m WHERE m.queue = ?1 AND m.visible_at_ms <= ?5
                   AND (m.leased = 0 OR m.lease_until_ms <= ?2) AND ${notPaused('?6')}
                   AND (m.group_id IS NULL OR NOT EXISTS (
                        SELECT 1 FROM messages p WHERE p.queue = m.queue AND p.group_id = m.group_id AND p.id < m.id))
                 ORDER BY m.id LIMIT ?3)
    RETURNING id, body, priority, receive_count, prior_receives, sent_at_ms, group_id, visible_at_ms, trace_context`,
  // Flow limits (src/store/flow.ts). As claim, but skipping messages of keys in JSON array ?6
  // (those at their concurrency limit).
  claimLimited: `UPDATE messages SET lease_until_ms = max(visible_at_ms, ?2) + ?4, receive_count = receive_count + 1, leased = 1
    WHERE id IN (SELECT id FROM messages INDEXED BY messages_claim WHERE queue = ?1 AND visible_at_ms <= ?5
                   AND (leased = 0 OR lease_until_ms <= ?2) AND ${notPaused('?7')}
                   AND (flow_key IS NULL OR flow_key NOT IN (SELECT value FROM json_each(?6)))
                 ORDER BY priority DESC, visible_at_ms, id LIMIT ?3)
    RETURNING id, body, priority, receive_count, prior_receives, sent_at_ms, group_id, visible_at_ms, trace_context`,
  // Messages running at ?2 in queues ?1 (a JSON array): leased, their lease not over.
  flowRunning: `SELECT count(*) AS n FROM messages
    WHERE queue IN (SELECT value FROM json_each(?1)) AND leased = 1 AND lease_until_ms > ?2`,
  // Keys with at least ?3 messages running at ?2 in queues ?1.
  flowFull: `SELECT flow_key FROM messages
    WHERE queue IN (SELECT value FROM json_each(?1)) AND flow_key IS NOT NULL AND leased = 1 AND lease_until_ms > ?2
    GROUP BY flow_key HAVING count(*) >= ?3`,
  // Messages of key ?2 running at ?3 in queues ?1, other than messages ?4 (a JSON array).
  flowRunningOfKey: `SELECT count(*) AS n FROM messages
    WHERE flow_key = ?2 AND queue IN (SELECT value FROM json_each(?1)) AND leased = 1 AND lease_until_ms > ?3
      AND id NOT IN (SELECT value FROM json_each(?4))`,
  flowTat: 'SELECT tat_ms FROM flow_rates WHERE scope = ?1 AND key = ?2',
  flowSetTat: `INSERT INTO flow_rates (scope, key, tat_ms) VALUES (?1, ?2, ?3)
    ON CONFLICT (scope, key) DO UPDATE SET tat_ms = excluded.tat_ms`,
  // A key whose tat has passed is as good as none.
  flowForget: 'DELETE FROM flow_rates WHERE scope = ?1 AND tat_ms < ?2',
  flowKeep: 'UPDATE messages SET flow_key = ?2 WHERE id = ?1',
  // Hand message ?1 back unreceived (key ?2), due no sooner than ?3 (null: as it was).
  flowDefer: `UPDATE messages SET flow_key = ?2, leased = 0, lease_until_ms = NULL,
      receive_count = receive_count - 1, visible_at_ms = max(visible_at_ms, coalesce(?3, 0))
    WHERE id = ?1`,
  // A matching receive count means nobody received the message since: the ack stands.
  ack: 'DELETE FROM messages WHERE id = ?1 AND receive_count = ?2',
  // Return message ?1 (held with receive count ?2) to its queue at ?3, appending error ?4.
  fail: `UPDATE messages SET leased = 0, lease_until_ms = NULL, visible_at_ms = ?3,
    errors = json_insert(coalesce(errors, '[]'), '$[#]', json(?4))
    WHERE id = ?1 AND receive_count = ?2 AND leased = 1`,
  // Move message ?1 (held with ?2) into dead-letter queue ?3 at ?4, appending error ?5 if any.
  // Its receives so far move to prior_receives (see migration 0009).
  deadLetter: `UPDATE messages SET source_queue = queue, queue = ?3,
    prior_receives = prior_receives + receive_count, receive_count = 0, leased = 0,
    lease_until_ms = NULL, visible_at_ms = ?4, dead_at_ms = ?4,
    errors = CASE WHEN ?5 IS NULL THEN errors ELSE json_insert(coalesce(errors, '[]'), '$[#]', json(?5)) END
    WHERE id = ?1 AND receive_count = ?2`,
  extend: `UPDATE messages SET lease_until_ms = ?3
    WHERE id = ?1 AND receive_count = ?2 AND leased = 1 AND lease_until_ms > ?4`,
  // Hand a held message back at once: unleased, it is receivable again.
  release:
    'UPDATE messages SET leased = 0, lease_until_ms = NULL WHERE id = ?1 AND receive_count = ?2 AND leased = 1',
  nextVisible: NEXT_VISIBLE,
  counts: `SELECT queue,
      sum(visible_at_ms <= ?1 AND NOT (leased = 1 AND lease_until_ms > ?1)) AS visible,
      sum(leased = 1 AND lease_until_ms > ?1) AS in_flight,
      sum(visible_at_ms > ?1 AND NOT (leased = 1 AND lease_until_ms > ?1)) AS delayed,
      sum(flow_key IS NOT NULL AND visible_at_ms <= ?1 AND NOT (leased = 1 AND lease_until_ms > ?1)) AS waiting_for_slot,
      sum(flow_key IS NOT NULL AND receive_count = 0 AND visible_at_ms > ?1
          AND NOT (leased = 1 AND lease_until_ms > ?1)) AS rate_limited,
      min(sent_at_ms) AS oldest
    FROM messages GROUP BY queue`,
  deadCounts:
    'SELECT source_queue AS queue, count(*) AS dead FROM messages WHERE source_queue IS NOT NULL GROUP BY source_queue',
  getMessage: `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = ?1`,
  // Messages of queue ?1 after id ?2, at most ?3, only from source queue ?4 if not null.
  listMessages: `SELECT ${MESSAGE_COLUMNS} FROM messages
    WHERE queue = ?1 AND id > ?2 AND (?4 IS NULL OR source_queue = ?4) ORDER BY id LIMIT ?3`,
  // Move dead letters of ?1 (from source ?3 if not null; ids in JSON array ?4 if not null) back
  // to their source queue, visible at ?2, with a fresh receive count (the old one added to prior_receives).
  redrive: `UPDATE messages SET queue = source_queue, source_queue = NULL, dead_at_ms = NULL,
    prior_receives = prior_receives + receive_count, receive_count = 0, leased = 0, lease_until_ms = NULL,
    visible_at_ms = ?2
    WHERE queue = ?1 AND source_queue IS NOT NULL AND (?3 IS NULL OR source_queue = ?3)
      AND (?4 IS NULL OR id IN (SELECT value FROM json_each(?4)))`,
  purge: 'DELETE FROM messages WHERE queue = ?1',
  // Up to ?3 key rows over before ?1 - ?2; a debounce key only once its message is no longer
  // pending (see gatePending).
  deleteSpentKeys: `DELETE FROM queue_dedup WHERE (queue, key) IN (
      SELECT d.queue, d.key FROM queue_dedup d
       WHERE d.expires_at_ms <= ?1 - ?2
         AND (d.queue NOT LIKE 'debounce:%' OR NOT EXISTS (
               SELECT 1 FROM messages m WHERE m.id = d.message_id
                  AND m.leased = 0 AND m.receive_count = 0 AND m.prior_receives = 0))
       LIMIT ?3)`,
} as const;

export class SqliteQueueStore implements QueueStore {
  readonly #db: Connection;
  readonly #q: Prepared<typeof SQL>;
  readonly #notify: (channel: string, payload: string) => void;
  /** When idle rate-limit keys were last deleted. */
  #forgotAtMs = 0;

  constructor(db: Connection, notify: (channel: string, payload: string) => void) {
    this.#db = db;
    this.#notify = notify;
    this.#q = prepareAll(db, SQL);
    // Claimed rows come back as arrays (RawClaimed).
    for (const claim of [this.#q.claim, this.#q.claimFifo, this.#q.claimLimited]) claim.setReturnArrays(true);
  }

  async upsertQueue(name: string, config: unknown, nowMs: number): Promise<void> {
    this.#q.upsertQueue.run(name, JSON.stringify(config), nowMs);
  }

  async getQueue(name: string): Promise<QueueRow | null> {
    const row = this.#q.getQueue.get(name) as RawQueue | undefined;
    return row ? toQueueRow(row) : null;
  }

  async listQueues(): Promise<QueueRow[]> {
    return (this.#q.listQueues.all() as unknown as RawQueue[]).map(toQueueRow);
  }

  async setPaused(name: string, paused: boolean, nowMs: number): Promise<QueueRow | null> {
    const row = (paused ? this.#q.pause : this.#q.resume).get(name, nowMs) as RawQueue | undefined;
    if (!row) return null;
    // Consumers idle while paused: a resume wakes them rather than leaving it to their poll.
    if (!paused) this.#notify(MESSAGES_CHANNEL, name);
    return toQueueRow(row);
  }

  async send(queue: string, messages: readonly NewMessage[], nowMs: number, dedupWindowMs: number) {
    if (messages.some((m) => m.gate)) return this.#sendGated(queue, messages, nowMs, dedupWindowMs);
    const q = this.#q;
    const result = transaction(this.#db, () =>
      messages.map((m): InsertedMessage => {
        if (m.dedupKey !== null) {
          const nextId = (q.nextId.get() as { id: number }).id;
          const took = q.dedup.get(queue, m.dedupKey, nextId, nowMs + dedupWindowMs, nowMs);
          if (!took) {
            const holder = q.dedupHolder.get(queue, m.dedupKey) as { message_id: number };
            return { id: Number(holder.message_id), deduplicated: true };
          }
        }
        const trace = m.traceContext ?? null;
        const row = q.insert.get(queue, m.body, m.priority, m.visibleAtMs, m.groupId, nowMs, trace) as {
          id: number;
        };
        return { id: Number(row.id), deduplicated: false };
      }),
    );
    if (result.some((r) => !r.deduplicated)) this.#notify(MESSAGES_CHANNEL, queue);
    return result;
  }

  /** A batch with debounce or throttle keys: one transaction, each send as if after the one before. */
  #sendGated(queue: string, messages: readonly NewMessage[], nowMs: number, dedupWindowMs: number) {
    const q = this.#q;
    const { result, wrote } = transaction(this.#db, () => {
      const stored = new Map<string, GateSlot>();
      for (const k of gateKeys(queue, messages, dedupWindowMs)) {
        const row = q.gateSlot.get(k.queue, k.key) as
          | { message_id: number; expires_at_ms: number }
          | undefined;
        if (!row) continue;
        const pending = k.debounce
          ? (q.gatePending.get(row.message_id, queue) as { sent_at_ms: number } | undefined)
          : undefined;
        stored.set(gateSlotId(k.queue, k.key), {
          messageId: Number(row.message_id),
          untilMs: Number(row.expires_at_ms),
          pendingSentAtMs: pending ? Number(pending.sent_at_ms) : null,
        });
      }
      const plan = planGated(queue, messages, nowMs, dedupWindowMs, stored);
      const ids = plan.inserts.map((m) => {
        const row = q.insert.get(
          queue,
          m.body,
          m.priority,
          m.visibleAtMs,
          m.groupId,
          nowMs,
          m.traceContext ?? null,
        );
        return Number((row as { id: number }).id);
      });
      for (const [id, m] of plan.replaces) {
        q.gateReplace.run(id, m.body, m.priority, m.visibleAtMs, m.traceContext ?? null);
      }
      for (const s of plan.slots) q.gateKeep.run(s.queue, s.key, idOf(s.ref, ids), s.untilMs);
      return { result: gatedResults(plan, ids), wrote: ids.length + plan.replaces.size > 0 };
    });
    // A replaced message may now be due sooner (a shorter period than the send before): wake too.
    if (wrote) this.#notify(MESSAGES_CHANNEL, queue);
    return result;
  }

  async claim(queue: string, o: ClaimOptions): Promise<ClaimedMessage[]> {
    const stmt = o.fifo ? this.#q.claimFifo : this.#q.claim;
    const rows = stmt.all(
      queue,
      o.nowMs,
      o.limit,
      o.visibilityMs,
      o.dueByMs,
      o.functionQueue ?? null,
    ) as unknown as RawClaimed[];
    return toClaimed(rows, o.fifo);
  }

  async claimLimited(
    queue: string,
    o: ClaimOptions,
    limits: FlowLimits,
    keyOf: (m: ClaimedMessage) => string,
  ): Promise<LimitedClaim<ClaimedMessage>> {
    const q = this.#q;
    const now = o.nowMs;
    const queues = JSON.stringify(limits.queues);
    const { concurrency, rate } = limits;
    const tatOf = (key: string) => {
      const row = q.flowTat.get(limits.scope, key) as { tat_ms: number } | undefined;
      return row === undefined ? undefined : Number(row.tat_ms);
    };
    // One transaction: a key function that throws rolls the claim back whole.
    return transaction(this.#db, () => {
      const running =
        concurrency && !concurrency.keyed ? Number((q.flowRunning.get(queues, now) as { n: number }).n) : 0;
      const wholeTat = rate && !rate.keyed ? tatOf(WHOLE) : undefined;
      const { limit, retryAtMs } = budget(limits, o.limit, running, wholeTat, now);
      if (limit === 0) return { claimed: [], retryAtMs };
      const full = concurrency?.keyed
        ? (q.flowFull.all(queues, now, concurrency.limit) as { flow_key: string }[]).map((r) => r.flow_key)
        : [];
      const rows = q.claimLimited.all(
        queue,
        now,
        limit,
        o.visibilityMs,
        o.dueByMs,
        JSON.stringify(full),
        o.functionQueue ?? null,
      ) as unknown as RawClaimed[];
      const claimed = toClaimed(rows, false);
      if (rate && !rate.keyed && claimed.length > 0) {
        q.flowSetTat.run(limits.scope, WHOLE, took(rate, wholeTat, now, claimed.length));
      }
      if (!concurrency?.keyed && !rate?.keyed) return { claimed, retryAtMs };
      const keys = new Set(claimed.map(keyOf));
      const ids = JSON.stringify(claimed.map((m) => m.id));
      const runningByKey = new Map<string, number>();
      const tats = new Map<string, number>();
      for (const key of keys) {
        if (concurrency?.keyed) {
          const n = Number((q.flowRunningOfKey.get(queues, key, now, ids) as { n: number }).n);
          if (n > 0) runningByKey.set(key, n);
        }
        const tat = rate?.keyed ? tatOf(key) : undefined;
        if (tat !== undefined) tats.set(key, tat);
      }
      const a = admit(limits, claimed, keyOf, runningByKey, tats, now);
      for (const m of a.admitted) q.flowKeep.run(m.id, a.keys.get(m.id)!);
      for (const d of a.deferred) q.flowDefer.run(d.message.id, d.key, d.dueAtMs);
      for (const [key, tat] of a.tats) q.flowSetTat.run(limits.scope, key, tat);
      if (rate?.keyed && now - this.#forgotAtMs > FORGET_EVERY_MS) {
        this.#forgotAtMs = now;
        q.flowForget.run(limits.scope, now);
      }
      return { claimed: a.admitted, retryAtMs: a.retryAtMs ?? retryAtMs };
    });
  }

  async ack(receipts: readonly Receipt[]): Promise<number[]> {
    const stmt = this.#q.ack;
    return transaction(this.#db, () =>
      receipts.filter((r) => Number(stmt.run(r.id, r.receiveCount).changes) === 1).map((r) => r.id),
    );
  }

  async fail(receipts: readonly FailedReceipt[], _nowMs: number): Promise<number> {
    const stmt = this.#q.fail;
    return transaction(this.#db, () =>
      receipts.reduce(
        (n, r) =>
          n + Number(stmt.run(r.id, r.receiveCount, r.visibleAtMs, JSON.stringify(r.error ?? null)).changes),
        0,
      ),
    );
  }

  async deadLetter(
    receipts: readonly (Receipt & { error?: unknown })[],
    dlq: string,
    nowMs: number,
  ): Promise<number> {
    const stmt = this.#q.deadLetter;
    const moved = transaction(this.#db, () =>
      receipts.reduce((n, r) => {
        const error = r.error === undefined ? null : JSON.stringify(r.error);
        return n + Number(stmt.run(r.id, r.receiveCount, dlq, nowMs, error).changes);
      }, 0),
    );
    if (moved > 0) this.#notify(MESSAGES_CHANNEL, dlq);
    return moved;
  }

  async extend(receipt: Receipt, visibleAtMs: number, nowMs: number): Promise<boolean> {
    return Number(this.#q.extend.run(receipt.id, receipt.receiveCount, visibleAtMs, nowMs).changes) === 1;
  }

  async release(receipts: readonly Receipt[], _nowMs: number): Promise<number> {
    const stmt = this.#q.release;
    return transaction(this.#db, () =>
      receipts.reduce((n, r) => n + Number(stmt.run(r.id, r.receiveCount).changes), 0),
    );
  }

  async nextVisibleAt(queue: string, nowMs: number): Promise<number | null> {
    const row = this.#q.nextVisible.get(queue, nowMs) as { t: number | null };
    return row.t;
  }

  async counts(nowMs: number): Promise<QueueCounts[]> {
    const dead = new Map(
      (this.#q.deadCounts.all() as { queue: string; dead: number }[]).map((r) => [r.queue, Number(r.dead)]),
    );
    const rows = this.#q.counts.all(nowMs) as {
      queue: string;
      visible: number;
      in_flight: number;
      delayed: number;
      waiting_for_slot: number;
      rate_limited: number;
      oldest: number | null;
    }[];
    const out = rows.map((r) => ({
      queue: r.queue,
      visible: Number(r.visible),
      inFlight: Number(r.in_flight),
      delayed: Number(r.delayed),
      dead: dead.get(r.queue) ?? 0,
      waitingForSlot: Number(r.waiting_for_slot),
      rateLimited: Number(r.rate_limited),
      oldestSentAtMs: r.oldest,
    }));
    for (const [queue, n] of dead) {
      if (!out.some((r) => r.queue === queue)) {
        out.push({ ...NO_MESSAGES, queue, dead: n });
      }
    }
    return out;
  }

  async getMessage(id: number): Promise<MessageRow | null> {
    const row = this.#q.getMessage.get(id) as RawMessage | undefined;
    return row ? toMessageRow(row) : null;
  }

  async listMessages(queue: string, o: ListMessagesOptions): Promise<MessageRow[]> {
    const rows = this.#q.listMessages.all(queue, o.afterId ?? 0, o.limit, o.sourceQueue ?? null);
    return (rows as unknown as RawMessage[]).map(toMessageRow);
  }

  async redrive(dlq: string, filter: RedriveFilter, nowMs: number): Promise<number> {
    const ids = filter.ids ? JSON.stringify(filter.ids) : null;
    const moved = Number(this.#q.redrive.run(dlq, nowMs, filter.sourceQueue ?? null, ids).changes);
    if (moved > 0) this.#notify(MESSAGES_CHANNEL, '*');
    return moved;
  }

  async purge(queue: string): Promise<number> {
    return Number(this.#q.purge.run(queue).changes);
  }

  async deleteSpentKeys(nowMs: number, graceMs: number, limit: number): Promise<number> {
    return Number(this.#q.deleteSpentKeys.run(nowMs, graceMs, limit).changes);
  }
}
