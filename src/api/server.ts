// The HTTP API: Fastify with TypeBox route schemas, which drive request
// validation, response serialisation and the OpenAPI document alike.

import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController } from 'fastify';
import { MainspringError } from '../core/errors.ts';
import { LONGEST_NAME } from '../core/names.ts';
import { dashboardRoutes } from '../dashboard/serve.ts';
import type { Metrics } from '../observability/metrics.ts';
import { traceRoute } from '../observability/tracing.ts';
import { VERSION } from '../version.ts';
import { assertSafeBinding, assertTokens, bearerAuth } from './auth.ts';
import { registerCors } from './cors.ts';
import {
  clientErrorHandler,
  errorHandler,
  jsonBodyError,
  nulError,
  nulFields,
  sendError,
  toApiError,
} from './errors.ts';
import { explorerRoutes } from './explorer.ts';
import { changeRoutes } from './routes/changes.ts';
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
import { addNamedSchemas, refResolver } from './schemas.ts';
import type { Api, ApiOptions, RouteGroup, RouteOptions } from './types.ts';

export type { Api, ApiDeps, ApiOptions, RouteGroup } from './types.ts';

const ROUTE_GROUPS: Readonly<Record<RouteGroup, (app: Api, options: RouteOptions) => void>> = {
  health: healthRoutes,
  locks: lockRoutes,
  queues: queueRoutes,
  events: eventRoutes,
  functions: functionRoutes,
  runs: runRoutes,
  schedules: scheduleRoutes,
  tasks: taskRoutes,
  workflows: workflowRoutes,
  metrics: metricsRoutes,
  webhooks: webhookRoutes,
  changes: changeRoutes,
} as const;

/** The route groups serving `path` (an API path such as `/v1/runs/x`), by its first segment. */
export function routeGroupsFor(path: string): RouteGroup[] {
  const segment = /^\/(?:v1\/)?([^/?]+)/.exec(path)?.[1] ?? '';
  switch (segment) {
    case 'messages':
      return ['queues'];
    // A function's log lines are served with the runs' (they share the log streams).
    case 'functions':
      return ['functions', 'runs'];
    case 'executions':
    case 'callbacks':
      return ['workflows'];
    case 'healthz':
      return ['health'];
    case 'access':
      return ['changes'];
    default:
      return Object.hasOwn(ROUTE_GROUPS, segment) ? [segment as RouteGroup] : [];
  }
}

/**
 * Longest path parameter the router matches (Fastify's default is 100), from the longest name
 * any kind allows (core/names.ts): a character percent-encodes to at most 12 (four UTF-8 bytes
 * as `%F0%9F%8E%89`). Longer ones never reach a route (414 E_URI_TOO_LONG); within it, each
 * route's schema, sized from the same limits, answers 400 naming the field.
 */
export const MAX_PARAM_LENGTH = LONGEST_NAME * 12;

/**
 * How long a client has to send a whole request (headers and body) before a 408: Node's
 * 300 s would let a few slow clients hold every `maxInFlight` slot for five minutes.
 * Answers may take longer (long polls, log streams); this bounds only the receiving.
 */
const REQUEST_TIMEOUT_MS = 30_000;
const KEEP_ALIVE_TIMEOUT_MS = 72_000;

/** Seconds a shed client is asked to wait: long enough for a burst to drain, short for a person. */
export const RETRY_AFTER_S = 1;

// Probes must answer while the server sheds load, or an orchestrator would restart a busy
// process and make the overload worse.
const NEVER_SHED = new Set(['/healthz', '/metrics']);

/**
 * Counts requests from when their headers arrive until their response has closed and their
 * handler has returned, and refuses those past the limit. The response's close alone is not
 * enough: a client that goes away closes it while the handler still works (a send still
 * writes its message).
 */
class LoadShedder {
  count = 0;
  /** Admitted past the limit: they run, first come first served, as slots free. */
  readonly #waiting: { req: IncomingMessage; res: ServerResponse; run: () => void }[] = [];
  readonly #maxQueued: number;
  /** Set once the server starts closing: every request is then refused. */
  closing = false;
  readonly #limit: number | undefined;
  readonly #metrics: Metrics;
  readonly #holds = new WeakMap<IncomingMessage, number>();
  readonly #overloaded: string;

  constructor(limit: number | undefined, maxQueued: number, metrics: Metrics) {
    this.#limit = limit;
    this.#maxQueued = maxQueued;
    this.#metrics = metrics;
    metrics.readHttpInFlight(
      () => this.count,
      () => this.#waiting.length,
    );
    this.#overloaded = JSON.stringify({
      error: new MainspringError(
        'E_OVERLOADED',
        `the server is serving its limit of ${limit} requests at once (api.maxInFlight); nothing was done: retry after ${RETRY_AFTER_S} s`,
        { details: { maxInFlight: limit, retryAfterSeconds: RETRY_AFTER_S } },
      ).toJSON(),
    });
  }

  /**
   * Runs on Node's request event, before Fastify builds anything for the request: a refusal
   * costs no routing, no body read and no store call, so shedding stays cheap under a burst.
   */
  admit(req: IncomingMessage, res: ServerResponse, run: () => void): void {
    if (this.closing) {
      this.#refuseClosing(res);
      return;
    }
    if (req.httpVersion === '1.1' && req.headers.host === undefined) {
      const err = new MainspringError('E_BAD_REQUEST', 'an HTTP/1.1 request needs a Host header; send one', {
        details: { field: 'host' },
      });
      refuse(res, err.status, JSON.stringify({ error: err.toJSON() }), { connection: 'close' });
      return;
    }
    if (NEVER_SHED.has((req.url ?? '').split('?')[0]!)) {
      run();
      return;
    }
    if (this.#limit !== undefined && this.count >= this.#limit) {
      if (this.#waiting.length < this.#maxQueued) {
        this.#waiting.push({ req, res, run });
        return;
      }
      this.#metrics.requestShed('overloaded');
      refuse(res, 503, this.#overloaded, { 'retry-after': String(RETRY_AFTER_S) });
      return;
    }
    this.#start(req, res, run);
  }

  #start(req: IncomingMessage, res: ServerResponse, run: () => void): void {
    this.#hold(req);
    res.once('close', () => this.#release(req));
    run();
  }

  /** Starts waiting requests while slots are free; a client that left meanwhile is skipped. */
  #next(): void {
    while (this.#waiting.length > 0 && (this.#limit === undefined || this.count < this.#limit)) {
      const w = this.#waiting.shift()!;
      if (w.res.destroyed || w.req.socket.destroyed) continue;
      if (this.closing) this.#refuseClosing(w.res);
      else this.#start(w.req, w.res, w.run);
    }
  }

  #refuseClosing(res: ServerResponse): void {
    this.#metrics.requestShed('shutting_down');
    const body = JSON.stringify({
      error: new MainspringError(
        'E_SHUTTING_DOWN',
        'the server is stopping and takes no new requests; nothing was done: retry against another replica',
      ).toJSON(),
    });
    refuse(res, 503, body, { 'retry-after': String(RETRY_AFTER_S), connection: 'close' });
  }

  /** A route handler that holds its admitted request's slot until it returns. */
  wrap<H extends (this: never, ...args: never[]) => unknown>(handler: H): H {
    const shedder = this;
    return function (this: never, ...args: never[]) {
      const req = (args[0] as { raw?: IncomingMessage } | undefined)?.raw;
      if (req === undefined || !shedder.#holds.has(req)) return handler.apply(this, args);
      shedder.#hold(req);
      let result: unknown;
      try {
        result = handler.apply(this, args);
      } catch (err) {
        shedder.#release(req);
        throw err;
      }
      if (result instanceof Promise) return result.finally(() => shedder.#release(req));
      shedder.#release(req);
      return result;
    } as H;
  }

  #hold(req: IncomingMessage): void {
    const holds = this.#holds.get(req) ?? 0;
    if (holds === 0) this.count++;
    this.#holds.set(req, holds + 1);
  }

  #release(req: IncomingMessage): void {
    const holds = (this.#holds.get(req) ?? 0) - 1;
    if (holds < 0) return;
    this.#holds.set(req, holds);
    if (holds === 0) {
      this.count--;
      this.#next();
    }
  }
}

function refuseSocket(socket: Duplex, err: MainspringError): void {
  const body = JSON.stringify({ error: err.toJSON() });
  socket.end(
    `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function refuse(res: ServerResponse, status: number, body: string, headers: Record<string, string>): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

export async function buildApi(options: ApiOptions): Promise<Api> {
  const shedder = new LoadShedder(options.maxInFlight, options.maxQueued ?? 0, options.metrics);
  const app = Fastify({
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: options.bodyLimit,
    serverFactory: (handler) => {
      const onRequest = (req: IncomingMessage, res: ServerResponse) => {
        shedder.admit(req, res, () => handler(req, res));
      };
      // Node's own answers to a missing Host and an unknown Expect have empty bodies: ours instead.
      const server = createServer(
        { requestTimeout: REQUEST_TIMEOUT_MS, requireHostHeader: false },
        onRequest,
      );
      // An expectation other than 100-continue is ignored (RFC 9110 allows it) and the request served.
      server.on('checkExpectation', onRequest);
      // No route takes CONNECT; Node would drop the connection without a word.
      server.on('connect', (req: IncomingMessage, socket: Duplex) =>
        refuseSocket(socket, new MainspringError('E_NOT_FOUND', `no route CONNECT ${req.url ?? ''}`)),
      );
      // Fastify's default, which its own server would have had: longer than load balancers' idle timeouts.
      server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
      return server;
    },
    logController: new LogController({ disableRequestLogging: true }),
    // `verbose`: each issue carries its schema and value, which validation.ts puts in words.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true, verbose: true } },
    // Fastify's and Node's own refusals, in the one error shape.
    frameworkErrors: (err, req, reply) => sendError(reply, toApiError(err, req.headers['content-type'])),
    clientErrorHandler,
    // The shedder refuses them first, in the one shape (Fastify's has its own body).
    return503OnClosing: false,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, new MainspringError('E_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`)),
  );
  app.addHook('preClose', async () => {
    shedder.closing = true;
  });
  // Labelled by the route template (`/v1/queues/:name`), never the URL: its values are unbounded.
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? null;
    options.metrics.httpRequest(req.method, route, reply.statusCode, reply.elapsedTime);
  });
  app.addHook('onRoute', (route) => {
    // A server span per request, named by the route template, active while the handler runs.
    const method = Array.isArray(route.method) ? route.method.join('|') : route.method;
    route.handler = traceRoute(shedder.wrap(route.handler), method, route.url);
  });
  // Fastify's own parser, with a refusal that says what is wrong: its error says only "not valid JSON".
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body as string;
    parseJson(req, text, (err, value) =>
      err && text.length > 0 ? done(jsonBodyError(text), undefined) : done(err, value),
    );
  });
  // Bodies are JSON: Fastify's text/plain parser would hand a route a string, answered as a
  // schema miss rather than 415 E_UNSUPPORTED_MEDIA_TYPE. (Webhook sources take any type.)
  app.removeContentTypeParser('text/plain');
  // PostgreSQL cannot hold U+0000 in text and no name or id has one: refused on every backend alike.
  app.addHook('preValidation', async (req) => {
    const fields = nulFields({ params: req.params, query: req.query });
    if (fields.length > 0) throw nulError(fields);
  });
  const webhooks = options.webhooks ?? {};
  assertTokens(options.token, options.readToken);
  app.decorateRequest('access', 'full');
  // Before auth: a browser's preflight carries no token, and a refusal needs the headers to be read.
  if (options.cors !== undefined && options.cors.origins.length > 0) await registerCors(app, options.cors);
  if (options.token) {
    const auth = bearerAuth({ token: options.token, readToken: options.readToken });
    // A signed webhook source is authenticated by its signature: GitHub or Stripe cannot send our token.
    app.addHook('onRequest', async (req, reply) =>
      isSignedWebhookPath(req.url, webhooks) ? undefined : auth(req, reply),
    );
  }

  if (options.routes === undefined) {
    // Loaded only here: a CLI building a few routes for itself needs no OpenAPI document.
    const { default: swagger } = await import('@fastify/swagger');
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
      // components.schemas named by each shared schema's $id (Run, Schedule, …), not def-N.
      refResolver,
    });
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
    if (options.explorer ?? true) await explorerRoutes(app);
    // The dashboard comes with the whole API (it is one of its clients).
    dashboardRoutes(app);
  }
  // The named resource schemas (Run, Error, …) that routes reach by $ref.
  addNamedSchemas(app);
  const routeOptions = { ...options, webhooks };
  for (const group of options.routes ?? (Object.keys(ROUTE_GROUPS) as RouteGroup[]))
    ROUTE_GROUPS[group](app, routeOptions);
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
