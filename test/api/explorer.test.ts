// The API explorer at /docs: an HTML page whose scripts and styles all load from this server
// (no CDN), reading this server's OpenAPI document, which needs the token as /openapi.json
// does; off (404) with `api: { explorer: false }`. HTTP-layer only: SQLite suffices.

import { afterEach, describe, expect, it } from 'vitest';
import { type Api, buildApi, listenApi } from '../../src/api/server.ts';
import type { ApiOptions } from '../../src/api/types.ts';
import { resolveOptions, validateConfig } from '../../src/config.ts';
import { fakeApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/backends.ts';

const sqlite = BACKENDS.find((b) => b.name === 'sqlite')!;
const TOKEN = 'explorer-test-token';

const apis: Api[] = [];
afterEach(async () => {
  for (const api of apis.splice(0)) await api.close();
});

async function serve(options: Partial<ApiOptions> = {}) {
  const { ms } = await fakeApp(sqlite);
  const api = await buildApi({ ...ms, bodyLimit: 64 * 1024, ...options });
  apis.push(api);
  const { url } = await listenApi(api, { host: '127.0.0.1', port: 0 });
  return {
    url,
    get: async (path: string, headers: Record<string, string> = {}) => {
      const res = await fetch(new URL(path, url), { headers, redirect: 'manual' });
      return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
    },
  };
}

describe('API explorer', () => {
  it('GET /docs answers HTML whose scripts and styles load 200 from this server', async () => {
    const { url, get } = await serve();
    const page = await get('/docs');
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/^text\/html/);
    const refs = [...page.text.matchAll(/<(?:script|link)\b[^>]*?(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.filter((r) => r.endsWith('.js')).length).toBeGreaterThanOrEqual(2);
    expect(refs.some((r) => r.endsWith('.css'))).toBe(true);
    for (const ref of refs) {
      const asset = new URL(ref, `${url}/docs`);
      // Served by this server: no CDN, so it works offline.
      expect(asset.origin, ref).toBe(url);
      const res = await get(asset.pathname);
      expect(res.status, ref).toBe(200);
      expect(res.text.length, ref).toBeGreaterThan(0);
    }
    // The page reads this server's document.
    const spec = await get('/docs/json');
    expect(spec.status).toBe(200);
    expect(JSON.parse(spec.text)).toMatchObject({ openapi: '3.1.0', info: { title: 'mainspring' } });
  });

  it('with a token: the page and its files answer without one; the document needs one, as /openapi.json', async () => {
    const { get } = await serve({ token: TOKEN });
    expect((await get('/docs')).status).toBe(200);
    expect((await get('/docs/static/swagger-ui-bundle.js')).status).toBe(200);
    for (const path of ['/openapi.json', '/docs/json', '/docs/yaml']) {
      const open = await get(path);
      expect(open.status, path).toBe(401);
      expect(JSON.parse(open.text), path).toMatchObject({ error: { code: 'E_UNAUTHORIZED' } });
      expect((await get(path, { authorization: `Bearer ${TOKEN}` })).status, path).toBe(200);
    }
    // The page sends the token the dashboard signed in with.
    expect((await get('/docs/static/swagger-initializer.js')).text).toContain('mainspring.token');
  });

  it('the explorer routes are not in the OpenAPI document', async () => {
    const { get } = await serve();
    const paths = Object.keys((JSON.parse((await get('/openapi.json')).text) as { paths: object }).paths);
    expect(paths.filter((p) => p.startsWith('/docs'))).toEqual([]);
  });

  it('with explorer: false, /docs is 404 in the one shape', async () => {
    const { get } = await serve({ explorer: false });
    for (const path of ['/docs', '/docs/', '/docs/json', '/docs/static/swagger-ui-bundle.js']) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(JSON.parse(res.text), path).toMatchObject({ error: { code: 'E_NOT_FOUND' } });
    }
    expect((await get('/openapi.json')).status).toBe(200);
  });

  it('the config turns it off; it is on by default', () => {
    expect(resolveOptions({}, {}, {}).explorer).toBe(true);
    expect(resolveOptions({}, validateConfig({ api: { explorer: false } }, 'config'), {}).explorer).toBe(
      false,
    );
    expect(() => validateConfig({ api: { explorer: 'no' } }, 'config')).toThrow(/api\.explorer/);
  });
});
