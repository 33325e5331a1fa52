// The app of chaos/sqlite-kill.ts: the queue `chaos` (shared by the sending processes, which
// import it, and the worker's config, written to a scratch folder) and a function whose
// handler appends each message's number to a file of its process before the message is acked.

import { defineQueue } from '../../src/queue/define.ts';
import { srcUrl } from './proc.ts';

export const QUEUE = 'chaos';
const VISIBILITY = '30s';

export const sqliteQueue = defineQueue({ name: QUEUE, visibilityTimeout: VISIBILITY });

/** `mainspring.config.ts` for `mainspring worker`: consumes `chaos` into `<dir>/consumed-<pid>.txt`. */
export function sqliteConfig(dir: string): string {
  return `import { appendFileSync } from 'node:fs';
import { defineConfig } from '${srcUrl('config.ts')}';
import { defineQueue } from '${srcUrl('queue/define.ts')}';
import { defineFunction, fromQueue } from '${srcUrl('runtime/function.ts')}';

const chaos = defineQueue({ name: '${QUEUE}', visibilityTimeout: '${VISIBILITY}' });
const out = ${JSON.stringify(dir)} + '/consumed-' + process.pid + '.txt';

export default defineConfig({
  queues: [chaos],
  functions: [
    defineFunction({
      name: 'consume',
      triggers: [fromQueue(chaos, { concurrency: 10 })],
      handler: async (body: { n: number }) => {
        appendFileSync(out, body.n + '\\n');
      },
    }),
  ],
  worker: { pollIntervalMs: 100 },
  log: { level: 'info' },
});
`;
}
