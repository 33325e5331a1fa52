// Past `maxInFlight` requests the server answers 503 E_OVERLOADED with Retry-After at once,
// before reading the body, so a burst cannot pile up work or memory; /healthz and /metrics
// still answer; every send answered 2xx is stored. Handlers are held deterministically at a
// gate in front of the store, so no timing decides which requests are refused.

import { request } from 'node:http';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Api, buildApi, listenApi } from '../../src/api/server.ts';
import type { Mainspring } from '../../src/app.ts';
import { ApiClient } from '../../src/cli/client.ts';
import { HttpTransport } from '../../src/cli/http-transport.ts';
import { defineQueue } from '../../src/queue/define.ts';
import type { Queues } from '../../src/queue/queues.ts';
import { fakeApp } from '../helpers/app.ts';
import { BACKENDS, type BackendFixture } from '../helpers/backends.ts';
import { runCli } from '../helpers/cli.ts';

const apis: Api[] = [];
const gates: (() => void)[] = [];
afterEach(async () => {
  // A failed test may leave sends held; the server waits for them to close.
  for (const open of gates.splice(0)) open();
  for (const api of apis.splice(0)) await api.close();
});

/** The app's queues, with every send held at a gate until `open()`. */
function gatedQueues(ms: Mainspring) {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  gates.push(open);
  let held = 0;
  const queues = Object.create(ms.queues) as Queues;
  queues.send = async (...args: Parameters<Queues['send']>) => {
    held++;
    await gate;
    return ms.queues.send(...args);
  };
  return { queues, open, held: () => held };
}

async function setup(backend: BackendFixture, maxInFlight: number, maxQueued = 0) {
  const { ms } = await fakeApp(backend, { queues: [defineQueue({ name: 'orders' })] });
  const gated = gatedQueues(ms);
  const api = await buildApi({ ...ms, queues: gated.queues, bodyLimit: 64 * 1024, maxInFlight, maxQueued });
  apis.push(api);
  const sockets = new Set<Socket>();
  api.server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const { url } = await listenApi(api, { host: '127.0.0.1', port: 0 });
  const send = (n: number) =>
    fetch(`${url}/v1/queues/orders/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ body: { n } }),
    }).then(async (res) => ({
      status: res.status,
      retryAfter: res.headers.get('retry-after'),
      body: (await res.json()) as {
        id?: string;
        error?: { code: string; message: string; details?: unknown };
      },
    }));
  const metric = async (name: string) => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(name));
    return line === undefined ? undefined : Number(line.split(' ').at(-1));
  };
  return { ms, url, send, metric, sockets, ...gated };
}

async function storedBodies(ms: Mainspring): Promise<Map<string, unknown>> {
  const rows = await ms.store.queues.listMessages('orders', { limit: 1000 });
  return new Map(rows.map((r) => [String(r.id), JSON.parse(r.body)]));
}

describe.each(BACKENDS)('load shedding on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_(
    'answers 503 E_OVERLOADED with Retry-After past the limit, keeps probes answering, stores every 2xx send',
    async () => {
      const { ms, url, send, metric, held, open } = await setup(backend, 3);
      const admitted = [1, 2, 3].map((n) => send(n));
      await vi.waitFor(() => expect(held()).toBe(3));

      const refused = await Promise.all([4, 5, 6, 7, 8, 9, 10].map((n) => send(n)));
      for (const r of refused) {
        expect(r.status).toBe(503);
        expect(r.retryAfter).toBe('1');
        expect(r.body).toEqual({
          error: {
            code: 'E_OVERLOADED',
            message: expect.stringMatching(/limit of 3 requests at once \(api\.maxInFlight\)/),
            details: { maxInFlight: 3, retryAfterSeconds: 1 },
          },
        });
      }
      // Refused before the body was read: no handler ran for them.
      expect(held()).toBe(3);

      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      expect(await metric('mainspring_http_requests_shed_total{reason="overloaded"}')).toBe(7);
      expect(await metric('mainspring_http_requests_in_flight')).toBe(3);

      open();
      const accepted = await Promise.all(admitted);
      expect(accepted.map((r) => r.status)).toEqual([201, 201, 201]);
      const stored = await storedBodies(ms);
      expect(stored.size).toBe(3);
      for (const r of accepted) expect(stored.has(r.body.id!)).toBe(true);

      // The slots are free again once those responses have closed.
      await vi.waitFor(async () => expect(await metric('mainspring_http_requests_in_flight')).toBe(0));
      const later = await send(11);
      expect(later.status).toBe(201);
    },
  );

  it_(
    'lets maxQueued requests wait for a slot, first come first served, and refuses only past both',
    async () => {
      const { ms, send, metric, held, open } = await setup(backend, 2, 3);
      const admitted = [1, 2].map((n) => send(n));
      await vi.waitFor(() => expect(held()).toBe(2));
      const waiting = [3, 4, 5].map((n) => send(n));
      // The three wait without reaching a handler; the next two find the queue full.
      await vi.waitFor(async () => expect(await metric('mainspring_http_requests_queued')).toBe(3));
      const refused = await Promise.all([6, 7].map((n) => send(n)));
      expect(refused.map((r) => [r.status, r.body.error?.code])).toEqual([
        [503, 'E_OVERLOADED'],
        [503, 'E_OVERLOADED'],
      ]);
      expect(held()).toBe(2);
      expect(await metric('mainspring_http_requests_in_flight')).toBe(2);

      open();
      const accepted = await Promise.all([...admitted, ...waiting]);
      expect(accepted.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
      const stored = await storedBodies(ms);
      expect([...stored.values()].map((b) => (b as { n: number }).n).sort()).toEqual([1, 2, 3, 4, 5]);
    },
  );

  it_('keeps the slot of a client that went away until its handler has finished', async () => {
    const { url, send, metric, held, open, sockets } = await setup(backend, 2);
    const body = JSON.stringify({ body: { n: 1 } });
    const leaving = request(`${url}/v1/queues/orders/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    leaving.on('error', () => {});
    leaving.end(body);
    const staying = send(2);
    await vi.waitFor(() => expect(held()).toBe(2));
    await vi.waitFor(() => expect(sockets.size).toBe(2));

    leaving.destroy();
    // The server has seen the connection close; the handler still holds the store.
    await vi.waitFor(() => expect(sockets.size).toBe(1));
    expect((await send(3)).status).toBe(503);
    expect(await metric('mainspring_http_requests_in_flight')).toBe(2);

    open();
    expect((await staying).status).toBe(201);
    await vi.waitFor(async () => expect(await metric('mainspring_http_requests_in_flight')).toBe(0));
  });

  it_('the CLI client waits Retry-After and sends a refused request again', async () => {
    const { url, send, metric, held, open } = await setup(backend, 1);
    const holding = send(1);
    await vi.waitFor(() => expect(held()).toBe(1));

    const client = new ApiClient(new HttpTransport(new URL(url), undefined));
    const retried = client.post<{ id: string }>('/v1/queues/orders/messages', { body: { n: 2 } });
    // Refused once; the slot frees while the client waits its second.
    await vi.waitFor(async () =>
      expect(await metric('mainspring_http_requests_shed_total{reason="overloaded"}')).toBe(1),
    );
    open();
    expect((await holding).status).toBe(201);
    expect(await retried).toEqual({ id: expect.any(String) });
  });
});

describe('the limit as a setting', () => {
  it('refuses a --max-in-flight or MAINSPRING_MAX_IN_FLIGHT that is not a positive whole number, naming it', async () => {
    const flag = await runCli(['start', '--port', '0', '--db', 'sqlite::memory:', '--max-in-flight', '0']);
    expect(flag.code).not.toBe(0);
    expect(flag.stderr).toMatch(/--max-in-flight is "0"; give the most requests to serve at once/);
    const env = await runCli(['start', '--port', '0', '--db', 'sqlite::memory:'], {
      env: { MAINSPRING_MAX_IN_FLIGHT: 'lots' },
    });
    expect(env.code).not.toBe(0);
    expect(env.stderr).toMatch(/MAINSPRING_MAX_IN_FLIGHT is "lots"/);
  });
});
