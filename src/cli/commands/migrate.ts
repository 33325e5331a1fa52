// `mainspring migrate`: bring the store's schema up to date and report its version.
// With `start`, `worker` and `scheduler`, the only command that creates or migrates a store.

import type { Command } from 'commander';
import { addConfigOption, addStoreOption } from '../connect.ts';

export function registerMigrateCommand(program: Command): void {
  const cmd = program
    .command('migrate')
    .description('create the store if needed, apply its pending migrations, and print its schema version');
  addConfigOption(addStoreOption(cmd))
    .option('--json', 'print JSON')
    .action(async (flags: { db?: string; config?: string; json?: boolean }) => {
      const [{ loadConfig }, { resolveOptions }, { openStore }] = await Promise.all([
        import('../load-config.ts'),
        import('../../config.ts'),
        import('../../store/open.ts'),
      ]);
      const { config } = await loadConfig(process.cwd(), flags.config, 'client');
      const { dbUrl } = resolveOptions(flags.db ? { db: flags.db } : {}, config);
      const store = await openStore(dbUrl);
      try {
        const version = await store.schemaVersion();
        process.stdout.write(
          flags.json
            ? `${JSON.stringify({ store: store.url, schemaVersion: version })}\n`
            : `${store.url}: schema version ${version}\n`,
        );
      } finally {
        await store.close();
      }
    });
}
