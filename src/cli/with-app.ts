// What CLI commands share: running one operation against the store the config names,
// then closing it.

import { createMainspring, type Mainspring } from '../app.ts';
import { appFromConfig, resolveOptions } from '../config.ts';
import { loadConfig } from './load-config.ts';

export interface StoreFlags {
  db?: string;
  config?: string;
}

/** Opens the app named by the flags and config, runs `fn`, and closes it. */
export async function withApp<T>(flags: StoreFlags, fn: (ms: Mainspring) => Promise<T>): Promise<T> {
  const { config, path } = await loadConfig(process.cwd(), flags.config);
  const { dbUrl } = resolveOptions(flags.db ? { db: flags.db } : {}, config);
  const ms = await createMainspring({ ...appFromConfig(config, path), db: dbUrl });
  try {
    return await fn(ms);
  } finally {
    await ms.close();
  }
}

export const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
