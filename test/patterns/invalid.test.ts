// Invalid patterns: each is refused with a PatternError whose message names the JSON path in
// the pattern and the problem, and whose code is E_PATTERN_INVALID.

import { describe, expect, it } from 'vitest';
import { isMainspringError } from '../../src/core/errors.ts';
import { compilePattern, compileRules, PatternError } from '../../src/patterns/index.ts';

function errorOf(pattern: unknown): PatternError {
  try {
    compilePattern(pattern as never);
  } catch (err) {
    expect(err).toBeInstanceOf(PatternError);
    return err as PatternError;
  }
  throw new Error(`pattern was accepted: ${JSON.stringify(pattern)}`);
}

/** [pattern, expected path, a regexp the message must match] */
const cases: [string, unknown, string, RegExp][] = [
  // the whole pattern
  ['not an object', ['source'], '', /^pattern: must be a JSON object .*got an array/],
  ['null', null, '', /^pattern: must be a JSON object/],
  ['empty object', {}, '', /^pattern: is an empty object/],
  ['malformed JSON text', '{"source": [', '', /^pattern: is not valid JSON/],
  ['JSON text of an array', '[1]', '', /must be a JSON object/],
  // structure
  [
    'leaf not in an array',
    { source: 'aws.ec2' },
    'source',
    /must be an array of values .*\["aws\.ec2"\].*got string "aws\.ec2"/,
  ],
  ['number leaf not in an array', { detail: { n: 5 } }, 'detail.n', /must be an array .*got number 5/],
  ['null field', { detail: null }, 'detail', /must be an array .*got null/],
  ['empty value list', { detail: { state: [] } }, 'detail.state', /is an empty array/],
  ['empty nested object', { detail: {} }, 'detail', /is an empty object/],
  ['nested array in a list', { detail: { state: [['a']] } }, 'detail.state', /nested arrays are not allowed/],
  ['odd key in path', { detail: { 'a b': [] } }, 'detail["a b"]', /is an empty array/],
  [
    'detail-type twice',
    { 'detail-type': ['A'], detailType: ['B'] },
    'detailType',
    /names the detail type twice/,
  ],
  // operator objects
  [
    'unknown operator',
    { source: [{ contains: 'x' }] },
    'source',
    /unknown operator "contains"; the operators are prefix, suffix/,
  ],
  [
    'two operators in one object',
    { source: [{ prefix: 'a', suffix: 'b' }] },
    'source',
    /exactly one operator, got "prefix", "suffix"/,
  ],
  ['empty operator object', { source: [{}] }, 'source', /needs one operator/],
  ['prefix not a string', { source: [{ prefix: 5 }] }, 'source', /prefix needs a string, got 5/],
  [
    'prefix with an unknown option',
    { source: [{ prefix: { 'ignore-case': 'a' } }] },
    'source',
    /prefix takes a string or \{"equals-ignore-case"/,
  ],
  [
    'prefix ignore-case not a string',
    { source: [{ prefix: { 'equals-ignore-case': 1 } }] },
    'source',
    /prefix equals-ignore-case needs a string, got 1/,
  ],
  ['suffix not a string', { source: [{ suffix: ['a'] }] }, 'source', /suffix needs a string, got \["a"\]/],
  [
    'equals-ignore-case not a string',
    { source: [{ 'equals-ignore-case': ['a'] }] },
    'source',
    /equals-ignore-case needs a string/,
  ],
  [
    'exists not a boolean',
    { detail: { x: [{ exists: 'yes' }] } },
    'detail.x',
    /exists needs true or false, got "yes"/,
  ],
  // wildcard
  [
    'wildcard with **',
    { source: [{ wildcard: 'a**b' }] },
    'source',
    /consecutive wildcard characters "\*\*"/,
  ],
  [
    'wildcard bad escape',
    { source: [{ wildcard: 'a\\b' }] },
    'source',
    /a backslash may only escape \* or \\/,
  ],
  ['wildcard lone backslash', { source: [{ wildcard: 'a\\' }] }, 'source', /ends with a lone backslash/],
  ['wildcard not a string', { source: [{ wildcard: 1 }] }, 'source', /wildcard needs a string/],
  // numeric
  [
    'numeric string operand',
    { detail: { price: [{ numeric: ['>', '10'] }] } },
    'detail.price',
    /^pattern at detail\.price: numeric operator ">" needs a number, got "10"$/,
  ],
  [
    'numeric missing operand',
    { detail: { p: [{ numeric: ['>'] }] } },
    'detail.p',
    /numeric operator ">" needs a number, got nothing/,
  ],
  [
    'numeric unknown operator',
    { detail: { p: [{ numeric: ['!=', 1] }] } },
    'detail.p',
    /numeric operator "!=" is not one of =, <, <=, >, >=/,
  ],
  [
    'numeric not an array',
    { detail: { p: [{ numeric: 5 }] } },
    'detail.p',
    /numeric needs a non-empty array/,
  ],
  ['numeric empty', { detail: { p: [{ numeric: [] }] } }, 'detail.p', /numeric needs a non-empty array/],
  [
    'numeric = with a range',
    { detail: { p: [{ numeric: ['=', 1, '<', 5] }] } },
    'detail.p',
    /too many elements/,
  ],
  [
    'numeric upper bound first',
    { detail: { p: [{ numeric: ['<', 5, '>', 1] }] } },
    'detail.p',
    /too many elements/,
  ],
  [
    'numeric two lower bounds',
    { detail: { p: [{ numeric: ['>', 1, '>', 5] }] } },
    'detail.p',
    /only "<" or "<=" may follow, got ">"/,
  ],
  [
    'numeric empty range',
    { detail: { p: [{ numeric: ['>', 5, '<', 3] }] } },
    'detail.p',
    /is empty: the lower bound must be below/,
  ],
  ['numeric point range', { detail: { p: [{ numeric: ['>=', 5, '<=', 5] }] } }, 'detail.p', /is empty/],
  [
    'numeric too long',
    { detail: { p: [{ numeric: ['>', 0, '<', 5, 6] }] } },
    'detail.p',
    /too many elements/,
  ],
  [
    'numeric with Infinity',
    { detail: { p: [{ numeric: ['>', Number.POSITIVE_INFINITY] }] } },
    'detail.p',
    /needs a number/,
  ],
  // anything-but
  [
    'anything-but mixed list',
    { detail: { x: [{ 'anything-but': ['a', 1] }] } },
    'detail.x',
    /all strings or all numbers/,
  ],
  ['anything-but empty list', { detail: { x: [{ 'anything-but': [] }] } }, 'detail.x', /empty list/],
  [
    'anything-but boolean',
    { detail: { x: [{ 'anything-but': true }] } },
    'detail.x',
    /anything-but takes a string, a number/,
  ],
  [
    'anything-but null',
    { detail: { x: [{ 'anything-but': null }] } },
    'detail.x',
    /anything-but takes a string, a number/,
  ],
  [
    'anything-but unknown operator',
    { detail: { x: [{ 'anything-but': { regexp: 'a' } }] } },
    'detail.x',
    /one of "prefix", "suffix", "equals-ignore-case", "wildcard"/,
  ],
  [
    'anything-but numeric',
    { detail: { x: [{ 'anything-but': { numeric: ['>', 1] } }] } },
    'detail.x',
    /one of "prefix"/,
  ],
  [
    'anything-but empty prefix',
    { detail: { x: [{ 'anything-but': { prefix: '' } }] } },
    'detail.x',
    /anything-but prefix "" would exclude every string/,
  ],
  [
    'anything-but prefix number',
    { detail: { x: [{ 'anything-but': { prefix: 5 } }] } },
    'detail.x',
    /anything-but prefix needs a string or a non-empty list of strings, got 5/,
  ],
  [
    'anything-but wildcard **',
    { detail: { x: [{ 'anything-but': { wildcard: ['a**b'] } }] } },
    'detail.x',
    /consecutive wildcard/,
  ],
  // cidr
  [
    'cidr not a string',
    { detail: { ip: [{ cidr: 10 }] } },
    'detail.ip',
    /cidr needs a string such as "10\.0\.0\.0\/24", got 10/,
  ],
  ['cidr without a slash', { detail: { ip: [{ cidr: '10.0.0.1' }] } }, 'detail.ip', /needs exactly one "\/"/],
  [
    'cidr bad address',
    { detail: { ip: [{ cidr: '10.0.0.256/24' }] } },
    'detail.ip',
    /"10\.0\.0\.256" is not an IPv4 or IPv6 address/,
  ],
  [
    'cidr bad prefix length',
    { detail: { ip: [{ cidr: '10.0.0.0/33' }] } },
    'detail.ip',
    /prefix length must be a whole number from 0 to 32/,
  ],
  [
    'cidr v6 bad prefix length',
    { detail: { ip: [{ cidr: '2001:db8::/129' }] } },
    'detail.ip',
    /from 0 to 128/,
  ],
  [
    'cidr host bits',
    { detail: { ip: [{ cidr: '10.0.0.5/24' }] } },
    'detail.ip',
    /bits set past the \/24 prefix; did you mean "10\.0\.0\.0\/24"/,
  ],
  [
    'cidr v6 host bits',
    { detail: { ip: [{ cidr: '2001:db8::1/64' }] } },
    'detail.ip',
    /did you mean "2001:db8::\/64"/,
  ],
  // $or
  [
    '$or not an array',
    { $or: { source: ['a'] } },
    '$or',
    /\$or needs an array of at least 2 pattern objects/,
  ],
  ['$or with one entry', { $or: [{ source: ['a'] }] }, '$or', /at least 2/],
  [
    '$or with a scalar entry',
    { $or: [{ source: ['a'] }, 'b'] },
    '$or[1]',
    /each \$or entry must be a pattern object, got string "b"/,
  ],
  ['$or with an empty entry', { $or: [{ source: ['a'] }, {}] }, '$or[1]', /is an empty object/],
  [
    '$or with an operator as a field',
    { $or: [{ numeric: [1] }, { prefix: ['abc'] }] },
    '$or[0].numeric',
    /"numeric" is an operator, not a field name/,
  ],
  [
    'error deep inside $or',
    { detail: { $or: [{ a: ['x'] }, { b: { c: [{ numeric: ['>', 'x'] }] } }] } },
    'detail.$or[1].b.c',
    /needs a number/,
  ],
];

describe('invalid patterns', () => {
  it.each(cases)('%s', (_name, pattern, path, message) => {
    const err = errorOf(pattern);
    expect(err.path).toBe(path);
    expect(err.message).toMatch(message);
    expect(err.code).toBe('E_PATTERN_INVALID');
    expect(err.status).toBe(400);
    expect(isMainspringError(err)).toBe(true);
    expect(err.toJSON().details).toEqual({ path });
    if (path !== '') expect(err.message.startsWith(`pattern at ${path}: `)).toBe(true);
  });

  it('refuses patterns nested deeper than 64 levels', () => {
    let pattern: Record<string, unknown> = { x: ['y'] };
    for (let i = 0; i < 70; i++) pattern = { n: pattern };
    expect(errorOf(pattern).message).toMatch(/nests deeper than 64 levels/);
  });

  it('accepts every documented form', () => {
    const valid = [
      { source: ['a', 1, 2.5, true, false, null] },
      {
        source: [
          { prefix: '' },
          { prefix: { 'equals-ignore-case': 'A' } },
          { suffix: { 'equals-ignore-case': 'z' } },
        ],
      },
      { source: [{ wildcard: '*' }, { wildcard: 'a\\**' }, { wildcard: '' }] },
      { source: [{ 'anything-but': { 'equals-ignore-case': 'x' } }, { 'anything-but': { wildcard: 'a*' } }] },
      { source: [{ numeric: ['=', 0] }, { numeric: ['<=', -1] }, { numeric: ['>=', -1.5, '<', 2e9] }] },
      { source: [{ cidr: '::/0' }, { cidr: '0.0.0.0/0' }, { cidr: '2001:db8::1/128' }] },
      { $or: [{ a: ['1'] }, { b: { $or: [{ c: ['2'] }, { d: [{ exists: false }] }] } }] },
      { detail: { prefix: ['a field called prefix is fine outside $or'] } },
    ];
    for (const pattern of valid)
      expect(() => compilePattern(pattern as never), JSON.stringify(pattern)).not.toThrow();
  });
});

describe('invalid rules', () => {
  it('names the rule whose pattern is invalid', () => {
    let caught: unknown;
    try {
      compileRules([
        { id: 'ok', pattern: { source: ['a'] } },
        { id: 'orders', pattern: { detail: { price: [{ numeric: ['>', '10'] }] } } as never },
      ]);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PatternError);
    const err = caught as PatternError;
    expect(err.message).toBe(
      'rule "orders": pattern at detail.price: numeric operator ">" needs a number, got "10"',
    );
    expect(err.ruleId).toBe('orders');
    expect(err.toJSON().details).toEqual({ path: 'detail.price', ruleId: 'orders' });
  });

  it('refuses duplicate and empty ids', () => {
    expect(() =>
      compileRules([
        { id: 'a', pattern: { source: ['x'] } },
        { id: 'a', pattern: { source: ['y'] } },
      ]),
    ).toThrow(/rule id "a" is given twice/);
    expect(() => compileRules([{ id: '', pattern: { source: ['x'] } }])).toThrow(/non-empty string id/);
  });
});
