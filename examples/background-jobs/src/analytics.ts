// analyticsService (seed: src/analytics.ts, pattern source: [{ prefix: '' }]): every
// event on the bus reaches it: orders, webhooks and file arrivals alike.

import type { FunctionContext } from 'mainspringjs';

export async function recordAnalytics(
  event: { readonly id: string; readonly source: string; readonly detailType: string },
  ctx: FunctionContext,
) {
  ctx.log.info({ eventId: event.id, source: event.source, detailType: event.detailType }, 'event recorded');
  return { eventId: event.id, source: event.source, detailType: event.detailType };
}
