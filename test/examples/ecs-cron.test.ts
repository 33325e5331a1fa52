// The ecs-cron example (seed 002, Node cron jobs on ECS) end to end, as its users drive it:
// `mainspring start --config examples/ecs-cron/mainspring.config.ts` with the task's
// environment and secrets in the server's environment, `mainspring invoke db-cleanup` for
// a manual run (the seed's `aws ecs run-task`), `run-due --now` for the 02:00 UTC tick,
// alerts to a local webhook, and two replicas on one PostgreSQL sharing every-second ticks.
// db-cleanup cleans a PostgreSQL table, as in the seed: its tests need PostgreSQL for the
// app's database whatever store mainspring uses.

import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Run } from '../../src/runtime/runs.ts';
import { freshSchemaName, PG_SKIP_REASON, PG_URL, pgUrlWithSchema, tempDir } from '../helpers/backends.ts';
import { REPO, type RunningServer, runCli, startServer } from '../helpers/cli.ts';

const CONFIG = join(REPO, 'examples/ecs-cron/mainspring.config.ts');
const DB_PASSWORD = 'pw-for-the-app-db';

const backends = [
  { name: 'sqlite', url: (dir: string) => `sqlite:${join(dir, 'ecs-cron.db')}` },
  { name: 'postgres', url: () => pgUrlWithSchema(freshSchemaName()) },
] as const;
type Backend = (typeof backends)[number];

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The app's own database: a schema with audit_logs, three rows past 90 days and two within. */
async function appDatabase() {
  const schema = `ecs_app_${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.query(
    `CREATE TABLE ${schema}.audit_logs (id serial PRIMARY KEY, action text NOT NULL, created_at timestamptz NOT NULL)`,
  );
  await client.query(
    `INSERT INTO ${schema}.audit_logs (action, created_at) SELECT 'login', NOW() - make_interval(days => d)
     FROM unnest(ARRAY[400, 120, 91, 30, 0]) AS d`,
  );
  cleanups.push(async () => {
    await client.query(`DROP SCHEMA ${schema} CASCADE`);
    await client.end();
  });
  const url = new URL(PG_URL);
  // What the task definition's environment and secrets gave the container.
  const env = {
    DB_HOST: url.hostname,
    DB_PORT: url.port || '5432',
    DB_NAME: url.pathname.slice(1),
    DB_SCHEMA: schema,
    DB_USERNAME: decodeURIComponent(url.username),
    DB_PASSWORD: url.password ? decodeURIComponent(url.password) : DB_PASSWORD,
  };
  const ages = async () =>
    (
      await client.query<{ days: number }>(
        `SELECT round(extract(epoch FROM NOW() - created_at) / 86400)::int AS days FROM ${schema}.audit_logs ORDER BY 1 DESC`,
      )
    ).rows.map((r) => r.days);
  return { schema, client, env, ages };
}

/** A local receiver for alert webhooks. */
async function alertReceiver() {
  const alerts: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d;
    });
    req.on('end', () => {
      alerts.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ops`, alerts };
}

async function stop(server: RunningServer): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill('SIGTERM');
  expect((await server.exited).code).toBe(0);
}

/** One replica of the example: `mainspring start` in its own folder, on `db`. */
async function replica(db: string, env: Record<string, string>) {
  const server = await startServer(['--config', CONFIG, '--db', db], { cwd: tempDir(), env });
  cleanups.push(() => stop(server));
  /** `mainspring <args> --url <this replica> --json`: exit code and parsed output. */
  const cli = async <T>(...args: string[]) => {
    const r = await runCli([...args, '--url', server.url, '--json']);
    return {
      code: r.code,
      stderr: r.stderr,
      out: r.stdout.trim() === '' ? null : (JSON.parse(r.stdout) as T),
    };
  };
  return { server, cli };
}

type LogLine = { level: number; msg: string; fields: Record<string, unknown> | null };

async function logsOf(url: string, runId: string): Promise<LogLine[]> {
  const r = await runCli(['logs', runId, '--url', url, '--json']);
  expect(r.code).toBe(0);
  return r.stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as LogLine);
}

describe.each(backends)('examples/ecs-cron on $name', (backend: Backend) => {
  const db = () => backend.url(tempDir());

  it.skipIf(PG_SKIP_REASON)(
    'runs jobs/db-cleanup.js as a command: exit 0, old audit logs gone, structured logs kept',
    async () => {
      const app = await appDatabase();
      const hook = await alertReceiver();
      const { server, cli } = await replica(db(), { ...app.env, ALERT_WEBHOOK_URL: hook.url });
      const { code, out: run } = await cli<Run>('invoke', 'db-cleanup', '--wait');
      expect(code).toBe(0);
      expect(run).toMatchObject({ function: 'db-cleanup', status: 'succeeded', attempt: 1 });
      expect(await app.ages()).toEqual([30, 0]);

      const lines = await logsOf(server.url, run!.id);
      expect(lines.map((l) => [l.level, l.msg])).toEqual([
        [30, 'starting cleanup'],
        [30, 'deleted old audit logs'],
        [30, 'cleanup finished'],
      ]);
      // The task definition's environment reached the job: its lines carry JOB_NAME.
      expect(lines[1]!.fields).toMatchObject({ job: 'db-cleanup', deleted: 3 });
      expect(JSON.stringify(lines)).not.toContain(app.env.DB_PASSWORD);
      expect(hook.alerts).toEqual([]);
    },
  );

  it.skipIf(PG_SKIP_REASON)(
    'a cleanup that exits 1 fails its run, once, and alerts the webhook',
    async () => {
      const app = await appDatabase();
      const hook = await alertReceiver();
      // A schema without audit_logs: the DELETE fails and the job exits 1.
      const { server, cli } = await replica(db(), {
        ...app.env,
        DB_SCHEMA: `${app.schema}_missing`,
        ALERT_WEBHOOK_URL: hook.url,
      });
      const { code, out: run } = await cli<Run>('invoke', 'db-cleanup', '--wait');
      expect(code).toBe(1);
      expect(run).toMatchObject({
        status: 'failed',
        attempt: 1,
        error: { code: 'E_COMMAND_FAILED', exitCode: 1 },
      });
      const lines = await logsOf(server.url, run!.id);
      expect(lines.at(-1)).toMatchObject({
        level: 50,
        msg: 'cleanup failed',
        fields: { job: 'db-cleanup', error: expect.stringContaining('does not exist') },
      });
      await vi.waitFor(() => expect(hook.alerts).toHaveLength(1), { timeout: 10_000, interval: 50 });
      expect(hook.alerts[0]).toMatchObject({
        function: 'db-cleanup',
        runId: run!.id,
        status: 'failed',
        error: { code: 'E_COMMAND_FAILED', exitCode: 1 },
      });
      // One attempt per tick, as EventBridge → ECS: no retry followed.
      const { out } = await cli<{ runs: Run[] }>('runs', 'list', '--function', 'db-cleanup');
      expect(out!.runs).toHaveLength(1);
      expect(await app.ages()).toEqual([400, 120, 91, 30, 0]);
    },
  );

  it.skipIf(PG_SKIP_REASON)(
    'a cleanup stuck behind a table lock is stopped at its timeout and alerted',
    async () => {
      const app = await appDatabase();
      const hook = await alertReceiver();
      const { server, cli } = await replica(db(), {
        ...app.env,
        JOB_TIMEOUT: '2s',
        ALERT_WEBHOOK_URL: hook.url,
      });
      // Someone holds audit_logs: the job's DELETE waits for it, past the timeout.
      const blocker = new pg.Client({ connectionString: PG_URL });
      await blocker.connect();
      cleanups.push(() => blocker.end());
      await blocker.query('BEGIN');
      await blocker.query(`LOCK TABLE ${app.schema}.audit_logs IN ACCESS EXCLUSIVE MODE`);
      try {
        const { code, out: run } = await cli<Run>('invoke', 'db-cleanup', '--wait');
        expect(code).toBe(1);
        expect(run).toMatchObject({ status: 'timed_out', attempt: 1 });
        await vi.waitFor(() => expect(hook.alerts).toHaveLength(1), { timeout: 10_000, interval: 50 });
        expect(hook.alerts[0]).toMatchObject({ function: 'db-cleanup', runId: run!.id, status: 'timed_out' });
        // The job heard the SIGTERM and said so before it went.
        const lines = await logsOf(server.url, run!.id);
        expect(lines.map((l) => l.msg)).toEqual(['starting cleanup', 'stopped before the end']);
      } finally {
        await blocker.query('ROLLBACK');
      }
    },
  );

  it.skipIf(PG_SKIP_REASON)(
    'fires db-cleanup and the in-process jobs on their UTC crons (run-due --now 02:00)',
    async () => {
      const app = await appDatabase();
      const dir = tempDir();
      const twoAm = new Date(Date.now() + 2 * 60_000);
      if (twoAm.getUTCHours() >= 2) twoAm.setUTCDate(twoAm.getUTCDate() + 1);
      twoAm.setUTCHours(2, 0, 0, 0);
      const r = await runCli(
        [
          'run-due',
          '--config',
          CONFIG,
          '--db',
          backend.url(dir),
          '--now',
          twoAm.toISOString(),
          '--schedules',
          '--misfire-grace',
          '1m',
          '--json',
        ],
        { cwd: dir, env: app.env },
      );
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const { fired } = JSON.parse(r.stdout) as { fired: { name: string; tickAt: string; run: Run }[] };
      // 02:00 is db-cleanup's tick, and also an hourly and a five-minute one; 03:00's report is not due.
      expect(fired.map((f) => [f.name, f.tickAt, f.run.status]).sort()).toEqual([
        ['cache-refresh', twoAm.toISOString(), 'succeeded'],
        ['db-cleanup', twoAm.toISOString(), 'succeeded'],
        ['session-cleanup', twoAm.toISOString(), 'succeeded'],
      ]);
      expect(await app.ages()).toEqual([30, 0]);
    },
  );

  it.skipIf(backend.name === 'postgres' && PG_SKIP_REASON)(
    'skips the daily report while another holder has its lease',
    async () => {
      const { server, cli } = await replica(db(), {});
      const lease = (await (
        await fetch(`${server.url}/v1/locks/daily-report`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ttl: '1m', owner: 'another-ecs-task' }),
        })
      ).json()) as { token: number };
      const skipped = await cli<Run>('invoke', 'daily-report', '--wait');
      expect(skipped.out).toMatchObject({
        status: 'succeeded',
        result: { generated: false, reason: 'another holder has the daily-report lock' },
      });
      const released = await fetch(`${server.url}/v1/locks/daily-report?token=${lease.token}`, {
        method: 'DELETE',
      });
      expect(released.status).toBe(204);
      const ran = await cli<Run>('invoke', 'daily-report', '--wait');
      expect(ran.out).toMatchObject({ status: 'succeeded', result: { generated: true } });
      expect((ran.out!.result as { fencingToken: number }).fencingToken).toBeGreaterThan(lease.token);
    },
  );
});

describe.skipIf(PG_SKIP_REASON)('examples/ecs-cron on two replicas (postgres)', () => {
  it('runs each tick of every-second schedules once across two `mainspring start` replicas', {
    timeout: 90_000,
  }, async () => {
    const db = pgUrlWithSchema(freshSchemaName());
    const a = await replica(db, {});
    const b = await replica(db, {});
    // node-cron's every-5-minutes and 03:00 jobs, ticking every second here to see many ticks.
    const every = { 'refresh-each-second': 'cache-refresh', 'report-each-second': 'daily-report' };
    for (const [name, fn] of Object.entries(every)) {
      const created = await a.cli(
        'schedules',
        'create',
        name,
        '--expression',
        '* * * * * *',
        '--function',
        fn,
      );
      expect(created.stderr).toBe('');
      expect(created.code).toBe(0);
    }
    const ticksOf = async (schedule: string, fn: string) => {
      const { out } = await b.cli<{ runs: Run[] }>('runs', 'list', '--function', fn, '--limit', '500');
      return out!.runs.filter((r) => r.trigger.kind === 'schedule' && r.trigger.schedule === schedule);
    };
    await vi.waitFor(
      async () => {
        for (const [name, fn] of Object.entries(every)) {
          const done = (await ticksOf(name, fn)).filter((r) => r.status === 'succeeded');
          expect(done.length).toBeGreaterThanOrEqual(6);
        }
      },
      { timeout: 30_000, interval: 250 },
    );
    for (const name of Object.keys(every)) expect((await b.cli('schedules', 'disable', name)).code).toBe(0);
    // Every run the ticks started has ended before the replicas stop.
    await vi.waitFor(
      async () => {
        for (const [name, fn] of Object.entries(every)) {
          expect((await ticksOf(name, fn)).filter((r) => r.finishedAt === null)).toEqual([]);
        }
      },
      { timeout: 15_000, interval: 100 },
    );
    const runs = Object.fromEntries(
      await Promise.all(Object.entries(every).map(async ([name, fn]) => [name, await ticksOf(name, fn)])),
    ) as Record<string, Run[]>;
    await Promise.all([stop(a.server), stop(b.server)]);

    const tickOf = (r: Run) => (r.trigger as { tickAt: string }).tickAt;
    for (const [name, list] of Object.entries(runs)) {
      // Disabling withdrew the tick queued ahead of its time: cancelled before it started.
      const ran = list.filter((r) => r.startedAt !== null);
      const withdrawn = list.filter((r) => r.startedAt === null);
      expect(withdrawn.map((r) => r.error?.code)).toEqual(withdrawn.map(() => 'E_RUN_CANCELLED'));
      const ticks = ran.map(tickOf).sort();
      // One run per tick, each succeeding at its first attempt…
      expect(new Set(ticks).size, name).toBe(ticks.length);
      expect(
        ran.filter((r) => r.status !== 'succeeded' || r.attempt !== 1),
        name,
      ).toEqual([]);
      // …no second skipped from the first tick to the last, and nothing withdrawn before the last.
      const first = Date.parse(ticks[0]!);
      expect(ticks, name).toEqual(ticks.map((_, i) => new Date(first + i * 1000).toISOString()));
      for (const r of withdrawn) expect(tickOf(r) > ticks.at(-1)!, name).toBe(true);
    }
    // The report's lease went to one run at a time, in tick order: fencing tokens only grow.
    const reports = runs['report-each-second']!.filter((r) => r.startedAt !== null);
    reports.sort((x, y) => tickOf(x).localeCompare(tickOf(y)));
    const tokens = reports.map((r) => (r.result as { fencingToken?: number }).fencingToken ?? -1);
    expect(
      tokens.every((t, i) => t > (i === 0 ? 0 : tokens[i - 1]!)),
      JSON.stringify(tokens),
    ).toBe(true);
  });
});
