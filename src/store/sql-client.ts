// The caller's own database client, for writes that join the caller's open transaction
// (issue 25: queues.send, tasks.upsert, workflows.start and events.put with `{ tx }`), and
// the one check every such call makes before anything reaches it.

import { MainspringError } from '../core/errors.ts';

/**
 * The caller's own database connection, inside a transaction it opened: anything with
 * node-postgres's `query(text, values)`. A `pg` Client or PoolClient fits as it is.
 */
export interface SqlClient {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/**
 * What `fromPostgresJs` needs of a postgres.js transaction: its `unsafe(text, values)`,
 * which resolves to the rows. Typed by shape, so mainspring does not depend on postgres.js.
 */
export interface PostgresJsTransaction {
  unsafe(query: string, parameters?: unknown[]): PromiseLike<readonly unknown[]>;
}

/**
 * Turns a postgres.js transaction into an `SqlClient`, for the `tx` of a send, a task upsert,
 * a workflow start or an event put.
 *
 * @example
 * ```ts
 * import postgres from 'postgres';
 * import { fromPostgresJs } from 'mainspringjs';
 *
 * const sql = postgres(process.env.DATABASE_URL);
 * await sql.begin(async (tx) => {
 *   await tx`INSERT INTO orders (id) VALUES (${42})`;
 *   await ms.queues.send('emails', { orderId: 42 }, { tx: fromPostgresJs(tx) });
 * });
 * ```
 */
export function fromPostgresJs(tx: PostgresJsTransaction): SqlClient {
  return {
    async query(text, values = []) {
      return { rows: [...(await tx.unsafe(text, values))] };
    },
  };
}

/** How one kind of call names itself in the refusal: `a send` … `send after your own commit`. */
export interface TxCall {
  /** The call as a noun phrase: "a send", "a task upsert". */
  readonly noun: string;
  /** What to do instead on SQLite: "send", "upsert the task". */
  readonly verb: string;
}

/**
 * Refuses `tx` where the store cannot take part in the caller's transaction (`supported`
 * false: SQLite), or a `tx` that is no client. Called before anything is checked or stored.
 */
export function checkTx(tx: unknown, supported: boolean, call: TxCall): asserts tx is SqlClient {
  if (!supported) {
    throw new MainspringError(
      'E_VALIDATION',
      `tx is PostgreSQL-only: ${call.noun} joins your transaction only when mainspring's store is your database. On SQLite, ${call.verb} after your own commit; mainspring's file is not your database`,
      { details: { field: 'tx', message: 'is PostgreSQL-only' } },
    );
  }
  if (typeof (tx as { query?: unknown } | null)?.query !== 'function') {
    throw new MainspringError(
      'E_VALIDATION',
      'tx must be a client with query(text, values), inside a transaction you opened (a pg Client or PoolClient)',
      { details: { field: 'tx', message: 'must be a client with query(text, values)' } },
    );
  }
}
