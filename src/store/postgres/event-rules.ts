// The stored event rules on PostgreSQL. A declaration is one transaction that first
// locks the version row, so declarations of several processes run one after the other
// (and never deadlock on rule rows); reads are single statements.

import type pg from 'pg';
import {
  type NewRule,
  type RawRule,
  RULE_COLUMNS,
  type RuleRow,
  type RuleStore,
  toRuleRow,
} from '../rule-row.ts';
import { transaction } from './connect.ts';

// The stored rules' version.
const VERSION = 'SELECT version FROM event_rules_version WHERE id = 1';

// Lock the version row for this transaction's changes.
const LOCK = 'SELECT version FROM event_rules_version WHERE id = 1 FOR UPDATE';

// Move the version on: the rules changed.
const BUMP = 'UPDATE event_rules_version SET version = version + 1 WHERE id = 1';

// Every stored rule, by name.
const LIST = `SELECT ${RULE_COLUMNS} FROM event_rules ORDER BY name`;

// Remove the rules $1 (names) does not name, of every set holding a rule it names.
const REMOVE_DROPPED = `
  DELETE FROM event_rules
   WHERE NOT (name = ANY($1::text[]))
     AND rule_set IN (SELECT rule_set FROM event_rules WHERE name = ANY($1::text[]))
  RETURNING name`;

// Store rules (names $1, patterns $2, targets $3, inputs $4) in set $5 at $6 (now, ms), each
// unless stored exactly so; returns the names written.
const UPSERT = `
  INSERT INTO event_rules AS r (${RULE_COLUMNS})
  SELECT name, pattern, targets, input, $5, $6
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS d(name, pattern, targets, input)
  ON CONFLICT (name) DO UPDATE
     SET pattern = excluded.pattern, targets = excluded.targets, input = excluded.input,
         rule_set = excluded.rule_set, updated_at_ms = excluded.updated_at_ms
   WHERE (r.pattern, r.targets, r.input, r.rule_set)
         IS DISTINCT FROM (excluded.pattern, excluded.targets, excluded.input, excluded.rule_set)
  RETURNING name`;

// Remove rule $1.
const REMOVE = 'DELETE FROM event_rules WHERE name = $1';

export class PgRuleStore implements RuleStore {
  readonly #db: pg.Pool;

  constructor(db: pg.Pool) {
    this.#db = db;
  }

  async version(): Promise<number> {
    const { rows } = await this.#db.query<{ version: string }>(VERSION);
    return Number(rows[0]!.version);
  }

  async list(): Promise<{ version: number; rules: RuleRow[] }> {
    const version = await this.version();
    const { rows } = await this.#db.query<RawRule>(LIST);
    return { version, rules: rows.map(toRuleRow) };
  }

  async declare(
    ruleSet: string,
    rules: readonly NewRule[],
    nowMs: number,
  ): Promise<{ stored: string[]; removed: string[] }> {
    if (rules.length === 0) return { stored: [], removed: [] };
    return this.#transaction(async (client) => {
      const names = rules.map((r) => r.name);
      const removed = await client.query<{ name: string }>(REMOVE_DROPPED, [names]);
      const stored = await client.query<{ name: string }>(UPSERT, [
        names,
        rules.map((r) => r.pattern),
        rules.map((r) => r.targets),
        rules.map((r) => r.input),
        ruleSet,
        nowMs,
      ]);
      if (removed.rows.length + stored.rows.length > 0) await client.query(BUMP);
      return {
        stored: stored.rows.map((r) => r.name).sort(),
        removed: removed.rows.map((r) => r.name).sort(),
      };
    });
  }

  async remove(name: string): Promise<boolean> {
    return this.#transaction(async (client) => {
      const { rowCount } = await client.query(REMOVE, [name]);
      if ((rowCount ?? 0) > 0) await client.query(BUMP);
      return (rowCount ?? 0) > 0;
    });
  }

  #transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return transaction(this.#db, async (client) => {
      await client.query(LOCK);
      return fn(client);
    });
  }
}
