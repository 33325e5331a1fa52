// Queues over real HTTP and through the real CLI, against a running server.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { tempDir } from '../helpers/backends.ts';
import { REPO, runCli, startServer } from '../helpers/cli.ts';

const src = (p: string) => pathToFileURL(join(REPO, 'src', p)).href;

describe('queues through the API and the CLI', () => {
  it('send, stats, dead letters, redrive, purge, and bad input', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'mainspring.config.ts'),
      `import { defineConfig } from '${src('config.ts')}';
import { defineQueue } from '${src('queue/define.ts')}';
import { defineFunction, fromQueue } from '${src('runtime/function.ts')}';
const dlq = defineQueue({ name: 'orders-dlq' });
const orders = defineQueue({ name: 'orders', maxReceiveCount: 1, deadLetterQueue: dlq, maxBodyBytes: 2048 });
const parked = defineQueue({ name: 'parked' });
export default defineConfig({
  db: 'sqlite:app.db',
  queues: [orders, dlq, parked],
  functions: [defineFunction({ name: 'take', triggers: [fromQueue(orders)], handler: (b: { ok: boolean }) => { if (!b.ok) throw new Error('rejected order'); } })],
  worker: { pollIntervalMs: 50 },
});
`,
    );
    const server = await startServer([], { cwd: dir });
    const api = (path: string, init?: { method?: string; body?: unknown }) =>
      fetch(`${server.url}${path}`, {
        method: init?.method ?? 'GET',
        ...(init?.body !== undefined
          ? { body: JSON.stringify(init.body), headers: { 'content-type': 'application/json' } }
          : {}),
      });

    const sent = await api('/v1/queues/orders/messages', { method: 'POST', body: { body: { ok: false } } });
    expect(sent.status).toBe(201);
    const { id } = (await sent.json()) as { id: string };
    const batch = await api('/v1/queues/orders/messages/batch', {
      method: 'POST',
      body: { entries: [{ body: { ok: true } }, { body: { ok: false } }] },
    });
    expect(((await batch.json()) as { ids: string[] }).ids).toHaveLength(2);
    await vi.waitFor(
      async () => {
        const q = (await (await api('/v1/queues/orders')).json()) as {
          counts: { dead: number; visible: number };
        };
        expect(q.counts).toMatchObject({ dead: 2, visible: 0 });
      },
      { timeout: 10_000, interval: 50 },
    );

    const dlq = await runCli(['queues', 'dlq', 'orders'], { cwd: dir });
    expect(dlq.code).toBe(0);
    expect(dlq.stdout).toContain(`${id}  died`);
    expect(dlq.stdout).toContain('last: rejected order');
    const list = await runCli(['queues', 'list'], { cwd: dir });
    expect(list.stdout).toMatch(/QUEUE\s+VISIBLE\s+IN FLIGHT\s+DELAYED\s+DEAD/);
    expect(list.stdout).toMatch(/orders\s+0\s+0\s+0\s+2\s+/);

    const message = (await (await api(`/v1/messages/${id}`)).json()) as { queue: string; errors: unknown[] };
    expect(message).toMatchObject({ queue: 'orders-dlq', errors: [{ message: 'rejected order' }] });

    await api('/v1/queues/parked/messages', { method: 'POST', body: { body: 1, delay: '1h' } });
    const purge = await runCli(['queues', 'purge', 'parked'], { cwd: dir });
    expect(purge.code).toBe(2);
    expect(purge.stderr).toMatch(/add --yes to confirm/);
    expect((await runCli(['queues', 'purge', 'parked', '--yes'], { cwd: dir })).stdout).toMatch(
      /purged 1 message/,
    );

    const redrive = await api('/v1/queues/orders/redrive', { method: 'POST', body: { ids: [id] } });
    expect(await redrive.json()).toEqual({ redriven: 1 });
    await vi.waitFor(async () => {
      const q = (await (await api('/v1/queues/orders')).json()) as { counts: { dead: number } };
      expect(q.counts.dead).toBe(2); // failed again, back in the DLQ
    });

    const page = (await (await api('/v1/queues/orders/dlq?limit=1')).json()) as { messages: unknown[] };
    expect(page.messages).toHaveLength(1);
    // A bare POST redrives every dead letter of the queue.
    expect(await (await api('/v1/queues/orders/redrive', { method: 'POST' })).json()).toEqual({
      redriven: 2,
    });

    const bad = async (path: string, body: unknown, status: number, code: string, message: RegExp) => {
      const res = await api(path, { method: 'POST', body });
      expect(res.status).toBe(status);
      expect(await res.json()).toMatchObject({ error: { code, message: expect.stringMatching(message) } });
    };
    await bad(
      '/v1/queues/nope/messages',
      { body: 1 },
      404,
      'E_QUEUE_NOT_FOUND',
      /queue "nope" does not exist/,
    );
    await bad(
      '/v1/queues/orders/messages',
      { body: 1, groupId: 'g' },
      400,
      'E_MESSAGE_INVALID',
      /groupId is set, but queue "orders" is not FIFO/,
    );
    await bad(
      '/v1/queues/orders/messages',
      { body: 'x'.repeat(3000) },
      413,
      'E_PAYLOAD_TOO_LARGE',
      /over the queue's limit of 2048/,
    );
    await bad('/v1/queues/orders/messages', { body: 1, delay: -1 }, 400, 'E_VALIDATION', /delay/);
    await bad('/v1/queues/orders/messages', { delay: 5 }, 400, 'E_VALIDATION', /body/);

    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  });
});
