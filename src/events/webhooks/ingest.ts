// Turns a verified webhook request into a bus event: source `webhook.<source>`, the
// JSON (or form) body as detail, selected headers under `detail._webhook`, and an id
// derived from the delivery id so a redelivered request stores nothing new. A signed
// source's delivery id comes only from what its signature covers.

import { createHash, randomUUID } from 'node:crypto';
import { MainspringError } from '../../core/errors.ts';
import type { PutEventEntry } from '../event.ts';
import { type Headers, verifyWebhook, type WebhookSourceConfig } from './verify.ts';

function parseBody(source: string, raw: Buffer, contentType: string | undefined): Record<string, unknown> {
  const text = raw.toString('utf8');
  if (contentType?.startsWith('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  if (text.trim() === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch (err) {
    throw new MainspringError(
      'E_EVENT_INVALID',
      `webhook "${source}": the body is not valid JSON (${(err as Error).message}); send JSON or a form`,
      { details: { source } },
    );
  }
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? { ...body } : { body };
}

/** An id the sender put inside the signed body: Stripe's event `id`, Slack's `event_id`. */
function signedBodyId(config: WebhookSourceConfig, body: Record<string, unknown>): string | undefined {
  const field = config.scheme === 'stripe' ? 'id' : config.scheme === 'slack' ? 'event_id' : undefined;
  const v = field === undefined ? undefined : body[field];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function pickHeaders(headers: Headers, names: readonly string[]): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const n of names) {
    const v = headers[n.toLowerCase()];
    if (v !== undefined) kept[n.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return kept;
}

/**
 * Verifies a webhook request and builds its event; throws E_WEBHOOK_SIGNATURE or
 * E_EVENT_INVALID. Nothing is stored here.
 *
 * @example
 * ```ts
 * const entry = webhookEvent('github', config.webhooks.github, req.headers, rawBody, clock.now());
 * await ms.events.ingest(entry);
 * ```
 */
export function webhookEvent(
  source: string,
  config: WebhookSourceConfig,
  headers: Headers,
  raw: Buffer,
  nowMs: number,
): PutEventEntry {
  const { signed } = verifyWebhook(source, config, headers, raw, nowMs);
  const contentType = headers['content-type'];
  const body = parseBody(source, raw, Array.isArray(contentType) ? contentType[0] : contentType);
  let deliveryId: string | undefined;
  if (signed !== undefined) {
    // Stripe and Slack re-sign a retry with a new timestamp; the id in the body stays.
    deliveryId = signedBodyId(config, body) ?? signed;
  } else {
    const idHeader = headers[(config.idHeader ?? 'idempotency-key').toLowerCase()];
    deliveryId = Array.isArray(idHeader) ? idHeader[0] : idHeader;
  }
  const id =
    deliveryId === undefined
      ? randomUUID()
      : `webhook.${source}.${createHash('sha256').update(deliveryId).digest('base64url')}`;
  return {
    id,
    source: `webhook.${source}`,
    detailType: config.detailType ?? 'webhook',
    detail: {
      ...body,
      _webhook: { headers: pickHeaders(headers, config.headers ?? []), deliveryId: deliveryId ?? null },
    },
  };
}
