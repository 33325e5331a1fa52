// The stored event rules (`store.events.rules`), on both backends: a serving process
// declares its config's rules as one set; re-declaring the same set changes nothing; a
// set that still names one of a stored set's rules speaks for that whole set and removes
// the rules it no longer names; other sets, and empty declarations, remove nothing. Every
// change moves the version, which is how other processes know to reload.

import { describe, expect, it } from 'vitest';
import type { NewRule } from '../../src/store/rule-row.ts';
import { BACKENDS } from '../helpers/backends.ts';

const rule = (name: string, source = 'shop'): NewRule => ({
  name,
  pattern: JSON.stringify({ source: [source] }),
  targets: JSON.stringify([{ kind: 'queue', name: 'q', queue: 'q', key: 'queue:q' }]),
  input: null,
});

describe.each(BACKENDS)('store.events.rules on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_(
    'stores a declared set; the same set again changes nothing, a changed rule moves the version',
    async () => {
      const store = await backend.open();
      const rules = store.events.rules;
      expect(await rules.list()).toEqual({ version: 0, rules: [] });
      expect(await rules.declare('set-a', [rule('b'), { ...rule('a'), input: '"$.detail"' }], 100)).toEqual({
        stored: ['a', 'b'],
        removed: [],
      });
      const first = await rules.list();
      expect(first.version).toBeGreaterThan(0);
      expect(first.rules).toEqual([
        { ...rule('a'), input: '"$.detail"', ruleSet: 'set-a', updatedAtMs: 100 },
        { ...rule('b'), ruleSet: 'set-a', updatedAtMs: 100 },
      ]);
      expect(await rules.version()).toBe(first.version);
      // Another replica with the same config: nothing to write.
      expect(await rules.declare('set-a', [rule('b'), { ...rule('a'), input: '"$.detail"' }], 200)).toEqual({
        stored: [],
        removed: [],
      });
      expect(await rules.list()).toEqual(first);
      expect(
        await rules.declare('set-a', [rule('b', 'other'), { ...rule('a'), input: '"$.detail"' }], 300),
      ).toEqual({ stored: ['b'], removed: [] });
      const second = await rules.list();
      expect(second.version).toBeGreaterThan(first.version);
      expect(second.rules[1]).toEqual({ ...rule('b', 'other'), ruleSet: 'set-a', updatedAtMs: 300 });
    },
  );

  it_('removes the rules a set sharing a name no longer declares, and leaves other sets alone', async () => {
    const store = await backend.open();
    const rules = store.events.rules;
    await rules.declare('set-ab', [rule('a'), rule('b')], 100);
    await rules.declare('set-x', [rule('x')], 100);
    const before = await rules.version();
    // A process with no rules, or with rules of other names, removes nothing.
    expect(await rules.declare('set-none', [], 200)).toEqual({ stored: [], removed: [] });
    expect(await rules.declare('set-y', [rule('y')], 200)).toEqual({ stored: ['y'], removed: [] });
    expect((await rules.list()).rules.map((r) => r.name)).toEqual(['a', 'b', 'x', 'y']);
    expect(await rules.version()).toBeGreaterThan(before);
    // The config that declared a and b now declares a and c: b goes, x and y stay.
    expect(await rules.declare('set-ac', [rule('a'), rule('c')], 300)).toEqual({
      stored: ['a', 'c'],
      removed: ['b'],
    });
    const now = await rules.list();
    expect(now.rules.map((r) => [r.name, r.ruleSet])).toEqual([
      ['a', 'set-ac'],
      ['c', 'set-ac'],
      ['x', 'set-x'],
      ['y', 'set-y'],
    ]);
    // An old replica still declaring a and b takes them back (the last start wins), c stays with a's new set.
    expect(await rules.declare('set-ab', [rule('a'), rule('b')], 400)).toEqual({
      stored: ['a', 'b'],
      removed: ['c'],
    });
  });

  it_('removes one rule by name', async () => {
    const store = await backend.open();
    const rules = store.events.rules;
    await rules.declare('set-ab', [rule('a'), rule('b')], 100);
    const before = await rules.version();
    expect(await rules.remove('a')).toBe(true);
    expect(await rules.remove('a')).toBe(false);
    expect((await rules.list()).rules.map((r) => r.name)).toEqual(['b']);
    expect(await rules.version()).toBeGreaterThan(before);
  });
});
