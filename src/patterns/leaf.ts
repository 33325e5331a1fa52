// One field's value list (`"state": ["running", {"prefix": "stop"}]`): validates every
// entry, compiles the list into a LeafSet that tests one event value, and records the
// index atoms the many-rule matcher can file the rule under.

import { foldCase } from './case-fold.ts';
import { type CidrBlock, inCidr, parseCidr } from './cidr.ts';
import { patternError, show } from './errors.ts';
import { inRange, type NumericRange, parseNumeric } from './numeric.ts';
import { matchWildcard, parseWildcard, type Wildcard } from './wildcard.ts';

/** A JSON leaf value in an event. */
export type Leaf = string | number | boolean | null;

type StringTest = (s: string) => boolean;
type NumberTest = (n: number) => boolean;
type LeafTest = (v: Leaf) => boolean;

/**
 * One entry of a value list as the many-rule index sees it: a leaf at the field's path hits
 * the atom exactly when that entry matches the leaf. Exact values, ignore-case values and
 * affixes are looked up; the other operators carry their test, which the index runs once per
 * distinct operator (`key`) and event, on the leaves of the type the operator accepts. A
 * wildcard also carries its literal start (`value`), when it has one.
 */
export type Atom =
  | { readonly kind: 'str'; readonly value: string }
  | { readonly kind: 'num'; readonly value: number }
  | { readonly kind: 'lit'; readonly value: 'true' | 'false' | 'null' }
  | { readonly kind: 'fold' | 'prefix' | 'suffix' | 'foldPrefix' | 'foldSuffix'; readonly value: string }
  | { readonly kind: 'anyLeaf' }
  | { readonly kind: 'prefixTest'; readonly value: string; readonly key: string; readonly test: StringTest }
  | { readonly kind: 'stringTest'; readonly key: string; readonly test: StringTest }
  | { readonly kind: 'numberTest'; readonly key: string; readonly test: NumberTest }
  | { readonly kind: 'leafTest'; readonly key: string; readonly test: LeafTest };

/** A compiled value list. A leaf matches when any entry of the list matches it. */
export interface LeafSet {
  /** `{"exists": true}`: any leaf value matches. */
  readonly anyLeaf: boolean;
  /** `{"exists": false}`: the list matches when the field has no leaf value. */
  readonly missing: boolean;
  readonly strings: ReadonlySet<string> | null;
  readonly folded: ReadonlySet<string> | null;
  readonly numbers: ReadonlySet<number> | null;
  readonly matchTrue: boolean;
  readonly matchFalse: boolean;
  readonly matchNull: boolean;
  /** The folded set or a test needs the folded form of a string value. */
  readonly needsFold: boolean;
  /** Tests on the folded form of a string (ignore-case prefix and suffix). */
  readonly foldedTests: readonly StringTest[];
  readonly stringTests: readonly StringTest[];
  readonly numberTests: readonly NumberTest[];
  /** Tests on any leaf type (`anything-but`, which also matches booleans and null). */
  readonly leafTests: readonly LeafTest[];
  /** One atom per entry; null when the list has `{"exists": false}` (absence has no atom). */
  readonly atoms: readonly Atom[] | null;
}

/** Operator names; inside `$or` they may not be used as field names (as in event-ruler). */
export const OPERATORS: readonly string[] = [
  'prefix',
  'suffix',
  'equals-ignore-case',
  'wildcard',
  'anything-but',
  'numeric',
  'exists',
  'cidr',
];

const OPERATOR_LIST = OPERATORS.join(', ');

interface Builder {
  anyLeaf: boolean;
  missing: boolean;
  strings: Set<string>;
  folded: Set<string>;
  numbers: Set<number>;
  matchTrue: boolean;
  matchFalse: boolean;
  matchNull: boolean;
  needsFold: boolean;
  foldedTests: StringTest[];
  stringTests: StringTest[];
  numberTests: NumberTest[];
  leafTests: LeafTest[];
  atoms: Atom[];
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A string, or `{"equals-ignore-case": string}`, as `prefix` and `suffix` accept. */
function affixOperand(
  path: string,
  op: 'prefix' | 'suffix',
  operand: unknown,
): { text: string; ic: boolean } {
  if (typeof operand === 'string') return { text: operand, ic: false };
  if (isPlainObject(operand)) {
    const keys = Object.keys(operand);
    if (keys.length === 1 && keys[0] === 'equals-ignore-case') {
      const text = operand['equals-ignore-case'];
      if (typeof text === 'string') return { text, ic: true };
      throw patternError(path, `${op} equals-ignore-case needs a string, got ${show(text)}`);
    }
    throw patternError(
      path,
      `${op} takes a string or {"equals-ignore-case": "..."}, got an object with ${keys.length === 0 ? 'no keys' : `key(s) ${keys.map((k) => JSON.stringify(k)).join(', ')}`}`,
    );
  }
  throw patternError(path, `${op} needs a string, got ${show(operand)}`);
}

function wildcardOf(path: string, text: unknown, context: string): Wildcard {
  if (typeof text !== 'string') throw patternError(path, `${context} needs a string, got ${show(text)}`);
  const w = parseWildcard(text);
  if (typeof w === 'string') throw patternError(path, w);
  return w;
}

/** Parses the operand of `anything-but` into "is this string / number excluded" tests. */
function anythingBut(
  path: string,
  operand: unknown,
): { excludesString: StringTest | null; excludesNumber: NumberTest | null } {
  if (typeof operand === 'string' || (typeof operand === 'number' && Number.isFinite(operand))) {
    operand = [operand];
  }
  if (Array.isArray(operand)) {
    if (operand.length === 0)
      throw patternError(path, 'anything-but has an empty list; list at least one value');
    if (operand.every((v) => typeof v === 'string')) {
      const excluded = new Set<string>(operand as string[]);
      return { excludesString: (s) => excluded.has(s), excludesNumber: null };
    }
    if (operand.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      const excluded = new Set<number>(operand as number[]);
      return { excludesString: null, excludesNumber: (n) => excluded.has(n) };
    }
    throw patternError(
      path,
      `anything-but takes strings or numbers (a list of all strings or all numbers), got ${show(operand)}`,
    );
  }
  if (!isPlainObject(operand)) {
    throw patternError(
      path,
      `anything-but takes a string, a number, a list of them, or {"prefix"|"suffix"|"equals-ignore-case"|"wildcard": ...}; got ${show(operand)}`,
    );
  }
  const keys = Object.keys(operand);
  const op = keys[0];
  if (
    keys.length !== 1 ||
    (op !== 'prefix' && op !== 'suffix' && op !== 'equals-ignore-case' && op !== 'wildcard')
  ) {
    throw patternError(
      path,
      `anything-but takes one of "prefix", "suffix", "equals-ignore-case", "wildcard" as an object; got ${show(operand)}`,
    );
  }
  const raw = operand[op];
  const list = typeof raw === 'string' ? [raw] : raw;
  if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'string')) {
    throw patternError(
      path,
      `anything-but ${op} needs a string or a non-empty list of strings, got ${show(raw)}`,
    );
  }
  const texts = list as string[];
  if (op === 'prefix' || op === 'suffix') {
    if (texts.includes('')) {
      throw patternError(path, `anything-but ${op} "" would exclude every string; give a non-empty ${op}`);
    }
    return {
      excludesString:
        op === 'prefix' ? (s) => texts.some((t) => s.startsWith(t)) : (s) => texts.some((t) => s.endsWith(t)),
      excludesNumber: null,
    };
  }
  if (op === 'equals-ignore-case') {
    const excluded = new Set(texts.map(foldCase));
    return { excludesString: (s) => excluded.has(foldCase(s)), excludesNumber: null };
  }
  const wildcards = texts.map((t) => wildcardOf(path, t, 'anything-but wildcard'));
  return { excludesString: (s) => wildcards.some((w) => matchWildcard(w, s)), excludesNumber: null };
}

function addOperator(path: string, b: Builder, entry: Record<string, unknown>): void {
  const keys = Object.keys(entry);
  if (keys.length !== 1) {
    throw patternError(
      path,
      keys.length === 0
        ? `an operator object needs one operator (${OPERATOR_LIST}); got {}`
        : `an operator object holds exactly one operator, got ${keys.map((k) => JSON.stringify(k)).join(', ')}; list them as separate entries to match any of them`,
    );
  }
  const op = keys[0]!;
  const operand = entry[op];
  // Identifies the operator for the index, so rules sharing it run its test once per leaf.
  const key = (): string => JSON.stringify(entry);
  switch (op) {
    case 'prefix':
    case 'suffix': {
      const { text, ic } = affixOperand(path, op, operand);
      if (ic) {
        const f = foldCase(text);
        b.needsFold = true;
        b.foldedTests.push(op === 'prefix' ? (fs) => fs.startsWith(f) : (fs) => fs.endsWith(f));
        b.atoms.push({ kind: op === 'prefix' ? 'foldPrefix' : 'foldSuffix', value: f });
      } else {
        b.stringTests.push(op === 'prefix' ? (s) => s.startsWith(text) : (s) => s.endsWith(text));
        b.atoms.push({ kind: op, value: text });
      }
      return;
    }
    case 'equals-ignore-case': {
      if (typeof operand !== 'string')
        throw patternError(path, `equals-ignore-case needs a string, got ${show(operand)}`);
      const f = foldCase(operand);
      b.folded.add(f);
      b.needsFold = true;
      b.atoms.push({ kind: 'fold', value: f });
      return;
    }
    case 'wildcard': {
      const w = wildcardOf(path, operand, 'wildcard');
      const pieces = w.pieces;
      if (pieces.length === 1) {
        b.strings.add(pieces[0]!);
        b.atoms.push({ kind: 'str', value: pieces[0]! });
        return;
      }
      const test: StringTest = (s) => matchWildcard(w, s);
      b.stringTests.push(test);
      const first = pieces[0]!;
      b.atoms.push(
        first !== ''
          ? { kind: 'prefixTest', value: first, key: key(), test }
          : { kind: 'stringTest', key: key(), test },
      );
      return;
    }
    case 'anything-but': {
      const { excludesString, excludesNumber } = anythingBut(path, operand);
      // Matches every leaf it does not exclude, of any type: "x" is not 5, and null is neither.
      const test: LeafTest = (v) => {
        if (typeof v === 'string') return excludesString === null || !excludesString(v);
        if (typeof v === 'number') return excludesNumber === null || !excludesNumber(v);
        return true;
      };
      b.leafTests.push(test);
      b.atoms.push({ kind: 'leafTest', key: key(), test });
      return;
    }
    case 'numeric': {
      const range: NumericRange | string = parseNumeric(operand);
      if (typeof range === 'string') throw patternError(path, range);
      const test: NumberTest = (n) => inRange(range, n);
      b.numberTests.push(test);
      b.atoms.push({ kind: 'numberTest', key: key(), test });
      return;
    }
    case 'exists': {
      if (typeof operand !== 'boolean')
        throw patternError(path, `exists needs true or false, got ${show(operand)}`);
      if (operand) {
        b.anyLeaf = true;
        b.atoms.push({ kind: 'anyLeaf' });
      } else {
        b.missing = true;
      }
      return;
    }
    case 'cidr': {
      if (typeof operand !== 'string') {
        throw patternError(path, `cidr needs a string such as "10.0.0.0/24", got ${show(operand)}`);
      }
      const block: CidrBlock | string = parseCidr(operand);
      if (typeof block === 'string') throw patternError(path, block);
      const test: StringTest = (s) => inCidr(block, s);
      b.stringTests.push(test);
      b.atoms.push({ kind: 'stringTest', key: key(), test });
      return;
    }
    default:
      throw patternError(path, `unknown operator ${JSON.stringify(op)}; the operators are ${OPERATOR_LIST}`);
  }
}

/** Validates and compiles one field's value list; `path` names the field in error messages. */
export function compileLeafList(path: string, list: readonly unknown[]): LeafSet {
  if (list.length === 0) {
    throw patternError(path, 'is an empty array; list at least one value to match, e.g. ["running"]');
  }
  const b: Builder = {
    anyLeaf: false,
    missing: false,
    strings: new Set(),
    folded: new Set(),
    numbers: new Set(),
    matchTrue: false,
    matchFalse: false,
    matchNull: false,
    needsFold: false,
    foldedTests: [],
    stringTests: [],
    numberTests: [],
    leafTests: [],
    atoms: [],
  };
  for (const entry of list) {
    if (typeof entry === 'string') {
      b.strings.add(entry);
      b.atoms.push({ kind: 'str', value: entry });
    } else if (typeof entry === 'number') {
      if (!Number.isFinite(entry)) throw patternError(path, `${entry} is not a JSON number`);
      b.numbers.add(entry);
      b.atoms.push({ kind: 'num', value: entry });
    } else if (typeof entry === 'boolean') {
      if (entry) b.matchTrue = true;
      else b.matchFalse = true;
      b.atoms.push({ kind: 'lit', value: entry ? 'true' : 'false' });
    } else if (entry === null) {
      b.matchNull = true;
      b.atoms.push({ kind: 'lit', value: 'null' });
    } else if (Array.isArray(entry)) {
      throw patternError(path, `nested arrays are not allowed in a value list, got ${show(entry)}`);
    } else if (isPlainObject(entry)) {
      addOperator(path, b, entry);
    } else {
      throw patternError(
        path,
        `a value must be a string, number, boolean, null or operator object, got ${typeof entry}`,
      );
    }
  }
  return {
    anyLeaf: b.anyLeaf,
    missing: b.missing,
    strings: b.strings.size > 0 ? b.strings : null,
    folded: b.folded.size > 0 ? b.folded : null,
    numbers: b.numbers.size > 0 ? b.numbers : null,
    matchTrue: b.matchTrue,
    matchFalse: b.matchFalse,
    matchNull: b.matchNull,
    needsFold: b.needsFold,
    foldedTests: b.foldedTests,
    stringTests: b.stringTests,
    numberTests: b.numberTests,
    leafTests: b.leafTests,
    atoms: b.missing ? null : b.atoms,
  };
}

/** True when the leaf `v` matches some entry of the list. */
export function leafMatches(set: LeafSet, v: Leaf): boolean {
  if (set.anyLeaf) return true;
  switch (typeof v) {
    case 'string': {
      if (set.strings?.has(v)) return true;
      const tests = set.stringTests;
      for (let i = 0; i < tests.length; i++) if (tests[i]!(v)) return true;
      if (set.needsFold) {
        const f = foldCase(v);
        if (set.folded?.has(f)) return true;
        const folded = set.foldedTests;
        for (let i = 0; i < folded.length; i++) if (folded[i]!(f)) return true;
      }
      break;
    }
    case 'number': {
      if (set.numbers?.has(v)) return true;
      const tests = set.numberTests;
      for (let i = 0; i < tests.length; i++) if (tests[i]!(v)) return true;
      break;
    }
    case 'boolean':
      if (v ? set.matchTrue : set.matchFalse) return true;
      break;
    default:
      if (set.matchNull) return true;
  }
  const any = set.leafTests;
  for (let i = 0; i < any.length; i++) if (any[i]!(v)) return true;
  return false;
}
