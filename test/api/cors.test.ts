// CORS: off by default (no Access-Control-* header at all); with `api.cors.origins`, a listed
// origin's preflight and simple requests get the headers (the preflight before auth, as a
// browser sends it without a token) and any other origin none. The config refuses an origin
// with a path. HTTP-layer only: SQLite suffices (the store never sees these requests).

import { afterEach, describe, expect, it } from 'vitest';
import { type Api, buildApi, listenApi } from '../../src/api/server.ts';
import type { ApiOptions } from '../../src/api/types.ts';
import { resolveOptions, validateConfig } from '../../src/config.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { fakeApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/backends.ts';

const sqlite = BACKENDS.find((b) => b.name === 'sqlite')!;
const APP = 'https://app.example.com';
const TOKEN = 'cors-test-token';

const apis: Api[] = [];
afterEach(async () => {
  for (const api of apis.splice(0)) await api.close();
});

async function serve(options: Partial<ApiOptions> = {}) {
  const { ms } = await fakeApp(sqlite, { queues: [defineQueue({ name: 'orders' })] });
  const api = await buildApi({ ...ms, bodyLimit: 64 * 1024, ...options });
  apis.push(api);
  const { url } = await listenApi(api, { host: '127.0.0.1', port: 0 });
  return async (method: string, path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${url}${path}`, { method, headers });
    const cors: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      if (k.startsWith('access-control-')) cors[k] = v;
    });
    await res.arrayBuffer();
    return { status: res.status, cors };
  };
}

const preflight = (origin: string) => ({
  origin,
  'access-control-request-method': 'POST',
  'access-control-request-headers': 'authorization,content-type',
});

describe('CORS', () => {
  it('a listed origin: its preflight (without a token) and its requests get the headers', async () => {
    const call = await serve({ token: TOKEN, cors: { origins: [APP] } });
    const pre = await call('OPTIONS', '/v1/queues/orders/messages', preflight(APP));
    expect(pre.status).toBe(204);
    expect(pre.cors).toMatchObject({
      'access-control-allow-origin': APP,
      'access-control-allow-methods': expect.stringContaining('POST'),
      'access-control-allow-headers': expect.stringMatching(/authorization/i),
    });
    const simple = await call('GET', '/v1/queues', { origin: APP, authorization: `Bearer ${TOKEN}` });
    expect(simple.status).toBe(200);
    expect(simple.cors['access-control-allow-origin']).toBe(APP);
    // A refusal is readable by the page too.
    const refused = await call('GET', '/v1/queues', { origin: APP });
    expect(refused.status).toBe(401);
    expect(refused.cors['access-control-allow-origin']).toBe(APP);
  });

  it('another origin gets no Access-Control-* header at all', async () => {
    const call = await serve({ token: TOKEN, cors: { origins: [APP] } });
    const other = 'https://evil.example.com';
    const pre = await call('OPTIONS', '/v1/queues/orders/messages', preflight(other));
    expect(pre.cors).toEqual({});
    expect(pre.status).toBeGreaterThanOrEqual(400);
    const simple = await call('GET', '/v1/queues', { origin: other, authorization: `Bearer ${TOKEN}` });
    expect(simple.status).toBe(200);
    expect(simple.cors).toEqual({});
    // Same host, other scheme or port: another origin.
    for (const near of ['http://app.example.com', 'https://app.example.com:8443']) {
      expect(
        (await call('GET', '/v1/queues', { origin: near, authorization: `Bearer ${TOKEN}` })).cors,
      ).toEqual({});
    }
  });

  it('with no CORS configured, no origin gets a header', async () => {
    const call = await serve();
    const pre = await call('OPTIONS', '/v1/queues/orders/messages', preflight(APP));
    expect(pre.cors).toEqual({});
    expect(pre.status).toBe(404);
    const simple = await call('GET', '/v1/queues', { origin: APP });
    expect(simple.status).toBe(200);
    expect(simple.cors).toEqual({});
  });

  it('the config takes origins only, and resolves to none by default', () => {
    const ok = validateConfig({ api: { cors: { origins: [APP, 'http://localhost:5173'] } } }, 'config');
    expect(resolveOptions({}, ok, {}).corsOrigins).toEqual([APP, 'http://localhost:5173']);
    expect(resolveOptions({}, {}, {}).corsOrigins).toEqual([]);
    for (const [bad, hint] of [
      ['https://app.example.com/', 'e.g. "https://app.example.com"'],
      ['https://app.example.com/path', 'e.g. "https://app.example.com"'],
      ['app.example.com', 'scheme://host[:port]'],
      ['ftp://files.example.com', 'http or https'],
      ['*', 'scheme://host[:port]'],
    ] as const) {
      let caught: unknown;
      try {
        validateConfig({ api: { cors: { origins: [APP, bad] } } }, 'config');
      } catch (err) {
        caught = err;
      }
      expect(caught, bad).toMatchObject({ code: 'E_CONFIG_INVALID' });
      const message = (caught as Error).message;
      expect(message, bad).toContain(`api.cors.origins.1 is ${JSON.stringify(bad)}, which is not an origin`);
      expect(message, bad).toContain(hint);
    }
  });
});
