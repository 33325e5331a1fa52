// Issue 22's "done when" for traces: one trace id from an HTTP `POST /v1/queues/q/messages`
// to the handler's span in a second worker process, on PostgreSQL. Both processes are the
// real `mainspring` command with the OpenTelemetry SDK registered through `node --import`
// (fixtures/otel/register.mjs, which writes finished spans as JSON lines to a file).

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BACKENDS, tempDir } from '../helpers/backends.ts';
import { NODE_ARGS, REPO, runCli, startServer } from '../helpers/cli.ts';

const pg = BACKENDS.find((b) => b.name === 'postgres')!;
const src = (p: string) => pathToFileURL(join(REPO, 'src', p)).href;
const REGISTER = pathToFileURL(fileURLToPath(new URL('./fixtures/otel/register.mjs', import.meta.url))).href;

interface SpanLine {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  attributes: Record<string, unknown>;
  pid: number;
}

/** The app: queue `q` everywhere; its handler only where MAINSPRING_TEST_ROLE is `worker`. */
function writeConfig(dir: string): void {
  writeFileSync(
    join(dir, 'mainspring.config.ts'),
    `import { defineConfig } from '${src('config.ts')}';
import { defineQueue } from '${src('queue/define.ts')}';
import { defineFunction, fromQueue } from '${src('runtime/function.ts')}';

const q = defineQueue({ name: 'q' });
const worker = process.env.MAINSPRING_TEST_ROLE === 'worker';

export default defineConfig({
  queues: [q],
  functions: worker
    ? [defineFunction({ name: 'handle', triggers: [fromQueue(q)], handler: async (body) => body })]
    : [],
  worker: { pollIntervalMs: 100 },
});
`,
  );
}

const spansIn = (file: string): SpanLine[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as SpanLine)
    : [];

const children = new Set<ChildProcess>();
afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
});

describe('traces across processes on PostgreSQL', () => {
  it.skipIf(pg.skip)(
    "one trace id from an HTTP send to the handler's span in a second worker process",
    async () => {
      const dir = tempDir();
      writeConfig(dir);
      const url = pg.freshUrl();
      expect((await runCli(['migrate', '--db', url], { cwd: dir })).code).toBe(0);
      const serverSpans = join(dir, 'server-spans.jsonl');
      const workerSpans = join(dir, 'worker-spans.jsonl');
      const otel = (file: string, role: string) => ({
        NODE_OPTIONS: `--import=${REGISTER}`,
        OTEL_SPANS_FILE: file,
        MAINSPRING_TEST_ROLE: role,
      });

      const server = await startServer(['--db', url, '--no-scheduler'], {
        cwd: dir,
        env: otel(serverSpans, 'api'),
      });
      const worker = spawn(process.execPath, [...NODE_ARGS, 'worker', '--db', url, '--no-scheduler'], {
        cwd: dir,
        env: { ...process.env, ...otel(workerSpans, 'worker') },
        stdio: 'ignore',
      });
      children.add(worker);

      const traceId = 'a3ce929d0e0e47364bf92f3577b34da6';
      const callerSpanId = '00f067aa0ba902b7';
      const res = await fetch(`${server.url}/v1/queues/q/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${callerSpanId}-01` },
        body: JSON.stringify({ body: { order: 42 } }),
      });
      expect(res.status).toBe(201);

      const run = await vi.waitFor(
        () => {
          const found = spansIn(workerSpans).find((s) => s.name === 'run handle');
          expect(found).toBeDefined();
          return found!;
        },
        { timeout: 20_000, interval: 100 },
      );
      const http = spansIn(serverSpans).find((s) => s.name === 'POST /v1/queues/:name/messages');
      expect(http).toBeDefined();
      // The server's span is the request's child; the handler's, in the other process, the server span's.
      expect(http!).toMatchObject({ traceId, parentSpanId: callerSpanId });
      expect(http!.attributes).toMatchObject({
        'http.route': '/v1/queues/:name/messages',
        'http.response.status_code': 201,
      });
      expect(run).toMatchObject({ traceId, parentSpanId: http!.spanId });
      expect(run.pid).not.toBe(http!.pid);
      expect(run.attributes).toMatchObject({
        'mainspring.function': 'handle',
        'mainspring.trigger': 'queue',
        'mainspring.attempt': 1,
        'mainspring.outcome': 'succeeded',
      });

      server.child.kill('SIGTERM');
      worker.kill('SIGTERM');
      await server.exited;
    },
    60_000,
  );
});
