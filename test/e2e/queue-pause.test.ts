// The acceptance line of pause and resume (issue 25): two `mainspring worker` processes
// consume one queue on one PostgreSQL. Paused, neither starts a handler on a message it
// had not leased, while sends go on; resumed, every message sent is handled exactly once.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { createMainspring } from '../../src/app.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { BACKENDS, tempDir } from '../helpers/backends.ts';
import { REPO, runCli, startWorker } from '../helpers/cli.ts';

const src = (p: string) => pathToFileURL(join(REPO, 'src', p)).href;
const PG = BACKENDS.find((b) => b.name === 'postgres')!;

function writeConfig(dir: string): void {
  writeFileSync(
    join(dir, 'mainspring.config.ts'),
    `import { appendFileSync } from 'node:fs';
import { defineConfig } from '${src('config.ts')}';
import { defineQueue } from '${src('queue/define.ts')}';
import { defineFunction, fromQueue } from '${src('runtime/function.ts')}';

const jobs = defineQueue({ name: 'jobs' });
const log = (line: string) => appendFileSync(${JSON.stringify(join(dir, 'log.txt'))}, line + '\\n');

export default defineConfig({
  queues: [jobs],
  functions: [
    defineFunction({
      name: 'work',
      triggers: [fromQueue(jobs, { concurrency: 4 })],
      handler: async (body: { n: number }) => {
        log('start ' + body.n + ' pid ' + process.pid);
        await new Promise((r) => setTimeout(r, 20));
        log('done ' + body.n);
      },
    }),
  ],
  worker: { pollIntervalMs: 100 },
  log: { level: 'warn' },
});
`,
  );
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

describe('pausing a queue consumed by two worker processes on PostgreSQL', () => {
  (PG.skip ? it.skip : it)(
    'stops both at their next claim while sends continue; resume loses nothing and duplicates nothing',
    { timeout: 90_000 },
    async () => {
      const dir = tempDir();
      writeConfig(dir);
      const url = PG.freshUrl();
      expect((await runCli(['migrate', '--db', url], { cwd: dir })).code).toBe(0);
      const workers = [startWorker(url, [], { cwd: dir }), startWorker(url, [], { cwd: dir })];
      const ms = await createMainspring({ db: url, queues: [defineQueue({ name: 'jobs' })] });
      const log = () => (existsSync(join(dir, 'log.txt')) ? readFileSync(join(dir, 'log.txt'), 'utf8') : '');
      const started = () => [...log().matchAll(/^start (\d+) pid (\d+)$/gm)].map((m) => Number(m[1]));
      const done = () => [...log().matchAll(/^done (\d+)$/gm)].map((m) => Number(m[1]));

      const before = range(0, 300);
      await ms.queues.sendBatch(
        'jobs',
        before.map((n) => ({ body: { n } })),
      );
      await vi.waitFor(() => expect(started().length).toBeGreaterThanOrEqual(20), {
        timeout: 30_000,
        interval: 20,
      });

      await ms.queues.pause('jobs');
      // Sent after the pause committed: no claim can take these, whenever it began.
      const during = range(1000, 40);
      for (const n of during) await ms.queues.send('jobs', { n });
      // What was leased before the pause finishes normally.
      await vi.waitFor(
        async () => expect((await ms.queues.stats('jobs')).counts).toMatchObject({ inFlight: 0 }),
        { timeout: 30_000, interval: 50 },
      );
      const atPause = started();
      expect(atPause.filter((n) => n >= 1000)).toEqual([]);
      expect(atPause.length).toBeLessThan(before.length);
      // Both workers keep polling (and are woken by this send) yet start nothing: ten of their polls.
      await ms.queues.send('jobs', { n: 2000 });
      await new Promise((r) => setTimeout(r, 1000));
      expect(started()).toEqual(atPause);
      const stats = await ms.queues.stats('jobs');
      expect(stats).toMatchObject({ paused: true });
      expect(stats.counts).toMatchObject({
        visible: before.length + during.length + 1 - atPause.length,
        inFlight: 0,
      });

      await ms.queues.resume('jobs');
      const all = [...before, ...during, 2000];
      await vi.waitFor(() => expect(done().length).toBeGreaterThanOrEqual(all.length), {
        timeout: 60_000,
        interval: 50,
      });
      await vi.waitFor(
        async () => expect((await ms.queues.stats('jobs')).counts).toMatchObject({ visible: 0, inFlight: 0 }),
        { timeout: 10_000, interval: 50 },
      );
      // Exactly once overall: each message started and finished once, across both processes.
      expect(started().sort((a, b) => a - b)).toEqual(all);
      expect(done().sort((a, b) => a - b)).toEqual(all);

      await ms.close();
      for (const w of workers) w.child.kill('SIGTERM');
      for (const w of workers) expect(await w.exited).toBe(null);
    },
  );
});
