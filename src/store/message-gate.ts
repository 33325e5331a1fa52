// Debounce and throttle (issue 25): what a send under a key does, planned once for both
// backends. A key's state is a `queue_dedup` row: the message it last gave and a time
// (`expires_at_ms`). Each kind keeps its keys apart from dedup keys, and from each other's,
// in the row's queue column (`debounce:<queue>`, `throttle:<queue>`, `throttle-delay:<queue>`):
// a queue name holds no ':', so no namespace meets another and no migration is needed.
// A batch is planned as if its sends came one after another, in order; the backend loads each
// key's row first (locked, on PostgreSQL) and then writes the plan.

import type { InsertedMessage, NewMessage } from './message-row.ts';

/** A key as stored: the `queue_dedup` row (queue column namespaced) it lives in. */
export interface GateKey {
  readonly queue: string;
  readonly key: string;
  /** Debounce: its holder must be read too (is it still pending, and since when). */
  readonly debounce: boolean;
}

/** A key's row as the backend found it. */
export interface GateSlot {
  /** The message it last gave; 0 when the row was only just created (PostgreSQL locks by inserting). */
  readonly messageId: number;
  /** drop: accepted until; delay: the last message's due time; debounce: the pending message's due time. */
  readonly untilMs: number;
  /** Debounce: the holder's send time when it is still pending (in its queue, never received), else null. */
  readonly pendingSentAtMs: number | null;
}

/** A message of the plan: a stored one by id, or the n-th of the plan's inserts. */
export type PlannedRef = { readonly id: number } | { readonly insert: number };

export interface GatePlan {
  /** The messages to insert, in order (ids must ascend in this order), with their due times. */
  readonly inserts: NewMessage[];
  /** Pending messages replaced: id → the body, priority, due time and trace context they take. */
  readonly replaces: Map<number, NewMessage>;
  /** Per sent message, in order: the message it gave, and whether nothing was inserted for it. */
  readonly results: { readonly ref: PlannedRef; readonly deduplicated: boolean }[];
  /** Each key's row as it ends. */
  readonly slots: { readonly queue: string; readonly key: string; ref: PlannedRef; untilMs: number }[];
}

const NAMESPACE = { debounce: 'debounce:', drop: 'throttle:', delay: 'throttle-delay:' } as const;

/** How a message is keyed, if at all: its gate, or its dedup key (a drop over the dedup window). */
function keyOf(queue: string, m: NewMessage, dedupWindowMs: number) {
  if (m.gate) return { queue: NAMESPACE[m.gate.kind] + queue, ...m.gate };
  if (m.dedupKey !== null) {
    return { queue, kind: 'drop' as const, key: m.dedupKey, periodMs: dedupWindowMs, maxWaitMs: null };
  }
  return null;
}

/** A key's identity in the maps `planGated` takes. */
export const gateSlotId = (queue: string, key: string): string => `${queue}\u0000${key}`;

/** The distinct keys a batch sends under, sorted (PostgreSQL locks them in this order: no deadlock). */
export function gateKeys(queue: string, messages: readonly NewMessage[], dedupWindowMs: number): GateKey[] {
  const keys = new Map<string, GateKey>();
  for (const m of messages) {
    const k = keyOf(queue, m, dedupWindowMs);
    if (k)
      keys.set(gateSlotId(k.queue, k.key), { queue: k.queue, key: k.key, debounce: k.kind === 'debounce' });
  }
  return [...keys.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, k]) => k);
}

/**
 * Plans a batch with gated messages as one send after another. `stored` gives each key's row
 * (from `gateKeys`) as loaded; keys without one start empty. Plain and dedup-keyed messages of
 * the batch are planned alike (a dedup key is a drop over the dedup window, in its own namespace).
 */
export function planGated(
  queue: string,
  messages: readonly NewMessage[],
  nowMs: number,
  dedupWindowMs: number,
  stored: ReadonlyMap<string, GateSlot>,
): GatePlan {
  const plan: GatePlan = { inserts: [], replaces: new Map(), results: [], slots: [] };
  // Each key as the batch leaves it so far; untilMs is null for a key that gave no message yet.
  const live = new Map<
    string,
    { queue: string; key: string; ref: PlannedRef; untilMs: number | null; pendingSentAtMs: number | null }
  >();
  const insert = (m: NewMessage): PlannedRef => ({ insert: plan.inserts.push(m) - 1 });
  for (const m of messages) {
    const k = keyOf(queue, m, dedupWindowMs);
    if (!k) {
      plan.results.push({ ref: insert(m), deduplicated: false });
      continue;
    }
    const id = gateSlotId(k.queue, k.key);
    let s = live.get(id);
    if (!s) {
      const row = stored.get(id);
      const held = row && row.messageId > 0 ? row : null;
      s = {
        queue: k.queue,
        key: k.key,
        ref: held ? { id: held.messageId } : { insert: -1 }, // set by the first step below
        untilMs: held?.untilMs ?? null,
        pendingSentAtMs: held?.pendingSentAtMs ?? null,
      };
      live.set(id, s);
    }
    if (k.kind === 'drop') {
      if (s.untilMs !== null && s.untilMs > nowMs) {
        plan.results.push({ ref: s.ref, deduplicated: true });
        continue;
      }
      s.ref = insert(m);
      s.untilMs = nowMs + k.periodMs;
      plan.results.push({ ref: s.ref, deduplicated: false });
    } else if (k.kind === 'delay') {
      const due = s.untilMs === null ? m.visibleAtMs : Math.max(m.visibleAtMs, s.untilMs + k.periodMs);
      s.ref = insert({ ...m, visibleAtMs: due });
      s.untilMs = due;
      plan.results.push({ ref: s.ref, deduplicated: false });
    } else if (s.pendingSentAtMs !== null) {
      // Debounce onto the pending message: its first send stays, so maxWait caps the push.
      const due = Math.min(nowMs + k.periodMs, s.pendingSentAtMs + (k.maxWaitMs ?? Number.POSITIVE_INFINITY));
      const replaced = { ...m, visibleAtMs: due };
      if ('insert' in s.ref) plan.inserts[s.ref.insert] = replaced;
      else plan.replaces.set(s.ref.id, replaced);
      s.untilMs = due;
      plan.results.push({ ref: s.ref, deduplicated: true });
    } else {
      s.ref = insert({ ...m, visibleAtMs: nowMs + k.periodMs });
      s.untilMs = nowMs + k.periodMs;
      s.pendingSentAtMs = nowMs;
      plan.results.push({ ref: s.ref, deduplicated: false });
    }
  }
  // Every key took a step, so each has a message and a time now.
  for (const s of live.values()) {
    plan.slots.push({ queue: s.queue, key: s.key, ref: s.ref, untilMs: s.untilMs! });
  }
  return plan;
}

/** The plan's results with the ids its inserts were given (in order). */
export function gatedResults(plan: GatePlan, insertedIds: readonly number[]): InsertedMessage[] {
  return plan.results.map((r) => ({ id: idOf(r.ref, insertedIds), deduplicated: r.deduplicated }));
}

export function idOf(ref: PlannedRef, insertedIds: readonly number[]): number {
  return 'id' in ref ? ref.id : insertedIds[ref.insert]!;
}
