// notificationWorker (seed: src/notifications.ts): sends each notification on
// notification-queue. In the seed it went out through SES; here the send is a log line
// and the run's result, where a real mailer call would go.

import type { FunctionContext } from 'mainspringjs';

export interface Notification {
  readonly to: string;
  readonly subject: string;
}

export async function sendNotification(
  notification: Notification,
  ctx: FunctionContext,
): Promise<Notification & { sent: true }> {
  ctx.log.info({ to: notification.to, subject: notification.subject }, 'notification sent');
  return { ...notification, sent: true };
}
