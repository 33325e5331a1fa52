// emailService (seed: src/send-emails.ts): the rule "email-service" delivers the order
// service's OrderCreated and OrderShipped events here.

import type { FunctionContext } from 'mainspringjs';

export interface OrderEvent {
  readonly id: string;
  readonly source: string;
  readonly detailType: string;
  readonly detail: { readonly orderId: string; readonly userId?: number | string };
}

const TEMPLATES: Record<string, string> = {
  OrderCreated: 'order-confirmation',
  OrderShipped: 'shipping-notice',
};

export async function sendEmails(event: OrderEvent, ctx: FunctionContext) {
  const template = TEMPLATES[event.detailType] ?? 'order-update';
  ctx.log.info({ orderId: event.detail.orderId, template }, 'order e-mail sent');
  return { orderId: event.detail.orderId, template };
}
