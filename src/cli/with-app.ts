// What CLI commands share: turning the config file into createMainspring options,
// and running one operation against the store then closing it.

import { dirname, resolve } from 'node:path';
import { type CreateMainspringOptions, createMainspring, type Mainspring } from '../app.ts';
import { type MainspringConfig, resolveOptions } from '../config.ts';
import { parseDuration } from '../core/duration.ts';
import { loadConfig } from './load-config.ts';

/** The app the config declares, as createMainspring options. */
export function appFromConfig(config: MainspringConfig, configPath: string | null): CreateMainspringOptions {
  // Relative paths in the config (command cwd, secrets file) are relative to its folder.
  const dir = configPath === null ? process.cwd() : dirname(configPath);
  return {
    appDir: dir,
    ...(config.secretsFile !== undefined ? { secretsFile: resolve(dir, config.secretsFile) } : {}),
    queues: config.queues ?? [],
    functions: config.functions ?? [],
    workflows: config.workflows ?? [],
    rules: config.rules ?? [],
    fileTriggers: config.fileTriggers ?? [],
    ...(config.events?.retention !== undefined
      ? { eventRetentionMs: parseDuration(config.events.retention, 'events.retention') }
      : {}),
    ...(config.runs?.retention !== undefined ? { runRetention: config.runs.retention } : {}),
    ...(config.runs?.record !== undefined ? { recordRuns: config.runs.record } : {}),
    ...(config.alerts !== undefined ? { alerts: config.alerts } : {}),
    ...(config.scheduler !== undefined ? { scheduler: config.scheduler } : {}),
    ...(config.api?.publicUrl !== undefined ? { baseUrl: config.api.publicUrl.replace(/\/+$/, '') } : {}),
  };
}

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
