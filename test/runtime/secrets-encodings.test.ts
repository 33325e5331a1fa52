// A secret never leaves a command run in any form. Before, a secret holding `"` or `\` was
// shown JSON-escaped in the log line a command printed and in a failed exit's error; a
// missing executable or working folder put the command's arguments, secret and all, in the
// run's error, /v1/runs and the alert webhook's payload. Now every form a secret takes (as it
// is, JSON-escaped, URL-encoded, base64) is redacted before anything is stored or sent.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildApi } from '../../src/api/server.ts';
import type { Mainspring } from '../../src/app.ts';
import { redactor, secretForms } from '../../src/runtime/command.ts';
import { defineCommand } from '../../src/runtime/define-command.ts';
import type { Run } from '../../src/runtime/runs.ts';
import { fakeApp, tickUntil } from '../helpers/app.ts';
import { BACKENDS, type BackendFixture } from '../helpers/backends.ts';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const node = process.execPath;
// Quotes, a backslash, a space, URL and base64 specials and characters outside ASCII.
const SECRET = 'tok"en\\ a&b=c/d+e é€ 9';
// Written out here rather than taken from secretForms, so the test does not trust the code it checks.
const FORMS = [
  SECRET,
  JSON.stringify(SECRET).slice(1, -1),
  encodeURIComponent(SECRET),
  encodeURIComponent(SECRET).replaceAll('%20', '+'),
  Buffer.from(SECRET).toString('base64'),
  Buffer.from(SECRET).toString('base64url'),
];

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  delete process.env['MS_TEST_TOKEN'];
});

/** Every string inside a value, decoded: a JSON-escaped form in a JSON document is checked as its text. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(strings);
}

function expectNoSecret(where: string, value: unknown) {
  const texts = typeof value === 'string' ? [value] : strings(value);
  for (const text of texts)
    for (const form of FORMS)
      expect(text.includes(form), `${where} holds ${JSON.stringify(form)}`).toBe(false);
}

/** Every row of every table of the store, read beside the app, as text (blobs decoded). */
async function storedText(url: string): Promise<string> {
  const cell = (v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v);
  const rows: unknown[] = [];
  if (url.startsWith('sqlite:')) {
    const db = new DatabaseSync(url.slice('sqlite:'.length), { readOnly: true });
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
      for (const { name } of tables as { name: string }[])
        for (const row of db.prepare(`SELECT * FROM "${name}"`).all())
          rows.push(Object.values(row).map(cell));
    } finally {
      db.close();
    }
  } else {
    const schema = new URL(url).searchParams.get('schema')!;
    const client = new pg.Client({ connectionString: url.replace(/\?.*$/, '') });
    await client.connect();
    try {
      const tables = await client.query<{ table_name: string }>(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
        [schema],
      );
      for (const { table_name } of tables.rows) {
        const res = await client.query(`SELECT * FROM "${schema}"."${table_name}"`);
        for (const row of res.rows) rows.push(Object.values(row as object).map(cell));
      }
    } finally {
      await client.end();
    }
  }
  expect(rows.length).toBeGreaterThan(0);
  return JSON.stringify(rows);
}

async function alertSink() {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => {
      text += c.toString();
    });
    req.on('end', () => {
      bodies.push(text);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`, bodies };
}

describe('secretForms and the redactor', () => {
  it('cover the raw, JSON-escaped, URL-encoded and base64 forms', () => {
    expect(secretForms(SECRET)).toEqual(expect.arrayContaining(FORMS));
    const r = redactor({ T: SECRET });
    const text = FORMS.map((f) => `<${f}>`).join(' ');
    expectNoSecret('redacted text', r.redact(text));
    expect(r.redact(JSON.stringify({ token: SECRET }))).toBe('{"token":"[REDACTED]"}');
  });
});

describe.each(BACKENDS)('secrets in every form on $name', (backend: BackendFixture) => {
  const it_ = backend.skip ? it.skip : it;

  async function failedRun(command: readonly string[], cwd?: string) {
    process.env['MS_TEST_TOKEN'] = SECRET;
    const hook = await alertSink();
    const fn = defineCommand({
      name: 'leaky',
      command,
      ...(cwd === undefined ? {} : { cwd }),
      secrets: ['MS_TEST_TOKEN'],
      retry: { maxAttempts: 1 },
    });
    const url = backend.freshUrl();
    const { ms, clock } = await fakeApp(backend, { url, functions: [fn], alerts: { webhooks: [hook.url] } });
    await ms.startWorker();
    const { id } = await ms.runs.invoke(fn, {});
    let run: Run | undefined;
    await vi.waitFor(
      async () => {
        run = await ms.runs.get(id);
        expect(run.status).toBe('failed');
      },
      { timeout: 15_000, interval: 10 },
    );
    await tickUntil(clock, () => hook.bodies.length === 1, { maxMs: 10_000 });
    return { ms, url, run: run!, alert: hook.bodies.join('\n') };
  }

  async function everywhere(ms: Mainspring, url: string, run: Run, alert: string) {
    const api = await buildApi({ ...ms, bodyLimit: 1024 * 1024 });
    cleanups.push(() => api.close());
    const runs = await api.inject({ method: 'GET', url: '/v1/runs?function=leaky' });
    const one = await api.inject({ method: 'GET', url: `/v1/runs/${run.id}` });
    const logs = await api.inject({ method: 'GET', url: `/v1/runs/${run.id}/logs` });
    // The finished run's stream replays its stored lines and ends.
    const stream = await api.inject({ method: 'GET', url: `/v1/runs/${run.id}/logs?follow=1` });
    expect(stream.body).toContain('event: end');
    expectNoSecret('the run record', { ...run, error: { ...(run.error as object) } });
    expectNoSecret('GET /v1/runs', runs.json());
    expectNoSecret('GET /v1/runs/:id', one.json());
    expectNoSecret('the run log', logs.json());
    expectNoSecret('the alert payload', JSON.parse(alert));
    for (const raw of [runs.body, one.body, logs.body, stream.body, alert])
      expectNoSecret('a response as sent', raw);
    // What the store holds, every row of every table, and so every backup of it.
    const stored = await storedText(url);
    expectNoSecret('the stored rows', stored);
    // JSON.stringify of the rows escaped once more; check the rows' own text too.
    expectNoSecret('the stored rows', JSON.parse(stored));
    return { logs: logs.body };
  }

  it_('a command printing it raw, inside JSON, URL-encoded and base64, then failing with it', async () => {
    const { ms, url, run, alert } = await failedRun([node, join(FIXTURES, 'secret-forms.js'), SECRET]);
    expect(run.error).toMatchObject({ code: 'E_COMMAND_FAILED' });
    const { logs } = await everywhere(ms, url, run, alert);
    expect(logs).toContain('[REDACTED]');
    // The JSON line stays structured with the value redacted.
    expect(
      JSON.parse(logs).lines.some((l: { fields?: { token?: string } }) => l.fields?.token === '[REDACTED]'),
    ).toBe(true);
  });

  it_('a missing executable with the secret in its arguments', async () => {
    const { ms, url, run, alert } = await failedRun([
      '/nonexistent/mainspring-test-bin',
      `--token=${SECRET}`,
    ]);
    expect(run.error).toMatchObject({ code: 'E_COMMAND_NOT_FOUND' });
    await everywhere(ms, url, run, alert);
  });

  it_('a missing working folder with the secret in its arguments', async () => {
    const { ms, url, run, alert } = await failedRun(
      [node, '-e', '1', SECRET],
      '/nonexistent/mainspring-test-dir',
    );
    expect(run.error).toMatchObject({ code: 'E_COMMAND_NOT_FOUND' });
    await everywhere(ms, url, run, alert);
  });
});
