// The index behind compileRules. Each rule is reduced to slots (rule-slots.ts): sets of atoms
// (an exact value, prefix, suffix or operator test at a path) of which the event must hit at
// least one each. Matching an event takes two passes:
//   1. walk the event once, only along the paths rules name (index-node.ts), and stamp the
//      atoms its leaves hit; operator tests no rule is keyed on wait until a candidate asks;
//   2. for each hit atom, visit the rules keyed on it, alone or paired with a second hit atom
//      (a rule is keyed on its one or two slots least likely to be hit), and keep those whose
//      other slots are hit too.
// So the cost follows the event's fields and the few rules its values point to, not the number
// of rules. An atom is hit exactly when its value-list entry matches a leaf, so a rule without
// `$or` is decided by its slots (and its `{"exists": false}` fields, checked on their own); a
// rule with `$or`, or an event with an array of objects on a rule's path, is confirmed by the
// rule's own matcher. The property tests check that every answer equals compilePattern's.

import type { AtomSink, Guarded } from './affix-tree.ts';
import { foldCase } from './case-fold.ts';
import type { ObjectNode } from './compile.ts';
import { IndexNode, type LazyAtom, type Step, someLeaf } from './index-node.ts';
import type { Atom } from './leaf.ts';
import { type FieldPath, matchFieldPath, readField } from './matcher.ts';
import { atomKey, classify, collectSlots, DECIDED, FULL, type Slot, WEAK_KINDS } from './rule-slots.ts';

/** The rules keyed on one atom a together with a second atom b: b = keys[i] gives rules[i]. */
interface PairTable {
  readonly keys: Int32Array;
  readonly rules: readonly Int32Array[];
  readonly byKey: ReadonlyMap<number, number>;
}

/** Above this many indexed children, walk the event object's keys instead of the index's. */
const CHILD_SCAN_LIMIT = 8;

/** A pair key of two slots with several atoms each is filed under every combination, up to this many. */
const MAX_PAIR_KEYS = 8;

/** Scan a pair table's keys, rather than look up each hit atom in it, below this many keys per hit. */
const PAIR_SCAN_FACTOR = 4;

/**
 * The compiled index of a rule set. `candidates(event)` returns the indexes of the rules that
 * may match (every rule that does match is among them), each once, in no particular order;
 * `verdict(rule, event)` then settles a candidate, or leaves it to the rule's own matcher.
 */
export class RuleIndex implements AtomSink {
  private readonly root = new IndexNode();
  /** For each atom, the rules keyed on it alone. */
  private readonly singleRules: (Int32Array | null)[];
  /** For each atom a, the rules keyed on a together with another atom b. */
  private readonly pairRules: (PairTable | undefined)[];
  /** Rule r's slots are slotStart[r] .. slotStart[r+1]-1, its key slots first; checks start at checkFrom[r]. */
  private readonly slotStart: Int32Array;
  private readonly checkFrom: Int32Array;
  /** Slot s's atoms are slotAtoms[atomStart[s]] .. slotAtoms[atomStart[s+1]-1]. */
  private readonly atomStart: Int32Array;
  private readonly slotAtoms: Int32Array;
  private readonly mode: Uint8Array;
  private readonly residual: (readonly FieldPath[])[];
  private readonly atomStamp: Uint32Array;
  /** Lazy atoms whose test was already run for the current event. */
  private readonly atomChecked: Uint32Array;
  private readonly lazy: readonly (LazyAtom | undefined)[];
  private readonly isLazy: Uint8Array;
  private readonly ruleStamp: Uint32Array;
  private readonly hitAtoms: number[] = [];
  private readonly out: number[] = [];
  private epoch = 0;
  /** The event being matched (for lazy atoms). */
  private event: unknown = undefined;
  /** The current event has an array where some rule's path continues into objects. */
  private crossedArray = false;
  /** Rules with no slot at all: candidates for every event. */
  readonly fallback: readonly number[];

  constructor(roots: readonly ObjectNode[]) {
    const ruleSlots = roots.map((root) => {
      const slots: Slot[] = [];
      collectSlots(root, [], slots);
      return slots;
    });

    // Give every distinct (path, atom) an id.
    const ids = new Map<string, number>();
    const atomAt: { node: IndexNode; atom: Atom; steps: Step[] }[] = [];
    const slotIds = ruleSlots.map((slots) =>
      slots.map((slot) => {
        const atomIds: number[] = [];
        for (const pa of slot) {
          const key = atomKey(pa);
          let id = ids.get(key);
          if (id === undefined) {
            id = atomAt.length;
            ids.set(key, id);
            let node = this.root;
            const steps: Step[] = [];
            for (let i = 0; i < pa.path.length; i++) {
              const entry = node.child(pa.path[i]!, i === 0);
              steps.push(entry);
              node = entry.node;
            }
            atomAt.push({ node, atom: pa.atom, steps });
          }
          if (!atomIds.includes(id)) atomIds.push(id);
        }
        return atomIds;
      }),
    );

    // Estimate how often an event hits each atom: one of the n distinct values rules name at a
    // path is taken to be hit 1/n of the time; type tests and exists: true nearly always.
    const perNode = new Map<IndexNode, number>();
    for (const { node } of atomAt) perNode.set(node, (perNode.get(node) ?? 0) + 1);
    const hitChance = atomAt.map(({ node, atom }) => {
      if (WEAK_KINDS.has(atom.kind)) return 1;
      const share = 1 / perNode.get(node)!;
      return atom.kind === 'lit' ? Math.max(share, 1 / 3) : share;
    });
    const slotChance = (slot: readonly number[]): number =>
      Math.min(
        1,
        slot.reduce((sum, id) => sum + hitChance[id]!, 0),
      );
    const isWeak = (slot: readonly number[]): boolean =>
      slot.every((id) => WEAK_KINDS.has(atomAt[id]!.atom.kind));

    // Each rule is reached through its least likely slot, or through its two least likely slots
    // together (a pair key) when both are strong and small. Its slots are laid out flat, the
    // key slots first.
    const single: number[][] = atomAt.map(() => []);
    const pairs: (Map<number, number[]> | undefined)[] = [];
    const slotStart: number[] = [];
    const atomStart: number[] = [];
    const slotAtoms: number[] = [];
    const checkFrom: number[] = [];
    const mode = new Uint8Array(roots.length);
    const residual: (readonly FieldPath[])[] = [];
    const fallback: number[] = [];
    const keyed = new Uint8Array(atomAt.length);
    slotIds.forEach((slots, rule) => {
      const kind = classify(roots[rule]!);
      mode[rule] = kind.mode;
      residual.push(kind.residual);
      slotStart.push(atomStart.length);
      if (slots.length === 0) {
        fallback.push(rule);
        checkFrom.push(atomStart.length);
        return;
      }
      const ordered = [...slots].sort((a, b) => slotChance(a) - slotChance(b));
      const [first, second] = ordered as [number[], number[] | undefined];
      const pair =
        second !== undefined &&
        !isWeak(first) &&
        !isWeak(second) &&
        first.length * second.length <= MAX_PAIR_KEYS;
      if (pair) {
        for (const a of first) {
          for (const b of second) {
            let table = pairs[a];
            if (table === undefined) {
              table = new Map();
              pairs[a] = table;
            }
            const list = table.get(b);
            if (list === undefined) table.set(b, [rule]);
            else if (list[list.length - 1] !== rule) list.push(rule);
            keyed[a] = 1;
            keyed[b] = 1;
          }
        }
      } else {
        for (const a of first) {
          single[a]!.push(rule);
          keyed[a] = 1;
        }
      }
      for (const slot of ordered) {
        atomStart.push(slotAtoms.length);
        slotAtoms.push(...slot);
      }
      checkFrom.push(slotStart[rule]! + (pair ? 2 : 1));
    });
    slotStart.push(atomStart.length);
    atomStart.push(slotAtoms.length);

    // Test atoms no rule is keyed on are run lazily, only for candidates that need them.
    const lazy: (LazyAtom | undefined)[] = [];
    const isLazy = new Uint8Array(atomAt.length);
    atomAt.forEach(({ node, atom, steps }, id) => {
      const isTest =
        atom.kind === 'stringTest' ||
        atom.kind === 'numberTest' ||
        atom.kind === 'leafTest' ||
        atom.kind === 'prefixTest';
      if (isTest && keyed[id] === 0) {
        lazy[id] = { steps, atom };
        isLazy[id] = 1;
      } else {
        node.addAtom(atom, id);
      }
    });
    this.lazy = lazy;
    this.isLazy = isLazy;
    this.atomChecked = new Uint32Array(atomAt.length);
    this.singleRules = single.map((rules) => (rules.length === 0 ? null : Int32Array.from(rules)));
    this.pairRules = pairs.map((table) => {
      if (table === undefined) return undefined;
      const keys = [...table.keys()];
      return {
        keys: Int32Array.from(keys),
        rules: keys.map((b) => Int32Array.from(table.get(b)!)),
        byKey: new Map(keys.map((b, i) => [b, i])),
      };
    });
    this.slotStart = Int32Array.from(slotStart);
    this.checkFrom = Int32Array.from(checkFrom);
    this.atomStart = Int32Array.from(atomStart);
    this.slotAtoms = Int32Array.from(slotAtoms);
    this.mode = mode;
    this.residual = residual;
    this.atomStamp = new Uint32Array(atomAt.length);
    this.ruleStamp = new Uint32Array(roots.length);
    this.fallback = fallback;
  }

  /** Indexes of the rules that may match `event`. The array is reused by the next call. */
  candidates(event: unknown): number[] {
    this.epoch++;
    if (this.epoch === 0xffffffff) {
      this.atomStamp.fill(0);
      this.atomChecked.fill(0);
      this.ruleStamp.fill(0);
      this.epoch = 1;
    }
    const epoch = this.epoch;
    this.crossedArray = false;
    const out = this.out;
    out.length = 0;
    for (let i = 0; i < this.fallback.length; i++) out.push(this.fallback[i]!);
    const hitAtoms = this.hitAtoms;
    hitAtoms.length = 0;
    this.event = event;
    this.visit(this.root, event);

    const atomStamp = this.atomStamp;
    const hits = hitAtoms.length;
    for (let h = 0; h < hits; h++) {
      const a = hitAtoms[h]!;
      const rules = this.singleRules[a];
      if (rules != null) this.consider(rules);
      const table = this.pairRules[a];
      if (table === undefined) continue;
      // Scanning a few keys' stamps is cheaper than hashing each hit atom.
      if (table.keys.length <= PAIR_SCAN_FACTOR * hits) {
        const keys = table.keys;
        for (let k = 0; k < keys.length; k++)
          if (atomStamp[keys[k]!] === epoch) this.consider(table.rules[k]!);
      } else {
        for (let k = 0; k < hits; k++) {
          const at = table.byKey.get(hitAtoms[k]!);
          if (at !== undefined) this.consider(table.rules[at]!);
        }
      }
    }
    return out;
  }

  /** Rules reached through a hit key: each becomes a candidate if its other slots are hit too. */
  private consider(rules: ArrayLike<number>): void {
    const { atomStamp, ruleStamp, checkFrom, slotStart, atomStart, slotAtoms, isLazy } = this;
    const epoch = this.epoch;
    for (let k = 0; k < rules.length; k++) {
      const rule = rules[k]!;
      if (ruleStamp[rule] === epoch) continue;
      ruleStamp[rule] = epoch;
      let all = true;
      const end = slotStart[rule + 1]!;
      for (let s = checkFrom[rule]!; all && s < end; s++) {
        let any = false;
        for (let a = atomStart[s]!; a < atomStart[s + 1]!; a++) {
          const atom = slotAtoms[a]!;
          if (atomStamp[atom] === epoch || (isLazy[atom] === 1 && this.runLazy(atom))) {
            any = true;
            break;
          }
        }
        all = any;
      }
      if (all) this.out.push(rule);
    }
  }

  /**
   * After `candidates(event)`: whether candidate `rule` matches that event, or undefined when
   * only the rule's own matcher can tell (an `$or`, or an array of objects on the way).
   */
  verdict(rule: number, event: unknown): boolean | undefined {
    if (this.crossedArray) return undefined;
    const mode = this.mode[rule];
    if (mode === DECIDED) return true;
    if (mode === FULL) return undefined;
    const fields = this.residual[rule]!;
    for (let i = 0; i < fields.length; i++) {
      const ok = matchFieldPath(fields[i]!, event);
      if (ok !== true) return ok;
    }
    return true;
  }

  /** Runs a lazy test atom on the leaves at its path in the current event (once per event). */
  private runLazy(id: number): boolean {
    const epoch = this.epoch;
    if (this.atomChecked[id] === epoch) return false;
    this.atomChecked[id] = epoch;
    const lazy = this.lazy[id]!;
    if (!someLeaf(this.event, lazy.steps, 0, lazy.atom)) return false;
    this.atomStamp[id] = epoch;
    return true;
  }

  /** Runs guarded tests on a value and stamps the atoms whose test passes. */
  runTests<T>(tests: readonly Guarded<T>[], value: T): void {
    for (let i = 0; i < tests.length; i++) {
      const t = tests[i]!;
      if (this.atomStamp[t.id] !== this.epoch && t.test(value)) this.hit(t.id);
    }
  }

  /** Stamps an atom as hit by the current event. */
  hit(atom: number): void {
    if (atom < 0 || this.atomStamp[atom] === this.epoch) return;
    this.atomStamp[atom] = this.epoch;
    this.hitAtoms.push(atom);
  }

  private visitString(node: IndexNode, value: string): void {
    if (node.str !== null) {
      const id = node.str.get(value);
      if (id !== undefined) this.hit(id);
    }
    if (node.prefix !== null) node.prefix.walk(value, this);
    if (node.suffix !== null) node.suffix.walk(value, this);
    if (node.needsFold) {
      const f = foldCase(value);
      if (node.fold !== null) {
        const id = node.fold.get(f);
        if (id !== undefined) this.hit(id);
      }
      if (node.foldPrefix !== null) node.foldPrefix.walk(f, this);
      if (node.foldSuffix !== null) node.foldSuffix.walk(f, this);
    }
    if (node.stringTests !== null) this.runTests(node.stringTests, value);
    if (node.leafTests !== null) this.runTests(node.leafTests, value);
    this.hit(node.anyLeaf);
  }

  private visitOther(node: IndexNode, value: number | boolean | null): void {
    if (typeof value === 'number') {
      if (node.num !== null) {
        const id = node.num.get(value);
        if (id !== undefined) this.hit(id);
      }
      if (node.numberTests !== null) this.runTests(node.numberTests, value);
    } else if (value === null) {
      this.hit(node.litNull);
    } else {
      this.hit(value ? node.litTrue : node.litFalse);
    }
    if (node.leafTests !== null) this.runTests(node.leafTests, value);
    this.hit(node.anyLeaf);
  }

  /** Walks an event value at the path of `node`, stamping the atoms its leaves hit. */
  private visit(node: IndexNode, value: unknown): void {
    if (typeof value === 'string') {
      if (node.hasLeaf) this.visitString(node, value);
    } else if (typeof value === 'object' && value !== null) {
      if (Array.isArray(value)) {
        // Fields of one pattern object must come from one element; slots cannot see that.
        if (node.childList.length > 0) this.crossedArray = true;
        for (let i = 0; i < value.length; i++) this.visit(node, value[i]);
      } else if (node.childList.length > 0) {
        this.visitObject(node, value as Record<string, unknown>);
      }
    } else if (node.hasLeaf && (typeof value === 'number' || typeof value === 'boolean' || value === null)) {
      this.visitOther(node, value);
    }
  }

  private visitObject(node: IndexNode, obj: Record<string, unknown>): void {
    const list = node.childList;
    if (list.length <= CHILD_SCAN_LIMIT || node === this.root) {
      for (let i = 0; i < list.length; i++) {
        const entry = list[i]!;
        const v = readField(obj, entry.key, entry.alias, entry.inherited);
        if (v !== undefined) this.visit(entry.node, v);
      }
      return;
    }
    // Many indexed children: walking the event's own keys costs less than probing each child.
    for (const key in obj) {
      const child = node.children.get(key);
      if (child !== undefined && Object.hasOwn(obj, key)) this.visit(child, obj[key]);
    }
  }
}
