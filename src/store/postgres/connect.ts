// PostgreSQL connections: a pool whose sessions all use the store's schema, connections
// checked out of it that a cut cannot turn into a crash, and the translation of connection
// failures into one error that says what to check.

import pg from 'pg';
import { isTransient } from '../../core/backoff.ts';
import { MainspringError } from '../../core/errors.ts';

const INT8_OID = 20;

// Every bigint we store is milliseconds or a counter, far below 2^53: read them as numbers.
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

export interface PgTarget {
  readonly connectionString: string;
  readonly schema: string;
  readonly display: string;
}

export function clientConfig(target: PgTarget, settings: Record<string, string> = {}): pg.ClientConfig {
  const extra = Object.entries(settings)
    .map(([k, v]) => ` -c ${k}=${v}`)
    .join('');
  return {
    connectionString: target.connectionString,
    options: `-c search_path=${target.schema}${extra}`,
    connectionTimeoutMillis: 5000,
    application_name: 'mainspring',
    types,
  };
}

export function createPool(target: PgTarget, max: number, settings: Record<string, string> = {}): pg.Pool {
  const pool = new pg.Pool({ ...clientConfig(target, settings), max, idleTimeoutMillis: 30_000 });
  // An idle client losing its connection (the pool re-emits it here) must not crash the
  // process: the pool drops that client and the next query opens a new connection.
  pool.on('error', () => {});
  return pool;
}

/**
 * Runs `fn` on one connection checked out of `pool`. A checked-out client has no 'error'
 * listener of the pool's, and a client emits 'error' when its socket ends — even after the
 * query it was running rejected — so a server restart or pg_terminate_backend would crash the
 * process. Here the cut only rejects `fn`'s query, and the broken client is discarded rather
 * than handed to the next caller; so is one `fn` calls `discard` on (its state is in doubt).
 */
export async function withClient<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient, discard: (err: Error) => void) => Promise<T>,
): Promise<T> {
  let broken: Error | undefined;
  const discard = (err: Error) => {
    broken ??= err;
  };
  // The listener goes on in the pool's callback, not after an await: a client released while
  // its socket's data is being parsed is handed on at once, and the rest of that data (the
  // server's goodbye) would otherwise reach it before a promise continuation could listen.
  const client = await new Promise<pg.PoolClient>((resolve, reject) => {
    pool.connect((err, c) => {
      if (err || !c) reject(err ?? new Error('the pool gave no connection'));
      else {
        c.on('error', discard);
        resolve(c);
      }
    });
  });
  try {
    return await fn(client, discard);
  } catch (err) {
    if (isTransient(err)) discard(err instanceof Error ? err : new Error(String(err)));
    throw err;
  } finally {
    // Released with an error, the pool ends the client; its idle listener (attached again by
    // release) takes any later 'error' of the closing socket.
    client.release(broken);
    client.off('error', discard);
  }
}

/** `fn` in one transaction on one connection (see withClient): committed when it returns, rolled back when it throws. */
export function transaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, async (client, discard) => {
    await client.query('BEGIN');
    try {
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      // A client whose rollback failed is in an unknown state.
      await client.query('ROLLBACK').catch(discard);
      throw err;
    }
  });
}

const HINTS: Record<string, string> = {
  ECONNREFUSED: 'nothing is listening there; start PostgreSQL or fix the host and port',
  ENOTFOUND: 'the host name does not resolve; fix the host',
  EAI_AGAIN: 'the host name does not resolve; fix the host',
  ETIMEDOUT: 'the connection timed out; check the host, port and firewall',
  '3D000': 'the database does not exist; create it (createdb) or fix the database name',
  '28P01': 'the password was refused; fix the user or password',
  '28000': 'the login was refused; fix the user, or the server’s pg_hba.conf',
  '57P03': 'the server is starting up or shutting down; try again shortly',
};

/** Turns a failure to reach PostgreSQL into E_STORE_UNREACHABLE naming the URL and the fix. */
export function unreachable(display: string, err: unknown): MainspringError {
  const code = String((err as { code?: unknown }).code ?? '');
  const message = err instanceof Error ? err.message : String(err);
  const hint =
    HINTS[code] ??
    (/timeout/i.test(message)
      ? 'the connection timed out; check the host, port and firewall'
      : 'check DATABASE_URL / --db');
  return new MainspringError(
    'E_STORE_UNREACHABLE',
    `cannot connect to PostgreSQL at ${display}: ${message || code}; ${hint}`,
    { cause: err, details: { field: 'db', value: display, code } },
  );
}

const CONNECTION_CODES = new Set(Object.keys(HINTS));

export function isConnectionError(err: unknown): boolean {
  const code = String((err as { code?: unknown }).code ?? '');
  return CONNECTION_CODES.has(code) || isTransient(err) || /timeout/i.test(String((err as Error).message));
}

/** The rows `sql` returns, each read by `to`. */
export async function readRows<R extends pg.QueryResultRow, T>(
  db: pg.Pool | pg.PoolClient,
  sql: string,
  params: unknown[],
  to: (row: R) => T,
): Promise<T[]> {
  const { rows } = await db.query<R>(sql, params);
  return rows.map(to);
}

/** The first row `sql` returns, read by `to`, or null. */
export async function readRow<R extends pg.QueryResultRow, T>(
  db: pg.Pool | pg.PoolClient,
  sql: string,
  params: unknown[],
  to: (row: R) => T,
): Promise<T | null> {
  const { rows } = await db.query<R>(sql, params);
  return rows[0] ? to(rows[0]) : null;
}
