// How an operational command reaches mainspring: `--url` / MAINSPRING_URL speaks HTTP to a
// server; without it the command opens the store named by --db, DATABASE_URL or the config.
// Either way it goes through the same API, so output and errors are the same.
// Heavy modules (the app, the API, the config) load only when a command runs, so --help is fast.

import type { Command } from 'commander';
import { MainspringError } from '../core/errors.ts';
import { ApiClient } from './client.ts';
import { HttpTransport, parseServerUrl } from './http-transport.ts';

export interface ClientFlags {
  url?: string;
  token?: string;
  db?: string;
  config?: string;
  json?: boolean;
}

/** `read`: the store is opened read-only (nothing can be written); `write`: as a client that may write. */
export type Access = 'read' | 'write';

export function addStoreOption(cmd: Command): Command {
  return cmd.option(
    '--db <url>',
    'store URL: sqlite:PATH, sqlite::memory: or postgres://USER@HOST:PORT/DB (default: $DATABASE_URL, else sqlite:.mainspring/mainspring.db)',
  );
}

export function addConfigOption(cmd: Command): Command {
  return cmd.option(
    '-c, --config <file>',
    'config file (default: mainspring.config.ts/.mts/.js/.mjs in this folder)',
  );
}

/** The options every operational command takes. */
export function addClientOptions(cmd: Command): Command {
  return addConfigOption(addStoreOption(cmd))
    .option(
      '--url <url>',
      'operate a running server over HTTP instead of opening the store (default: $MAINSPRING_URL)',
    )
    .option('--token <token>', 'with --url: the API token (default: $MAINSPRING_API_TOKEN)')
    .option('--json', 'print JSON');
}

/** Opens a client as the flags say, runs `fn`, and closes it. */
export async function withClient<T>(
  flags: ClientFlags,
  access: Access,
  fn: (client: ApiClient) => Promise<T>,
): Promise<T> {
  const client = new ApiClient(await openTransport(flags, access));
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

async function openTransport(flags: ClientFlags, access: Access) {
  const env = process.env;
  const rawUrl = flags.url ?? (env['MAINSPRING_URL']?.trim() || undefined);
  if (rawUrl !== undefined) {
    if (flags.db !== undefined) {
      throw new MainspringError(
        'E_VALIDATION',
        '--db and --url both given; --url operates a server (which has its own store), --db opens a store directly: use one',
        { details: { field: 'db' } },
      );
    }
    const url = parseServerUrl(rawUrl, flags.url !== undefined ? '--url' : 'MAINSPRING_URL');
    return new HttpTransport(url, flags.token ?? (env['MAINSPRING_API_TOKEN']?.trim() || undefined));
  }
  const [{ loadConfig }, { appFromConfig, resolveOptions }, { LocalTransport }] = await Promise.all([
    import('./load-config.ts'),
    import('../config.ts'),
    import('./local-transport.ts'),
  ]);
  const { config, path } = await loadConfig(process.cwd(), flags.config, 'client');
  const { dbUrl } = resolveOptions(flags.db ? { db: flags.db } : {}, config);
  return LocalTransport.open({
    ...appFromConfig(config, path),
    db: dbUrl,
    access: access === 'read' ? 'read' : 'client',
  });
}

export const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

export const err = (line: string): void => {
  process.stderr.write(`mainspring: ${line}\n`);
};
