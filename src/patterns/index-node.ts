// The per-path tree of the many-rule index: one node per field path some rule names, holding
// the children to walk into and the atoms that leaves at that path can hit (exact values in
// maps, affixes in radix trees, operator tests in lists).

import { AffixTree, type Guarded } from './affix-tree.ts';
import { DETAIL_TYPE, DETAIL_TYPE_ALIAS } from './compile.ts';
import type { Atom, Leaf } from './leaf.ts';
import { isLeaf, readField } from './matcher.ts';

/** One step of a path from the event's root, read as the walk reads it. */
export interface Step {
  readonly key: string;
  readonly alias: string | undefined;
  readonly inherited: boolean;
}

/** A test atom run only when a candidate needs it, on the leaves at its path. */
export interface LazyAtom {
  readonly steps: readonly Step[];
  readonly atom: Atom;
}

export interface ChildEntry extends Step {
  readonly node: IndexNode;
}

/** The index for one event path: its children, and the atoms of leaves found at this path. */
export class IndexNode {
  readonly children = new Map<string, IndexNode>();
  readonly childList: ChildEntry[] = [];
  hasLeaf = false;
  needsFold = false;
  str: Map<string, number> | null = null;
  num: Map<number, number> | null = null;
  fold: Map<string, number> | null = null;
  litTrue = -1;
  litFalse = -1;
  litNull = -1;
  prefix: AffixTree | null = null;
  suffix: AffixTree | null = null;
  foldPrefix: AffixTree | null = null;
  foldSuffix: AffixTree | null = null;
  anyLeaf = -1;
  stringTests: Guarded<string>[] | null = null;
  numberTests: Guarded<number>[] | null = null;
  leafTests: Guarded<Leaf>[] | null = null;

  child(key: string, atRoot: boolean): ChildEntry {
    let node = this.children.get(key);
    if (node === undefined) {
      node = new IndexNode();
      this.children.set(key, node);
      const alias = atRoot && key === DETAIL_TYPE ? DETAIL_TYPE_ALIAS : undefined;
      this.childList.push({ key, alias, inherited: key in Object.prototype, node });
    }
    return this.childList.find((e) => e.node === node)!;
  }

  addAtom(atom: Atom, id: number): void {
    this.hasLeaf = true;
    switch (atom.kind) {
      case 'str':
        this.str ??= new Map();
        this.str.set(atom.value, id);
        return;
      case 'num':
        this.num ??= new Map();
        this.num.set(atom.value, id);
        return;
      case 'fold':
        this.needsFold = true;
        this.fold ??= new Map();
        this.fold.set(atom.value, id);
        return;
      case 'lit':
        if (atom.value === 'true') this.litTrue = id;
        else if (atom.value === 'false') this.litFalse = id;
        else this.litNull = id;
        return;
      case 'prefix':
        this.prefix ??= new AffixTree(false);
        this.prefix.add(atom.value, id);
        return;
      case 'suffix':
        this.suffix ??= new AffixTree(true);
        this.suffix.add(atom.value, id);
        return;
      case 'foldPrefix':
        this.needsFold = true;
        this.foldPrefix ??= new AffixTree(false);
        this.foldPrefix.add(atom.value, id);
        return;
      case 'foldSuffix':
        this.needsFold = true;
        this.foldSuffix ??= new AffixTree(true);
        this.foldSuffix.add(atom.value, id);
        return;
      case 'anyLeaf':
        this.anyLeaf = id;
        return;
      case 'prefixTest':
        this.prefix ??= new AffixTree(false);
        this.prefix.add(atom.value, id, atom.test);
        return;
      case 'stringTest':
        this.stringTests ??= [];
        this.stringTests.push({ id, test: atom.test });
        return;
      case 'numberTest':
        this.numberTests ??= [];
        this.numberTests.push({ id, test: atom.test });
        return;
      case 'leafTest':
        this.leafTests ??= [];
        this.leafTests.push({ id, test: atom.test });
        return;
    }
  }
}

/** True when some leaf at `steps` (from step `i`) passes the test atom; arrays are crushed as the walk does. */
export function someLeaf(value: unknown, steps: readonly Step[], i: number, atom: Atom): boolean {
  if (Array.isArray(value)) {
    for (let k = 0; k < value.length; k++) if (someLeaf(value[k], steps, i, atom)) return true;
    return false;
  }
  if (i === steps.length) {
    switch (atom.kind) {
      case 'stringTest':
      case 'prefixTest':
        return typeof value === 'string' && atom.test(value);
      case 'numberTest':
        return typeof value === 'number' && atom.test(value);
      case 'leafTest':
        return isLeaf(value) && atom.test(value);
      default:
        return false;
    }
  }
  if (typeof value !== 'object' || value === null) return false;
  const step = steps[i]!;
  const v = readField(value as Record<string, unknown>, step.key, step.alias, step.inherited);
  return v !== undefined && someLeaf(v, steps, i + 1, atom);
}
