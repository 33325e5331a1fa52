// The stored event rules on SQLite. A declaration runs in one transaction (BEGIN
// IMMEDIATE, so declarations of several processes run one after the other); reads are
// single statements.

import {
  type NewRule,
  type RawRule,
  RULE_COLUMNS,
  type RuleRow,
  type RuleStore,
  toRuleRow,
} from '../rule-row.ts';
import { type Connection, type Prepared, prepareAll, transaction } from './database.ts';

const SQL = {
  // The stored rules' version.
  version: 'SELECT version FROM event_rules_version WHERE id = 1',
  // Move the version on: the rules changed.
  bump: 'UPDATE event_rules_version SET version = version + 1 WHERE id = 1',
  // Every stored rule, by name.
  list: `SELECT ${RULE_COLUMNS} FROM event_rules ORDER BY name`,
  // Remove the rules ?1 (a JSON array of names) does not name, of every set holding a rule it names.
  removeDropped: `
  DELETE FROM event_rules
   WHERE name NOT IN (SELECT value FROM json_each(?1))
     AND rule_set IN (SELECT rule_set FROM event_rules WHERE name IN (SELECT value FROM json_each(?1)))
  RETURNING name`,
  // Store rule ?1 (pattern ?2, targets ?3, input ?4) in set ?5 at ?6 (now, ms), unless stored exactly so.
  upsert: `
  INSERT INTO event_rules (${RULE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
  ON CONFLICT (name) DO UPDATE
     SET pattern = excluded.pattern, targets = excluded.targets, input = excluded.input,
         rule_set = excluded.rule_set, updated_at_ms = excluded.updated_at_ms
   WHERE event_rules.pattern IS NOT excluded.pattern OR event_rules.targets IS NOT excluded.targets
      OR event_rules.input IS NOT excluded.input OR event_rules.rule_set IS NOT excluded.rule_set`,
  // Remove rule ?1.
  remove: 'DELETE FROM event_rules WHERE name = ?1',
} as const;

export class SqliteRuleStore implements RuleStore {
  readonly #s: Prepared<typeof SQL>;
  readonly #db: Connection;

  constructor(db: Connection) {
    this.#s = prepareAll(db, SQL);
    this.#db = db;
  }

  async version(): Promise<number> {
    return Number((this.#s.version.get() as { version: number }).version);
  }

  async list(): Promise<{ version: number; rules: RuleRow[] }> {
    const version = await this.version();
    return { version, rules: (this.#s.list.all() as unknown as RawRule[]).map(toRuleRow) };
  }

  async declare(
    ruleSet: string,
    rules: readonly NewRule[],
    nowMs: number,
  ): Promise<{ stored: string[]; removed: string[] }> {
    if (rules.length === 0) return { stored: [], removed: [] };
    return transaction(this.#db, () => {
      const names = JSON.stringify(rules.map((r) => r.name));
      const removed = (this.#s.removeDropped.all(names) as { name: string }[]).map((r) => r.name);
      const stored = rules
        .filter(
          (r) =>
            Number(this.#s.upsert.run(r.name, r.pattern, r.targets, r.input, ruleSet, nowMs).changes) > 0,
        )
        .map((r) => r.name);
      if (removed.length + stored.length > 0) this.#s.bump.run();
      return { stored: stored.sort(), removed: removed.sort() };
    });
  }

  async remove(name: string): Promise<boolean> {
    return transaction(this.#db, () => {
      const gone = Number(this.#s.remove.run(name).changes) > 0;
      if (gone) this.#s.bump.run();
      return gone;
    });
  }
}
