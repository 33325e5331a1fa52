// The HTTP API: Fastify with TypeBox route schemas, which drive request
// validation, response serialisation and the OpenAPI document alike.

import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  LogController,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import type { Clock } from '../core/clock.ts';
import { MainspringError } from '../core/errors.ts';
import type { EventBus } from '../events/bus.ts';
import type { WebhookSourceConfig } from '../events/webhooks/verify.ts';
import type { Locks } from '../locks/locks.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Queues } from '../queue/queues.ts';
import type { Runs } from '../runtime/runs.ts';
import type { Schedules } from '../scheduler/schedules.ts';
import type { Tasks } from '../scheduler/tasks.ts';
import type { Store } from '../store/types.ts';
import { VERSION } from '../version.ts';
import type { Workflows } from '../workflow/client.ts';
import { assertSafeBinding, bearerAuth } from './auth.ts';
import { errorHandler, sendError } from './errors.ts';
import { eventRoutes } from './routes/events.ts';
import { functionRoutes } from './routes/functions.ts';
import { healthRoutes } from './routes/health.ts';
import { lockRoutes } from './routes/locks.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { queueRoutes } from './routes/queues.ts';
import { runRoutes } from './routes/runs.ts';
import { scheduleRoutes } from './routes/schedules.ts';
import { taskRoutes } from './routes/tasks.ts';
import { isSignedWebhookPath, webhookRoutes } from './routes/webhooks.ts';
import { workflowRoutes } from './routes/workflows.ts';

export interface ApiDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly locks: Locks;
  readonly queues: Queues;
  readonly events: EventBus;
  /** Run history, invocation, cancellation and logs. */
  readonly runs: Runs;
  /** Persistent schedules. */
  readonly schedules: Schedules;
  /** One-off tasks. */
  readonly tasks: Tasks;
  /** Durable workflow executions and their callbacks. */
  readonly workflows: Workflows;
  /** Served at /metrics. */
  readonly metrics: Metrics;
}

export interface ApiOptions extends ApiDeps {
  /** Bearer token required on every route but /healthz; none = open (loopback only). */
  readonly token?: string | undefined;
  /** Largest request body accepted, in bytes. */
  readonly bodyLimit: number;
  /** Webhook sources by name (`config.webhooks`); a request to any other source is a 404. */
  readonly webhooks?: Readonly<Record<string, WebhookSourceConfig>>;
  readonly logger?: FastifyBaseLogger;
}

export type Api = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export async function buildApi(options: ApiOptions): Promise<Api> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: options.bodyLimit,
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, new MainspringError('E_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`)),
  );
  const webhooks = options.webhooks ?? {};
  if (options.token) {
    const auth = bearerAuth(options.token);
    // A signed webhook source is authenticated by its signature: GitHub or Stripe cannot send our token.
    app.addHook('onRequest', async (req, reply) =>
      isSignedWebhookPath(req.url, webhooks) ? undefined : auth(req, reply),
    );
  }

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'mainspring',
        version: VERSION,
        description: 'Scheduled and background work: the HTTP API.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: options.token ? [{ bearer: [] }] : [],
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  healthRoutes(app, options);
  lockRoutes(app, options);
  queueRoutes(app, options);
  eventRoutes(app, options);
  functionRoutes(app, options);
  runRoutes(app, options);
  scheduleRoutes(app, options);
  taskRoutes(app, options);
  workflowRoutes(app, options);
  metricsRoutes(app, options);
  webhookRoutes(app, { ...options, webhooks });
  await app.ready();
  return app;
}

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
  readonly token?: string | undefined;
}

/** Starts listening; refuses a non-loopback address without a token. Returns the bound address. */
export async function listenApi(
  app: Api,
  options: ListenOptions,
): Promise<{ host: string; port: number; url: string }> {
  assertSafeBinding(options.host, options.token);
  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'EADDRINUSE'
        ? `port ${options.port} is already in use; stop the other process or choose another port with --port / MAINSPRING_PORT`
        : code === 'EADDRNOTAVAIL'
          ? `${options.host} is not an address of this machine; fix --host / MAINSPRING_HOST`
          : `${(err as Error).message}; check --host and --port`;
    throw new MainspringError('E_API_LISTEN', `cannot listen on ${options.host}:${options.port}: ${why}`, {
      cause: err,
      details: { field: code === 'EADDRNOTAVAIL' ? 'host' : 'port', host: options.host, port: options.port },
    });
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : options.port;
  const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  return { host: options.host, port, url: `http://${shownHost}:${port}` };
}
