// compileRules: unit tests, and the property that the many-rule matcher answers exactly as
// evaluating every rule's compilePattern separately, over generated patterns and events
// that use every operator, nesting, arrays, $or and both detail-type spellings.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePattern, compileRules, type EventPattern, type EventRule } from '../../src/patterns/index.ts';

describe('compileRules', () => {
  it('returns the ids of matching rules in the order given', () => {
    const m = compileRules([
      { id: 'z-prefix', pattern: { source: [{ prefix: 'app.' }] } },
      { id: 'a-exact', pattern: { source: ['app.orders'] } },
      { id: 'other', pattern: { source: ['app.users'] } },
      { id: 'numeric', pattern: { detail: { total: [{ numeric: ['>', 10] }] } } },
    ]);
    expect(m.size).toBe(4);
    expect(m.match({ source: 'app.orders', detail: { total: 11 } })).toEqual([
      'z-prefix',
      'a-exact',
      'numeric',
    ]);
    expect(m.match({ source: 'app.users', detail: { total: 1 } })).toEqual(['z-prefix', 'other']);
    expect(m.match({ source: 'web' })).toEqual([]);
    expect(m.match('not an event')).toEqual([]);
  });

  it('accepts patterns as JSON text and an empty rule list', () => {
    expect(compileRules([{ id: 'j', pattern: '{"source": ["x"]}' }]).match({ source: 'x' })).toEqual(['j']);
    expect(compileRules([]).match({ source: 'x' })).toEqual([]);
  });

  it('checks rules with no indexable field against every event', () => {
    const m = compileRules([
      { id: 'absent', pattern: { detail: { coupon: [{ exists: false }] } } },
      { id: 'or-absent', pattern: { $or: [{ a: [{ exists: false }] }, { b: ['x'] }] } },
      { id: 'indexed', pattern: { source: ['s'] } },
    ]);
    expect(m.unindexed).toEqual(['absent', 'or-absent']);
    expect(m.match({ source: 's', detail: {} })).toEqual(['absent', 'or-absent', 'indexed']);
    expect(m.match({ source: 's', a: 1, detail: { coupon: 'X' } })).toEqual(['indexed']);
  });

  it('indexes every operator soundly', () => {
    const rules: EventRule[] = [
      { id: 'exact', pattern: { detail: { s: ['v'] } } },
      { id: 'num', pattern: { detail: { n: [3e2] } } },
      { id: 'lit', pattern: { detail: { b: [false, null] } } },
      { id: 'prefix', pattern: { detail: { s: [{ prefix: 'v' }] } } },
      { id: 'suffix', pattern: { detail: { s: [{ suffix: 'v' }] } } },
      { id: 'prefix-ic', pattern: { detail: { s: [{ prefix: { 'equals-ignore-case': 'V' } }] } } },
      { id: 'suffix-ic', pattern: { detail: { s: [{ suffix: { 'equals-ignore-case': 'V' } }] } } },
      { id: 'eic', pattern: { detail: { s: [{ 'equals-ignore-case': 'V' }] } } },
      { id: 'wild', pattern: { detail: { s: [{ wildcard: '*v*' }] } } },
      { id: 'but', pattern: { detail: { s: [{ 'anything-but': 'w' }] } } },
      { id: 'range', pattern: { detail: { n: [{ numeric: ['>', 299] }] } } },
      { id: 'exists', pattern: { detail: { n: [{ exists: true }] } } },
      { id: 'cidr', pattern: { detail: { ip: [{ cidr: '10.0.0.0/8' }] } } },
      { id: 'alias', pattern: { detailType: ['T'] } },
    ];
    const m = compileRules(rules);
    const event = { detailType: 'T', detail: { s: 'v', n: 300, b: null, ip: '10.1.2.3' } };
    expect(m.match(event)).toEqual(rules.map((r) => r.id));
    expect(m.unindexed).toEqual([]);
  });

  it('needs every required field of a rule before evaluating it, across arrays', () => {
    const m = compileRules([
      { id: 'pair', pattern: { items: { kind: ['book'], color: ['red'] } } },
      { id: 'kind', pattern: { items: { kind: ['book'] } } },
    ]);
    expect(
      m.match({
        items: [
          { kind: 'book', color: 'blue' },
          { kind: 'pen', color: 'red' },
        ],
      }),
    ).toEqual(['kind']);
    expect(m.match({ items: [{ kind: 'pen' }, { kind: 'book', color: 'red' }] })).toEqual(['pair', 'kind']);
  });

  it('checks exists: false fields on their own, and through arrays of objects in full', () => {
    const m = compileRules([
      { id: 'no-coupon', pattern: { source: ['s'], detail: { coupon: [{ exists: false }] } } },
      { id: 'no-type', pattern: { 'detail-type': [{ exists: false }] } },
    ]);
    expect(m.match({ source: 's', detail: {} })).toEqual(['no-coupon', 'no-type']);
    expect(m.match({ source: 's', detailType: 'T', detail: { coupon: 'X' } })).toEqual([]);
    expect(m.match({ source: 's', detail: [{ coupon: 'X' }] })).toEqual(['no-type']);
    expect(m.match({ source: 's', detail: [{ coupon: 'X' }, { other: 1 }] })).toEqual([
      'no-coupon',
      'no-type',
    ]);
    expect(m.match({ source: 's', detail: 'text' })).toEqual(['no-coupon', 'no-type']);
    expect(m.match([{ source: 's', detail: {} }])).toEqual(['no-coupon', 'no-type']);
  });

  it('walks event keys when a path has many indexed children', () => {
    const rules: EventRule[] = Array.from({ length: 40 }, (_, i) => ({
      id: `r${i}`,
      pattern: { detail: { [`f${i}`]: [i] } },
    }));
    const m = compileRules(rules);
    expect(m.match({ detail: { f3: 3, f7: 8, f39: [1, 39] } })).toEqual(['r3', 'r39']);
  });
});

// ---- generated patterns and events -------------------------------------------------------

const NAMES = ['source', 'detail-type', 'detailType', 'detail', 'a', 'b', 'c'];
const STRINGS = [
  '',
  'a',
  'ab',
  'abc',
  'b',
  'ba',
  'A',
  'Ab',
  'x.y',
  'ß',
  'SS',
  'ss',
  '10.0.0.1',
  '10.1.2.3',
  '2001:db8::1',
  'a*b',
];
const NUMBERS = [0, 1, 2.5, 300, 3e2, -1];

const leafValue: fc.Arbitrary<string | number | boolean | null> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...STRINGS) },
  { weight: 2, arbitrary: fc.constantFrom(...NUMBERS) },
  { weight: 1, arbitrary: fc.constantFrom(true, false, null) },
);

const affix = fc.constantFrom('', 'a', 'b', 'A', 'ab', 'S', 'ss', '10.');
const nonEmptyAffix = fc.constantFrom('a', 'b', 'A', 'ab', 'S', '10.');
const wildcard = fc.constantFrom('a*', '*b', 'a*b', '*', '*a*', 'ab', 'a\\*b', '*.*', '1*.*');
const numericSpec = fc.constantFrom<(string | number)[]>(
  ['>', 0],
  ['>=', 1, '<', 300],
  ['<=', 2.5],
  ['=', 300],
  ['>', -2, '<=', 1],
  ['<', 0],
);

const operator: fc.Arbitrary<unknown> = fc.oneof(
  affix.map((prefix) => ({ prefix })),
  affix.map((suffix) => ({ suffix })),
  affix.map((t) => ({ prefix: { 'equals-ignore-case': t } })),
  affix.map((t) => ({ suffix: { 'equals-ignore-case': t } })),
  fc.constantFrom(...STRINGS).map((t) => ({ 'equals-ignore-case': t })),
  wildcard.map((w) => ({ wildcard: w })),
  fc
    .oneof(
      fc.constantFrom(...STRINGS),
      fc.constantFrom(...NUMBERS),
      fc.uniqueArray(fc.constantFrom(...STRINGS), { minLength: 1, maxLength: 3 }),
      fc.uniqueArray(fc.constantFrom(...NUMBERS), { minLength: 1, maxLength: 3 }),
      nonEmptyAffix.map((prefix) => ({ prefix })),
      fc.array(nonEmptyAffix, { minLength: 1, maxLength: 2 }).map((suffix) => ({ suffix })),
      affix.map((t) => ({ 'equals-ignore-case': [t] })),
      wildcard.map((w) => ({ wildcard: w })),
    )
    .map((operand) => ({ 'anything-but': operand })),
  numericSpec.map((numeric) => ({ numeric })),
  fc.boolean().map((exists) => ({ exists })),
  fc.constant({ exists: false }),
  fc.constantFrom('10.0.0.0/8', '10.0.0.0/24', '2001:db8::/32', '0.0.0.0/0').map((cidr) => ({ cidr })),
);

const valueList = fc.array(
  fc.oneof({ weight: 2, arbitrary: leafValue }, { weight: 3, arbitrary: operator }),
  {
    minLength: 1,
    maxLength: 3,
  },
);

/** Drops a second spelling of the detail type so the generated pattern is valid. */
function oneSpelling(obj: Record<string, unknown>): Record<string, unknown> {
  if ('detail-type' in obj && 'detailType' in obj) {
    const { detailType: _dropped, ...rest } = obj;
    return rest;
  }
  return obj;
}

/** A pattern object nesting at most `depth` more levels, sometimes with an `$or`. */
function patternAt(depth: number, maxKeys = 2): fc.Arbitrary<Record<string, unknown>> {
  const fieldValue: fc.Arbitrary<unknown> =
    depth === 0
      ? valueList
      : fc.oneof({ weight: 3, arbitrary: valueList }, { weight: 1, arbitrary: patternAt(depth - 1) });
  const fields = fc.dictionary(fc.constantFrom(...NAMES), fieldValue, { minKeys: 1, maxKeys });
  if (depth === 0) return fields.map(oneSpelling);
  const or = fc.oneof(
    { weight: 2, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.array(patternAt(depth - 1, 1), { minLength: 2, maxLength: 3 }) },
  );
  return fc
    .tuple(fields, or)
    .map(([f, branches]) => oneSpelling(branches === null ? f : { ...f, $or: branches }));
}

/** An event value nesting at most `depth` more levels. */
function valueAt(depth: number): fc.Arbitrary<unknown> {
  if (depth === 0) return leafValue;
  return fc.oneof(
    { weight: 4, arbitrary: leafValue },
    { weight: 1, arbitrary: fc.array(valueAt(depth - 1), { maxLength: 3 }) },
    { weight: 2, arbitrary: eventAt(depth - 1) },
  );
}

function eventAt(depth: number): fc.Arbitrary<Record<string, unknown>> {
  return fc.dictionary(fc.constantFrom(...NAMES), valueAt(depth), { maxKeys: 5 });
}

const pattern = patternAt(2);
const event = eventAt(3);

const ruleList = fc
  .array(pattern, { minLength: 1, maxLength: 25 })
  .map((patterns) => patterns.map((p, i): EventRule => ({ id: `r${i}`, pattern: p as EventPattern })));

describe('compileRules equals compilePattern rule by rule (property)', () => {
  it('over generated rules and events', () => {
    fc.assert(
      fc.property(ruleList, fc.array(event, { minLength: 1, maxLength: 8 }), (rules, events) => {
        const many = compileRules(rules);
        const single = rules.map((r) => compilePattern(r.pattern));
        for (const e of events) {
          const expected = rules.filter((_, i) => single[i]!.matches(e)).map((r) => r.id);
          expect(many.match(e)).toEqual(expected);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('over events built to match: each rule against events derived from other rules', () => {
    // Random events rarely satisfy deep patterns; events assembled from the values of the
    // patterns themselves reach the deeper branches of the index. `shape` decides, level by
    // level, whether a nested object is wrapped in an array, given an extra element, or has a
    // field taken away, to reach array-consistency and exists: false.
    const fromPattern = (p: unknown, shape: () => number): unknown => {
      if (Array.isArray(p)) {
        const leaf = p.find((v) => typeof v !== 'object' || v === null);
        const choice = shape();
        if (choice === 0) return [leaf ?? 'a', 'b'];
        if (choice === 1) return { nested: leaf ?? 'a' };
        return leaf ?? 'a';
      }
      if (typeof p !== 'object' || p === null) return p;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(p)) {
        if (k === '$or' && Array.isArray(v)) Object.assign(out, fromPattern(v[shape() % v.length], shape));
        else if (shape() !== 3) out[k] = fromPattern(v, shape);
      }
      const choice = shape();
      if (choice === 0) return [out];
      if (choice === 1)
        return [
          { ...out, extra: 1 },
          { source: 'a', b: 'x' },
        ];
      return out;
    };
    fc.assert(
      fc.property(ruleList, fc.array(fc.nat(9), { minLength: 64, maxLength: 64 }), (rules, bits) => {
        const many = compileRules(rules);
        const single = rules.map((r) => compilePattern(r.pattern));
        let next = 0;
        const shape = (): number => bits[next++ % bits.length]!;
        for (const r of rules) {
          for (const e of [fromPattern(r.pattern, () => 9), fromPattern(r.pattern, shape)]) {
            const expected = rules.filter((_, i) => single[i]!.matches(e)).map((x) => x.id);
            expect(many.match(e)).toEqual(expected);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
