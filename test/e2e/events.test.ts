// The event bus end to end: a real server with rules, a signed webhook source and a
// file trigger; events put and replayed through the real CLI.

import { createHmac } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { tempDir } from '../helpers/backends.ts';
import { REPO, runCli, startServer } from '../helpers/cli.ts';

const src = (p: string) => pathToFileURL(join(REPO, 'src', p)).href;

function config(dir: string, pattern = `{ source: ['shop', 'webhook.github'] }`): void {
  writeFileSync(
    join(dir, 'mainspring.config.ts'),
    `import { appendFileSync } from 'node:fs';
import { defineConfig } from '${src('config.ts')}';
import { defineRule } from '${src('events/rules-define.ts')}';
import { defineFileTrigger } from '${src('events/files/define.ts')}';
import { defineFunction } from '${src('runtime/function.ts')}';
const record = defineFunction({
  name: 'record',
  handler: (e: { source: string; replayed?: boolean }) => { appendFileSync('seen.log', e.source + (e.replayed ? ' replayed' : '') + '\\n'); },
});
export default defineConfig({
  db: 'sqlite:app.db',
  functions: [record],
  rules: [defineRule({ name: 'record-all', pattern: ${pattern}, targets: [record] })],
  fileTriggers: [defineFileTrigger({ name: 'drop', dir: 'drop', targets: [record], stabilityMs: 100 })],
  webhooks: { github: { scheme: 'github', secret: process.env.GH_SECRET } },
  worker: { pollIntervalMs: 50 },
});
`,
  );
}

const seen = (dir: string) => {
  try {
    return readFileSync(join(dir, 'seen.log'), 'utf8').trim().split('\n').sort();
  } catch {
    return [];
  }
};

describe('events through the CLI and the API', () => {
  it('put, webhook, file arrival, replay, and bad input', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'drop'));
    config(dir);
    const env = { GH_SECRET: 's3cret' };
    const server = await startServer([], { cwd: dir, env });
    try {
      const put = await runCli(
        [
          'events',
          'put',
          '--source',
          'shop',
          '--detail-type',
          'Order Placed',
          '--detail',
          '{"id":1}',
          '--time',
          '2026-01-01T00:00:00Z',
        ],
        { cwd: dir, env },
      );
      expect(put.stderr).toBe('');
      expect(put.code).toBe(0);
      expect(put.stdout.trim()).toMatch(/^[0-9a-f-]{36}$/);

      const body = '{"action":"opened"}';
      const sig = `sha256=${createHmac('sha256', 's3cret').update(body).digest('hex')}`;
      const hook = (signature: string) =>
        fetch(`${server.url}/v1/webhooks/github`, {
          method: 'POST',
          body,
          headers: {
            'content-type': 'application/json',
            'x-hub-signature-256': signature,
            'x-github-delivery': 'd1',
          },
        });
      expect((await hook(sig)).status).toBe(200);
      expect((await hook(sig.replace(/.$/, (c) => (c === '0' ? '1' : '0')))).status).toBe(401);

      writeFileSync(join(dir, 'drop', 'a.txt'), 'hello');
      await vi.waitFor(() => expect(seen(dir)).toEqual(['mainspring.files', 'shop', 'webhook.github']), {
        timeout: 15_000,
        interval: 100,
      });

      const replay = await runCli(
        ['events', 'replay', '--from', '2026-01-01T00:00:00Z', '--to', '2026-01-02T00:00:00Z'],
        {
          cwd: dir,
          env,
        },
      );
      expect(replay.code).toBe(0);
      expect(replay.stdout).toMatch(/^replayed 1 events \(1 deliveries\)/);
      await vi.waitFor(() => expect(seen(dir)).toContain('shop replayed'), {
        timeout: 15_000,
        interval: 100,
      });

      const bad = await runCli(
        ['events', 'put', '--source', 'shop', '--detail-type', 'X', '--detail', '{oops'],
        { cwd: dir, env },
      );
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--detail is not valid JSON/);
      const missing = await runCli(
        ['events', 'put', '--source', 'shop', '--detail-type', 'X', '--detail', '[1]'],
        { cwd: dir, env },
      );
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/--detail is an array; send a JSON object/);
    } finally {
      server.child.kill('SIGTERM');
      expect((await server.exited).code).toBe(0);
    }
    expect(seen(dir).filter((l) => l === 'shop')).toHaveLength(1);

    config(dir, `{ source: 'shop' }`);
    const invalid = await runCli(['events', 'put', '--source', 'a', '--detail-type', 'b'], {
      cwd: dir,
      env: { GH_SECRET: 'x' },
    });
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/rule "record-all": pattern at source: must be an array/);
    // A command that only puts an event serves no webhooks: it needs no signing secret.
    config(dir);
    const noSecret = await runCli(['events', 'put', '--source', 'a', '--detail-type', 'b'], {
      cwd: dir,
      env: {},
    });
    expect(noSecret.stderr).toBe('');
    expect(noSecret.code).toBe(0);
    expect(noSecret.stdout.trim()).toMatch(/^[0-9a-f-]{36}$/);
  });
});
