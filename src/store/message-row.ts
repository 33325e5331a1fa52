import type { ClaimedMessage, MessageRow, QueueRow } from './types.ts';

/** The channel on which a send wakes the consumers of a queue; the payload is the queue name. */
export const MESSAGES_CHANNEL = 'messages';

export const MESSAGE_COLUMNS =
  'id, queue, body, priority, visible_at_ms, receive_count, leased, lease_until_ms, group_id, sent_at_ms, errors, source_queue, dead_at_ms';

export interface RawMessage {
  id: number | bigint;
  queue: string;
  body: string;
  priority: number | bigint;
  visible_at_ms: number | bigint;
  receive_count: number | bigint;
  leased: number | boolean;
  lease_until_ms: number | bigint | null;
  group_id: string | null;
  sent_at_ms: number | bigint;
  errors: string | unknown[] | null;
  source_queue: string | null;
  dead_at_ms: number | bigint | null;
}

export function toMessageRow(r: RawMessage): MessageRow {
  return {
    id: Number(r.id),
    queue: r.queue,
    body: r.body,
    priority: Number(r.priority),
    visibleAtMs: Number(r.visible_at_ms),
    receiveCount: Number(r.receive_count),
    leased: Boolean(r.leased),
    leaseUntilMs: r.lease_until_ms === null ? null : Number(r.lease_until_ms),
    groupId: r.group_id,
    sentAtMs: Number(r.sent_at_ms),
    errors:
      r.errors === null ? [] : typeof r.errors === 'string' ? (JSON.parse(r.errors) as unknown[]) : r.errors,
    sourceQueue: r.source_queue,
    deadAtMs: r.dead_at_ms === null ? null : Number(r.dead_at_ms),
  };
}

export interface RawQueue {
  name: string;
  config: string | unknown;
  created_at_ms: number | bigint;
  updated_at_ms: number | bigint;
}

export function toQueueRow(r: RawQueue): QueueRow {
  return {
    name: r.name,
    config: typeof r.config === 'string' ? JSON.parse(r.config) : r.config,
    createdAtMs: Number(r.created_at_ms),
    updatedAtMs: Number(r.updated_at_ms),
  };
}

export interface RawClaimed {
  id: number;
  body: string;
  priority: number;
  receive_count: number;
  prior_receives: number;
  sent_at_ms: number;
  group_id: string | null;
  visible_at_ms: number;
}

/** Claimed rows in delivery order: UPDATE … RETURNING keeps no order on either backend. */
export function toClaimed(rows: RawClaimed[], fifo: boolean): ClaimedMessage[] {
  if (fifo) rows.sort((a, b) => a.id - b.id);
  else rows.sort((a, b) => b.priority - a.priority || a.visible_at_ms - b.visible_at_ms || a.id - b.id);
  return rows.map((r) => ({
    id: Number(r.id),
    body: r.body,
    priority: Number(r.priority),
    receiveCount: Number(r.receive_count),
    priorReceives: Number(r.prior_receives),
    sentAtMs: Number(r.sent_at_ms),
    groupId: r.group_id,
    visibleAtMs: Number(r.visible_at_ms),
  }));
}
