// Request validation errors speak the user's language: each names the field as the user wrote
// it (`query.limit`, `body.entries.1.priority`) and what is allowed, never a schema's regex or
// Ajv's wording, and `details` has one shape: { field, value?, message, issues? }. A body of
// another type than JSON is 415 E_UNSUPPORTED_MEDIA_TYPE (webhook sources take any type).
// A real server over loopback.

import { afterEach, describe, expect, it } from 'vitest';
import { type Api, buildApi, listenApi } from '../../src/api/server.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { defineFunction } from '../../src/runtime/function.ts';
import { fakeApp } from '../helpers/app.ts';
import { BACKENDS, type BackendFixture } from '../helpers/backends.ts';

const apis: Api[] = [];
afterEach(async () => {
  for (const api of apis.splice(0)) await api.close();
});

interface Answer {
  status: number;
  body: { error?: { code: string; message: string; details?: unknown } } & Record<string, unknown>;
}

async function serve(backend: BackendFixture) {
  const { ms } = await fakeApp(backend, {
    queues: [defineQueue({ name: 'orders' })],
    functions: [defineFunction({ name: 'echo', handler: (input: unknown) => input })],
  });
  const api = await buildApi({ ...ms, bodyLimit: 64 * 1024, webhooks: { open: {} } });
  apis.push(api);
  const { url } = await listenApi(api, { host: '127.0.0.1', port: 0 });
  return async (method: string, path: string, body?: unknown, type = 'application/json'): Promise<Answer> => {
    const res = await fetch(`${url}${path}`, {
      method,
      ...(body !== undefined
        ? { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': type } }
        : {}),
    });
    return { status: res.status, body: (await res.json()) as Answer['body'] };
  };
}

const DURATION = 'milliseconds, or a string such as "30s", "5m", "24h"';

/** [what, method, path, body, message, details] */
const CASES: [string, string, string, unknown, string, unknown][] = [
  [
    'a query limit out of range',
    'GET',
    '/v1/runs?limit=0',
    undefined,
    'query.limit must be an integer from 1 to 500 (got "0")',
    { field: 'query.limit', value: '0', message: 'must be an integer from 1 to 500' },
  ],
  [
    'a query limit that is not a number',
    'GET',
    '/v1/queues/orders/dlq?limit=lots',
    undefined,
    'query.limit must be an integer from 1 to 1000 (got "lots")',
    { field: 'query.limit', value: 'lots', message: 'must be an integer from 1 to 1000' },
  ],
  [
    'a body string too long (its value left out)',
    'POST',
    '/v1/locks/deploy',
    { ttl: '30s', owner: 'o'.repeat(201) },
    'body.owner must be 1 to 200 characters',
    { field: 'body.owner', message: 'must be 1 to 200 characters' },
  ],
  [
    'a path id too long',
    'GET',
    `/v1/runs/${'r'.repeat(129)}`,
    undefined,
    'params.id must be 1 to 128 characters',
    { field: 'params.id', message: 'must be 1 to 128 characters' },
  ],
  [
    'an enum miss',
    'GET',
    '/v1/runs?trigger=cron',
    undefined,
    'query.trigger must be one of manual, queue, event, schedule, task, webhook (got "cron")',
    {
      field: 'query.trigger',
      value: 'cron',
      message: 'must be one of manual, queue, event, schedule, task, webhook',
    },
  ],
  [
    'a comma-separated list with an unknown status',
    'GET',
    '/v1/executions?status=running,done',
    undefined,
    'query.status must be one or more of running, waiting, succeeded, failed, stopped, timed_out, separated by commas (got "running,done")',
    {
      field: 'query.status',
      value: 'running,done',
      message:
        'must be one or more of running, waiting, succeeded, failed, stopped, timed_out, separated by commas',
    },
  ],
  [
    'a wrong type in a body (a duration)',
    'POST',
    '/v1/queues/orders/messages',
    { body: { n: 1 }, delay: true },
    `body.delay must be ${DURATION} (got true)`,
    { field: 'body.delay', value: true, message: `must be ${DURATION}` },
  ],
  [
    'a wrong type inside a list in a body',
    'POST',
    '/v1/queues/orders/messages/batch',
    { entries: [{ body: 1 }, { body: 2, priority: 'high' }] },
    'body.entries.1.priority must be an integer (got "high")',
    { field: 'body.entries.1.priority', value: 'high', message: 'must be an integer' },
  ],
  [
    'a missing required field',
    'POST',
    '/v1/locks/deploy',
    {},
    `body.ttl is required; give ${DURATION}`,
    { field: 'body.ttl', message: `is required; give ${DURATION}` },
  ],
  [
    'an additional property',
    'POST',
    '/v1/queues/orders/messages',
    { body: 1, dealy: '5s' },
    'body.dealy is not a known field; the known fields are body, delay, priority, dedupKey, groupId, debounce, throttle (got "5s")',
    {
      field: 'body.dealy',
      value: '5s',
      message:
        'is not a known field; the known fields are body, delay, priority, dedupKey, groupId, debounce, throttle',
    },
  ],
  [
    'a body that is not an object',
    'POST',
    '/v1/queues/orders/messages/batch',
    [1, 2],
    'body must be a JSON object (got [1,2])',
    { field: 'body', value: [1, 2], message: 'must be a JSON object' },
  ],
];

describe.each(BACKENDS)('validation messages on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_.each(CASES)('%s', async (_what, method, path, body, message, details) => {
    const call = await serve(backend);
    const res = await call(method, path, body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { code: 'E_VALIDATION', message, details } });
  });

  it_('several problems: the first in details, every one in details.issues', async () => {
    const call = await serve(backend);
    const res = await call('GET', '/v1/runs?limit=501&trigger=cron');
    expect(res.status).toBe(400);
    const limit = { field: 'query.limit', value: '501', message: 'must be an integer from 1 to 500' };
    const trigger = {
      field: 'query.trigger',
      value: 'cron',
      message: 'must be one of manual, queue, event, schedule, task, webhook',
    };
    const issues = (res.body.error!.details as { issues: unknown[] }).issues;
    expect(issues).toHaveLength(2);
    expect(issues).toEqual(expect.arrayContaining([limit, trigger]));
    expect(res.body.error?.details).toEqual({ ...issues[0]!, issues });
    expect(res.body.error?.message).toContain('query.limit must be an integer from 1 to 500 (got "501")');
    expect(res.body.error?.message).toContain('query.trigger must be one of manual');
  });

  it_('a batch of 30 bad entries lists 20 problems and counts the rest', async () => {
    const call = await serve(backend);
    const entries = Array.from({ length: 30 }, () => ({ body: 1, priority: 'high' }));
    const res = await call('POST', '/v1/queues/orders/messages/batch', { entries });
    expect(res.status).toBe(400);
    const details = res.body.error!.details as { field: string; issues: { field: string }[] };
    expect(details.field).toBe('body.entries.0.priority');
    expect(details.issues.map((i) => i.field)).toEqual(
      Array.from({ length: 20 }, (_, i) => `body.entries.${i}.priority`),
    );
    expect(res.body.error!.message).toMatch(/; and 10 more like these$/);
  });

  it_('a value nested 30,000 deep is named, not shown (and not recursed into)', async () => {
    const call = await serve(backend);
    const deep = `${'['.repeat(30_000)}${']'.repeat(30_000)}`;
    const res = await call('POST', '/v1/locks/deploy', `{"ttl":${deep}}`);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: {
        code: 'E_VALIDATION',
        message: `body.ttl must be ${DURATION}`,
        details: { field: 'body.ttl', message: `must be ${DURATION}` },
      },
    });
  });

  it_('no validation message shows a pattern or Ajv wording', async () => {
    const call = await serve(backend);
    for (const path of [
      '/v1/runs?limit=x',
      '/v1/runs?status=x',
      '/v1/runs/r/logs?afterSeq=x',
      '/v1/executions?limit=x',
      '/v1/tasks?limit=x',
      '/v1/schedules?limit=x',
      '/v1/queues/orders/dlq?after=x',
    ]) {
      const res = await call('GET', path);
      expect(res.status, path).toBe(400);
      const text = JSON.stringify(res.body);
      expect(text, path).not.toMatch(/must match pattern|\^|\$"|\[0-9\]|must have required|must NOT/);
      expect((res.body.error!.details as { field: string }).field, path).toMatch(/^(query|params)\./);
    }
  });

  it_('the other E_VALIDATION errors have the same details shape', async () => {
    const call = await serve(backend);
    const late = encodeURIComponent('9999-12-31T23:59:59-14:00');
    const filter = await call('GET', `/v1/runs?from=${late}`);
    expect(filter.body.error).toMatchObject({
      code: 'E_VALIDATION',
      details: { field: 'query.from', value: '9999-12-31T23:59:59-14:00', message: expect.any(String) },
    });
    const notJson = await call('POST', '/v1/queues/orders/messages', '{"body":');
    expect(notJson.body.error).toMatchObject({
      code: 'E_VALIDATION',
      details: { field: 'body', message: 'is not valid JSON' },
    });
    const nul = await call('GET', '/v1/runs/a%00b');
    expect(nul.body.error).toMatchObject({ code: 'E_VALIDATION', details: { field: 'params.id' } });
    // The engine's own check of a value (a duration it cannot read), named as the request wrote it.
    const ttl = await call('POST', '/v1/locks/deploy', { ttl: 'soon' });
    expect(ttl.body.error).toEqual({
      code: 'E_VALIDATION',
      message: `body.ttl is "soon": cannot read "soon"; give milliseconds as a number or a string such as '30s', '5m', '24h'`,
      details: {
        field: 'body.ttl',
        value: 'soon',
        message: `is "soon": cannot read "soon"; give milliseconds as a number or a string such as '30s', '5m', '24h'`,
      },
    });
    const release = await call('DELETE', '/v1/locks/deploy');
    expect(release.body.error).toMatchObject({ code: 'E_VALIDATION', details: { field: 'query.token' } });
  });

  it_('a body of another type is 415 naming the type received and the one accepted', async () => {
    const call = await serve(backend);
    for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded']) {
      const res = await call('POST', '/v1/queues/orders/messages', '{"body":1}', type);
      expect(res.status, type).toBe(415);
      expect(res.body, type).toEqual({
        error: {
          code: 'E_UNSUPPORTED_MEDIA_TYPE',
          message: `the body's Content-Type is "${type}", which this route does not take; send JSON with Content-Type: application/json`,
          details: { field: 'headers.content-type', value: type, accepted: ['application/json'] },
        },
      });
    }
    // JSON with a charset is JSON.
    const ok = await call(
      'POST',
      '/v1/queues/orders/messages',
      '{"body":1}',
      'application/json; charset=utf-8',
    );
    expect(ok.status).toBe(201);
    // A webhook source takes any type, as before.
    const hook = await call('POST', '/v1/webhooks/open', '{"a":1}', 'text/plain');
    expect(hook.status).toBe(200);
    expect(hook.body).toMatchObject({ eventId: expect.any(String) });
  });
});
