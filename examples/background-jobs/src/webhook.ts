// webhookReceiver (seed: src/webhook.ts at POST /webhooks/{provider}): mainspring checks
// each request's signature at POST /v1/webhooks/<provider> and stores it as an event with
// source "webhook.<provider>"; the rule "webhooks" hands it to this function, which turns
// it into a notification and puts that on notification-queue for the notification worker.

import type { FunctionContext } from 'mainspringjs';
import type { Notification } from './notifications.ts';

export const NOTIFICATION_QUEUE = 'notification-queue';

/** What the rule delivers: the webhook as a bus event. */
export interface WebhookEvent {
  readonly id: string;
  readonly source: string;
  readonly detail: Record<string, unknown> & {
    readonly _webhook: {
      readonly headers: Readonly<Record<string, string>>;
      readonly deliveryId: string | null;
    };
  };
}

export interface ReceiveResult {
  readonly provider: string;
  /** The notification's message id, or null when the webhook needs none. */
  readonly messageId: string | null;
}

export async function receiveWebhook(event: WebhookEvent, ctx: FunctionContext): Promise<ReceiveResult> {
  const provider = event.source.replace(/^webhook\./, '');
  const notification = toNotification(provider, event.detail);
  if (notification === null) {
    ctx.log.info({ provider }, 'webhook needs no notification');
    return { provider, messageId: null };
  }
  // A rule delivers at least once; the event id as dedup key keeps a retry from mailing twice.
  const messageId = await ctx.queues.send(NOTIFICATION_QUEUE, notification, { dedupKey: event.id });
  ctx.log.info({ provider, messageId, to: notification.to }, 'notification queued');
  return { provider, messageId };
}

type Detail = WebhookEvent['detail'];

function toNotification(provider: string, detail: Detail): Notification | null {
  if (provider === 'github') {
    const kind = detail._webhook.headers['x-github-event'];
    const repo = (detail['repository'] as { full_name?: string } | undefined)?.full_name ?? 'a repository';
    const pusher = detail['pusher'] as { email?: string } | undefined;
    if (kind !== 'push' || pusher?.email === undefined) return null;
    const commits = Array.isArray(detail['commits']) ? detail['commits'].length : 0;
    return { to: pusher.email, subject: `${commits} commit(s) pushed to ${repo}` };
  }
  if (provider === 'stripe') {
    const object = (detail['data'] as { object?: Record<string, unknown> } | undefined)?.object;
    const email = object?.['receipt_email'];
    if (detail['type'] !== 'payment_intent.succeeded' || typeof email !== 'string') return null;
    const amount = Number(object?.['amount'] ?? 0) / 100;
    const currency = String(object?.['currency'] ?? '').toUpperCase();
    return { to: email, subject: `Payment received: ${amount.toFixed(2)} ${currency}` };
  }
  return null;
}
