// compileRules: compiles all the rules of a bus into one matcher. The index (rule-index.ts)
// narrows an event to the rules whose requirements it meets and settles most of them; the
// rest are confirmed with their own compiled pattern, so the answers equal compilePattern's.

import { compileTree, type ObjectNode } from './compile.ts';
import { PatternError } from './errors.ts';
import { matchEvent } from './matcher.ts';
import { RuleIndex } from './rule-index.ts';
import type { EventRule, RuleMatcher } from './types.ts';

/**
 * Compiles many rules into one matcher whose cost per event grows with the event's fields,
 * not with the number of rules: rules are indexed by the exact values, prefixes and suffixes
 * their patterns require, and only rules whose requirements an event meets are evaluated.
 * `match` returns exactly the ids whose pattern {@link compilePattern} would match, in the
 * order the rules were given. Throws {@link PatternError} (with `ruleId`) for an invalid
 * pattern or an id given twice.
 *
 * @example
 * ```ts
 * const rules = compileRules([
 *   { id: 'all-orders', pattern: { source: ['app.orders'] } },
 *   { id: 'big-orders', pattern: { source: ['app.orders'], detail: { total: [{ numeric: ['>', 1000] }] } } },
 *   { id: 'eu', pattern: { detail: { country: [{ prefix: 'EU-' }] } } },
 * ]);
 * rules.match({ source: 'app.orders', detailType: 'Order Placed', detail: { total: 5000, country: 'US-CA' } });
 * // ['all-orders', 'big-orders']
 * ```
 */
export function compileRules<Id extends string>(rules: readonly EventRule<Id>[]): RuleMatcher<Id> {
  const ids: Id[] = [];
  const roots: ObjectNode[] = [];
  const seen = new Set<string>();
  for (const rule of rules) {
    if (typeof rule.id !== 'string' || rule.id === '') {
      throw new PatternError('', `every rule needs a non-empty string id, got ${JSON.stringify(rule.id)}`);
    }
    if (seen.has(rule.id)) {
      throw new PatternError('', `rule id ${JSON.stringify(rule.id)} is given twice; ids must be unique`, {
        ruleId: rule.id,
      });
    }
    seen.add(rule.id);
    try {
      roots.push(compileTree(rule.pattern).root);
    } catch (err) {
      if (err instanceof PatternError) throw new PatternError(err.path, err.problem, { ruleId: rule.id });
      throw err;
    }
    ids.push(rule.id);
  }
  const index = new RuleIndex(roots);
  const matched: number[] = [];
  return {
    size: ids.length,
    unindexed: index.fallback.map((i) => ids[i]!),
    match(event: unknown): Id[] {
      const candidates = index.candidates(event);
      matched.length = 0;
      for (let i = 0; i < candidates.length; i++) {
        const rule = candidates[i]!;
        const verdict = index.verdict(rule, event);
        if (verdict ?? matchEvent(roots[rule]!, event)) matched.push(rule);
      }
      if (matched.length > 1) matched.sort((a, b) => a - b);
      const out: Id[] = new Array(matched.length);
      for (let i = 0; i < matched.length; i++) out[i] = ids[matched[i]!]!;
      return out;
    },
  };
}
