// The app of chaos/schedulers.ts, as `mainspring.config.ts` in a scratch folder: a function
// `beat` on an every-second schedule whose handler appends `<tick ms> <run id> <attempt>` to
// `<dir>/beats-<pid>.txt` — evidence kept outside the store it checks.

import { srcUrl } from './proc.ts';

export const FUNCTION = 'beat';
/** A tick later than this counts as missed (the default, written out: the check depends on it). */
export const MISFIRE_GRACE_MS = 60_000;

export function schedConfig(dir: string): string {
  return `import { appendFileSync } from 'node:fs';
import { defineConfig } from '${srcUrl('config.ts')}';
import { defineFunction } from '${srcUrl('runtime/function.ts')}';
import { schedule } from '${srcUrl('scheduler/trigger.ts')}';

const out = ${JSON.stringify(dir)} + '/beats-' + process.pid + '.txt';

export default defineConfig({
  functions: [
    defineFunction({
      name: '${FUNCTION}',
      triggers: [schedule('* * * * * *', { misfire: 'skip' })],
      handler: async (_input: unknown, ctx) => {
        const t = ctx.run.trigger;
        if (t.kind !== 'schedule') throw new Error('beat started by a ' + t.kind + ' trigger');
        appendFileSync(out, Date.parse(t.tickAt) + ' ' + ctx.run.id + ' ' + ctx.run.attempt + '\\n');
      },
    }),
  ],
  scheduler: { misfireGrace: '${MISFIRE_GRACE_MS / 1000}s' },
  worker: { pollIntervalMs: 100, shutdownGraceMs: 5000 },
  log: { level: 'info' },
});
`;
}
