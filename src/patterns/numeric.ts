// The `numeric` operator: validates `["=", n]`, `[">", n]`, `[">=", n, "<", m]`, ... and
// turns it into an interval test on JSON numbers.

/** A closed, open or half-open interval; an absent bound is infinite. */
export interface NumericRange {
  readonly lo: number;
  readonly loInclusive: boolean;
  readonly hi: number;
  readonly hiInclusive: boolean;
}

const LOWER = new Set(['>', '>=']);
const UPPER = new Set(['<', '<=']);
const ALL = '=, <, <=, >, >=';
const EXAMPLE = 'e.g. [">", 0, "<=", 5] or ["=", 3.018e2]';

function operand(op: unknown, value: unknown): number | string {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return `numeric operator ${JSON.stringify(op)} needs a number, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`;
  }
  return value;
}

function operator(op: unknown, allowed: string): string | undefined {
  if (typeof op === 'string' && (op === '=' || LOWER.has(op) || UPPER.has(op))) return undefined;
  return `numeric operator ${JSON.stringify(op)} is not one of ${allowed}; ${EXAMPLE}`;
}

/** Parses the operand of `numeric`; returns the problem as a string when it is malformed. */
export function parseNumeric(spec: unknown): NumericRange | string {
  if (!Array.isArray(spec) || spec.length === 0) {
    return `numeric needs a non-empty array, ${EXAMPLE}; got ${JSON.stringify(spec)}`;
  }
  const op = spec[0] as unknown;
  const bad = operator(op, ALL);
  if (bad !== undefined) return bad;
  const first = operand(op, spec[1]);
  if (typeof first === 'string') return first;
  if (op === '=' || UPPER.has(op as string)) {
    if (spec.length > 2) {
      return `numeric ${JSON.stringify(spec)} has too many elements: ${JSON.stringify(op)} takes one number${op === '=' ? '' : ' and comes last in a range'}`;
    }
    if (op === '=') return { lo: first, loInclusive: true, hi: first, hiInclusive: true };
    return { lo: -Infinity, loInclusive: false, hi: first, hiInclusive: op === '<=' };
  }
  const lower = { lo: first, loInclusive: op === '>=' };
  if (spec.length === 2) return { ...lower, hi: Infinity, hiInclusive: false };
  const op2 = spec[2] as unknown;
  if (typeof op2 !== 'string' || !UPPER.has(op2)) {
    return `numeric ${JSON.stringify(spec)}: after a lower bound only "<" or "<=" may follow, got ${JSON.stringify(op2)}`;
  }
  const second = operand(op2, spec[3]);
  if (typeof second === 'string') return second;
  if (spec.length > 4) return `numeric ${JSON.stringify(spec)} has too many elements; a range is at most 4`;
  if (!(first < second)) {
    return `numeric range ${JSON.stringify(spec)} is empty: the lower bound must be below the upper bound`;
  }
  return { ...lower, hi: second, hiInclusive: op2 === '<=' };
}

/** True when `n` lies in `range` (written so that NaN is never in range). */
export function inRange(range: NumericRange, n: number): boolean {
  const aboveLo = range.loInclusive ? n >= range.lo : n > range.lo;
  const belowHi = range.hiInclusive ? n <= range.hi : n < range.hi;
  return aboveLo && belowHi;
}
