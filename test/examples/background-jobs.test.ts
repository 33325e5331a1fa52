// The background-jobs example (seed 001, Stacktape) end to end, as its users drive it:
// `mainspring start --config examples/background-jobs/mainspring.config.ts`, jobs sent over
// HTTP, signed webhooks POSTed, the order service as a separate process with no rules,
// a file dropped into uploads/incoming/, the batch command invoked, and the cron job fired
// with `run-due --now`. Each on SQLite and on PostgreSQL.

import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Run } from '../../src/runtime/runs.ts';
import { freshSchemaName, PG_SKIP_REASON, pgUrlWithSchema, tempDir } from '../helpers/backends.ts';
import { REPO, type RunningServer, runCli, startServer } from '../helpers/cli.ts';

const EXAMPLE = join(REPO, 'examples/background-jobs');
const CONFIG = join(EXAMPLE, 'mainspring.config.ts');
const GITHUB_SECRET = 'gh-test-secret';
const STRIPE_SECRET = 'whsec_test_secret';

const backends = [
  { name: 'sqlite', skip: undefined, url: (dir: string) => `sqlite:${join(dir, 'background-jobs.db')}` },
  { name: 'postgres', skip: PG_SKIP_REASON, url: () => pgUrlWithSchema(freshSchemaName()) },
] as const;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A server running the example's config in a fresh folder (its uploads/ live there). */
async function example(backend: (typeof backends)[number], env: Record<string, string> = {}) {
  const dir = tempDir();
  const db = backend.url(dir);
  const server = await startServer(['--config', CONFIG, '--db', db], {
    cwd: dir,
    env: { GITHUB_WEBHOOK_SECRET: GITHUB_SECRET, STRIPE_WEBHOOK_SECRET: STRIPE_SECRET, ...env },
  });
  cleanups.push(() => stop(server));
  /** `mainspring <args> --url <server> --json`, parsed; fails the test on a non-zero exit. */
  const cli = async <T>(...args: string[]): Promise<T> => {
    const r = await runCli([...args, '--url', server.url, '--json']);
    expect(r.stderr, args.join(' ')).toBe('');
    expect(r.code, args.join(' ')).toBe(0);
    return JSON.parse(r.stdout) as T;
  };
  const runs = async (fn: string) =>
    (await cli<{ runs: Run[] }>('runs', 'list', '--function', fn, '--limit', '500')).runs;
  /** Waits until `fn` has `count` runs that ended, and returns them oldest first. */
  const settled = async (fn: string, count: number) => {
    let done: Run[] = [];
    await vi.waitFor(
      async () => {
        done = (await runs(fn)).filter((r) => r.finishedAt !== null);
        expect(done.length).toBeGreaterThanOrEqual(count);
      },
      { timeout: 20_000, interval: 100 },
    );
    return done.reverse();
  };
  return { dir, db, server, cli, runs, settled };
}

async function stop(server: RunningServer): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill('SIGTERM');
  expect((await server.exited).code).toBe(0);
}

/** A local HTTP server; `handle` answers each request. */
async function httpServer(handle: (path: string, body: string) => number): Promise<string> {
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d;
    });
    req.on('end', () => res.writeHead(handle(req.url ?? '/', body)).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe.each(backends)('examples/background-jobs on $name', (backend) => {
  it.skipIf(backend.skip)('declares each resource of the Stacktape YAML', async () => {
    const { cli } = await example(backend);
    const functions = await cli<{ name: string; kind: string; triggers: string[]; timeoutMs: number }[]>(
      'functions',
      'list',
    );
    const byName = new Map(functions.map((f) => [f.name, f]));
    expect([...byName.keys()].sort()).toEqual([
      'analytics-service',
      'daily-report',
      'email-service',
      'file-processor',
      'heavy-job',
      'notification-worker',
      'webhook-receiver',
      'worker',
    ]);
    expect(byName.get('daily-report')).toMatchObject({ kind: 'function', timeoutMs: 300_000 });
    expect(byName.get('worker')).toMatchObject({ triggers: ['job-queue'], timeoutMs: 300_000 });
    expect(byName.get('notification-worker')).toMatchObject({ triggers: ['notification-queue'] });
    expect(byName.get('heavy-job')).toMatchObject({ kind: 'command', timeoutMs: 3_600_000 });

    const queues = await cli<{ name: string; settings: Record<string, unknown> }[]>('queues', 'list');
    expect(queues.find((q) => q.name === 'job-queue')?.settings).toMatchObject({
      visibilityTimeoutMs: 300_000,
      maxReceiveCount: 3,
      deadLetterQueue: 'dead-letter-queue',
    });
    expect(queues.map((q) => q.name)).toEqual(
      expect.arrayContaining(['job-queue', 'dead-letter-queue', 'notification-queue']),
    );

    const { schedules } = await cli<{
      schedules: { name: string; expression: string; state: { nextTick: string } }[];
    }>('schedules', 'list');
    expect(schedules.map((s) => [s.name, s.expression]).sort()).toEqual([
      ['daily-report', 'cron(0 9 * * ? *)'],
      ['heavy-job', 'cron(0 2 * * ? *)'],
    ]);
    const next = (name: string) => schedules.find((s) => s.name === name)?.state.nextTick;
    expect(next('daily-report')).toMatch(/T09:00:00(\.000)?Z$/);
    expect(next('heavy-job')).toMatch(/T02:00:00(\.000)?Z$/);
  });

  it.skipIf(backend.skip)(
    'puts a failing job through 3 receives into the dead-letter queue and redrives it',
    async () => {
      let up = false;
      const calls: string[] = [];
      const fulfilment = await httpServer((path) => {
        calls.push(path);
        return up ? 200 : 503;
      });
      const { server, cli, runs, settled } = await example(backend, { FULFILMENT_URL: fulfilment });

      // The seed's API did SendMessageCommand; here the API is mainspring's.
      const sent = await post(`${server.url}/v1/queues/job-queue/messages`, {
        body: { type: 'process-order', orderId: 123 },
      });
      expect(sent.status).toBe(201);
      const { id } = (await sent.json()) as { id: string };

      type DeadLetter = { id: string; body: unknown; errors: { message: string }[] };
      let dead: DeadLetter[] = [];
      await vi.waitFor(
        async () => {
          dead = await cli<DeadLetter[]>('queues', 'dlq', 'job-queue');
          expect(dead).toHaveLength(1);
        },
        { timeout: 20_000, interval: 200 },
      );
      expect(dead[0]).toMatchObject({ id, body: { type: 'process-order', orderId: 123 } });
      expect(dead[0]!.errors).toHaveLength(3);
      expect(dead[0]!.errors[2]!.message).toBe('the fulfilment service answered 503 for order 123');
      expect(calls).toEqual(Array(3).fill('/orders/123/fulfil'));
      const failed = await settled('worker', 3);
      expect(failed.map((r) => [r.attempt, r.status])).toEqual([
        [1, 'failed'],
        [2, 'failed'],
        [3, 'failed'],
      ]);

      // The fulfilment service is back: redrive, and the job runs once more and succeeds.
      up = true;
      expect(await cli('queues', 'redrive', 'job-queue')).toEqual({ redriven: 1 });
      const after = await settled('worker', 4);
      expect(after[3]).toMatchObject({
        attempt: 4,
        status: 'succeeded',
        result: { type: 'process-order', orderId: 123, status: 'fulfilled' },
      });
      expect(await cli('queues', 'dlq', 'job-queue')).toEqual([]);
      expect(calls).toHaveLength(4);
      expect(await runs('worker')).toHaveLength(4);
    },
  );

  it.skipIf(backend.skip)(
    'turns signed GitHub and Stripe webhooks into notifications, sent once',
    async () => {
      const { server, settled, runs } = await example(backend);
      const github = JSON.stringify({
        ref: 'refs/heads/main',
        repository: { full_name: 'acme/shop' },
        pusher: { name: 'ada', email: 'ada@example.com' },
        commits: [{ id: 'a1' }, { id: 'b2' }],
      });
      const githubHeaders = {
        'x-github-event': 'push',
        'x-github-delivery': randomUUID(),
        'x-hub-signature-256': `sha256=${createHmac('sha256', GITHUB_SECRET).update(github).digest('hex')}`,
      };
      const first = await post(`${server.url}/v1/webhooks/github`, github, githubHeaders);
      expect(first.status).toBe(200);
      expect(await first.json()).toMatchObject({ duplicate: false });
      // GitHub redelivers: stored once.
      const again = await post(`${server.url}/v1/webhooks/github`, github, githubHeaders);
      expect(await again.json()).toMatchObject({ duplicate: true });
      // Unsigned, or signed with another secret: refused, nothing stored.
      const forged = await post(`${server.url}/v1/webhooks/github`, github, {
        ...githubHeaders,
        'x-github-delivery': randomUUID(),
        'x-hub-signature-256': `sha256=${createHmac('sha256', 'wrong').update(github).digest('hex')}`,
      });
      expect(forged.status).toBe(401);
      expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('E_WEBHOOK_SIGNATURE');

      const stripe = JSON.stringify({
        id: 'evt_1',
        type: 'payment_intent.succeeded',
        data: { object: { amount: 4999, currency: 'eur', receipt_email: 'grace@example.com' } },
      });
      const t = Math.floor(Date.now() / 1000);
      const signature = createHmac('sha256', STRIPE_SECRET).update(`${t}.${stripe}`).digest('hex');
      const paid = await post(`${server.url}/v1/webhooks/stripe`, stripe, {
        'stripe-signature': `t=${t},v1=${signature}`,
      });
      expect(paid.status).toBe(200);

      const received = await settled('webhook-receiver', 2);
      expect(received.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
      expect(received.map((r) => (r.result as { provider: string }).provider).sort()).toEqual([
        'github',
        'stripe',
      ]);
      const sent = await settled('notification-worker', 2);
      expect(
        sent.map((r) => r.result).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      ).toEqual([
        { to: 'ada@example.com', subject: '2 commit(s) pushed to acme/shop', sent: true },
        { to: 'grace@example.com', subject: 'Payment received: 49.99 EUR', sent: true },
      ]);
      expect(await runs('notification-worker')).toHaveLength(2);
    },
  );

  it.skipIf(backend.skip)(
    'fans an event from the separate order service out to the e-mail and analytics services',
    async () => {
      const { db, dir, cli, settled } = await example(backend);
      const orders = await orderService(db, dir);
      const created = await post(`${orders}/orders`, { userId: 456 });
      expect(created.status).toBe(201);
      const { orderId, eventId } = (await created.json()) as { orderId: string; eventId: string };
      const shipped = (await (await post(`${orders}/orders/${orderId}/ship`, {})).json()) as {
        eventId: string;
      };
      // Routed by the order service itself, by the rules the server stored.
      for (const id of [eventId, shipped.eventId]) {
        expect((await cli<{ routedAt: string | null }>('events', 'get', id)).routedAt).not.toBeNull();
      }
      const emails = await settled('email-service', 2);
      expect(emails.map((r) => r.result)).toEqual(
        expect.arrayContaining([
          { orderId, template: 'order-confirmation' },
          { orderId, template: 'shipping-notice' },
        ]),
      );
      const analytics = await settled('analytics-service', 2);
      expect(analytics.map((r) => (r.result as { eventId: string }).eventId).sort()).toEqual(
        [eventId, shipped.eventId].sort(),
      );
      // Exactly once each: the two services' runs all succeeded on their first attempt.
      for (const r of [...emails, ...analytics]) expect([r.status, r.attempt]).toEqual(['succeeded', 1]);
      expect(emails).toHaveLength(2);
      expect(analytics).toHaveLength(2);
    },
  );

  it.skipIf(backend.skip)('processes a file dropped into uploads/incoming/ once', async () => {
    const { dir, settled, runs } = await example(backend);
    mkdirSync(join(dir, 'uploads/incoming'), { recursive: true });
    mkdirSync(join(dir, 'uploads/archive'), { recursive: true });
    writeFileSync(join(dir, 'uploads/archive/old.csv'), 'id\n1\n');
    writeFileSync(join(dir, 'uploads/incoming/orders.csv'), 'id,total\n1,10\n2,20\n');
    const [processed] = await settled('file-processor', 1);
    expect(processed).toMatchObject({
      status: 'succeeded',
      result: { key: 'incoming/orders.csv', lines: 3, bytes: 19 },
    });
    // The analytics service sees the file arrival too: it listens to every source.
    const seen = await settled('analytics-service', 1);
    expect(seen[0]!.result).toMatchObject({ source: 'mainspring.files', detailType: 'Object Created' });
    expect(await runs('file-processor')).toHaveLength(1);
  });

  it.skipIf(backend.skip)('runs the long batch job as a command with a one-hour timeout', async () => {
    const { server, cli } = await example(backend);
    const run = await cli<Run>('invoke', 'heavy-job', '--input', '{"items": 200000}', '--wait');
    expect(run).toMatchObject({ function: 'heavy-job', status: 'succeeded', trigger: { kind: 'manual' } });
    const logs = await runCli(['logs', run.id, '--url', server.url, '--json']);
    expect(logs.code).toBe(0);
    const lines = logs.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; fields: Record<string, unknown> | null });
    expect(lines.map((l) => l.msg)).toEqual([
      'batch started',
      ...Array(9).fill('progress'),
      'batch finished',
    ]);
    expect(lines.at(-1)!.fields).toMatchObject({ job: 'heavy-job', items: 200_000 });
  });

  it.skipIf(backend.skip)('fires the daily report at 09:00 UTC (run-due --now)', async () => {
    const dir = tempDir();
    const db = backend.url(dir);
    const nineAm = new Date(Date.now() + 2 * 60_000);
    if (nineAm.getUTCHours() >= 9) nineAm.setUTCDate(nineAm.getUTCDate() + 1);
    nineAm.setUTCHours(9, 0, 0, 0);
    const r = await runCli(
      ['run-due', '--config', CONFIG, '--db', db, '--now', nineAm.toISOString(), '--schedules', '--json'],
      { cwd: dir },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as {
      fired: { name: string; tickAt: string; run: Run | null }[];
    };
    expect(result.fired).toHaveLength(1);
    const yesterday = new Date(nineAm.getTime() - 86_400_000).toISOString().slice(0, 10);
    expect(result.fired[0]).toMatchObject({
      name: 'daily-report',
      tickAt: nineAm.toISOString(),
      run: { status: 'succeeded', result: { day: yesterday, sentTo: 'team@example.com' } },
    });
  });
});

/** Starts the order service (src/orders.ts) as its own process on the store; resolves with its URL. */
async function orderService(db: string, cwd: string): Promise<string> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--conditions=mainspring-source', join(EXAMPLE, 'src/orders.ts')],
    { cwd, env: { ...process.env, DATABASE_URL: db, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    expect(await exited, stderr).toBe(0);
  });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { url?: string };
      if (entry.url) resolve(entry.url);
    });
    void exited.then((code) => reject(new Error(`the order service exited with ${code}: ${stderr}`)));
  });
}
