// What a rule requires, for the many-rule index: a compiled pattern is reduced to "slots"
// (one per field it needs outside `$or`, one per `$or` group), each a set of atoms of which
// at least one must be hit by a leaf of the event, and to the way a candidate is confirmed.

import type { FieldNode, ObjectNode } from './compile.ts';
import type { Atom } from './leaf.ts';
import type { FieldPath } from './matcher.ts';

export interface PathAtom {
  readonly path: readonly string[];
  readonly atom: Atom;
}

/** A requirement of one rule: at least one of its atoms must be hit. */
export type Slot = readonly PathAtom[];

/** Atoms hit by most leaves of their path: a poor choice of primary slot. */
export const WEAK_KINDS = new Set<Atom['kind']>(['anyLeaf', 'stringTest', 'numberTest', 'leafTest']);

/** Rough cost of a slot to pick the best slot of an `$or` branch: exact values beat affixes beat types. */
function staticCost(slot: Slot): number {
  let cost = 0;
  for (const { atom } of slot) {
    if (atom.kind === 'str' || atom.kind === 'num' || atom.kind === 'fold') cost += 1;
    else if (atom.kind === 'lit' || atom.kind === 'prefixTest') cost += 4;
    else if (WEAK_KINDS.has(atom.kind)) cost += 50;
    else cost += 3;
  }
  return cost;
}

/** Collects the slots of a pattern object at `path` (its fields, nested objects and `$or` groups). */
export function collectSlots(node: ObjectNode, path: readonly string[], out: Slot[]): void {
  for (const field of node.fields) {
    const fieldPath = [...path, field.key];
    if (field.leaf !== null) {
      const atoms = field.leaf.atoms;
      if (atoms !== null) out.push(atoms.map((atom) => ({ path: fieldPath, atom })));
    } else {
      collectSlots(field.child!, fieldPath, out);
    }
  }
  for (const branches of node.ors) {
    // A branch that matches hits every one of its slots, so its cheapest slot stands for it.
    const union: PathAtom[] = [];
    let indexable = true;
    for (const branch of branches) {
      const slots: Slot[] = [];
      collectSlots(branch, path, slots);
      if (slots.length === 0) {
        indexable = false;
        break;
      }
      let best = slots[0]!;
      for (const s of slots) if (staticCost(s) < staticCost(best)) best = s;
      union.push(...best);
    }
    if (indexable) out.push(union);
  }
}

/** How a candidate is confirmed once all its slots are hit. */
export const DECIDED = 0;
export const RESIDUAL = 1;
export const FULL = 2;

/**
 * Sorts a rule: without `$or`, every field with atoms is decided by its slot (atoms capture
 * their entry exactly), so a candidate is DECIDED, or needs only its fields with
 * `{"exists": false}` checked (RESIDUAL). A rule with `$or` is re-matched in FULL.
 */
export function classify(root: ObjectNode): { mode: number; residual: FieldPath[] } {
  const residual: FieldPath[] = [];
  const walk = (node: ObjectNode, steps: readonly FieldNode[]): boolean => {
    if (node.ors.length > 0) return false;
    for (const field of node.fields) {
      const here = [...steps, field];
      if (field.leaf === null) {
        if (!walk(field.child!, here)) return false;
      } else if (field.leaf.atoms === null) {
        residual.push({ steps: here, leaf: field.leaf });
      }
    }
    return true;
  };
  if (!walk(root, [])) return { mode: FULL, residual: [] };
  return residual.length === 0 ? { mode: DECIDED, residual } : { mode: RESIDUAL, residual };
}

/** Identifies an atom across rules, so rules that share one share its id. */
export function atomKey({ path, atom }: PathAtom): string {
  const value = 'key' in atom ? atom.key : 'value' in atom ? String(atom.value) : '';
  return `${path.join('\u0000')}\u0001${atom.kind}\u0001${value}`;
}
