// The API's shapes: what the server is built from and what each route group receives.
// Apart from server.ts so the route groups and the server import them, not each other.

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { Clock } from '../core/clock.ts';
import type { EventBus } from '../events/bus.ts';
import type { WebhookSourceConfig } from '../events/webhooks/verify.ts';
import type { Locks } from '../locks/locks.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Queues } from '../queue/queues.ts';
import type { Runs } from '../runtime/runs.ts';
import type { Schedules } from '../scheduler/schedules.ts';
import type { Tasks } from '../scheduler/tasks.ts';
import type { Store } from '../store/types.ts';
import type { Workflows } from '../workflow/client.ts';

/** The route groups, by the first segment of their paths under /v1 (see routeGroupsFor). */
export type RouteGroup =
  | 'health'
  | 'locks'
  | 'queues'
  | 'events'
  | 'functions'
  | 'runs'
  | 'schedules'
  | 'tasks'
  | 'workflows'
  | 'metrics'
  | 'webhooks'
  | 'changes';

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

/** The CORS settings the server is built with: exact origins (`https://app.example.com`). */
export interface CorsOptions {
  readonly origins: readonly string[];
}

export interface ApiOptions extends ApiDeps {
  /** Bearer token required on every route but /healthz; none = open (loopback only). */
  readonly token?: string | undefined;
  /** A second token that may read everything and change nothing (needs `token`). */
  readonly readToken?: string | undefined;
  /** Largest request body accepted, in bytes. */
  readonly bodyLimit: number;
  /** Webhook sources by name (`config.webhooks`); a request to any other source is a 404. */
  readonly webhooks?: Readonly<Record<string, WebhookSourceConfig>>;
  readonly logger?: FastifyBaseLogger;
  /**
   * Most requests served at once (default: no limit); past it a request is answered 503
   * E_OVERLOADED with Retry-After before its body is read. /healthz and /metrics are exempt.
   */
  readonly maxInFlight?: number | undefined;
  /**
   * Requests past `maxInFlight` that wait for a slot, in arrival order, before any more are
   * refused (default 0: refuse at once). Each holds only its socket and headers until it runs.
   */
  readonly maxQueued?: number | undefined;
  /**
   * Only these route groups (default: all, with /openapi.json). A process that answers its own
   * requests builds only what it calls: compiling every route's schemas costs ~150 ms.
   */
  readonly routes?: readonly RouteGroup[];
  /** Origins whose browsers may call the API (CORS); none (the default) sends no CORS headers. */
  readonly cors?: CorsOptions | undefined;
  /** Serve the API explorer at /docs (default true; only with every route group). */
  readonly explorer?: boolean | undefined;
}

export type Api = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** What each route group is given: the options, with the webhook sources resolved. */
export type RouteOptions = ApiOptions & { readonly webhooks: Readonly<Record<string, WebhookSourceConfig>> };
