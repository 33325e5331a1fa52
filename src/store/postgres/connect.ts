// PostgreSQL connections: a pool whose sessions all use the store's schema, and the
// translation of connection failures into one error that says what to check.

import pg from 'pg';
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
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  return pool;
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
  return CONNECTION_CODES.has(code) || /Connection terminated|timeout/i.test(String((err as Error).message));
}
