// `mainspring migrate`: bring the store's schema up to date and report its version.

import type { Command } from 'commander';
import { resolveOptions } from '../../config.ts';
import { openStore } from '../../store/open.ts';
import { loadConfig } from '../load-config.ts';
import { addConfigOption, addStoreOption } from './start.ts';

export function registerMigrateCommand(program: Command): void {
  const cmd = program
    .command('migrate')
    .description("apply the store's pending migrations and print its schema version");
  addConfigOption(addStoreOption(cmd)).action(async (flags: { db?: string; config?: string }) => {
    const { config } = await loadConfig(process.cwd(), flags.config);
    const { dbUrl } = resolveOptions(flags.db ? { db: flags.db } : {}, config);
    const store = await openStore(dbUrl);
    try {
      process.stdout.write(`${store.url}: schema version ${await store.schemaVersion()}\n`);
    } finally {
      await store.close();
    }
  });
}
