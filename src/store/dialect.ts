// What differs between the two backends' SQL where the rest is built the same way (list
// filters, checkpoint updates): placeholders, PostgreSQL's casts, booleans and LIKE's case.
// Hot paths stay hand-written per backend.

import type { Placeholder } from './filter.ts';

export interface Dialect {
  /** Parameter n as written in a fixed position: `?n` or `$n`. */
  readonly ref: Placeholder;
  /** Parameter n where its type must be said: `?n` on SQLite, `$n::type` on PostgreSQL. */
  typed(n: number, type: 'text' | 'bigint'): string;
  /** A boolean column set false, and the test that one is true. */
  readonly false: string;
  isTrue(column: string): string;
  /** What follows a `?` placeholder where its type must be said: nothing on SQLite. */
  cast(type: 'text' | 'bigint'): string;
  /** A boolean as bound: 1/0 on SQLite. */
  bool(value: boolean): unknown;
  /** Case-insensitive LIKE. */
  readonly ilike: string;
}

export const SQLITE_DIALECT: Dialect = {
  ref: (n) => `?${n}`,
  typed: (n) => `?${n}`,
  false: '0',
  isTrue: (column) => `${column} = 1`,
  cast: () => '',
  bool: (value) => (value ? 1 : 0),
  // SQLite's LIKE ignores ASCII case already.
  ilike: 'LIKE',
};

export const PG_DIALECT: Dialect = {
  ref: (n) => `$${n}`,
  typed: (n, type) => `$${n}::${type}`,
  false: 'false',
  isTrue: (column) => column,
  cast: (type) => `::${type}`,
  bool: (value) => value,
  ilike: 'ILIKE',
};

/** A list query: its SQL and parameters, the limit last. */
export interface ListQuery {
  readonly sql: string;
  readonly params: unknown[];
}
