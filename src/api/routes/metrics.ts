// GET /metrics: Prometheus text exposition of this process's metrics (and the
// store's queue depth). Behind the API token like every route but /healthz; give
// Prometheus the token with `authorization: { credentials: … }` in its scrape config.

import { OPERATIONS } from '../schemas.ts';
import type { Api, ApiDeps } from '../types.ts';

export function metricsRoutes(app: Api, { metrics }: ApiDeps): void {
  app.get(
    '/metrics',
    {
      schema: {
        ...OPERATIONS.getMetrics.schema,
        summary: 'Prometheus metrics',
        description:
          'Runs started and finished, run durations, schedule lateness, failed deliveries, queue depth and the age of the oldest message, in the Prometheus text format.',
        tags: ['metrics'],
        produces: ['text/plain'],
      },
    },
    async (_req, reply) => reply.header('content-type', metrics.contentType).send(await metrics.metrics()),
  );
}
