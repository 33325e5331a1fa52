// What CLI commands share: turning the config file into createMainspring options,
// and running one operation against the store then closing it.

import { type CreateMainspringOptions, createMainspring, type Mainspring } from '../app.ts';
import { type MainspringConfig, resolveOptions } from '../config.ts';
import { parseDuration } from '../core/duration.ts';
import { loadConfig } from './load-config.ts';

/** The app the config declares, as createMainspring options. */
export function appFromConfig(config: MainspringConfig): CreateMainspringOptions {
  return {
    queues: config.queues ?? [],
    functions: config.functions ?? [],
    rules: config.rules ?? [],
    fileTriggers: config.fileTriggers ?? [],
    ...(config.events?.retention !== undefined
      ? { eventRetentionMs: parseDuration(config.events.retention, 'events.retention') }
      : {}),
  };
}

export interface StoreFlags {
  db?: string;
  config?: string;
}

/** Opens the app named by the flags and config, runs `fn`, and closes it. */
export async function withApp<T>(flags: StoreFlags, fn: (ms: Mainspring) => Promise<T>): Promise<T> {
  const { config } = await loadConfig(process.cwd(), flags.config);
  const { dbUrl } = resolveOptions(flags.db ? { db: flags.db } : {}, config);
  const ms = await createMainspring({ ...appFromConfig(config), db: dbUrl });
  try {
    return await fn(ms);
  } finally {
    await ms.close();
  }
}

export const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
