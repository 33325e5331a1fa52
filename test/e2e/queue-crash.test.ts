// A worker process is killed with SIGKILL in the middle of a job. Nothing is
// lost: once the visibility timeout passes, another worker process receives the
// message again and handles it.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMainspring } from '../../src/app.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { BACKENDS, tempDir } from '../helpers/backends.ts';
import { NODE_ARGS, REPO, runCli } from '../helpers/cli.ts';

const src = (p: string) => pathToFileURL(join(REPO, 'src', p)).href;

function writeConfig(dir: string): void {
  writeFileSync(
    join(dir, 'mainspring.config.ts'),
    `import { appendFileSync } from 'node:fs';
import { defineConfig } from '${src('config.ts')}';
import { defineQueue } from '${src('queue/define.ts')}';
import { defineFunction, fromQueue } from '${src('runtime/function.ts')}';

const jobs = defineQueue({ name: 'jobs', visibilityTimeout: '2s' });
const log = (line: string) => appendFileSync(${JSON.stringify(join(dir, 'log.txt'))}, line + '\\n');

export default defineConfig({
  queues: [jobs],
  functions: [
    defineFunction({
      name: 'process',
      triggers: [fromQueue(jobs)],
      handler: async (body: { n: number }, ctx) => {
        log('start ' + body.n + ' attempt ' + ctx.message!.receiveCount + ' pid ' + process.pid);
        if (ctx.message!.receiveCount === 1) await new Promise((r) => setTimeout(r, 60_000));
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

const children = new Set<ChildProcess>();
afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
});

function startWorker(dir: string, url: string) {
  const child = spawn(process.execPath, [...NODE_ARGS, 'worker', '--db', url], { cwd: dir, stdio: 'ignore' });
  children.add(child);
  const exited = new Promise<NodeJS.Signals | null>((r) => child.on('close', (_c, s) => r(s)));
  return { child, exited };
}

describe.each(BACKENDS)('a worker killed mid-job on $name', (backend) => {
  (backend.skip ? it.skip : it)(
    'loses nothing: the message is redelivered after its visibility timeout',
    async () => {
      const dir = tempDir();
      writeConfig(dir);
      const url = backend.name === 'sqlite' ? `sqlite:${join(dir, 'app.db')}` : backend.freshUrl();
      expect((await runCli(['migrate', '--db', url], { cwd: dir })).code).toBe(0);
      const first = startWorker(dir, url);
      const ms = await createMainspring({
        db: url,
        queues: [defineQueue({ name: 'jobs', visibilityTimeout: '2s' })],
      });
      const id = await ms.queues.send('jobs', { n: 7 });
      const log = () => (existsSync(join(dir, 'log.txt')) ? readFileSync(join(dir, 'log.txt'), 'utf8') : '');
      await vi.waitFor(() => expect(log()).toMatch(/start 7 attempt 1/), { timeout: 15_000, interval: 50 });
      first.child.kill('SIGKILL');
      expect(await first.exited).toBe('SIGKILL');
      expect((await ms.queues.getMessage(id)).state).toBe('in_flight');

      const second = startWorker(dir, url);
      await vi.waitFor(() => expect(log()).toMatch(/done 7/), { timeout: 15_000, interval: 50 });
      const lines = log().trim().split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[1]).toMatch(/^start 7 attempt 2 pid \d+$/);
      expect(lines[1]).not.toContain(`pid ${first.child.pid}`);
      await vi.waitFor(async () =>
        expect((await ms.queues.stats('jobs')).counts).toMatchObject({ visible: 0, inFlight: 0 }),
      );
      await ms.close();
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(null);
    },
  );
});
