// Webhook signature schemes: GitHub, Stripe, Slack and a generic HMAC-SHA256 over
// the raw body (optionally `<timestamp>.<body>`). Each check recomputes the HMAC and
// compares digests of equal length in constant time; a signed timestamp is bounded
// by a tolerance. What the signature covers is what a delivery is deduplicated on:
// an unsigned header could turn a captured request into a "new" delivery.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { MainspringError } from '../../core/errors.ts';

export type WebhookScheme = 'github' | 'stripe' | 'slack' | 'hmac-sha256';

/** One webhook source's settings, as in `config.webhooks[source]`. */
export interface WebhookSourceConfig {
  /** Signature scheme; required with a secret. Without a secret, requests are accepted unsigned. */
  readonly scheme?: WebhookScheme;
  /** The signing secret (read it from the environment in the config: `process.env.GITHUB_WEBHOOK_SECRET`). */
  readonly secret?: string;
  /** `hmac-sha256`: the header holding the hex digest (default `X-Signature`), `sha256=` prefix optional. */
  readonly header?: string;
  /**
   * `hmac-sha256`: a header holding the Unix time in seconds; the digest is then over
   * `<timestamp>.<body>` and requests outside `toleranceSeconds` are refused.
   */
  readonly timestampHeader?: string;
  /** Stripe, Slack and `hmac-sha256` with `timestampHeader`: how old (or early) a signed timestamp may be (default 300 s). */
  readonly toleranceSeconds?: number;
  /** The event's detailType (default `webhook`). */
  readonly detailType?: string;
  /** Request headers kept in the event, under `detail._webhook.headers` (lower-case names). */
  readonly headers?: readonly string[];
  /**
   * Unsigned sources only: a header whose value identifies the delivery (default
   * `idempotency-key`). Signed sources deduplicate on what the signature covers.
   */
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

/** The timestamp as sent, when it is Unix seconds; `where` names it in errors. */
function parseTimestamp(source: string, where: string, raw: string | undefined): string {
  if (raw === undefined || raw === '') throw reject(source, `the signed timestamp (${where}) is missing`);
  if (!/^\d{1,12}$/.test(raw)) {
    const hint = /^\d{13}$/.test(raw) ? ' (it looks like milliseconds)' : '';
    throw reject(
      source,
      `the ${where} timestamp ${JSON.stringify(raw.slice(0, 40))} is not a Unix time in seconds${hint}`,
    );
  }
  return raw;
}

/** Refuses a signed timestamp further than the tolerance from the clock, either way. */
function checkFresh(
  source: string,
  where: string,
  ts: string,
  nowMs: number,
  toleranceSeconds: number,
): void {
  const ageSeconds = Math.round(nowMs / 1000 - Number(ts));
  if (Math.abs(ageSeconds) <= toleranceSeconds) return;
  const off = ageSeconds > 0 ? `${ageSeconds} s old` : `${-ageSeconds} s ahead of now`;
  throw reject(
    source,
    `the ${where} timestamp ${ts} is ${off}, outside the tolerance of ${toleranceSeconds} s (a replayed or delayed request, or a wrong clock on either side; toleranceSeconds sets it)`,
  );
}

export interface Verified {
  /**
   * The hex digest of what the signature covers (undefined for an unsigned source): the
   * same signed content is the same delivery, whatever unsigned headers come with it.
   */
  readonly signed: string | undefined;
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
  if (secret === undefined || secret === '') return { signed: undefined };
  const tolerance = config.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  switch (config.scheme) {
    case 'github': {
      const sig = header(headers, 'x-hub-signature-256');
      if (!sig) throw reject(source, 'the X-Hub-Signature-256 header is missing; the request is not signed');
      const expected = hmac(secret, raw);
      if (!sig.startsWith('sha256=') || !sameDigest(expected, sig.slice(7))) {
        throw reject(
          source,
          'the X-Hub-Signature-256 signature does not match the body and the configured secret',
        );
      }
      // X-GitHub-Delivery is not signed, so it cannot tell a redelivery from a replay.
      return { signed: expected.toString('hex') };
    }
    case 'stripe': {
      const sig = header(headers, 'stripe-signature');
      if (!sig) throw reject(source, 'the Stripe-Signature header is missing; the request is not signed');
      const parts = sig.split(',').map((p) => p.trim().split('=', 2) as [string, string | undefined]);
      const t = parseTimestamp(source, 'Stripe-Signature t=', parts.find(([k]) => k === 't')?.[1]);
      const expected = hmac(secret, `${t}.`, raw);
      const ok = parts.some(([k, v]) => k === 'v1' && v !== undefined && sameDigest(expected, v));
      if (!ok)
        throw reject(
          source,
          'no v1 signature in Stripe-Signature matches the body and the configured secret',
        );
      checkFresh(source, 'Stripe-Signature t=', t, nowMs, tolerance);
      return { signed: expected.toString('hex') };
    }
    case 'slack': {
      const sig = header(headers, 'x-slack-signature');
      if (!sig) throw reject(source, 'the X-Slack-Signature header is missing; the request is not signed');
      const where = 'X-Slack-Request-Timestamp';
      const ts = parseTimestamp(source, where, header(headers, where));
      const expected = hmac(secret, `v0:${ts}:`, raw);
      if (!sig.startsWith('v0=') || !sameDigest(expected, sig.slice(3))) {
        throw reject(
          source,
          'the X-Slack-Signature signature does not match the timestamp, the body and the configured secret',
        );
      }
      checkFresh(source, where, ts, nowMs, tolerance);
      return { signed: expected.toString('hex') };
    }
    case 'hmac-sha256': {
      const name = config.header ?? 'X-Signature';
      const sig = header(headers, name);
      if (!sig) throw reject(source, `the ${name} header is missing; the request is not signed`);
      const hex = sig.startsWith('sha256=') ? sig.slice(7) : sig;
      const tsName = config.timestampHeader;
      if (tsName === undefined) {
        const expected = hmac(secret, raw);
        if (!sameDigest(expected, hex)) {
          throw reject(source, `the ${name} signature does not match the body and the configured secret`);
        }
        return { signed: expected.toString('hex') };
      }
      const tsRaw = header(headers, tsName);
      if (tsRaw === undefined || tsRaw === '') {
        throw reject(
          source,
          `the ${tsName} header is missing; this source signs "<${tsName}>.<body>" and needs the timestamp`,
        );
      }
      const ts = parseTimestamp(source, tsName, tsRaw);
      const expected = hmac(secret, `${ts}.`, raw);
      if (!sameDigest(expected, hex)) {
        throw reject(
          source,
          `the ${name} signature does not match the ${tsName} timestamp, the body and the configured secret (the digest is over "<timestamp>.<body>")`,
        );
      }
      checkFresh(source, tsName, ts, nowMs, tolerance);
      return { signed: expected.toString('hex') };
    }
    default:
      throw reject(source, `has a secret but no known scheme (${JSON.stringify(config.scheme)}); set scheme`);
  }
}

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
  const known = [
    'scheme',
    'secret',
    'header',
    'timestampHeader',
    'toleranceSeconds',
    'detailType',
    'headers',
    'idHeader',
  ];
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
  for (const k of ['header', 'timestampHeader', 'detailType', 'idHeader']) {
    if (c[k] !== undefined && (typeof c[k] !== 'string' || c[k] === ''))
      problems.push(`${where}.${k} must be a non-empty string`);
  }
  const scheme = c['scheme'];
  if (c['timestampHeader'] !== undefined && scheme !== 'hmac-sha256') {
    problems.push(
      `${where}.timestampHeader is only for scheme hmac-sha256 (stripe and slack sign their own timestamp, github signs none); remove it`,
    );
  }
  if (tol !== undefined) {
    if (scheme === 'hmac-sha256' && c['timestampHeader'] === undefined) {
      problems.push(
        `${where}.toleranceSeconds needs timestampHeader: without a signed timestamp there is nothing to bound; set timestampHeader (e.g. 'X-Timestamp') or remove toleranceSeconds`,
      );
    } else if (scheme !== 'hmac-sha256' && scheme !== 'stripe' && scheme !== 'slack') {
      problems.push(
        `${where}.toleranceSeconds has no effect: ${scheme === undefined ? 'an unsigned source' : `scheme ${String(scheme)}`} has no signed timestamp; remove it`,
      );
    }
  }
  if (c['idHeader'] !== undefined && scheme !== undefined) {
    problems.push(
      `${where}.idHeader is not covered by the signature, so a replayed request could claim a new delivery with it; signed sources are deduplicated on what is signed (docs/events.md#webhooks); remove idHeader`,
    );
  }
  if (
    c['headers'] !== undefined &&
    (!Array.isArray(c['headers']) || c['headers'].some((h) => typeof h !== 'string'))
  ) {
    problems.push(`${where}.headers must be a list of header names`);
  }
  return problems;
}
