// Command functions run by a worker (real child processes), and alerts sent by a
// worker after a final failure or a timeout to a real HTTP server and SMTP sink.

import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineCommand } from '../../src/runtime/define-command.ts';
import { defineFunction } from '../../src/runtime/function.ts';
import type { Run } from '../../src/runtime/runs.ts';
import { fakeApp, tick, tickUntil } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/backends.ts';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const node = process.execPath;
const FINAL = ['succeeded', 'failed', 'timed_out', 'cancelled'];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function settled(ms: { runs: { get(id: string): Promise<Run> } }, id: string): Promise<Run> {
  await vi.waitFor(async () => expect(FINAL).toContain((await ms.runs.get(id)).status), {
    timeout: 15_000,
    interval: 10,
  });
  return ms.runs.get(id);
}

async function webhookSink() {
  const bodies: unknown[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => {
      text += c.toString();
    });
    req.on('end', () => {
      bodies.push(JSON.parse(text));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`, bodies };
}

async function smtpSink() {
  const mails: { to: string[]; raw: string }[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  const listening = server.listen(0, '127.0.0.1');
  await new Promise<void>((r) => listening.once('listening', () => r()));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { smtp: `smtp://127.0.0.1:${(listening.address() as AddressInfo).port}`, mails };
}

describe.each(BACKENDS)('command functions and alerts on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_(
    'runs a command with the input on stdin and in MAINSPRING_INPUT, keeping its output as log lines',
    async () => {
      const echo = defineCommand({ name: 'echo-input', command: [node, join(FIXTURES, 'echo-input.js')] });
      const { ms } = await fakeApp(backend, { functions: [echo] });
      await ms.startWorker();
      const run = await settled(ms, (await ms.runs.invoke(echo, { day: 2, note: 'ü' })).id);
      expect(run).toMatchObject({ status: 'succeeded', error: null });
      await vi.waitFor(async () => expect(await ms.runs.logs(run.id)).toHaveLength(1));
      const [line] = await ms.runs.logs(run.id);
      expect(line).toMatchObject({
        msg: 'input',
        level: 30,
        fields: { stdin: '{"day":2,"note":"ü"}', envInput: '{"day":2,"note":"ü"}' },
      });
    },
  );

  it_('fails a run on a non-zero exit, carrying the code, and on a missing executable', async () => {
    const exit3 = defineCommand({
      name: 'exit3',
      command: [node, join(FIXTURES, 'exit.js'), '3'],
      retry: { maxAttempts: 1 },
    });
    const missing = defineCommand({
      name: 'missing',
      command: ['./no-such-program'],
      cwd: FIXTURES,
      retry: { maxAttempts: 1 },
    });
    const fine = defineFunction({ name: 'fine', handler: () => 'still working' });
    const { ms } = await fakeApp(backend, { functions: [exit3, missing, fine] });
    await ms.startWorker();
    const failed = await settled(ms, (await ms.runs.invoke(exit3, {})).id);
    expect(failed).toMatchObject({
      status: 'failed',
      error: {
        code: 'E_COMMAND_FAILED',
        exitCode: 3,
        message: expect.stringContaining('exited with code 3'),
      },
    });
    const notFound = await settled(ms, (await ms.runs.invoke(missing, {})).id);
    expect(notFound).toMatchObject({
      status: 'failed',
      error: { code: 'E_COMMAND_NOT_FOUND', message: expect.stringContaining('no-such-program') },
    });
    expect(await settled(ms, (await ms.runs.invoke(fine, {})).id)).toMatchObject({
      status: 'succeeded',
      result: 'still working',
    });
  });

  it_('times out a command that ignores SIGTERM: SIGKILL after the grace period, run timed_out', async () => {
    const stubborn = defineCommand({
      name: 'stubborn',
      command: [node, join(FIXTURES, 'signals.js'), 'stubborn'],
      timeout: '10s',
      killGrace: '5s',
      retry: { maxAttempts: 1 },
    });
    const { ms, clock } = await fakeApp(backend, { functions: [stubborn] });
    await ms.startWorker();
    const { id } = await ms.runs.invoke(stubborn, {});
    // "ready" in the log: the child's SIGTERM handler is installed.
    await vi.waitFor(async () => expect((await ms.runs.logs(id)).map((l) => l.msg)).toContain('ready'), {
      timeout: 10_000,
    });
    await tick(clock, 10_000, 1000);
    await vi.waitFor(
      async () => expect((await ms.runs.logs(id)).map((l) => l.msg)).toContain('ignoring SIGTERM'),
      {
        timeout: 10_000,
      },
    );
    expect((await ms.runs.get(id)).status).toBe('running');
    await tick(clock, 5_000, 1000);
    const run = await settled(ms, id);
    expect(run).toMatchObject({ status: 'timed_out', error: { code: 'E_RUN_TIMED_OUT', signal: 'SIGKILL' } });
  });

  it_('passes secrets to that command only and redacts them from its log', async () => {
    const secretFile = join(FIXTURES, '..', `secrets-${backend.name}.env`);
    writeFileSync(
      secretFile,
      'API_KEY=sk_live_abcdef123456\nDB_URL=postgres://u:sk_live_abcdef123456@db/x\n',
    );
    cleanups.push(async () => {
      const { rmSync } = await import('node:fs');
      rmSync(secretFile, { force: true });
    });
    const leaky = defineCommand({
      name: 'leaky',
      command: [node, join(FIXTURES, 'secret.js')],
      secrets: ['API_KEY', 'DB_URL'],
    });
    const { ms } = await fakeApp(backend, { functions: [leaky], secretsFile: secretFile });
    await ms.startWorker();
    const run = await settled(ms, (await ms.runs.invoke(leaky, {})).id);
    expect(run.status).toBe('succeeded');
    await vi.waitFor(async () => expect(await ms.runs.logs(run.id)).toHaveLength(3));
    const stored = JSON.stringify(await ms.runs.logs(run.id));
    expect(stored).not.toContain('sk_live_abcdef123456');
    expect(stored).toContain('[REDACTED]');
  });

  it_('fails a command whose secret is set nowhere, naming it', async () => {
    const needs = defineCommand({
      name: 'needs-secret',
      command: [node, join(FIXTURES, 'exit.js'), '0'],
      secrets: ['MS_TEST_NEVER_SET_SECRET'],
      retry: { maxAttempts: 1 },
    });
    const { ms } = await fakeApp(backend, { functions: [needs] });
    await ms.startWorker();
    const run = await settled(ms, (await ms.runs.invoke(needs, {})).id);
    expect(run).toMatchObject({
      status: 'failed',
      error: { code: 'E_SECRET_MISSING', message: expect.stringContaining('MS_TEST_NEVER_SET_SECRET') },
    });
  });

  it_(
    'alerts a webhook and by e-mail after the final failure, not after a failure that is retried',
    async () => {
      const hook = await webhookSink();
      const mail = await smtpSink();
      const fn = defineFunction({
        name: 'nightly',
        retry: { maxAttempts: 2, backoff: 'fixed', base: '1s', jitter: false },
        alerts: { email: { smtp: mail.smtp, from: 'mainspring@example.com', to: ['ops@example.com'] } },
        handler: (_i: unknown, ctx) => {
          throw new Error(`broken on attempt ${ctx.run.attempt}`);
        },
      });
      const { ms, clock } = await fakeApp(backend, {
        functions: [fn],
        alerts: { webhooks: [hook.url] },
        baseUrl: 'http://ms.example.com:7400',
      });
      await ms.startWorker();
      const first = await ms.runs.invoke(fn, {});
      await settled(ms, first.id);
      await tickUntil(clock, () => hook.bodies.length === 1, { maxMs: 10_000 });
      expect(hook.bodies).toHaveLength(1);
      const last = await ms.runs.wait(first.id);
      expect(last.attempt).toBe(2);
      expect(hook.bodies[0]).toMatchObject({
        function: 'nightly',
        runId: last.id,
        attempt: 2,
        status: 'failed',
        error: { message: 'broken on attempt 2' },
        link: `http://ms.example.com:7400/v1/runs/${last.id}`,
      });
      await vi.waitFor(() => expect(mail.mails).toHaveLength(1), { timeout: 10_000 });
      expect(mail.mails[0]!.to).toEqual(['ops@example.com']);
      expect(mail.mails[0]!.raw).toContain(last.id);
      expect(mail.mails[0]!.raw).toContain('broken on attempt 2');
    },
  );

  it_('alerts on every timeout', async () => {
    const hook = await webhookSink();
    const slow = defineFunction({
      name: 'slow',
      timeout: '2s',
      retry: { maxAttempts: 2, backoff: 'fixed', base: '1s', jitter: false },
      handler: () => new Promise(() => {}),
    });
    const { ms, clock } = await fakeApp(backend, { functions: [slow], alerts: { webhooks: [hook.url] } });
    await ms.startWorker();
    await ms.runs.invoke(slow, {});
    await tickUntil(clock, () => hook.bodies.length === 2, { maxMs: 20_000 });
    expect(hook.bodies.map((b) => (b as { status: string; attempt: number }).attempt)).toEqual([1, 2]);
    expect(hook.bodies.every((b) => (b as { status: string }).status === 'timed_out')).toBe(true);
  });
});
