// Validates a whole pattern (objects, nesting, `$or`, value lists) and compiles it into a
// tree of ObjectNodes that the matcher walks. Every error names its JSON path.

import { childPath, patternError, show } from './errors.ts';
import { compileLeafList, type LeafSet, OPERATORS } from './leaf.ts';
import type { EventPattern } from './types.ts';

/** One field of a pattern object: a value list (leaf) or a nested pattern (child). */
export interface FieldNode {
  readonly key: string;
  /** At the event's top level, `detail-type` falls back to the event's `detailType`. */
  readonly alias: string | undefined;
  /** The name also exists on Object.prototype (e.g. `constructor`), so reads check ownership. */
  readonly inherited: boolean;
  readonly leaf: LeafSet | null;
  readonly child: ObjectNode | null;
}

/** A pattern object: all fields must match, and one branch of every `$or`. */
export interface ObjectNode {
  readonly fields: readonly FieldNode[];
  readonly ors: readonly (readonly ObjectNode[])[];
  /** Whether this node matches an object with no fields at all (precomputed). */
  readonly matchesEmpty: boolean;
}

/** AWS spells the field `detail-type`; mainspring's bus API calls it `detailType`. */
export const DETAIL_TYPE = 'detail-type';
export const DETAIL_TYPE_ALIAS = 'detailType';

/** Patterns deeper than this are refused rather than risking the stack. */
export const MAX_PATTERN_DEPTH = 64;

const RESERVED_IN_OR = new Set(OPERATORS);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function kindOf(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  return `${typeof v} ${show(v)}`;
}

function emptyMatch(fields: readonly FieldNode[], ors: readonly (readonly ObjectNode[])[]): boolean {
  for (const f of fields) {
    if (f.leaf !== null ? !f.leaf.missing : !f.child!.matchesEmpty) return false;
  }
  return ors.every((branches) => branches.some((b) => b.matchesEmpty));
}

function compileObject(
  value: Record<string, unknown>,
  path: string,
  atRoot: boolean,
  inOr: boolean,
  depth: number,
): ObjectNode {
  if (depth > MAX_PATTERN_DEPTH) {
    throw patternError(path, `nests deeper than ${MAX_PATTERN_DEPTH} levels`);
  }
  // A key whose value is undefined is absent, as JSON.stringify would have it.
  const keys = Object.keys(value).filter((k) => value[k] !== undefined);
  if (keys.length === 0) {
    throw patternError(path, 'is an empty object; name at least one field, e.g. {"source": ["my.app"]}');
  }
  const fields: FieldNode[] = [];
  const ors: ObjectNode[][] = [];
  let detailTypeKey: string | undefined;
  for (const key of keys) {
    const v = value[key];
    if (key === '$or') {
      const orPath = childPath(path, '$or');
      if (!Array.isArray(v) || v.length < 2) {
        throw patternError(
          orPath,
          `$or needs an array of at least 2 pattern objects, e.g. [{"a": ["x"]}, {"b": ["y"]}]; got ${kindOf(v)}`,
        );
      }
      const branches = v.map((branch: unknown, i: number) => {
        const branchPath = `${orPath}[${i}]`;
        if (!isPlainObject(branch)) {
          throw patternError(branchPath, `each $or entry must be a pattern object, got ${kindOf(branch)}`);
        }
        return compileObject(branch, branchPath, atRoot, true, depth + 1);
      });
      ors.push(branches);
      continue;
    }
    const fieldPath = childPath(path, key);
    if (inOr && RESERVED_IN_OR.has(key)) {
      throw patternError(
        fieldPath,
        `${JSON.stringify(key)} is an operator, not a field name; inside $or each entry is a pattern object such as {"state": [{"${key}": ...}]}`,
      );
    }
    let name = key;
    let alias: string | undefined;
    if (atRoot && (key === DETAIL_TYPE || key === DETAIL_TYPE_ALIAS)) {
      if (detailTypeKey !== undefined) {
        throw patternError(
          fieldPath,
          `names the detail type twice ("${detailTypeKey}" and "${key}" are the same field); use one spelling`,
        );
      }
      detailTypeKey = key;
      name = DETAIL_TYPE;
      alias = DETAIL_TYPE_ALIAS;
    }
    if (Array.isArray(v)) {
      fields.push({
        key: name,
        alias,
        inherited: name in Object.prototype,
        leaf: compileLeafList(fieldPath, v),
        child: null,
      });
    } else if (isPlainObject(v)) {
      fields.push({
        key: name,
        alias,
        inherited: name in Object.prototype,
        leaf: null,
        child: compileObject(v, fieldPath, false, inOr, depth + 1),
      });
    } else {
      throw patternError(
        fieldPath,
        `must be an array of values to match (e.g. [${show(v ?? 'value')}]) or a nested pattern object; got ${kindOf(v)}`,
      );
    }
  }
  return { fields, ors, matchesEmpty: emptyMatch(fields, ors) };
}

/**
 * Parses (when given JSON text) and validates a pattern, returning the pattern object and
 * its compiled tree. Throws PatternError.
 */
export function compileTree(pattern: EventPattern | string): { pattern: EventPattern; root: ObjectNode } {
  let value: unknown = pattern;
  if (typeof pattern === 'string') {
    try {
      value = JSON.parse(pattern);
    } catch (err) {
      throw patternError('', `is not valid JSON (${(err as Error).message})`);
    }
  }
  if (!isPlainObject(value)) {
    throw patternError('', `must be a JSON object such as {"source": ["my.app"]}, got ${kindOf(value)}`);
  }
  return { pattern: value as EventPattern, root: compileObject(value, '', true, false, 0) };
}
