// Store URLs: `sqlite:PATH`, `sqlite::memory:`, `postgres://…` / `postgresql://…`.
// Parsed once into a typed target; every bad URL fails here with the fix spelled out.

import { isAbsolute, resolve } from 'node:path';
import { MainspringError } from '../core/errors.ts';

export const DEFAULT_STORE_URL = 'sqlite:.mainspring/mainspring.db';
export const DEFAULT_PG_SCHEMA = 'mainspring';

export type StoreTarget =
  | { readonly backend: 'sqlite'; readonly path: string; readonly display: string }
  | {
      readonly backend: 'postgres';
      readonly connectionString: string;
      readonly schema: string;
      readonly display: string;
    };

const EXAMPLES = 'use sqlite:PATH, sqlite::memory: or postgres://USER@HOST:PORT/DATABASE';

/** The URL to use: the explicit one, else `DATABASE_URL`, else the embedded SQLite file. */
export function resolveStoreUrl(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit !== undefined && explicit.trim() !== '') return explicit.trim();
  const fromEnv = env['DATABASE_URL']?.trim();
  return fromEnv ? fromEnv : DEFAULT_STORE_URL;
}

export function parseStoreUrl(url: string, cwd: string = process.cwd()): StoreTarget {
  const colon = url.indexOf(':');
  const scheme = colon > 0 ? url.slice(0, colon).toLowerCase() : '';
  if (scheme === 'sqlite') return parseSqlite(url, url.slice(colon + 1), cwd);
  if (scheme === 'postgres' || scheme === 'postgresql') return parsePostgres(url);
  const shown = scheme ? `scheme "${scheme}:"` : 'no scheme';
  throw new MainspringError(
    'E_STORE_URL_INVALID',
    `store URL ${JSON.stringify(url)} has ${shown}; ${EXAMPLES}`,
    {
      details: { field: 'db', value: url },
    },
  );
}

function parseSqlite(url: string, rest: string, cwd: string): StoreTarget {
  const path = rest.startsWith('//') ? rest.slice(2) : rest;
  if (path === ':memory:') return { backend: 'sqlite', path, display: 'sqlite::memory:' };
  if (path.trim() === '') {
    throw new MainspringError(
      'E_STORE_URL_INVALID',
      `store URL ${JSON.stringify(url)} names no file; ${EXAMPLES}`,
      {
        details: { field: 'db', value: url },
      },
    );
  }
  const abs = isAbsolute(path) ? path : resolve(cwd, path);
  return { backend: 'sqlite', path: abs, display: `sqlite:${abs}` };
}

function parsePostgres(url: string): StoreTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new MainspringError(
      'E_STORE_URL_INVALID',
      `store URL ${JSON.stringify(url)} is not a valid URL; ${EXAMPLES}`,
      {
        cause,
        details: { field: 'db', value: url },
      },
    );
  }
  const schema = parsed.searchParams.get('schema') ?? DEFAULT_PG_SCHEMA;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new MainspringError(
      'E_STORE_URL_INVALID',
      `store URL parameter schema=${JSON.stringify(schema)} is not a valid schema name; use lower-case letters, digits and _ (at most 63), starting with a letter`,
      { details: { field: 'db.schema', value: schema } },
    );
  }
  parsed.searchParams.delete('schema');
  const display = new URL(parsed.href);
  if (display.password) display.password = '***';
  return {
    backend: 'postgres',
    connectionString: parsed.href,
    schema,
    display: `${display.href}${schema === DEFAULT_PG_SCHEMA ? '' : `${display.search ? '&' : '?'}schema=${schema}`}`,
  };
}
