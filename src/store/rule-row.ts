// The stored event rules' sub-store contract (`store.events.rules`) and the row mapping
// both backends share. Serving processes declare their config's rules here; every
// process routes events by what is stored (issue 17).

/** A rule as stored: its definition as JSON text. */
export interface NewRule {
  readonly name: string;
  /** The event pattern, JSON. */
  readonly pattern: string;
  /** JSON list of `{ kind, name, queue, key }`: where matches go and their dedup-key part. */
  readonly targets: string;
  /** What targets receive, JSON (a path or a template); null: the whole event. */
  readonly input: string | null;
}

export interface RuleRow extends NewRule {
  /** The set of rule names declared together with it (see `declare`). */
  readonly ruleSet: string;
  readonly updatedAtMs: number;
}

export interface RuleStore {
  /** A number that moves with every change to the stored rules. */
  version(): Promise<number>;
  /** Every stored rule by name, and the version read before them. */
  list(): Promise<{ version: number; rules: RuleRow[] }>;
  /**
   * Stores the rules one config declares, as set `ruleSet`, in one transaction: first
   * removes the stored rules it does not declare whose set also holds a rule it declares
   * (the same config, as it was), then inserts or replaces each rule that differs. The
   * same declaration again writes nothing. Returns the names written and removed, sorted.
   */
  declare(
    ruleSet: string,
    rules: readonly NewRule[],
    nowMs: number,
  ): Promise<{ stored: string[]; removed: string[] }>;
  /** Removes one rule; whether it was stored. */
  remove(name: string): Promise<boolean>;
}

export const RULE_COLUMNS = 'name, pattern, targets, input, rule_set, updated_at_ms';

export interface RawRule {
  name: string;
  pattern: string;
  targets: string;
  input: string | null;
  rule_set: string;
  updated_at_ms: number | bigint | string;
}

export function toRuleRow(r: RawRule): RuleRow {
  return {
    name: r.name,
    pattern: r.pattern,
    targets: r.targets,
    input: r.input,
    ruleSet: r.rule_set,
    updatedAtMs: Number(r.updated_at_ms),
  };
}
