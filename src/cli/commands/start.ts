// `mainspring start`: load the config, open and migrate the store, serve the
// API; on SIGINT/SIGTERM stop taking work, finish what is in flight, and exit 0.

import { once } from 'node:events';
import type { Command } from 'commander';
import pino from 'pino';
import { assertSafeBinding } from '../../api/auth.ts';
import { buildApi, listenApi } from '../../api/server.ts';
import { createMainspring } from '../../app.ts';
import { parsePort, resolveOptions } from '../../config.ts';
import { clockFromEnv } from '../../core/clock.ts';
import { loadConfig } from '../load-config.ts';

export interface StartFlags {
  db?: string;
  port?: string;
  host?: string;
  config?: string;
}

export function addStoreOption(cmd: Command): Command {
  return cmd.option(
    '--db <url>',
    'store URL: sqlite:PATH, sqlite::memory: or postgres://USER@HOST:PORT/DB (default: $DATABASE_URL, else sqlite:.mainspring/mainspring.db)',
  );
}

export function registerStartCommand(program: Command): void {
  const cmd = program
    .command('start')
    .description('run mainspring: open the store, apply migrations, serve the HTTP API')
    .option(
      '--port <port>',
      'API port (default: $MAINSPRING_PORT, config api.port, else 7400; 0 = any free port)',
    )
    .option('--host <host>', 'API address (default 127.0.0.1; any other needs MAINSPRING_API_TOKEN)')
    .option(
      '-c, --config <file>',
      'config file (default: mainspring.config.ts/.mts/.js/.mjs in this folder)',
    );
  addStoreOption(cmd).action((flags: StartFlags) => runStart(flags));
}

export async function runStart(flags: StartFlags): Promise<void> {
  // Everything the user can get wrong is checked before the store is touched.
  const { config, path } = await loadConfig(process.cwd(), flags.config);
  const options = resolveOptions(
    {
      ...(flags.db ? { db: flags.db } : {}),
      ...(flags.port !== undefined ? { port: parsePort(flags.port, '--port') } : {}),
      ...(flags.host ? { host: flags.host } : {}),
    },
    config,
  );
  assertSafeBinding(options.host, options.token);
  const clock = clockFromEnv();
  const logger = pino({ level: options.logLevel, name: 'mainspring' });

  const ms = await createMainspring({ db: options.dbUrl, clock });
  let api: Awaited<ReturnType<typeof buildApi>> | undefined;
  try {
    api = await buildApi({ ...ms, token: options.token, bodyLimit: options.bodyLimit, logger });
    const bound = await listenApi(api, options);
    logger.info(
      {
        url: bound.url,
        store: ms.store.url,
        schemaVersion: await ms.store.schemaVersion(),
        config: path,
        auth: options.token ? 'bearer' : 'none',
      },
      `mainspring listening on ${bound.url}`,
    );
  } catch (err) {
    await api?.close();
    await ms.close();
    throw err;
  }

  const signal = await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]).then(([s]) =>
    String(s),
  );
  logger.info({ signal }, 'stopping: no new work is taken; waiting for requests in flight');
  const force = setTimeout(() => {
    logger.error('did not stop within 30 s; exiting');
    process.exit(1);
  }, 30_000).unref();
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
  await api.close();
  await ms.close();
  clearTimeout(force);
  logger.info('stopped');
}
