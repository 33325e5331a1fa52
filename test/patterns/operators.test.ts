// Every pattern operator, with events that match and events that do not, following AWS
// EventBridge's content-filtering documentation and event-ruler's README.

import { describe, expect, it } from 'vitest';
import { compilePattern, type EventPattern } from '../../src/patterns/index.ts';

/** AWS's sample EC2 event, in the shape the bus will store (detailType, not detail-type). */
const ec2 = {
  version: '0',
  id: 'ddddd4-aaaa-7777-4444-345dd43cc333',
  detailType: 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '012345679012',
  time: '2017-10-02T16:24:49Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
  detail: {
    'c-count': 5,
    'd-count': 3,
    'x-limit': 301.8,
    'source-ip': '10.0.0.33',
    'instance-id': 'i-000000aaaaaa00000',
    state: 'running',
  },
};

function matches(pattern: EventPattern | string, event: unknown): boolean {
  return compilePattern(pattern).matches(event);
}

function detail(fields: Record<string, unknown>): unknown {
  return { source: 'test', detailType: 'T', detail: fields };
}

describe('exact values', () => {
  it('matches strings exactly and case-sensitively', () => {
    expect(matches({ source: ['aws.ec2'] }, ec2)).toBe(true);
    expect(matches({ source: ['AWS.EC2'] }, ec2)).toBe(false);
    expect(matches({ source: ['aws.ec'] }, ec2)).toBe(false);
  });

  it('matches any value of the list (OR)', () => {
    expect(matches({ detail: { state: ['initializing', 'running'] } }, ec2)).toBe(true);
    expect(matches({ detail: { state: ['initializing', 'stopped'] } }, ec2)).toBe(false);
  });

  it('requires every field (AND), ignoring fields the pattern does not name', () => {
    expect(matches({ source: ['aws.ec2'], detail: { state: ['running'] } }, ec2)).toBe(true);
    expect(matches({ source: ['aws.ec2'], detail: { state: ['stopped'] } }, ec2)).toBe(false);
  });

  it('compares numbers numerically: 300 equals 3.0e2 and 300.0', () => {
    expect(matches({ detail: { n: [300] } }, detail({ n: 3.0e2 }))).toBe(true);
    expect(matches({ detail: { n: [3.0e2] } }, detail({ n: 300 }))).toBe(true);
    expect(matches('{"detail": {"n": [300.0]}}', JSON.parse('{"detail": {"n": 3.0e2}}'))).toBe(true);
    expect(matches({ detail: { n: [301] } }, detail({ n: 300 }))).toBe(false);
    expect(matches({ detail: { n: [0] } }, detail({ n: -0 }))).toBe(true);
  });

  it('keeps strings and numbers apart', () => {
    expect(matches({ detail: { n: [300] } }, detail({ n: '300' }))).toBe(false);
    expect(matches({ detail: { n: ['300'] } }, detail({ n: 300 }))).toBe(false);
  });

  it('matches booleans and null, which differ from their string forms and from absence', () => {
    expect(matches({ detail: { ok: [true] } }, detail({ ok: true }))).toBe(true);
    expect(matches({ detail: { ok: [true] } }, detail({ ok: false }))).toBe(false);
    expect(matches({ detail: { ok: [false] } }, detail({ ok: false }))).toBe(true);
    expect(matches({ detail: { ok: [true] } }, detail({ ok: 'true' }))).toBe(false);
    expect(matches({ detail: { r: [null] } }, detail({ r: null }))).toBe(true);
    expect(matches({ detail: { r: [null] } }, detail({}))).toBe(false);
    expect(matches({ detail: { r: [null] } }, detail({ r: 'null' }))).toBe(false);
  });

  it('tells the empty string from null', () => {
    expect(matches({ detail: { v: [''] } }, detail({ v: '' }))).toBe(true);
    expect(matches({ detail: { v: [''] } }, detail({ v: null }))).toBe(false);
    expect(matches({ detail: { v: [null] } }, detail({ v: '' }))).toBe(false);
  });
});

describe('nested objects and arrays', () => {
  it('follows nested objects', () => {
    const e = detail({ bucket: { name: 'photos', region: { code: 'eu' } } });
    expect(matches({ detail: { bucket: { region: { code: ['eu'] } } } }, e)).toBe(true);
    expect(matches({ detail: { bucket: { region: { code: ['us'] } } } }, e)).toBe(false);
    expect(matches({ detail: { bucket: { missing: { code: ['eu'] } } } }, e)).toBe(false);
  });

  it('matches an event array when any element matches (non-empty intersection)', () => {
    expect(
      matches({ resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'] }, ec2),
    ).toBe(true);
    expect(matches({ detail: { tags: ['b', 'z'] } }, detail({ tags: ['a', 'b', 'c'] }))).toBe(true);
    expect(matches({ detail: { tags: ['y', 'z'] } }, detail({ tags: ['a', 'b', 'c'] }))).toBe(false);
    expect(matches({ detail: { tags: ['a'] } }, detail({ tags: [] }))).toBe(false);
  });

  it('crushes nested arrays and arrays of objects', () => {
    const e = {
      employees: [
        [
          { firstName: 'John', lastName: 'Doe' },
          { firstName: 'Anna', lastName: 'Smith' },
        ],
        [{ firstName: 'Peter', lastName: 'Jones' }],
      ],
    };
    expect(matches({ employees: { firstName: ['Anna'] } }, e)).toBe(true);
    expect(matches({ employees: { firstName: ['Anna'], lastName: ['Smith'] } }, e)).toBe(true);
    expect(matches({ tags: [3] }, { tags: [[1, 2], [[3]]] })).toBe(true);
  });

  it('needs the fields of one pattern object to come from the same array element', () => {
    const e = {
      employees: [
        { firstName: 'John', lastName: 'Doe' },
        { firstName: 'Anna', lastName: 'Smith' },
        { firstName: 'Peter', lastName: 'Jones' },
      ],
    };
    expect(matches({ employees: { firstName: ['Anna'], lastName: ['Jones'] } }, e)).toBe(false);
    expect(matches({ employees: { firstName: ['Peter'], lastName: ['Jones'] } }, e)).toBe(true);
  });

  it('does not treat an object as a leaf value', () => {
    expect(matches({ detail: { state: ['running'] } }, detail({ state: { name: 'running' } }))).toBe(false);
  });

  it('does not follow a nested pattern into a leaf', () => {
    expect(matches({ detail: { state: { name: ['running'] } } }, detail({ state: 'running' }))).toBe(false);
  });
});

describe('prefix', () => {
  it('matches strings that start with the prefix', () => {
    expect(matches({ time: [{ prefix: '2017-10-02' }] }, ec2)).toBe(true);
    expect(matches({ time: [{ prefix: '2017-10-03' }] }, ec2)).toBe(false);
    expect(matches({ region: [{ prefix: 'US-' }] }, ec2)).toBe(false);
  });

  it('works on strings only', () => {
    expect(matches({ detail: { n: [{ prefix: '12' }] } }, detail({ n: 123 }))).toBe(false);
    expect(matches({ detail: { n: [{ prefix: 'tr' }] } }, detail({ n: true }))).toBe(false);
  });

  it('ignores case with equals-ignore-case', () => {
    const p = { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } };
    expect(matches(p, detail({ service: 'eventbridge' }))).toBe(true);
    expect(matches(p, detail({ service: 'EVENTBRIDGE' }))).toBe(true);
    expect(matches(p, detail({ service: 'event-bridge' }))).toBe(false);
  });

  it('an empty prefix matches every string', () => {
    expect(matches({ detail: { s: [{ prefix: '' }] } }, detail({ s: '' }))).toBe(true);
    expect(matches({ detail: { s: [{ prefix: '' }] } }, detail({ s: 5 }))).toBe(false);
  });
});

describe('suffix', () => {
  it('matches strings that end with the suffix', () => {
    expect(matches({ detail: { FileName: [{ suffix: '.png' }] } }, detail({ FileName: 'cat.png' }))).toBe(
      true,
    );
    expect(matches({ detail: { FileName: [{ suffix: '.png' }] } }, detail({ FileName: 'cat.PNG' }))).toBe(
      false,
    );
    expect(matches({ detail: { FileName: [{ suffix: '.png' }] } }, detail({ FileName: 'png' }))).toBe(false);
  });

  it('ignores case with equals-ignore-case', () => {
    const p = { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } };
    expect(matches(p, detail({ FileName: 'cat.PNG' }))).toBe(true);
    expect(matches(p, detail({ FileName: 'cat.pNg' }))).toBe(true);
    expect(matches(p, detail({ FileName: 'cat.jpg' }))).toBe(false);
  });
});

describe('equals-ignore-case', () => {
  it('matches strings regardless of case', () => {
    expect(matches({ source: [{ 'equals-ignore-case': 'AWS.EC2' }] }, ec2)).toBe(true);
    expect(matches({ source: [{ 'equals-ignore-case': 'aws.ec' }] }, ec2)).toBe(false);
  });

  it('folds beyond ASCII', () => {
    const p = { detail: { city: [{ 'equals-ignore-case': 'ZÜRICH' }] } };
    expect(matches(p, detail({ city: 'zürich' }))).toBe(true);
    expect(matches({ detail: { w: [{ 'equals-ignore-case': 'STRASSE' }] } }, detail({ w: 'straße' }))).toBe(
      true,
    );
    expect(matches({ detail: { w: [{ 'equals-ignore-case': 'ΟΔΟΣ' }] } }, detail({ w: 'οδος' }))).toBe(true);
  });

  it('works on strings only', () => {
    expect(matches({ detail: { n: [{ 'equals-ignore-case': '5' }] } }, detail({ n: 5 }))).toBe(false);
  });
});

describe('wildcard', () => {
  it('matches * against any run of characters, including none', () => {
    const p = { source: [{ wildcard: 'Simple*Service' }] };
    expect(matches(p, { source: 'SimpleQueueService' })).toBe(true);
    expect(matches(p, { source: 'SimpleService' })).toBe(true);
    expect(matches(p, { source: 'SimpleQueueServices' })).toBe(false);
    expect(matches(p, { source: 'simpleQueueService' })).toBe(false);
  });

  it('handles several stars, leading and trailing', () => {
    const p = { detail: { path: [{ wildcard: '*/lib/*.so' }] } };
    expect(matches(p, detail({ path: '/usr/lib/libc.so' }))).toBe(true);
    expect(matches(p, detail({ path: '/usr/lib/libc.so.6' }))).toBe(false);
    expect(matches({ detail: { s: [{ wildcard: '*' }] } }, detail({ s: '' }))).toBe(true);
    expect(matches({ detail: { s: [{ wildcard: 'a*b*a' }] } }, detail({ s: 'aba' }))).toBe(true);
    expect(matches({ detail: { s: [{ wildcard: 'ab*ba' }] } }, detail({ s: 'aba' }))).toBe(false);
  });

  it('treats \\* as a literal star and \\\\ as a literal backslash', () => {
    expect(matches({ detail: { s: [{ wildcard: 'a\\*b' }] } }, detail({ s: 'a*b' }))).toBe(true);
    expect(matches({ detail: { s: [{ wildcard: 'a\\*b' }] } }, detail({ s: 'axb' }))).toBe(false);
    expect(matches({ detail: { s: [{ wildcard: 'c:\\\\*' }] } }, detail({ s: 'c:\\temp' }))).toBe(true);
    expect(matches('{"detail": {"s": [{"wildcard": "2\\\\*3=*"}]}}', detail({ s: '2*3=6' }))).toBe(true);
  });

  it('works on strings only', () => {
    expect(matches({ detail: { n: [{ wildcard: '1*' }] } }, detail({ n: 12 }))).toBe(false);
  });
});

describe('anything-but', () => {
  it('excludes one string or number', () => {
    expect(matches({ detail: { state: [{ 'anything-but': 'initializing' }] } }, ec2)).toBe(true);
    expect(matches({ detail: { state: [{ 'anything-but': 'running' }] } }, ec2)).toBe(false);
    expect(matches({ detail: { 'x-limit': [{ 'anything-but': 123 }] } }, ec2)).toBe(true);
    expect(matches({ detail: { 'x-limit': [{ 'anything-but': 301.8 }] } }, ec2)).toBe(false);
  });

  it('excludes a list of strings or of numbers', () => {
    const strings = { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } };
    expect(matches(strings, ec2)).toBe(true);
    expect(matches(strings, detail({ state: 'stopped' }))).toBe(false);
    const numbers = { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } };
    expect(matches(numbers, ec2)).toBe(true);
    expect(matches(numbers, detail({ 'x-limit': 3e2 }))).toBe(false);
  });

  it('matches values of other types, but never an absent field', () => {
    expect(matches({ detail: { v: [{ 'anything-but': 'x' }] } }, detail({ v: 5 }))).toBe(true);
    expect(matches({ detail: { v: [{ 'anything-but': 5 }] } }, detail({ v: '5' }))).toBe(true);
    expect(matches({ detail: { v: [{ 'anything-but': 'x' }] } }, detail({ v: null }))).toBe(true);
    expect(matches({ detail: { v: [{ 'anything-but': 'x' }] } }, detail({ v: false }))).toBe(true);
    expect(matches({ detail: { v: [{ 'anything-but': 'x' }] } }, detail({}))).toBe(false);
    expect(matches({ detail: { v: [{ 'anything-but': 'x' }] } }, detail({ v: [] }))).toBe(false);
  });

  it('on an event array, matches when any element is not excluded', () => {
    const p = { detail: { v: [{ 'anything-but': ['a', 'b'] }] } };
    expect(matches(p, detail({ v: ['a', 'c'] }))).toBe(true);
    expect(matches(p, detail({ v: ['a', 'b'] }))).toBe(false);
  });

  it('excludes by prefix, one or a list', () => {
    const p = { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } };
    expect(matches(p, ec2)).toBe(true);
    expect(matches(p, detail({ state: 'initializing' }))).toBe(false);
    const list = { detail: { state: [{ 'anything-but': { prefix: ['init', 'stop'] } }] } };
    expect(matches(list, detail({ state: 'stopped' }))).toBe(false);
    expect(matches(list, detail({ state: 'running' }))).toBe(true);
    expect(matches(p, detail({ state: 5 }))).toBe(true);
  });

  it('excludes by suffix', () => {
    const p = { detail: { FileName: [{ 'anything-but': { suffix: '.png' } }] } };
    expect(matches(p, detail({ FileName: 'a.jpg' }))).toBe(true);
    expect(matches(p, detail({ FileName: 'a.png' }))).toBe(false);
    expect(
      matches({ detail: { f: [{ 'anything-but': { suffix: ['.txt', '.rtf'] } }] } }, detail({ f: 'a.rtf' })),
    ).toBe(false);
  });

  it('excludes ignoring case', () => {
    const p = {
      detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['initializing', 'stopped'] } }] },
    };
    expect(matches(p, detail({ state: 'INITIALIZING' }))).toBe(false);
    expect(matches(p, detail({ state: 'Stopped' }))).toBe(false);
    expect(matches(p, detail({ state: 'running' }))).toBe(true);
  });

  it('excludes by wildcard', () => {
    const p = { detail: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] } };
    expect(matches(p, detail({ FilePath: '/usr/lib/tool' }))).toBe(false);
    expect(matches(p, detail({ FilePath: '/usr/bin/tool' }))).toBe(true);
    const list = { detail: { FilePath: [{ 'anything-but': { wildcard: ['*/lib/*', '*/bin/*'] } }] } };
    expect(matches(list, detail({ FilePath: '/usr/bin/tool' }))).toBe(false);
    expect(matches(list, detail({ FilePath: '/etc/tool' }))).toBe(true);
  });
});

describe('numeric', () => {
  it('matches ranges with one or two bounds', () => {
    expect(matches({ detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } }, ec2)).toBe(true);
    expect(matches({ detail: { 'c-count': [{ numeric: ['>', 0, '<', 5] }] } }, ec2)).toBe(false);
    expect(matches({ detail: { 'c-count': [{ numeric: ['>=', 5] }] } }, ec2)).toBe(true);
    expect(matches({ detail: { 'c-count': [{ numeric: ['>', 5] }] } }, ec2)).toBe(false);
    expect(matches({ detail: { 'd-count': [{ numeric: ['<', 10] }] } }, ec2)).toBe(true);
    expect(matches({ detail: { 'd-count': [{ numeric: ['<=', 2] }] } }, ec2)).toBe(false);
    expect(matches({ detail: { 'd-count': [{ numeric: ['>=', 3, '<', 4] }] } }, ec2)).toBe(true);
  });

  it('matches = numerically', () => {
    expect(matches({ detail: { 'x-limit': [{ numeric: ['=', 3.018e2] }] } }, ec2)).toBe(true);
    expect(matches({ detail: { 'x-limit': [{ numeric: ['=', 301.80001] }] } }, ec2)).toBe(false);
  });

  it('handles negatives, fractions and large numbers', () => {
    expect(matches({ detail: { t: [{ numeric: ['<', 0] }] } }, detail({ t: -0.5 }))).toBe(true);
    expect(matches({ detail: { t: [{ numeric: ['>', -1, '<', -0.25] }] } }, detail({ t: -0.5 }))).toBe(true);
    expect(matches({ detail: { t: [{ numeric: ['>=', 5e9] }] } }, detail({ t: 5e9 }))).toBe(true);
  });

  it('works on JSON numbers only', () => {
    expect(matches({ detail: { n: [{ numeric: ['>', 0] }] } }, detail({ n: '5' }))).toBe(false);
    expect(matches({ detail: { n: [{ numeric: ['>', 0] }] } }, detail({ n: true }))).toBe(false);
    expect(matches({ detail: { n: [{ numeric: ['>', 0] }] } }, detail({}))).toBe(false);
  });
});

describe('exists', () => {
  it('true matches a present leaf, including null', () => {
    expect(matches({ detail: { 'c-count': [{ exists: true }] } }, ec2)).toBe(true);
    expect(matches({ detail: { r: [{ exists: true }] } }, detail({ r: null }))).toBe(true);
    expect(matches({ detail: { r: [{ exists: true }] } }, detail({}))).toBe(false);
  });

  it('false matches a missing field', () => {
    expect(matches({ detail: { 'c-count': [{ exists: false }] } }, ec2)).toBe(false);
    expect(matches({ detail: { nope: [{ exists: false }] } }, ec2)).toBe(true);
    expect(matches({ detail: { nope: [{ exists: false }] } }, { source: 'x' })).toBe(true);
  });

  it('works on leaves only: an object is not a leaf', () => {
    const e = detail({ state: 'running', 'c-count': { c1: 100 } });
    expect(matches({ detail: { 'c-count': [{ exists: false }] } }, e)).toBe(true);
    expect(matches({ detail: { 'c-count': [{ exists: true }] } }, e)).toBe(false);
  });

  it('treats an empty array as no leaf', () => {
    expect(matches({ detail: { tags: [{ exists: true }] } }, detail({ tags: [] }))).toBe(false);
    expect(matches({ detail: { tags: [{ exists: false }] } }, detail({ tags: [] }))).toBe(true);
    expect(matches({ detail: { tags: [{ exists: true }] } }, detail({ tags: ['a'] }))).toBe(true);
  });

  it('false below a missing or non-object parent matches', () => {
    const p = { detail: { a: { b: [{ exists: false }] } } };
    expect(matches(p, detail({}))).toBe(true);
    expect(matches(p, detail({ a: 'leaf' }))).toBe(true);
    expect(matches(p, detail({ a: { b: 1 } }))).toBe(false);
    expect(matches(p, detail({ a: [{ c: 1 }, { b: 1 }] }))).toBe(true);
    expect(matches(p, detail({ a: [{ b: 1 }] }))).toBe(false);
  });

  it('combines with values in one list', () => {
    const p = { detail: { v: ['x', { exists: false }] } };
    expect(matches(p, detail({}))).toBe(true);
    expect(matches(p, detail({ v: 'x' }))).toBe(true);
    expect(matches(p, detail({ v: 'y' }))).toBe(false);
  });
});

describe('cidr', () => {
  it('matches IPv4 addresses inside the block', () => {
    expect(matches({ detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } }, ec2)).toBe(true);
    expect(matches({ detail: { 'source-ip': [{ cidr: '10.0.1.0/24' }] } }, ec2)).toBe(false);
    expect(matches({ detail: { 'source-ip': [{ cidr: '10.0.0.0/8' }] } }, ec2)).toBe(true);
    expect(matches({ detail: { ip: [{ cidr: '0.0.0.0/0' }] } }, detail({ ip: '203.0.113.9' }))).toBe(true);
    expect(matches({ detail: { ip: [{ cidr: '10.0.0.33/32' }] } }, detail({ ip: '10.0.0.33' }))).toBe(true);
    expect(matches({ detail: { ip: [{ cidr: '10.0.0.0/31' }] } }, detail({ ip: '10.0.0.1' }))).toBe(true);
    expect(matches({ detail: { ip: [{ cidr: '10.0.0.0/31' }] } }, detail({ ip: '10.0.0.2' }))).toBe(false);
  });

  it('matches IPv6 addresses inside the block, in any spelling', () => {
    const p = { detail: { ip: [{ cidr: '2001:db8::/32' }] } };
    expect(matches(p, detail({ ip: '2001:db8::1' }))).toBe(true);
    expect(matches(p, detail({ ip: '2001:0DB8:0000:0000:0000:0000:0000:0001' }))).toBe(true);
    expect(matches(p, detail({ ip: '2001:db9::1' }))).toBe(false);
    expect(matches({ detail: { ip: [{ cidr: '::ffff:0:0/96' }] } }, detail({ ip: '::ffff:10.0.0.1' }))).toBe(
      true,
    );
    expect(matches({ detail: { ip: [{ cidr: 'fe80::/10' }] } }, detail({ ip: 'febf::1' }))).toBe(true);
    expect(matches({ detail: { ip: [{ cidr: 'fe80::/10' }] } }, detail({ ip: 'fec0::1' }))).toBe(false);
  });

  it('does not match other families, non-addresses or non-strings', () => {
    expect(matches({ detail: { ip: [{ cidr: '10.0.0.0/8' }] } }, detail({ ip: '::ffff:10.0.0.1' }))).toBe(
      false,
    );
    expect(matches({ detail: { ip: [{ cidr: '10.0.0.0/8' }] } }, detail({ ip: '10.0.0.256' }))).toBe(false);
    expect(matches({ detail: { ip: [{ cidr: '10.0.0.0/8' }] } }, detail({ ip: 'ten' }))).toBe(false);
    expect(matches({ detail: { ip: [{ cidr: '10.0.0.0/8' }] } }, detail({ ip: 10 }))).toBe(false);
  });
});

describe('$or', () => {
  it('matches when any branch matches', () => {
    const p = {
      source: ['aws.cloudwatch'],
      $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
    };
    expect(matches(p, { source: 'aws.cloudwatch', namespace: 'AWS/ES' })).toBe(true);
    expect(matches(p, { source: 'aws.cloudwatch', metricName: 'ReadLatency' })).toBe(true);
    expect(matches(p, { source: 'aws.cloudwatch', metricName: 'Other' })).toBe(false);
    expect(matches(p, { source: 'aws.ec2', namespace: 'AWS/ES' })).toBe(false);
  });

  it('nests, with AND inside a branch, and works below the top level', () => {
    const p = {
      source: ['aws.cloudwatch'],
      $or: [
        { metricName: ['CPUUtilization'] },
        {
          metricType: ['MetricType'],
          namespace: ['AWS/EC2'],
          $or: [{ metricId: [1234] }, { spaceId: [1000] }],
        },
      ],
      detail: { $or: [{ a: ['1'] }, { b: [{ numeric: ['>', 5] }] }] },
    };
    const base = { source: 'aws.cloudwatch', detail: { b: 6 } };
    expect(matches(p, { ...base, metricName: 'CPUUtilization' })).toBe(true);
    expect(matches(p, { ...base, metricType: 'MetricType', namespace: 'AWS/EC2', spaceId: 1000 })).toBe(true);
    expect(matches(p, { ...base, metricType: 'MetricType', namespace: 'AWS/EC2', spaceId: 1 })).toBe(false);
    expect(matches(p, { ...base, metricType: 'MetricType', spaceId: 1000 })).toBe(false);
    expect(matches(p, { ...base, detail: { b: 5 }, metricName: 'CPUUtilization' })).toBe(false);
  });

  it('evaluates branches against the same array element', () => {
    const p = { items: { kind: ['book'], $or: [{ price: [{ numeric: ['<', 10] }] }, { sale: [true] }] } };
    expect(
      matches(p, {
        items: [
          { kind: 'book', price: 20 },
          { kind: 'pen', price: 1 },
        ],
      }),
    ).toBe(false);
    expect(
      matches(p, {
        items: [
          { kind: 'pen', price: 1 },
          { kind: 'book', sale: true },
        ],
      }),
    ).toBe(true);
  });
});

describe('event key spellings', () => {
  it('matches detail-type against an event with detailType or detail-type', () => {
    const p = { 'detail-type': ['EC2 Instance State-change Notification'] };
    expect(matches(p, ec2)).toBe(true);
    expect(matches(p, { 'detail-type': 'EC2 Instance State-change Notification' })).toBe(true);
    expect(matches(p, { detailType: 'Other' })).toBe(false);
  });

  it('accepts detailType in the pattern as the same field', () => {
    expect(matches({ detailType: ['EC2 Instance State-change Notification'] }, ec2)).toBe(true);
    expect(matches({ detailType: [{ prefix: 'EC2' }] }, { 'detail-type': 'EC2 x' })).toBe(true);
    expect(matches({ $or: [{ detailType: ['A'] }, { source: ['s'] }] }, { detailType: 'A' })).toBe(true);
  });

  it('prefers detail-type when an event has both', () => {
    expect(matches({ 'detail-type': ['A'] }, { 'detail-type': 'A', detailType: 'B' })).toBe(true);
    expect(matches({ 'detail-type': ['B'] }, { 'detail-type': 'A', detailType: 'B' })).toBe(false);
  });

  it('aliases only at the top level', () => {
    expect(matches({ detail: { 'detail-type': ['A'] } }, { detail: { detailType: 'A' } })).toBe(false);
  });

  it('ignores inherited properties', () => {
    expect(matches({ constructor: [{ exists: true }] }, {})).toBe(false);
    expect(matches({ toString: [{ exists: false }] }, {})).toBe(true);
  });

  it('treats an event that is not an object as having no fields', () => {
    expect(matches({ source: ['x'] }, 'x')).toBe(false);
    expect(matches({ source: [{ exists: false }] }, null)).toBe(true);
    expect(matches({ source: ['x'] }, undefined)).toBe(false);
  });
});

describe('pattern given as JSON text', () => {
  it('parses and keeps the pattern', () => {
    const p = compilePattern('{"source": ["aws.ec2"], "detail": {"state": ["running"]}}');
    expect(p.matches(ec2)).toBe(true);
    expect(p.pattern).toEqual({ source: ['aws.ec2'], detail: { state: ['running'] } });
  });
});
