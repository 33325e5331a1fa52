// Replayed webhooks over real HTTP (a listening server on loopback): a signed source
// deduplicates on what its signature covers, never on an unsigned header, so the same
// signed request sent again with another Idempotency-Key or X-GitHub-Delivery is
// answered as a duplicate and stored once. The generic scheme can sign a timestamp
// (`<timestamp>.<body>`), bounded by a tolerance measured with the injected clock.

import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/server.ts';
import { createMainspring } from '../../src/app.ts';
import { validateConfig } from '../../src/config.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { defineRule } from '../../src/events/rules-define.ts';
import type { WebhookSourceConfig } from '../../src/events/webhooks/verify.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { tempDir } from '../helpers/backends.ts';

const SECRET = 'whsec_replay';
const sign = (...parts: string[]) => {
  const h = createHmac('sha256', SECRET);
  for (const p of parts) h.update(p);
  return h.digest('hex');
};
const NOW = '2026-07-01T12:00:00Z';
const nowS = Date.parse(NOW) / 1000;
const body = JSON.stringify({ order: 'o-1', total: 250 });

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function serve(webhooks: Record<string, WebhookSourceConfig>) {
  const clock = new FakeClock(NOW);
  const inbox = defineQueue({ name: 'inbox' });
  const ms = await createMainspring({
    db: `sqlite:${tempDir()}/replay.db`,
    clock,
    queues: [inbox],
    rules: [defineRule({ name: 'hooks', pattern: { source: [{ prefix: 'webhook.' }] }, targets: [inbox] })],
  });
  closers.push(() => ms.close());
  const api = await buildApi({ ...ms, bodyLimit: 1024 * 1024, webhooks });
  await api.listen({ port: 0, host: '127.0.0.1' });
  closers.push(() => api.close());
  const { port } = api.server.address() as AddressInfo;
  const post = async (source: string, headers: Record<string, string>, payload = body) => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/webhooks/${source}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: payload,
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const stored = async () => (await ms.queues.stats('inbox')).counts.visible;
  return { clock, post, stored };
}

describe('webhook replays', () => {
  it('generic HMAC without a timestamp: a replay with another Idempotency-Key is a duplicate', async () => {
    const { post, stored } = await serve({ custom: { scheme: 'hmac-sha256', secret: SECRET } });
    const first = await post('custom', { 'x-signature': sign(body), 'idempotency-key': 'k-1' });
    expect(first).toMatchObject({ status: 200, json: { duplicate: false } });
    const replay = await post('custom', { 'x-signature': sign(body), 'idempotency-key': 'k-2' });
    expect(replay).toEqual({ status: 200, json: { eventId: first.json['eventId'], duplicate: true } });
    expect(await stored()).toBe(1);
  });

  it('generic HMAC with a signed timestamp: replays are duplicates, tampered, stale and future ones refused', async () => {
    const { clock, post, stored } = await serve({
      custom: { scheme: 'hmac-sha256', secret: SECRET, timestampHeader: 'X-Timestamp' },
    });
    const ts = String(nowS);
    const signed = { 'x-timestamp': ts, 'x-signature': sign(`${ts}.`, body) };
    const first = await post('custom', { ...signed, 'idempotency-key': 'k-1' });
    expect(first).toMatchObject({ status: 200, json: { duplicate: false } });
    const replay = await post('custom', { ...signed, 'idempotency-key': 'k-2' });
    expect(replay).toEqual({ status: 200, json: { eventId: first.json['eventId'], duplicate: true } });

    // The timestamp is signed: moving it breaks the signature.
    const tampered = await post('custom', { ...signed, 'x-timestamp': String(nowS + 1) });
    expect(tampered.status).toBe(401);
    expect(tampered.json).toEqual({
      error: {
        code: 'E_WEBHOOK_SIGNATURE',
        message: expect.stringMatching(
          /X-Signature signature does not match the X-Timestamp timestamp, the body/,
        ),
        details: { source: 'custom' },
      },
    });
    // Body-only signatures (the scheme without a timestamp) are not accepted either.
    expect((await post('custom', { 'x-timestamp': ts, 'x-signature': sign(body) })).status).toBe(401);
    const missing = await post('custom', { 'x-signature': sign(`${ts}.`, body) });
    expect(missing).toMatchObject({
      status: 401,
      json: {
        error: {
          code: 'E_WEBHOOK_SIGNATURE',
          message: expect.stringMatching(/X-Timestamp header is missing/),
        },
      },
    });
    const millis = String(nowS * 1000);
    const inMs = await post('custom', { 'x-timestamp': millis, 'x-signature': sign(`${millis}.`, body) });
    expect(inMs.json).toMatchObject({ error: { message: expect.stringMatching(/Unix time in seconds/) } });

    const future = String(nowS + 301);
    const early = await post('custom', { 'x-timestamp': future, 'x-signature': sign(`${future}.`, body) });
    expect(early).toMatchObject({
      status: 401,
      json: {
        error: { message: expect.stringMatching(/X-Timestamp .*301 s ahead of now.*tolerance of 300 s/) },
      },
    });

    await clock.advance(301_000);
    const stale = await post('custom', { ...signed, 'idempotency-key': 'k-3' });
    expect(stale).toMatchObject({
      status: 401,
      json: {
        error: {
          code: 'E_WEBHOOK_SIGNATURE',
          message: expect.stringMatching(/X-Timestamp .*301 s old.*tolerance of 300 s/),
        },
      },
    });
    expect(await stored()).toBe(1);
  });

  it('a timestamp within a configured tolerance is accepted, measured with the injected clock', async () => {
    const { clock, post, stored } = await serve({
      custom: { scheme: 'hmac-sha256', secret: SECRET, timestampHeader: 'X-Timestamp', toleranceSeconds: 60 },
    });
    const ts = String(nowS);
    await clock.advance(60_000);
    expect((await post('custom', { 'x-timestamp': ts, 'x-signature': sign(`${ts}.`, body) })).status).toBe(
      200,
    );
    await clock.advance(1_000);
    const late = await post('custom', { 'x-timestamp': ts, 'x-signature': sign(`${ts}.`, body) });
    expect(late.json).toMatchObject({ error: { message: expect.stringMatching(/tolerance of 60 s/) } });
    expect(await stored()).toBe(1);
  });

  it('GitHub: a replay with another X-GitHub-Delivery is a duplicate', async () => {
    const { post, stored } = await serve({
      github: { scheme: 'github', secret: SECRET, headers: ['X-GitHub-Delivery'] },
    });
    const sig = { 'x-hub-signature-256': `sha256=${sign(body)}` };
    const first = await post('github', { ...sig, 'x-github-delivery': 'd-1' });
    expect(first).toMatchObject({ status: 200, json: { duplicate: false } });
    const replay = await post('github', { ...sig, 'x-github-delivery': 'd-2', 'idempotency-key': 'x' });
    expect(replay).toEqual({ status: 200, json: { eventId: first.json['eventId'], duplicate: true } });
    expect(await stored()).toBe(1);
  });

  it('Slack: a retry re-signed with a new timestamp is the same event_id, stored once', async () => {
    const { clock, post, stored } = await serve({ slack: { scheme: 'slack', secret: SECRET } });
    const event = JSON.stringify({ type: 'event_callback', event_id: 'Ev01', event: { type: 'message' } });
    const slackSig = (ts: string) => ({
      'x-slack-request-timestamp': ts,
      'x-slack-signature': `v0=${sign(`v0:${ts}:`, event)}`,
    });
    const first = await post('slack', slackSig(String(nowS)), event);
    expect(first).toMatchObject({ status: 200, json: { duplicate: false } });
    await clock.advance(60_000);
    const retry = await post('slack', { ...slackSig(String(nowS + 60)), 'x-slack-retry-num': '1' }, event);
    expect(retry).toEqual({ status: 200, json: { eventId: first.json['eventId'], duplicate: true } });
    expect(await stored()).toBe(1);
  });

  it('Stripe: another Idempotency-Key does not make a new delivery (the signed event id does)', async () => {
    const { post, stored } = await serve({ stripe: { scheme: 'stripe', secret: SECRET } });
    const event = JSON.stringify({ id: 'evt_1', type: 'charge.succeeded' });
    const sig = { 'stripe-signature': `t=${nowS},v1=${sign(`${nowS}.`, event)}` };
    const first = await post('stripe', { ...sig, 'idempotency-key': 'k-1' }, event);
    const replay = await post('stripe', { ...sig, 'idempotency-key': 'k-2' }, event);
    expect(replay.json).toEqual({ eventId: first.json['eventId'], duplicate: true });
    expect(await stored()).toBe(1);
  });

  it('unsigned sources still take the delivery id from Idempotency-Key', async () => {
    const { post, stored } = await serve({ open: {} });
    const a = await post('open', { 'idempotency-key': 'k-1' });
    expect((await post('open', { 'idempotency-key': 'k-1' })).json).toEqual({
      eventId: a.json['eventId'],
      duplicate: true,
    });
    expect((await post('open', { 'idempotency-key': 'k-2' })).json).toMatchObject({ duplicate: false });
    expect(await stored()).toBe(2);
  });
});

describe('webhook replay settings', () => {
  it('refuses settings the scheme cannot honour, naming the field and the fix', () => {
    const load = (settings: Record<string, unknown>) => () =>
      validateConfig({ webhooks: { src: settings } }, 'config');
    expect(load({ scheme: 'stripe', secret: 'x', timestampHeader: 'X-Timestamp' })).toThrow(
      /webhooks\.src\.timestampHeader is only for scheme hmac-sha256/,
    );
    expect(load({ scheme: 'hmac-sha256', secret: 'x', toleranceSeconds: 60 })).toThrow(
      /webhooks\.src\.toleranceSeconds needs timestampHeader/,
    );
    expect(load({ scheme: 'github', secret: 'x', idHeader: 'X-GitHub-Delivery' })).toThrow(
      /webhooks\.src\.idHeader is not covered by the signature/,
    );
    expect(load({ scheme: 'hmac-sha256', secret: 'x', timestampHeader: '' })).toThrow(
      /webhooks\.src\.timestampHeader must be a non-empty string/,
    );
    expect(
      validateConfig(
        {
          webhooks: {
            src: { scheme: 'hmac-sha256', secret: 'x', timestampHeader: 'X-Timestamp', toleranceSeconds: 60 },
          },
        },
        'config',
      ).webhooks?.['src'],
    ).toMatchObject({ timestampHeader: 'X-Timestamp' });
  });
});
