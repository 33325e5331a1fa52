// POST /v1/webhooks/:source: a request from outside becomes an event on the bus.
// The route reads the raw body (signatures are computed over its exact bytes), so
// it registers its own catch-all content-type parser in an encapsulated scope; it
// answers 2xx only once the event is stored.

import { MainspringError } from '../../core/errors.ts';
import { webhookEvent } from '../../events/webhooks/ingest.ts';
import type { WebhookSourceConfig } from '../../events/webhooks/verify.ts';
import { OPERATIONS } from '../schemas.ts';
import type { Api, ApiDeps } from '../types.ts';

/** True for a webhook path whose source is signed: its signature, not the API token, authenticates it. */
export function isSignedWebhookPath(
  url: string,
  webhooks: Readonly<Record<string, WebhookSourceConfig>>,
): boolean {
  const m = /^\/v1\/webhooks\/([^/?]+)(?:\?.*)?$/.exec(url);
  if (!m) return false;
  const config = Object.hasOwn(webhooks, m[1]!) ? webhooks[m[1]!] : undefined;
  return Boolean(config?.secret);
}

export function webhookRoutes(
  app: Api,
  deps: ApiDeps & { webhooks: Readonly<Record<string, WebhookSourceConfig>>; bodyLimit: number },
): void {
  const { events, clock, webhooks } = deps;
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.bodyLimit }, (_req, body, done) =>
      done(null, body),
    );
    scope.post(
      '/v1/webhooks/:source',
      {
        schema: {
          ...OPERATIONS.receiveWebhook.schema,
          summary: 'Receive a webhook as an event',
          description:
            'The body (JSON or a form) becomes the detail of an event with source "webhook.<source>". Signed sources are checked against their secret; a redelivered request is stored once.',
          tags: ['webhooks'],
        },
      },
      async (req) => {
        const { source } = req.params as { source: string };
        const config = Object.hasOwn(webhooks, source) ? webhooks[source] : undefined;
        if (!config) {
          throw new MainspringError(
            'E_WEBHOOK_NOT_FOUND',
            `no webhook source "${source}"; add it to webhooks in the config, e.g. webhooks: { ${JSON.stringify(source)}: { scheme: 'hmac-sha256', secret } }`,
            { details: { field: 'source', value: source } },
          );
        }
        const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const entry = webhookEvent(source, config, req.headers, raw, clock.now());
        return events.ingest(entry);
      },
    );
  });
}
