// Tokens and what they may do, the dashboard's files, and the change stream, over real HTTP.
import { afterEach, describe, expect, it } from 'vitest';
import { type Api, buildApi, listenApi } from '../../src/api/server.ts';
import type { Mainspring } from '../../src/app.ts';
import { isMainspringError } from '../../src/core/errors.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { fakeApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/backends.ts';

const apis: Api[] = [];
afterEach(async () => {
  for (const api of apis.splice(0)) await api.close();
});

const FULL = 'full-token-a';
const READ = 'read-token-b';

async function serve(ms: Mainspring, tokens: { token?: string; readToken?: string } = {}) {
  const api = await buildApi({ ...ms, bodyLimit: 1024 * 1024, ...tokens });
  apis.push(api);
  const { url } = await listenApi(api, { host: '127.0.0.1', port: 0, token: tokens.token });
  return async (method: string, path: string, token?: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
    return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
  };
}
const json = (r: { body: Buffer }) => JSON.parse(r.body.toString()) as Record<string, unknown>;

describe.each(BACKENDS)('access and the dashboard on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_('GET /v1/access says what each token may do, and answers without one', async () => {
    const { ms } = await fakeApp(backend);
    const open = await serve(ms);
    expect(json(await open('GET', '/v1/access'))).toMatchObject({ access: 'full', auth: false });
    const call = await serve(ms, { token: FULL, readToken: READ });
    expect(json(await call('GET', '/v1/access'))).toMatchObject({ access: 'none', auth: true });
    expect(json(await call('GET', '/v1/access', 'wrong'))).toMatchObject({ access: 'none' });
    expect(json(await call('GET', '/v1/access', READ))).toMatchObject({ access: 'read' });
    expect(json(await call('GET', '/v1/access', FULL))).toMatchObject({ access: 'full' });
  });

  it_('the read-only token reads everything and changes nothing', async () => {
    const { ms } = await fakeApp(backend, { queues: [defineQueue({ name: 'q' })] });
    await ms.queues.send('q', { n: 1 });
    const call = await serve(ms, { token: FULL, readToken: READ });
    expect((await call('GET', '/v1/queues/q', READ)).status).toBe(200);
    expect((await call('GET', '/v1/runs', READ)).status).toBe(200);
    expect((await call('GET', '/v1/runs', 'wrong')).status).toBe(401);
    expect((await call('GET', '/v1/runs')).status).toBe(401);
    for (const [method, path] of [
      ['POST', '/v1/queues/q/messages'],
      ['DELETE', '/v1/queues/q/messages'],
      ['POST', '/v1/queues/q/redrive'],
      ['POST', '/v1/queues/q/pause'],
      ['POST', '/v1/queues/q/resume'],
      ['POST', '/v1/schedules'],
    ] as const) {
      const res = await call(method, path, READ);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(json(res)).toMatchObject({ error: { code: 'E_FORBIDDEN' } });
    }
    expect((await ms.queues.stats('q')).counts.visible).toBe(1);
    expect((await call('DELETE', '/v1/queues/q/messages', FULL)).status).toBe(200);
    expect((await ms.queues.stats('q')).counts.visible).toBe(0);
  });

  it_('pauses and resumes a queue over HTTP, idempotently; an unknown queue is a 404', async () => {
    const { ms, clock } = await fakeApp(backend, { queues: [defineQueue({ name: 'q' })] });
    const call = await serve(ms, { token: FULL, readToken: READ });
    const pausedAt = new Date(clock.now()).toISOString();
    const paused = await call('POST', '/v1/queues/q/pause', FULL);
    expect(paused.status).toBe(200);
    expect(json(paused)).toEqual({ name: 'q', paused: true, pausedAt });
    await clock.advance(1000);
    // Idempotent: the first pause's time stays.
    expect(json(await call('POST', '/v1/queues/q/pause', FULL))).toEqual({
      name: 'q',
      paused: true,
      pausedAt,
    });
    expect(json(await call('GET', '/v1/queues/q', READ))).toMatchObject({
      name: 'q',
      paused: true,
      pausedAt,
    });
    expect(json(await call('GET', '/v1/queues', READ))).toMatchObject({
      queues: [{ name: 'q', paused: true, pausedAt }],
    });
    expect(await ms.queues.send('q', 1)).toMatch(/^\d+$/);
    const resumed = await call('POST', '/v1/queues/q/resume', FULL);
    expect(resumed.status).toBe(200);
    expect(json(resumed)).toEqual({ name: 'q', paused: false, pausedAt: null });
    expect(json(await call('POST', '/v1/queues/q/resume', FULL))).toMatchObject({ paused: false });
    expect(json(await call('GET', '/v1/queues/q', FULL))).toMatchObject({ paused: false, pausedAt: null });
    for (const action of ['pause', 'resume']) {
      const missing = await call('POST', `/v1/queues/nope/${action}`, FULL);
      expect(missing.status).toBe(404);
      expect(json(missing)).toMatchObject({ error: { code: 'E_QUEUE_NOT_FOUND' } });
    }
  });

  it_('refuses a read-only token without a full one, or equal to it', async () => {
    const { ms } = await fakeApp(backend);
    for (const tokens of [{ readToken: READ }, { token: FULL, readToken: FULL }]) {
      const err = await buildApi({ ...ms, bodyLimit: 1024, ...tokens }).catch((e: unknown) => e);
      expect(isMainspringError(err) && err.code).toBe('E_CONFIG_INVALID');
      expect((err as Error).message).toContain('MAINSPRING_API_READ_TOKEN');
    }
  });

  it_(
    'serves the page at / without a token, gzipped, with a policy that keeps it on this server',
    async () => {
      const { ms } = await fakeApp(backend);
      const call = await serve(ms, { token: FULL });
      const page = await call('GET', '/', undefined, { 'accept-encoding': 'identity' });
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(page.headers.get('cache-control')).toBe('no-cache');
      const html = page.body.toString();
      const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
      const style = /href="(\/assets\/[^"]+\.css)"/.exec(html)?.[1];
      expect(script && style).toBeTruthy();
      const raw = await call('GET', script!, undefined, { 'accept-encoding': 'gzip' });
      expect(raw.status).toBe(200);
      expect(raw.headers.get('content-encoding')).toBe('gzip');
      expect(raw.headers.get('cache-control')).toContain('immutable');
      expect(raw.headers.get('content-type')).toContain('javascript');
      expect(raw.body.length).toBeGreaterThan(1000);
      expect((await call('GET', style!)).status).toBe(200);
      expect((await call('GET', '/assets/nope.js')).status).toBe(404);
      // Nothing the page loads comes from elsewhere.
      expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    },
  );

  it_('GET /v1/changes sends the marks on connect and again when an area changes', async () => {
    const { ms } = await fakeApp(backend, { queues: [defineQueue({ name: 'q' })] });
    const api = await buildApi({ ...ms, bodyLimit: 1024, token: FULL });
    apis.push(api);
    const { url } = await listenApi(api, { host: '127.0.0.1', port: 0, token: FULL });
    expect((await fetch(`${url}/v1/changes`)).status).toBe(401);
    const stop = new AbortController();
    const res = await fetch(`${url}/v1/changes`, {
      headers: { authorization: `Bearer ${FULL}` },
      signal: stop.signal,
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    const events: Record<string, string>[] = [];
    let buffer = '';
    const next = async () => {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (/^event: changes$/m.test(block) && data) return JSON.parse(data) as Record<string, string>;
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buffer += value;
      }
    };
    events.push(await next());
    expect(Object.keys(events[0]!).sort()).toEqual([
      'events',
      'queues',
      'runs',
      'schedules',
      'tasks',
      'workflows',
    ]);
    await ms.queues.send('q', { n: 1 });
    events.push(await next());
    expect(events[1]!['queues']).not.toBe(events[0]!['queues']);
    expect(events[1]!['runs']).toBe(events[0]!['runs']);
    stop.abort();
  });
});
