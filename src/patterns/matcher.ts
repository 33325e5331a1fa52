// Matches one compiled pattern tree against an event. Arrays in the event are "crushed"
// (a field matches when any element matches), and the fields of one pattern object must
// all be satisfied by the same array element (event-ruler's array-consistent matching).

import { compileTree, type FieldNode, type ObjectNode } from './compile.ts';
import { type Leaf, type LeafSet, leafMatches } from './leaf.ts';
import type { CompiledPattern, EventPattern } from './types.ts';

/** True for the JSON leaf types: string, number, boolean, null. */
export function isLeaf(v: unknown): v is Leaf {
  const t = typeof v;
  return t === 'string' || t === 'number' || t === 'boolean' || v === null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads an own field of an event object; `detail-type` falls back to `detailType` at the top
 * level. `inherited` says the name also exists on Object.prototype, so ownership is checked;
 * other names skip that check (events are plain JSON objects).
 */
export function readField(
  obj: Record<string, unknown>,
  key: string,
  alias: string | undefined,
  inherited: boolean,
): unknown {
  let v = obj[key];
  if (v !== undefined && inherited && !Object.hasOwn(obj, key)) v = undefined;
  if (v !== undefined || alias === undefined) return v;
  return obj[alias];
}

const NO_LEAF = 0;
const LEAF_NO_MATCH = 1;
const MATCH = 2;

/** Scans an array (and arrays nested in it) for a leaf that matches. */
function scanLeaves(set: LeafSet, arr: readonly unknown[]): number {
  let state = NO_LEAF;
  for (let i = 0; i < arr.length; i++) {
    const el = arr[i];
    if (isLeaf(el)) {
      if (leafMatches(set, el)) return MATCH;
      state = LEAF_NO_MATCH;
    } else if (Array.isArray(el)) {
      const inner = scanLeaves(set, el);
      if (inner === MATCH) return MATCH;
      if (inner === LEAF_NO_MATCH) state = LEAF_NO_MATCH;
    }
  }
  return state;
}

/** Matches a field's value list against the event value at that field (undefined when absent). */
function matchLeafField(set: LeafSet, value: unknown): boolean {
  if (isLeaf(value)) return leafMatches(set, value);
  if (Array.isArray(value)) {
    const state = scanLeaves(set, value);
    return state === MATCH || (state === NO_LEAF && set.missing);
  }
  // Absent, or an object: there is no leaf at this path (exists works on leaves only).
  return set.missing;
}

/** True when some object in the array (crushing nested arrays) matches the node; notes whether any object was seen. */
function someObject(node: ObjectNode, arr: readonly unknown[], seen: { object: boolean }): boolean {
  for (let i = 0; i < arr.length; i++) {
    const el = arr[i];
    if (isObject(el)) {
      seen.object = true;
      if (matchFields(node, el)) return true;
    } else if (Array.isArray(el) && someObject(node, el, seen)) {
      return true;
    }
  }
  return false;
}

/** Matches a pattern object against the event value at its path. */
export function matchNode(node: ObjectNode, value: unknown): boolean {
  if (isObject(value)) return matchFields(node, value);
  if (Array.isArray(value)) {
    const seen = { object: false };
    if (someObject(node, value, seen)) return true;
    return !seen.object && node.matchesEmpty;
  }
  // Absent, or a leaf: no field below this path exists.
  return node.matchesEmpty;
}

function matchField(field: FieldNode, obj: Record<string, unknown>): boolean {
  const v = readField(obj, field.key, field.alias, field.inherited);
  return field.leaf !== null ? matchLeafField(field.leaf, v) : matchNode(field.child!, v);
}

/** Matches the fields and `$or`s of a pattern object against one event object. */
export function matchFields(node: ObjectNode, obj: Record<string, unknown>): boolean {
  const fields = node.fields;
  for (let i = 0; i < fields.length; i++) {
    if (!matchField(fields[i]!, obj)) return false;
  }
  const ors = node.ors;
  for (let i = 0; i < ors.length; i++) {
    const branches = ors[i]!;
    let any = false;
    for (let j = 0; j < branches.length; j++) {
      if (matchFields(branches[j]!, obj)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  return true;
}

/** One value-list field of a pattern and the fields leading to it from the root. */
export interface FieldPath {
  readonly steps: readonly FieldNode[];
  readonly leaf: LeafSet;
}

/**
 * Matches one field on its own, for the many-rule matcher once the rest of a rule is known to
 * hold. Returns undefined when an array lies on the way, where array-consistent matching needs
 * the whole pattern object.
 */
export function matchFieldPath(fp: FieldPath, event: unknown): boolean | undefined {
  let cur: unknown = event;
  const steps = fp.steps;
  for (let i = 0; i < steps.length; i++) {
    if (Array.isArray(cur)) return undefined;
    if (typeof cur !== 'object' || cur === null) return matchLeafField(fp.leaf, undefined);
    const f = steps[i]!;
    cur = readField(cur as Record<string, unknown>, f.key, f.alias, f.inherited);
  }
  return matchLeafField(fp.leaf, cur);
}

/** Matches a compiled root against an event; anything not a JSON object has no fields. */
export function matchEvent(root: ObjectNode, event: unknown): boolean {
  return matchNode(root, event);
}

/**
 * Compiles an EventBridge event pattern (an object, or its JSON text) once, for matching
 * many events. Throws {@link PatternError} naming the path and the problem when the
 * pattern is invalid. Events are parsed JSON values; at the top level a pattern's
 * `detail-type` (or `detailType`) matches the event's `detail-type`, or its `detailType`
 * when `detail-type` is absent. See docs/events.md for every operator.
 *
 * @example
 * ```ts
 * const big = compilePattern({
 *   source: ['app.orders'],
 *   'detail-type': ['Order Placed'],
 *   detail: { total: [{ numeric: ['>=', 100] }], coupon: [{ exists: false }] },
 * });
 * big.matches({ source: 'app.orders', detailType: 'Order Placed', detail: { total: 250 } }); // true
 * big.matches({ source: 'app.orders', detailType: 'Order Placed', detail: { total: 20 } }); // false
 * ```
 */
export function compilePattern(pattern: EventPattern | string): CompiledPattern {
  const { pattern: parsed, root } = compileTree(pattern);
  return {
    pattern: parsed,
    matches: (event: unknown) => matchEvent(root, event),
  };
}
