// Webhook signature schemes: GitHub, Stripe, Slack and a generic HMAC-SHA256 over
// the raw body. Each check recomputes the HMAC and compares digests of equal
// length in constant time; Stripe and Slack also bound the signed timestamp.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { MainspringError } from '../../core/errors.ts';

export type WebhookScheme = 'github' | 'stripe' | 'slack' | 'hmac-sha256';

/** One webhook source's settings, as in `config.webhooks[source]`. */
export interface WebhookSourceConfig {
  /** Signature scheme; required with a secret. Without a secret, requests are accepted unsigned. */
  readonly scheme?: WebhookScheme;
  /** The signing secret (read it from the environment in the config: `process.env.GITHUB_WEBHOOK_SECRET`). */
  readonly secret?: string;
  /** `hmac-sha256`: the header holding the hex digest (default `x-signature`), `sha256=` prefix optional. */
  readonly header?: string;
  /** Stripe and Slack: how old (or early) a signed timestamp may be (default 300 s). */
  readonly toleranceSeconds?: number;
  /** The event's detailType (default `webhook`). */
  readonly detailType?: string;
  /** Request headers kept in the event, under `detail._webhook.headers` (lower-case names). */
  readonly headers?: readonly string[];
  /** A header whose value identifies the delivery (default `idempotency-key`); see docs/events.md. */
  readonly idHeader?: string;
}

export type Headers = Readonly<Record<string, string | string[] | undefined>>;

export const DEFAULT_TOLERANCE_SECONDS = 300;

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function reject(source: string, why: string): MainspringError {
  return new MainspringError('E_WEBHOOK_SIGNATURE', `webhook "${source}": ${why}`, {
    details: { source },
  });
}

function hmac(secret: string, ...parts: (string | Buffer)[]): Buffer {
  const h = createHmac('sha256', secret);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Constant-time comparison of a hex digest with the expected bytes; false when malformed. */
function sameDigest(expected: Buffer, hex: string): boolean {
  if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== expected.length * 2) return false;
  return timingSafeEqual(expected, Buffer.from(hex, 'hex'));
}

function checkTimestamp(
  source: string,
  raw: string | undefined,
  nowMs: number,
  toleranceSeconds: number,
): string {
  if (raw === undefined || !/^\d{1,12}$/.test(raw))
    throw reject(source, 'the signed timestamp is missing or not a number');
  const skew = Math.abs(nowMs / 1000 - Number(raw));
  if (skew > toleranceSeconds) {
    throw reject(
      source,
      `the signed timestamp ${raw} is ${Math.round(skew)} s from now, outside the tolerance of ${toleranceSeconds} s (a replayed or delayed request)`,
    );
  }
  return raw;
}

export interface Verified {
  /** What identifies this delivery for deduplication, when the scheme gives something. */
  readonly deliveryId: string | undefined;
}

/**
 * Checks a request's signature for `source`; throws E_WEBHOOK_SIGNATURE (401) when it is
 * missing or wrong. Without a secret configured, every request passes.
 *
 * @example
 * ```ts
 * verifyWebhook('github', { scheme: 'github', secret }, req.headers, rawBody, Date.now());
 * ```
 */
export function verifyWebhook(
  source: string,
  config: WebhookSourceConfig,
  headers: Headers,
  raw: Buffer,
  nowMs: number,
): Verified {
  const secret = config.secret;
  if (secret === undefined || secret === '') return { deliveryId: undefined };
  const tolerance = config.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  switch (config.scheme) {
    case 'github': {
      const sig = header(headers, 'x-hub-signature-256');
      if (!sig) throw reject(source, 'the X-Hub-Signature-256 header is missing; the request is not signed');
      if (!sig.startsWith('sha256=') || !sameDigest(hmac(secret, raw), sig.slice(7))) {
        throw reject(
          source,
          'the X-Hub-Signature-256 signature does not match the body and the configured secret',
        );
      }
      return { deliveryId: header(headers, 'x-github-delivery') ?? sig };
    }
    case 'stripe': {
      const sig = header(headers, 'stripe-signature');
      if (!sig) throw reject(source, 'the Stripe-Signature header is missing; the request is not signed');
      const parts = sig.split(',').map((p) => p.trim().split('=', 2) as [string, string | undefined]);
      const t = checkTimestamp(source, parts.find(([k]) => k === 't')?.[1], nowMs, tolerance);
      const expected = hmac(secret, `${t}.`, raw);
      const ok = parts.some(([k, v]) => k === 'v1' && v !== undefined && sameDigest(expected, v));
      if (!ok)
        throw reject(
          source,
          'no v1 signature in Stripe-Signature matches the body and the configured secret',
        );
      return { deliveryId: undefined };
    }
    case 'slack': {
      const sig = header(headers, 'x-slack-signature');
      if (!sig) throw reject(source, 'the X-Slack-Signature header is missing; the request is not signed');
      const ts = checkTimestamp(source, header(headers, 'x-slack-request-timestamp'), nowMs, tolerance);
      if (!sig.startsWith('v0=') || !sameDigest(hmac(secret, `v0:${ts}:`, raw), sig.slice(3))) {
        throw reject(
          source,
          'the X-Slack-Signature signature does not match the body and the configured secret',
        );
      }
      return { deliveryId: sig };
    }
    case 'hmac-sha256': {
      const name = config.header ?? 'x-signature';
      const sig = header(headers, name);
      if (!sig) throw reject(source, `the ${name} header is missing; the request is not signed`);
      const hex = sig.startsWith('sha256=') ? sig.slice(7) : sig;
      if (!sameDigest(hmac(secret, raw), hex)) {
        throw reject(source, `the ${name} signature does not match the body and the configured secret`);
      }
      // One delivery however its digest is spelled (case, prefix).
      return { deliveryId: hex.toLowerCase() };
    }
    default:
      throw reject(source, `has a secret but no known scheme (${JSON.stringify(config.scheme)}); set scheme`);
  }
}

/** Checks one source's settings at config load; returns the problems found. */
/**
 * Problems with one webhook source's settings. `requireSecret: false` (a config loaded by a
 * command that serves no webhooks) lets an unset secret pass: only serving needs it.
 */
export function checkWebhookConfig(source: string, config: unknown, requireSecret = true): string[] {
  const where = `webhooks.${source}`;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(source)) {
    return [`${where}: the source name must be 1–64 letters, digits, "-", "_" or "."`];
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    return [
      `${where} must be an object such as { scheme: 'github', secret: process.env.GITHUB_WEBHOOK_SECRET }`,
    ];
  }
  const c = config as Record<string, unknown>;
  const problems: string[] = [];
  const known = ['scheme', 'secret', 'header', 'toleranceSeconds', 'detailType', 'headers', 'idHeader'];
  for (const k of Object.keys(c))
    if (!known.includes(k)) problems.push(`${where}.${k} is not a known setting`);
  const schemes = ['github', 'stripe', 'slack', 'hmac-sha256'];
  if (c['scheme'] !== undefined && !schemes.includes(c['scheme'] as string)) {
    problems.push(`${where}.scheme is ${JSON.stringify(c['scheme'])}; use one of ${schemes.join(', ')}`);
  }
  if (c['secret'] !== undefined && typeof c['secret'] !== 'string') {
    problems.push(`${where}.secret must be a string (is the environment variable set?)`);
  }
  if (typeof c['secret'] === 'string' && c['secret'] !== '' && c['scheme'] === undefined) {
    problems.push(`${where} has a secret but no scheme; set scheme to one of ${schemes.join(', ')}`);
  }
  if (requireSecret && c['scheme'] !== undefined && (c['secret'] === undefined || c['secret'] === '')) {
    problems.push(
      `${where}.secret is ${c['secret'] === '' ? 'empty' : 'missing'}; a scheme needs its signing secret (unset environment variable?)`,
    );
  }
  const tol = c['toleranceSeconds'];
  if (tol !== undefined && (typeof tol !== 'number' || !Number.isInteger(tol) || tol < 1 || tol > 86_400)) {
    problems.push(
      `${where}.toleranceSeconds is ${JSON.stringify(tol)}; use a whole number of seconds from 1 to 86400`,
    );
  }
  for (const k of ['header', 'detailType', 'idHeader']) {
    if (c[k] !== undefined && (typeof c[k] !== 'string' || c[k] === ''))
      problems.push(`${where}.${k} must be a non-empty string`);
  }
  if (
    c['headers'] !== undefined &&
    (!Array.isArray(c['headers']) || c['headers'].some((h) => typeof h !== 'string'))
  ) {
    problems.push(`${where}.headers must be a list of header names`);
  }
  return problems;
}
