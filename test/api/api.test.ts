// The HTTP API in-process (Fastify inject): schemas, errors, auth, OpenAPI, locks.

import { describe, expect, it } from 'vitest';
import { isLoopback } from '../../src/api/auth.ts';
import { buildApi, listenApi, routeGroupsFor } from '../../src/api/server.ts';
import { createMainspring } from '../../src/app.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrate.ts';
import { tempDir } from '../helpers/backends.ts';

async function setup(options: { token?: string; bodyLimit?: number } = {}) {
  const clock = new FakeClock('2026-07-01T12:00:00Z');
  const ms = await createMainspring({ db: `sqlite:${tempDir()}/api.db`, clock });
  const api = await buildApi({ ...ms, token: options.token, bodyLimit: options.bodyLimit ?? 1024 * 1024 });
  return { api, clock, ms };
}

describe('HTTP API', () => {
  it('answers /healthz with the store and the server clock', async () => {
    const { api, ms } = await setup();
    const res = await api.inject('/healthz');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'ok',
      store: { backend: 'sqlite', schemaVersion: SQLITE_MIGRATIONS.length },
      time: '2026-07-01T12:00:00.000Z',
    });
    await ms.close();
    const down = await api.inject('/healthz');
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ status: 'unavailable' });
  });

  it('publishes an OpenAPI 3.1 document generated from the route schemas', async () => {
    const { api } = await setup();
    const doc = (await api.inject('/openapi.json')).json() as {
      openapi: string;
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>
      >;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/healthz', '/v1/locks', '/v1/locks/{name}', '/v1/locks/{name}/renew']),
    );
    expect(
      doc.paths['/v1/locks/{name}']!['post']!.requestBody!.content['application/json']!.schema,
    ).toMatchObject({
      required: ['ttl'],
      properties: { ttl: expect.any(Object), owner: expect.any(Object) },
    });
  });

  it('validates requests from the schemas, in the one error shape', async () => {
    const { api } = await setup();
    const res = await api.inject({ method: 'POST', url: '/v1/locks/job', payload: { owner: 'x', tll: 5 } });
    expect(res.statusCode).toBe(400);
    const body = res.json() as {
      error: { code: string; message: string; details: { field: string; issues: { field: string }[] } };
    };
    expect(body.error.code).toBe('E_VALIDATION');
    expect(body.error.message).toMatch(/body\.tll is not a known field/);
    expect(body.error.message).toMatch(/body\.ttl is required/);
    expect(body.error.details.issues.map((d) => d.field)).toEqual(
      expect.arrayContaining(['body.tll', 'body.ttl']),
    );

    const badJson = await api.inject({
      method: 'POST',
      url: '/v1/locks/job',
      headers: { 'content-type': 'application/json' },
      payload: '{"ttl": 5',
    });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json()).toMatchObject({ error: { code: 'E_VALIDATION' } });

    const badTtl = await api.inject({ method: 'POST', url: '/v1/locks/job', payload: { ttl: 'soon' } });
    expect(badTtl.statusCode).toBe(400);
    expect(badTtl.json()).toMatchObject({
      error: { code: 'E_VALIDATION', message: expect.stringMatching(/^body\.ttl is "soon"/) },
    });
  });

  it('answers unknown routes with E_NOT_FOUND', async () => {
    const { api } = await setup();
    const res = await api.inject('/v1/nope');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'E_NOT_FOUND', message: 'no route GET /v1/nope' } });
  });

  it('refuses bodies over the limit with 413', async () => {
    const { api } = await setup({ bodyLimit: 2048 });
    const res = await api.inject({
      method: 'POST',
      url: '/v1/locks/job',
      payload: { ttl: 1000, owner: 'x'.repeat(4000) },
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ error: { code: 'E_PAYLOAD_TOO_LARGE' } });
  });

  it('requires the bearer token on every route but /healthz when one is set', async () => {
    const { api } = await setup({ token: 'tok-123' });
    expect((await api.inject('/healthz')).statusCode).toBe(200);
    const none = await api.inject('/v1/locks');
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({
      error: { code: 'E_UNAUTHORIZED', message: expect.stringMatching(/Bearer/) },
    });
    expect(
      (await api.inject({ url: '/v1/locks', headers: { authorization: 'Bearer nope' } })).statusCode,
    ).toBe(401);
    expect((await api.inject({ url: '/openapi.json' })).statusCode).toBe(401);
    expect(
      (await api.inject({ url: '/v1/locks', headers: { authorization: 'Bearer tok-123' } })).statusCode,
    ).toBe(200);
  });

  it('serves the lease API: acquire, conflict, renew, release', async () => {
    const { api, clock } = await setup();
    const got = await api.inject({
      method: 'POST',
      url: '/v1/locks/nightly',
      payload: { ttl: '30s', owner: 'cron-a' },
    });
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual({
      name: 'nightly',
      owner: 'cron-a',
      token: 1,
      acquiredAt: '2026-07-01T12:00:00.000Z',
      expiresAt: '2026-07-01T12:00:30.000Z',
    });
    const busy = await api.inject({
      method: 'POST',
      url: '/v1/locks/nightly',
      payload: { ttl: 1000, owner: 'cron-b' },
    });
    expect(busy.statusCode).toBe(409);
    expect(busy.json()).toMatchObject({ error: { code: 'E_CONFLICT', details: { owner: 'cron-a' } } });
    clock.set('2026-07-01T12:00:20Z');
    const renewed = await api.inject({
      method: 'POST',
      url: '/v1/locks/nightly/renew',
      payload: { token: 1, ttl: '30s' },
    });
    expect(renewed.json()).toMatchObject({ expiresAt: '2026-07-01T12:00:50.000Z' });
    expect((await api.inject('/v1/locks')).json()).toMatchObject({ locks: [{ name: 'nightly', token: 1 }] });
    expect((await api.inject('/v1/locks/nightly')).json()).toMatchObject({ owner: 'cron-a' });
    expect((await api.inject({ method: 'DELETE', url: '/v1/locks/nightly?token=2' })).statusCode).toBe(409);
    expect((await api.inject({ method: 'DELETE', url: '/v1/locks/nightly?token=1' })).statusCode).toBe(204);
    expect((await api.inject('/v1/locks/nightly')).statusCode).toBe(404);
  });

  it('refuses to listen beyond loopback without a token', async () => {
    const { api } = await setup();
    await expect(listenApi(api, { host: '0.0.0.0', port: 0 })).rejects.toMatchObject({
      code: 'E_API_TOKEN_REQUIRED',
    });
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('[::1]')).toBe(true);
    expect(isLoopback('localhost')).toBe(true);
    expect(isLoopback('::')).toBe(false);
    expect(isLoopback('10.0.0.5')).toBe(false);
    const bound = await listenApi(api, { host: '127.0.0.1', port: 0 });
    expect((await fetch(`${bound.url}/healthz`)).status).toBe(200);
    await api.close();
  });
});

describe('route groups', () => {
  it('an API built with only the groups a path maps to serves every documented route', async () => {
    const { api, ms } = await setup();
    const doc = (await api.inject('/openapi.json')).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    await api.close();
    const built = new Map<string, Awaited<ReturnType<typeof buildApi>>>();
    try {
      for (const [path, methods] of Object.entries(doc.paths)) {
        const url = path.replace(/\{(\w+)\}/g, ':$1');
        const groups = routeGroupsFor(url.replace(/:\w+/g, 'x'));
        expect(groups.length, path).toBeGreaterThan(0);
        const key = groups.join(',');
        if (!built.has(key)) built.set(key, await buildApi({ ...ms, bodyLimit: 1024, routes: groups }));
        for (const method of Object.keys(methods))
          expect(
            built.get(key)!.hasRoute({ method: method.toUpperCase() as 'GET', url }),
            `${method} ${path}`,
          ).toBe(true);
      }
      // Only what was asked for is there: no runs route in the queues' API.
      expect(built.get('queues')!.hasRoute({ method: 'GET', url: '/v1/runs' })).toBe(false);
    } finally {
      for (const a of built.values()) await a.close();
      await ms.close();
    }
  });
});
