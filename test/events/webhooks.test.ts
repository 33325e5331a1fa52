// Webhook ingress through the HTTP API in-process: each signature scheme accepts a
// correctly signed request and rejects a wrong or missing signature (storing
// nothing); Stripe and Slack refuse stale timestamps; a redelivery is stored once.

import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/server.ts';
import { createMainspring } from '../../src/app.ts';
import { validateConfig } from '../../src/config.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { defineRule } from '../../src/events/rules-define.ts';
import type { WebhookSourceConfig } from '../../src/events/webhooks/verify.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { tempDir } from '../helpers/backends.ts';

const SECRET = 'whsec_test';
const hex = (...parts: string[]) => {
  const h = createHmac('sha256', SECRET);
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

async function setup(
  webhooks: Record<string, WebhookSourceConfig>,
  options: { token?: string; bodyLimit?: number } = {},
) {
  const clock = new FakeClock('2026-07-01T12:00:00Z');
  const inbox = defineQueue({ name: 'inbox' });
  const ms = await createMainspring({
    db: `sqlite:${tempDir()}/webhooks.db`,
    clock,
    queues: [inbox],
    rules: [defineRule({ name: 'hooks', pattern: { source: [{ prefix: 'webhook.' }] }, targets: [inbox] })],
  });
  const api = await buildApi({
    ...ms,
    token: options.token,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    webhooks,
  });
  const stored = async () => (await ms.queues.stats('inbox')).counts.visible;
  return { api, clock, ms, stored };
}

const nowS = () => String(Date.parse('2026-07-01T12:00:00Z') / 1000);
const body = JSON.stringify({ id: 'evt_1', action: 'opened', n: 1 });

describe('webhooks', () => {
  it('GitHub: accepts X-Hub-Signature-256, keeps chosen headers, stores a redelivery once; rejects wrong and unsigned', async () => {
    const { api, ms, stored } = await setup({
      github: { scheme: 'github', secret: SECRET, detailType: 'github', headers: ['X-GitHub-Event'] },
    });
    const headers = {
      'content-type': 'application/json',
      'x-hub-signature-256': `sha256=${hex(body)}`,
      'x-github-delivery': 'd-1',
      'x-github-event': 'pull_request',
    };
    const ok = await api.inject({ method: 'POST', url: '/v1/webhooks/github', headers, payload: body });
    expect(ok.statusCode).toBe(200);
    const { eventId, duplicate } = ok.json() as { eventId: string; duplicate: boolean };
    expect(duplicate).toBe(false);
    expect(await ms.events.get(eventId)).toMatchObject({
      source: 'webhook.github',
      detailType: 'github',
      detail: {
        action: 'opened',
        n: 1,
        // X-GitHub-Delivery is not signed: the delivery is what the signature covers.
        _webhook: { headers: { 'x-github-event': 'pull_request' }, deliveryId: hex(body) },
      },
    });
    const again = await api.inject({ method: 'POST', url: '/v1/webhooks/github', headers, payload: body });
    expect(again.json()).toEqual({ eventId, duplicate: true });
    const wrong = await api.inject({
      method: 'POST',
      url: '/v1/webhooks/github',
      headers: { ...headers, 'x-github-delivery': 'd-2', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` },
      payload: body,
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({
      error: { code: 'E_WEBHOOK_SIGNATURE', message: expect.stringMatching(/does not match/) },
    });
    const tampered = await api.inject({
      method: 'POST',
      url: '/v1/webhooks/github',
      headers: { ...headers, 'x-github-delivery': 'd-3' },
      payload: body.replace('1', '2'),
    });
    expect(tampered.statusCode).toBe(401);
    const unsigned = await api.inject({
      method: 'POST',
      url: '/v1/webhooks/github',
      headers: { 'content-type': 'application/json', 'x-github-delivery': 'd-4' },
      payload: body,
    });
    expect(unsigned.statusCode).toBe(401);
    expect(unsigned.json()).toMatchObject({ error: { message: expect.stringMatching(/header is missing/) } });
    expect(await stored()).toBe(1);
  });

  it('Stripe: accepts a signed timestamp within tolerance, rejects a stale one and a wrong signature', async () => {
    const { api, clock, stored } = await setup({
      stripe: { scheme: 'stripe', secret: SECRET, toleranceSeconds: 300 },
    });
    const t = nowS();
    const send = (sig: string, payload = body) =>
      api.inject({
        method: 'POST',
        url: '/v1/webhooks/stripe',
        headers: { 'content-type': 'application/json', 'stripe-signature': sig },
        payload,
      });
    const ok = await send(`t=${t},v1=${'f'.repeat(64)},v1=${hex(`${t}.`, body)}`);
    expect(ok.statusCode).toBe(200);
    // Stripe's event id identifies the delivery: the same event again is stored once.
    const again = await send(`t=${t},v1=${hex(`${t}.`, body)}`);
    expect(again.json()).toMatchObject({ duplicate: true });
    const wrong = await send(`t=${t},v1=${hex(`${t}.`, '{}')}`);
    expect(wrong.statusCode).toBe(401);
    await clock.advance(301_000);
    const stale = await send(`t=${t},v1=${hex(`${t}.`, body)}`);
    expect(stale.statusCode).toBe(401);
    expect(stale.json()).toMatchObject({
      error: {
        code: 'E_WEBHOOK_SIGNATURE',
        message: expect.stringMatching(/outside the tolerance of 300 s/),
      },
    });
    expect((await send('v1=abc')).statusCode).toBe(401);
    expect(await stored()).toBe(1);
  });

  it('Slack: accepts v0 signatures with a fresh timestamp, rejects stale, wrong and unsigned', async () => {
    const { api, clock, stored } = await setup({ slack: { scheme: 'slack', secret: SECRET } });
    const ts = nowS();
    const send = (headers: Record<string, string>, payload = body) =>
      api.inject({
        method: 'POST',
        url: '/v1/webhooks/slack',
        headers: { 'content-type': 'application/json', ...headers },
        payload,
      });
    const good = { 'x-slack-request-timestamp': ts, 'x-slack-signature': `v0=${hex(`v0:${ts}:`, body)}` };
    expect((await send(good)).statusCode).toBe(200);
    expect((await send({ ...good, 'x-slack-signature': `v0=${hex(`v0:${ts}:`, '{}')}` })).statusCode).toBe(
      401,
    );
    expect((await send({ 'x-slack-request-timestamp': ts })).statusCode).toBe(401);
    await clock.advance(6 * 60_000);
    const stale = await send(good);
    expect(stale.statusCode).toBe(401);
    expect(stale.json()).toMatchObject({
      error: { message: expect.stringMatching(/outside the tolerance/) },
    });
    expect(await stored()).toBe(1);
  });

  it('generic HMAC-SHA256: a configured header with the hex digest of the raw body', async () => {
    const { api, stored } = await setup({
      custom: { scheme: 'hmac-sha256', secret: SECRET, header: 'X-Signature' },
    });
    const send = (sig: string | undefined, payload = body) =>
      api.inject({
        method: 'POST',
        url: '/v1/webhooks/custom',
        headers: { 'content-type': 'application/json', ...(sig ? { 'x-signature': sig } : {}) },
        payload,
      });
    expect((await send(hex(body))).statusCode).toBe(200);
    expect((await send(`sha256=${hex(body)}`)).json()).toMatchObject({ duplicate: true });
    expect((await send(hex(body).slice(0, 10))).statusCode).toBe(401);
    expect((await send(hex('x'))).statusCode).toBe(401);
    expect((await send(undefined)).statusCode).toBe(401);
    expect(await stored()).toBe(1);
  });

  it('unsigned sources, unknown sources, malformed JSON, forms and the body limit', async () => {
    const { api, ms, stored } = await setup({ open: {} }, { bodyLimit: 2048 });
    const ok = await api.inject({
      method: 'POST',
      url: '/v1/webhooks/open',
      headers: { 'content-type': 'application/json' },
      payload: '[1,2]',
    });
    expect(ok.statusCode).toBe(200);
    expect((await ms.events.get((ok.json() as { eventId: string }).eventId)).detail).toMatchObject({
      body: [1, 2],
    });
    const form = await api.inject({
      method: 'POST',
      url: '/v1/webhooks/open',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'a=1&b=two',
    });
    expect((await ms.events.get((form.json() as { eventId: string }).eventId)).detail).toMatchObject({
      a: '1',
      b: 'two',
    });
    const unknown = await api.inject({
      method: 'POST',
      url: '/v1/webhooks/nope',
      payload: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: { code: 'E_WEBHOOK_NOT_FOUND' } });
    const bad = await api.inject({
      method: 'POST',
      url: '/v1/webhooks/open',
      headers: { 'content-type': 'application/json' },
      payload: '{"a":',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({
      error: { code: 'E_EVENT_INVALID', message: expect.stringMatching(/not valid JSON/) },
    });
    const big = await api.inject({
      method: 'POST',
      url: '/v1/webhooks/open',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ x: 'y'.repeat(4096) }),
    });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({ error: { code: 'E_PAYLOAD_TOO_LARGE' } });
    expect(await stored()).toBe(2);
  });

  it('signed sources need no API token; unsigned ones and the events API do', async () => {
    const { api } = await setup({ gh: { scheme: 'github', secret: SECRET }, open: {} }, { token: 't0k' });
    const signed = await api.inject({
      method: 'POST',
      url: '/v1/webhooks/gh',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${hex(body)}` },
      payload: body,
    });
    expect(signed.statusCode).toBe(200);
    const open = await api.inject({
      method: 'POST',
      url: '/v1/webhooks/open',
      headers: { 'content-type': 'application/json' },
      payload: body,
    });
    expect(open.statusCode).toBe(401);
    expect(open.json()).toMatchObject({ error: { code: 'E_UNAUTHORIZED' } });
    const put = await api.inject({ method: 'POST', url: '/v1/events', payload: { entries: [] } });
    expect(put.statusCode).toBe(401);
  });

  it('config: a scheme without its secret, a secret without a scheme, unknown settings', () => {
    expect(() =>
      validateConfig({ webhooks: { gh: { scheme: 'github', secret: undefined } } }, 'config'),
    ).toThrow(/webhooks\.gh\.secret is missing; a scheme needs its signing secret/);
    expect(() => validateConfig({ webhooks: { gh: { secret: 'x' } } }, 'config')).toThrow(
      /has a secret but no scheme/,
    );
    expect(() => validateConfig({ webhooks: { gh: { scheme: 'gitlab', secret: 'x' } } }, 'config')).toThrow(
      /webhooks\.gh\.scheme is "gitlab"/,
    );
    expect(() => validateConfig({ webhooks: { gh: { sekret: 'x' } } }, 'config')).toThrow(
      /webhooks\.gh\.sekret is not a known setting/,
    );
  });
});

describe('POST /v1/events', () => {
  it('answers per entry, and replays', async () => {
    const { api } = await setup({});
    const res = await api.inject({
      method: 'POST',
      url: '/v1/events',
      payload: {
        entries: [
          { source: 'a', detailType: 'b', detail: {}, time: '2026-07-01T11:00:00Z' },
          { source: 'a' },
        ],
      },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      failedEntryCount: 1,
      entries: [{ eventId: expect.any(String) }, { errorCode: 'E_EVENT_INVALID' }],
    });
    const got = await api.inject(
      `/v1/events/${(res.json() as { entries: { eventId: string }[] }).entries[0]!.eventId}`,
    );
    expect(got.json()).toMatchObject({ source: 'a', detailType: 'b', time: '2026-07-01T11:00:00.000Z' });
    const replay = await api.inject({
      method: 'POST',
      url: '/v1/events/replay',
      payload: { from: '2026-07-01T00:00:00Z', to: '2026-07-02T00:00:00Z' },
    });
    expect(replay.json()).toMatchObject({ events: 1, deliveries: 0 });
    const bad = await api.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': 'application/json' },
      payload: '{"entries": [',
    });
    expect(bad.statusCode).toBe(400);
    expect((await api.inject('/v1/events/missing')).statusCode).toBe(404);
  });
});

describe('config: events', () => {
  it('takes a retention duration and refuses a bad one', () => {
    expect(validateConfig({ events: { retention: '7d' } }, 'config').events?.retention).toBe('7d');
    expect(() => validateConfig({ events: { retention: 'a week' } }, 'config')).toThrow(/events\.retention/);
    expect(() => validateConfig({ events: { keep: 1 } }, 'config')).toThrow(
      /events\.keep is not a known setting/,
    );
  });
});
