// The small pure helpers behind the operators, checked against simple references:
// wildcard matching against a regular expression, CIDR membership against 32-bit
// arithmetic, IPv6 parsing across spellings, case folding, and the affix radix tree
// against startsWith/endsWith.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AffixTree, type Guarded } from '../../src/patterns/affix-tree.ts';
import { foldCase } from '../../src/patterns/case-fold.ts';
import { inCidr, parseAddress, parseCidr } from '../../src/patterns/cidr.ts';
import { inRange, parseNumeric } from '../../src/patterns/numeric.ts';
import { matchWildcard, parseWildcard, type Wildcard } from '../../src/patterns/wildcard.ts';

function wildcard(text: string): Wildcard {
  const w = parseWildcard(text);
  if (typeof w === 'string') throw new Error(w);
  return w;
}

describe('wildcard', () => {
  it('agrees with an anchored regular expression (property)', () => {
    const pattern = fc
      .array(fc.constantFrom('a', 'b', '*', '.'), { maxLength: 8 })
      .map((cs) => cs.join('').replace(/\*{2,}/g, '*'));
    const text = fc.array(fc.constantFrom('a', 'b', '.', '*'), { maxLength: 10 }).map((cs) => cs.join(''));
    fc.assert(
      fc.property(pattern, text, (p, t) => {
        const re = new RegExp(
          `^${p
            .split('*')
            .map((s) => s.replace(/[.*]/g, '\\$&'))
            .join('.*')}$`,
          's',
        );
        expect(matchWildcard(wildcard(p), t)).toBe(re.test(t));
      }),
      { numRuns: 2000 },
    );
  });

  it('parses escapes into literal pieces', () => {
    expect(wildcard('a\\*b*c\\\\').pieces).toEqual(['a*b', 'c\\']);
    expect(wildcard('\\**').pieces).toEqual(['*', '']);
    expect(wildcard('').pieces).toEqual(['']);
  });
});

describe('cidr', () => {
  const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
  const toInt = (o: number[]) => ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0;

  it('IPv4 membership equals masked 32-bit comparison (property)', () => {
    fc.assert(
      fc.property(ipv4, ipv4, fc.integer({ min: 0, max: 32 }), (net, ip, bits) => {
        const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
        const n = (toInt(net) & mask) >>> 0;
        const netText = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
        const block = parseCidr(`${netText}/${bits}`);
        if (typeof block === 'string') throw new Error(block);
        expect(inCidr(block, ip.join('.'))).toBe((toInt(ip) & mask) >>> 0 === n);
      }),
      { numRuns: 2000 },
    );
  });

  it('parses every spelling of an IPv6 address to the same groups (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant(0), fc.nat(0xffff)), { minLength: 8, maxLength: 8 }),
        (groups) => {
          const full = groups.map((g) => g.toString(16).padStart(4, '0')).join(':');
          expect(parseAddress(full)?.groups).toEqual(groups);
          expect(parseAddress(full.toUpperCase())?.groups).toEqual(groups);
          const short = groups.map((g) => g.toString(16)).join(':');
          const zeros = short.match(/(^|:)0(:0)+(:|$)/);
          if (zeros !== null) {
            const compressed = `${short.slice(0, zeros.index)}::${short.slice(zeros.index! + zeros[0].length)}`;
            expect(parseAddress(compressed)?.groups, compressed).toEqual(groups);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('rejects malformed addresses', () => {
    for (const bad of [
      '1.2.3',
      '1.2.3.4.5',
      '01.2.3.4',
      '256.1.1.1',
      '1::2::3',
      ':1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:8:9',
      'g::1',
      '::1%eth0',
      '1.2.3.4::',
      '',
    ]) {
      expect(parseAddress(bad), bad).toBeUndefined();
    }
    expect(parseAddress('::')?.groups).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseAddress('::ffff:1.2.3.4')?.groups).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
  });
});

describe('numeric ranges', () => {
  it('never contain NaN', () => {
    const r = parseNumeric(['>', 0]);
    if (typeof r === 'string') throw new Error(r);
    expect(inRange(r, Number.NaN)).toBe(false);
    expect(inRange(r, 1)).toBe(true);
  });
});

describe('foldCase', () => {
  it('folds ASCII like toLowerCase and is idempotent (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        expect(foldCase(foldCase(s))).toBe(foldCase(s));
        expect(foldCase(s.toUpperCase())).toBe(foldCase(s.toLowerCase()));
      }),
      { numRuns: 1000 },
    );
    expect(foldCase('HeLLo')).toBe('hello');
  });
});

describe('AffixTree', () => {
  const text = fc.array(fc.constantFrom('a', 'b', 'c', 'é'), { maxLength: 6 }).map((cs) => cs.join(''));

  it('reports exactly the stored prefixes and suffixes of a value (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(text, { maxLength: 12 }),
        text,
        fc.boolean(),
        (affixes, value, backwards) => {
          const tree = new AffixTree(backwards);
          for (const [id, a] of affixes.entries()) tree.add(a, id);
          const reported: number[] = [];
          tree.walk(value, {
            hit: (atom) => reported.push(atom),
            runTests: (_tests: readonly Guarded<string>[]) => {},
          });
          const expected = affixes
            .map((a, id) => ((backwards ? value.endsWith(a) : value.startsWith(a)) ? id : -1))
            .filter((id) => id >= 0);
          expect(reported.sort((x, y) => x - y)).toEqual(expected);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
