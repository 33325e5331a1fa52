// The rules events are routed by: those stored in the store (issue 17), not those of the
// routing process's config, so a server, the CLI and a producer with no config all route
// an event alike. Serving processes declare their config's rules; every process reads
// the stored ones, reloading them only when the store's rule version moved.
//
// Ownership: the rules one config declares form a set, named by a hash of their sorted
// names. A declaration that names a rule of a stored set speaks for that set: the set's
// rules it no longer names are removed (a config that dropped a rule). Rules of sets it
// names nothing of are left alone, so a process with no rules, or with other rules,
// never removes another app's rules. `EventBus.removeRule` removes one by hand.

import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { compilePattern } from '../patterns/matcher.ts';
import { compileRules } from '../patterns/rules.ts';
import type { EventPattern, EventRule, RuleMatcher } from '../patterns/types.ts';
import type { NewRule, RuleRow, RuleStore } from '../store/rule-row.ts';
import { compileInput, type InputTransform, type RuleInput } from './bus-input.ts';
import type { ResolvedRuleTarget, RuleDefinition } from './rules-define.ts';

/** A stored rule, ready to route: where its matches go and what they receive. */
export interface RoutingRule {
  readonly name: string;
  readonly targets: readonly Pick<ResolvedRuleTarget, 'queue' | 'key'>[];
  readonly transform: InputTransform;
}

/** The stored rules at one version, compiled. */
export interface RoutingRules {
  readonly version: number;
  readonly byName: ReadonlyMap<string, RoutingRule>;
  readonly matcher: RuleMatcher;
}

/** The id of a set of rules declared together: a hash of their sorted names. */
export function ruleSetId(names: readonly string[]): string {
  const text = [...names].sort().join('\n');
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}

/** A rule definition as it is stored. */
export function toNewRule(rule: RuleDefinition): NewRule {
  return {
    name: rule.name,
    pattern: JSON.stringify(rule.pattern),
    targets: JSON.stringify(
      rule.targets.map((t) => ({ kind: t.kind, name: t.name, queue: t.queue, key: t.key })),
    ),
    input: rule.input === null ? null : JSON.stringify(rule.input),
  };
}

/** A stored row as a routing rule and its pattern; throws when the row cannot be used. */
function fromRow(row: RuleRow): { rule: RoutingRule; pattern: EventPattern } {
  const pattern = compilePattern(row.pattern).pattern;
  const targets = JSON.parse(row.targets) as { queue?: unknown; key?: unknown }[];
  if (
    !Array.isArray(targets) ||
    !targets.every((t) => typeof t?.queue === 'string' && typeof t.key === 'string')
  ) {
    throw new Error(`targets ${row.targets} are not a list of { queue, key }`);
  }
  const input = row.input === null ? undefined : (JSON.parse(row.input) as RuleInput);
  return {
    rule: {
      name: row.name,
      targets: targets as { queue: string; key: string }[],
      transform: compileInput(input, row.name),
    },
    pattern,
  };
}

/**
 * The stored rules, as the bus routes by them.
 *
 * @example
 * ```ts
 * const stored = new StoredRules(store.events.rules, logger);
 * await stored.declare(config.rules, clock.now()); // serving processes only
 * const { matcher, byName } = await stored.current();
 * ```
 */
export class StoredRules {
  readonly #store: RuleStore;
  readonly #logger: Logger | undefined;
  #current: RoutingRules | null = null;
  #loading: Promise<RoutingRules> | null = null;

  constructor(store: RuleStore, logger?: Logger) {
    this.#store = store;
    this.#logger = logger;
  }

  /**
   * The stored rules as of now: one read of the version, and a reload only when it moved,
   * so a rule stored by another process a moment ago routes the very next event.
   */
  async current(): Promise<RoutingRules> {
    const version = await this.#store.version();
    if (this.#current !== null && this.#current.version === version) return this.#current;
    this.#loading ??= this.#load().finally(() => {
      this.#loading = null;
    });
    const loaded = await this.#loading;
    // A load started before this call's read may be older than what the version said.
    return loaded.version >= version ? loaded : this.current();
  }

  /**
   * Stores the rules one config declares as one set, removing the rules of that set the
   * config no longer declares. Declaring no rules writes and removes nothing.
   */
  async declare(rules: readonly RuleDefinition[], nowMs: number): Promise<void> {
    if (rules.length === 0) return;
    const set = ruleSetId(rules.map((r) => r.name));
    const { stored, removed } = await this.#store.declare(set, rules.map(toNewRule), nowMs);
    if (stored.length > 0) this.#logger?.info({ rules: stored }, 'event rules from the config stored');
    if (removed.length > 0)
      this.#logger?.info({ rules: removed }, 'event rules no longer in the config removed from the store');
  }

  async #load(): Promise<RoutingRules> {
    const { version, rules: rows } = await this.#store.list();
    const byName = new Map<string, RoutingRule>();
    const patterns: EventRule[] = [];
    for (const row of rows) {
      try {
        const { rule, pattern } = fromRow(row);
        byName.set(row.name, rule);
        patterns.push({ id: row.name, pattern });
      } catch (err) {
        // Written by another version of mainspring, or by hand: route by the others.
        this.#logger?.error({ err, rule: row.name }, 'a stored event rule cannot be read; it routes nothing');
      }
    }
    const current = { version, byName, matcher: compileRules(patterns) };
    if (this.#current === null || this.#current.version <= version) this.#current = current;
    return current;
  }
}
