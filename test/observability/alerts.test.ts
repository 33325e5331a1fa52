// Alert delivery against real parts: an HTTP server on 127.0.0.1 receives webhooks,
// an smtp-server sink receives e-mail. Time between retries passes on a FakeClock
// that records each backoff it was asked for, so retry schedules are asserted
// exactly without any real waiting.

import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import { isMainspringError } from '../../src/core/errors.ts';
import {
  type Alert,
  Alerter,
  type AlerterOptions,
  alertSubject,
  resolveAlertSettings,
} from '../../src/observability/alerts.ts';
import { Metrics } from '../../src/observability/metrics.ts';

class RecordingClock extends FakeClock {
  readonly sleeps: number[] = [];
  override sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    return super.sleep(ms, signal);
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Received {
  readonly method: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A webhook receiver; `answer(n)` gives the response to the n-th request (0-based). */
async function webhookServer(answer: (n: number, res: ServerResponse) => void = (_, res) => res.end('ok')) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const n = received.length;
      received.push({
        method: req.method,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      answer(n, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${port}/hooks/mainspring`, received };
}

/** A port nothing listens on: bound, then closed. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Mail {
  readonly from: string | undefined;
  readonly to: string[];
  readonly raw: string;
}

async function smtpSink(options: { rejectRecipient?: string } = {}) {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onRcptTo(address, _session, callback) {
      if (address.address === options.rejectRecipient) {
        const err = Object.assign(new Error('mailbox unavailable'), { responseCode: 550 });
        return callback(err);
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const mailFrom = session.envelope.mailFrom;
        mails.push({
          from: mailFrom ? mailFrom.address : undefined,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  const net = server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => net.once('listening', () => resolve()));
  const { port } = net.address() as AddressInfo;
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { smtp: `smtp://127.0.0.1:${port}`, mails };
}

function header(raw: string, name: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
  const line = head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

function bodyText(raw: string): string {
  const body = raw
    .split(/\r?\n\r?\n/)
    .slice(1)
    .join('\n\n');
  const qp = /quoted-printable/i.test(header(raw, 'content-transfer-encoding') ?? '');
  return qp
    ? body
        .replace(/=\r?\n/g, '')
        .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)))
    : body;
}

const alert: Alert = {
  function: 'send-receipt',
  runId: 'run_01J2ABCDEF',
  invocationId: 'inv_01J2ABCDEF',
  attempt: 3,
  status: 'failed',
  error: { name: 'Error', message: 'SMTP relay refused the receipt', code: 'E_COMMAND_FAILED', exitCode: 2 },
  trigger: { kind: 'queue', queue: 'receipts', messageId: 42 },
  startedAt: '2026-07-01T11:59:58.000Z',
  finishedAt: '2026-07-01T12:00:00.000Z',
  link: 'http://localhost:8080/v1/runs/run_01J2ABCDEF',
};

function alerter(overrides: Partial<AlerterOptions> = {}) {
  const clock = new RecordingClock('2026-07-01T12:00:00Z');
  const metrics = new Metrics({ defaultMetrics: false });
  const a = new Alerter({ clock, metrics, ...overrides });
  cleanups.push(() => a.close());
  return { alerter: a, clock, metrics };
}

/** Lets `promise` settle, moving the fake clock whenever the code under test sleeps on it. */
async function drive<T>(clock: FakeClock, promise: Promise<T>): Promise<T> {
  let done = false;
  const settled = promise.finally(() => {
    done = true;
  });
  while (!done) {
    await vi.waitFor(() => expect(done || clock.pendingSleeps > 0).toBe(true), {
      timeout: 10_000,
      interval: 1,
    });
    if (!done) await clock.advance(60_000);
  }
  return settled;
}

async function failedCount(metrics: Metrics, kind: string, target: string): Promise<number> {
  const json = await metrics.registry.getMetricsAsJSON();
  const failed = json.find((m) => m.name === 'mainspring_deliveries_failed_total');
  const value = failed?.values.find((v) => v.labels['kind'] === kind && v.labels['target'] === target);
  return value?.value ?? 0;
}

describe('Alerter webhooks', () => {
  it('POSTs the alert as JSON with a user-agent', async () => {
    const hook = await webhookServer();
    const { alerter: a, clock } = alerter();
    const settings = resolveAlertSettings({ webhooks: [hook.url] }, 'alerts');
    const deliveries = await drive(clock, a.send(alert, [settings]));

    expect(deliveries).toEqual([{ kind: 'webhook', target: hook.url, ok: true, attempts: 1 }]);
    expect(hook.received).toHaveLength(1);
    const req = hook.received[0]!;
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['user-agent']).toBe('mainspring');
    const body = JSON.parse(req.body) as Alert;
    expect(body).toEqual(alert);
    expect(body.runId).toBe('run_01J2ABCDEF');
    expect(body.link).toBe('http://localhost:8080/v1/runs/run_01J2ABCDEF');
    expect(clock.sleeps).toEqual([]);
  });

  it('retries 5xx with exponential backoff and delivers on the third attempt', async () => {
    const hook = await webhookServer((n, res) => {
      res.statusCode = n < 2 ? 500 : 200;
      res.end();
    });
    const { alerter: a, clock, metrics } = alerter();
    const deliveries = await drive(
      clock,
      a.send(alert, [resolveAlertSettings({ webhooks: [hook.url] }, 'alerts')]),
    );
    expect(deliveries).toEqual([{ kind: 'webhook', target: hook.url, ok: true, attempts: 3 }]);
    expect(hook.received).toHaveLength(3);
    expect(clock.sleeps).toEqual([1000, 2000]);
    expect(await failedCount(metrics, 'alert-webhook', new URL(hook.url).origin)).toBe(0);
  });

  it('does not retry a 400 and reports the delivery failed', async () => {
    const hook = await webhookServer((_, res) => {
      res.statusCode = 400;
      res.end('bad');
    });
    const { alerter: a, clock, metrics } = alerter();
    const [delivery] = await drive(
      clock,
      a.send(alert, [resolveAlertSettings({ webhooks: [hook.url] }, 'alerts')]),
    );
    expect(delivery).toMatchObject({ kind: 'webhook', ok: false, attempts: 1 });
    expect(delivery!.error).toContain('400');
    expect(hook.received).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
    expect(await failedCount(metrics, 'alert-webhook', new URL(hook.url).origin)).toBe(1);
  });

  it('sends URL credentials as Basic auth and does not follow redirects', async () => {
    const hook = await webhookServer((n, res) => {
      if (n === 1) {
        res.statusCode = 302;
        res.setHeader('location', 'http://elsewhere.example.com/');
      }
      res.end();
    });
    const { alerter: a, clock } = alerter();
    const withAuth = hook.url.replace('http://', 'http://alert%40bot:p%3Ass@');
    const [ok] = await drive(
      clock,
      a.send(alert, [resolveAlertSettings({ webhooks: [withAuth] }, 'alerts')]),
    );
    expect(ok).toMatchObject({ ok: true, target: hook.url });
    expect(hook.received[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from('alert@bot:p:ss').toString('base64')}`,
    );

    const [redirected] = await drive(
      clock,
      a.send(alert, [resolveAlertSettings({ webhooks: [hook.url] }, 'a')]),
    );
    expect(redirected).toMatchObject({ ok: false, attempts: 1 });
    expect(redirected!.error).toContain('302');
    expect(hook.received).toHaveLength(2);
  });

  it('honours Retry-After on 429', async () => {
    const hook = await webhookServer((n, res) => {
      if (n === 0) {
        res.statusCode = 429;
        res.setHeader('retry-after', '7');
      }
      res.end();
    });
    const { alerter: a, clock } = alerter();
    const [delivery] = await drive(
      clock,
      a.send(alert, [resolveAlertSettings({ webhooks: [hook.url] }, 'alerts')]),
    );
    expect(delivery).toMatchObject({ ok: true, attempts: 2 });
    expect(clock.sleeps).toEqual([7000]);
  });

  it('retries a refused connection, then gives up and counts the failure', async () => {
    const port = await deadPort();
    const url = `http://127.0.0.1:${port}/hook`;
    const warnings: unknown[] = [];
    const logger = {
      warn: (obj: unknown) => warnings.push(obj),
    } as unknown as NonNullable<AlerterOptions['logger']>;
    const { alerter: a, clock, metrics } = alerter({ attempts: 4, logger });
    const [delivery] = await drive(
      clock,
      a.send(alert, [resolveAlertSettings({ webhooks: [url] }, 'alerts')]),
    );
    expect(delivery).toMatchObject({ kind: 'webhook', target: url, ok: false, attempts: 4 });
    expect(clock.sleeps).toEqual([1000, 2000, 4000]);
    expect(await failedCount(metrics, 'alert-webhook', `http://127.0.0.1:${port}`)).toBe(1);
    expect(warnings).toEqual([expect.objectContaining({ runId: alert.runId, target: url, attempts: 4 })]);
  });

  it('caps the backoff at 60 s', async () => {
    const port = await deadPort();
    const { alerter: a, clock } = alerter({ attempts: 5, baseDelayMs: 20_000 });
    await drive(
      clock,
      a.send(alert, [resolveAlertSettings({ webhooks: [`http://127.0.0.1:${port}/`] }, 'a')]),
    );
    expect(clock.sleeps).toEqual([20_000, 40_000, 60_000, 60_000]);
  });

  it('gives up a request that exceeds its timeout', async () => {
    const hook = await webhookServer(() => {
      // never answers
    });
    const { alerter: a, clock } = alerter({ attempts: 1, timeoutMs: 100 });
    const [delivery] = await drive(
      clock,
      a.send(alert, [resolveAlertSettings({ webhooks: [hook.url] }, 'alerts')]),
    );
    expect(delivery).toMatchObject({ ok: false, attempts: 1 });
    expect(delivery!.error).toMatch(/timeout|aborted/i);
  });

  it('sends once to a URL named globally and per function, and keeps credentials out of the target', async () => {
    const hook = await webhookServer();
    const other = await webhookServer();
    const withQuery = `${other.url}?token=s3cret`;
    const { alerter: a, clock } = alerter();
    const global = resolveAlertSettings({ webhooks: [hook.url] }, 'alerts');
    const perFn = resolveAlertSettings({ webhooks: [hook.url, withQuery] }, 'functions[0].alerts');
    const deliveries = await drive(clock, a.send(alert, [global, perFn]));
    expect(deliveries.map((d) => d.target)).toEqual([hook.url, other.url]);
    expect(deliveries.every((d) => d.ok)).toBe(true);
    expect(hook.received).toHaveLength(1);
    expect(other.received).toHaveLength(1);
  });

  it('idle() waits for deliveries in flight and abandons their retries after its limit', async () => {
    const hook = await webhookServer((_, res) => {
      res.statusCode = 503;
      res.end();
    });
    const { alerter: a, clock } = alerter({ attempts: 5 });
    const sending = a.send(alert, [resolveAlertSettings({ webhooks: [hook.url] }, 'alerts')]);
    await vi.waitFor(() => expect(clock.pendingSleeps).toBe(1), { timeout: 10_000, interval: 1 });
    const idle = a.idle(500);
    await clock.advance(500); // idle's limit passes before the 1000 ms backoff ends
    await idle;
    const [delivery] = await sending;
    expect(delivery).toMatchObject({ ok: false, attempts: 1 });
    expect(delivery!.error).toContain('shutting down');
    expect(clock.pendingSleeps).toBe(0);
  });

  it('idle() resolves at once when nothing is in flight', async () => {
    const { alerter: a } = alerter();
    await a.idle();
  });
});

describe('Alerter e-mail', () => {
  it('sends a plain-text e-mail through SMTP', async () => {
    const sink = await smtpSink();
    const { alerter: a, clock } = alerter();
    const settings = resolveAlertSettings(
      { email: { smtp: sink.smtp, from: 'mainspring@example.com', to: 'ops@example.com' } },
      'alerts',
    );
    const deliveries = await drive(clock, a.send(alert, [settings]));
    expect(deliveries).toEqual([{ kind: 'email', target: 'mailto:ops@example.com', ok: true, attempts: 1 }]);
    expect(sink.mails).toHaveLength(1);
    const mail = sink.mails[0]!;
    expect(mail.from).toBe('mainspring@example.com');
    expect(mail.to).toEqual(['ops@example.com']);
    expect(header(mail.raw, 'from')).toContain('mainspring@example.com');
    expect(header(mail.raw, 'to')).toContain('ops@example.com');
    expect(header(mail.raw, 'subject')).toBe(
      '[mainspring] send-receipt failed: SMTP relay refused the receipt',
    );
    expect(header(mail.raw, 'content-type')).toMatch(/^text\/plain/);
    const text = bodyText(mail.raw);
    expect(text).toContain('run_01J2ABCDEF');
    expect(text).toContain('http://localhost:8080/v1/runs/run_01J2ABCDEF');
    expect(text).toContain('send-receipt');
    expect(text).toContain('E_COMMAND_FAILED');
  });

  it('merges recipients of one server and sender, and reuses the connection settings', async () => {
    const sink = await smtpSink();
    const { alerter: a, clock } = alerter();
    const global = resolveAlertSettings(
      { email: { smtp: sink.smtp, from: 'mainspring@example.com', to: ['ops@example.com'] } },
      'alerts',
    );
    const perFn = resolveAlertSettings(
      {
        email: {
          smtp: sink.smtp,
          from: 'mainspring@example.com',
          to: ['ops@example.com', 'dev@example.com'],
        },
      },
      'functions[1].alerts',
    );
    const deliveries = await drive(clock, a.send({ ...alert, status: 'timed_out' }, [global, perFn]));
    expect(deliveries).toEqual([
      { kind: 'email', target: 'mailto:ops@example.com,dev@example.com', ok: true, attempts: 1 },
    ]);
    expect(sink.mails).toHaveLength(1);
    expect(sink.mails[0]!.to).toEqual(['ops@example.com', 'dev@example.com']);
    expect(header(sink.mails[0]!.raw, 'subject')).toContain('send-receipt timed out');

    await drive(clock, a.send(alert, [global]));
    expect(sink.mails).toHaveLength(2);
  });

  it('does not retry a permanent SMTP rejection and counts the failure', async () => {
    const sink = await smtpSink({ rejectRecipient: 'nobody@example.com' });
    const { alerter: a, clock, metrics } = alerter();
    const settings = resolveAlertSettings(
      { email: { smtp: sink.smtp, from: 'mainspring@example.com', to: 'nobody@example.com' } },
      'alerts',
    );
    const [delivery] = await drive(clock, a.send(alert, [settings]));
    expect(delivery).toMatchObject({ kind: 'email', ok: false, attempts: 1 });
    expect(clock.sleeps).toEqual([]);
    expect(sink.mails).toHaveLength(0);
    expect(await failedCount(metrics, 'alert-email', sink.smtp)).toBe(1);
  });

  it('retries an unreachable SMTP server, then gives up', async () => {
    const port = await deadPort();
    const { alerter: a, clock, metrics } = alerter({ attempts: 3 });
    const settings = resolveAlertSettings(
      { email: { smtp: `smtp://user:pw@127.0.0.1:${port}`, from: 'm@example.com', to: 'ops@example.com' } },
      'alerts',
    );
    const [delivery] = await drive(clock, a.send(alert, [settings]));
    expect(delivery).toMatchObject({ kind: 'email', ok: false, attempts: 3 });
    expect(delivery!.error).not.toContain('pw');
    expect(clock.sleeps).toEqual([1000, 2000]);
    expect(await failedCount(metrics, 'alert-email', `smtp://127.0.0.1:${port}`)).toBe(1);
  });

  it('truncates a long error message in the subject to one line', () => {
    const subject = alertSubject({
      ...alert,
      error: { name: 'Error', message: `line one\nline two ${'x'.repeat(500)}` },
    });
    expect(subject.length).toBeLessThanOrEqual(120);
    expect(subject).not.toContain('\n');
    expect(subject.startsWith('[mainspring] send-receipt failed: line one line two')).toBe(true);
    expect(subject.endsWith('…')).toBe(true);
  });
});

describe('resolveAlertSettings', () => {
  it('accepts and normalises good settings; nothing means no alerts', () => {
    expect(resolveAlertSettings(undefined, 'alerts')).toEqual({ webhooks: [], email: null });
    expect(resolveAlertSettings({}, 'alerts')).toEqual({ webhooks: [], email: null });
    expect(
      resolveAlertSettings(
        {
          webhooks: ['https://hooks.example.com/a', 'http://10.0.0.1:8080/b', 'https://hooks.example.com/a'],
          email: {
            smtp: 'smtps://u:p@mail.example.com:465',
            from: 'Mainspring <ms@example.com>',
            to: 'ops@example.com',
          },
        },
        'alerts',
      ),
    ).toEqual({
      webhooks: ['https://hooks.example.com/a', 'http://10.0.0.1:8080/b'],
      email: {
        smtp: 'smtps://u:p@mail.example.com:465',
        from: 'Mainspring <ms@example.com>',
        to: ['ops@example.com'],
      },
    });
  });

  const email = { smtp: 'smtp://mail.example.com:587', from: 'ms@example.com', to: ['ops@example.com'] };
  const bad: [string, unknown, string, RegExp][] = [
    ['not an object', 'https://x.example.com', 'alerts', /give an object/],
    ['unknown key', { webhook: ['https://x.example.com'] }, 'alerts.webhook', /'webhooks' or 'email'/],
    ['webhooks not a list', { webhooks: 'https://x.example.com' }, 'alerts.webhooks', /list of URLs/],
    ['ftp webhook', { webhooks: ['ftp://x.example.com/hook'] }, 'alerts.webhooks[0]', /scheme is ftp:/],
    [
      'javascript webhook',
      { webhooks: ['javascript:alert(1)'] },
      'alerts.webhooks[0]',
      /scheme is javascript:/,
    ],
    ['relative webhook', { webhooks: ['/hooks/alert'] }, 'alerts.webhooks[0]', /not an absolute URL/],
    [
      'garbage webhook',
      { webhooks: ['https://ok.example.com', 'not a url'] },
      'alerts.webhooks[1]',
      /absolute/,
    ],
    ['number webhook', { webhooks: [42] }, 'alerts.webhooks[0]', /http:\/\/ or https:\/\//],
    ['http smtp', { email: { ...email, smtp: 'http://mail.example.com' } }, 'alerts.email.smtp', /smtp:\/\//],
    ['garbage smtp', { email: { ...email, smtp: 'mail.example.com:587' } }, 'alerts.email.smtp', /smtp/],
    ['missing smtp', { email: { from: email.from, to: email.to } }, 'alerts.email.smtp', /smtp:\/\//],
    ['missing from', { email: { smtp: email.smtp, to: email.to } }, 'alerts.email.from', /missing/],
    ['bad from', { email: { ...email, from: 'mainspring' } }, 'alerts.email.from', /not an e-mail address/],
    ['missing to', { email: { smtp: email.smtp, from: email.from } }, 'alerts.email.to', /at least one/],
    ['empty to', { email: { ...email, to: [] } }, 'alerts.email.to', /at least one/],
    [
      'bad to',
      { email: { ...email, to: ['ops@example.com', 'ops'] } },
      'alerts.email.to[1]',
      /e-mail address/,
    ],
    [
      'list in one to',
      { email: { ...email, to: 'a@example.com, b@example.com' } },
      'alerts.email.to',
      /array/,
    ],
    ['to not a string', { email: { ...email, to: 7 } }, 'alerts.email.to', /e-mail address/],
    ['unknown email key', { email: { ...email, cc: 'x@example.com' } }, 'alerts.email.cc', /not a setting/],
  ];

  it.each(bad)('rejects %s', (_, value, field, why) => {
    for (const base of ['alerts', 'functions[2].alerts']) {
      let thrown: unknown;
      try {
        resolveAlertSettings(value, base);
      } catch (err) {
        thrown = err;
      }
      expect(isMainspringError(thrown)).toBe(true);
      const err = thrown as Error & { code: string };
      expect(err.code).toBe('E_ALERT_INVALID');
      const named = base === 'alerts' ? field : field.replace(/^alerts/, base);
      expect(err.message.startsWith(named)).toBe(true);
      expect(err.message).toMatch(why);
    }
  });

  it('keeps SMTP passwords out of error messages', () => {
    expect(() =>
      resolveAlertSettings({ email: { ...email, smtp: 'http://user:hunter2@mail.example.com' } }, 'alerts'),
    ).toThrow(/^(?!.*hunter2)/s);
  });
});
