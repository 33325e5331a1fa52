// GET /healthz: the process is up and its store answers. Never needs a token,
// so load balancers and orchestrators can probe it.

import { VERSION } from '../../version.ts';
import { OPERATIONS } from '../schemas.ts';
import type { Api, ApiDeps } from '../types.ts';

export function healthRoutes(app: Api, { store, clock }: ApiDeps): void {
  app.get(
    '/healthz',
    {
      schema: {
        ...OPERATIONS.getHealth.schema,
        summary: 'Liveness and store health',
        tags: ['health'],
        security: [],
      },
    },
    async (req, reply) => {
      const base = { version: VERSION, time: new Date(clock.now()).toISOString() };
      try {
        await store.ping();
        const schemaVersion = await store.schemaVersion();
        return {
          status: 'ok' as const,
          store: { backend: store.backend, url: store.url, schemaVersion },
          ...base,
        };
      } catch (err) {
        req.log.warn({ err }, 'health check: store does not answer');
        return reply.status(503).send({
          status: 'unavailable' as const,
          store: { backend: store.backend, url: store.url, schemaVersion: 0 },
          ...base,
        });
      }
    },
  );
}
