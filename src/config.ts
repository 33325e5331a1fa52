// The shape of `mainspring.config.ts`, its validation, and the resolution of
// CLI flags, environment and config into one object with every default filled in.

import { dirname, resolve } from 'node:path';
import { Type } from 'typebox';
import { Value } from 'typebox/value';
import type { CreateMainspringOptions } from './app.ts';
import { type Duration, parseDuration } from './core/duration.ts';
import { isMainspringError, MainspringError } from './core/errors.ts';
import { type FileTriggerDefinition, isFileTriggerDefinition } from './events/files/define.ts';
import { isRuleDefinition, type RuleDefinition } from './events/rules-define.ts';
import { checkWebhookConfig, type WebhookSourceConfig } from './events/webhooks/verify.ts';
import { type AlertSettings, resolveAlertSettings } from './observability/alerts.ts';
import { isQueueDefinition, type QueueDefinition } from './queue/define.ts';
import { type FunctionDefinition, isFunctionDefinition } from './runtime/function.ts';
import { resolveStoreUrl } from './store/url.ts';
import type { WorkflowDefinition } from './workflow/define.ts';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Measured with chaos/load.ts: sends on PostgreSQL (a pool of 10) answered 2519/s at 100
 * connections and 2597/s at 500, with p50 37 ms and 186 ms; past ~100 requests at once they
 * only queue, adding latency and memory. 128 is just above that, leaves room for long polls
 * and log streams, and bounds worst-case bodies in memory to 128 MiB. SQLite's synchronous
 * writes keep its count low: the limit rarely bites there.
 */
export const DEFAULT_MAX_IN_FLIGHT = 128;
/** Requests that wait for one of those slots before any are refused: a burst is served, not shed. */
export const DEFAULT_MAX_QUEUED = 1024;
const MAX_IN_FLIGHT_CEILING = 1_000_000;

const ConfigSchema = Type.Object(
  {
    db: Type.Optional(Type.String({ minLength: 1 })),
    api: Type.Optional(
      Type.Object(
        {
          port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
          host: Type.Optional(Type.String({ minLength: 1 })),
          bodyLimit: Type.Optional(Type.Integer({ minimum: 1024 })),
          maxInFlight: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_IN_FLIGHT_CEILING })),
          maxQueued: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_IN_FLIGHT_CEILING })),
          publicUrl: Type.Optional(Type.String({ minLength: 1 })),
          cors: Type.Optional(
            Type.Object(
              { origins: Type.Array(Type.String({ minLength: 1 })) },
              { additionalProperties: false },
            ),
          ),
          explorer: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    ),
    queues: Type.Optional(Type.Array(Type.Unknown())),
    functions: Type.Optional(Type.Array(Type.Unknown())),
    workflows: Type.Optional(Type.Array(Type.Unknown())),
    rules: Type.Optional(Type.Array(Type.Unknown())),
    fileTriggers: Type.Optional(Type.Array(Type.Unknown())),
    webhooks: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    events: Type.Optional(
      Type.Object(
        {
          retention: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.String({ minLength: 1 })])),
        },
        { additionalProperties: false },
      ),
    ),
    runs: Type.Optional(
      Type.Object(
        {
          retention: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.String({ minLength: 1 })])),
          record: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    ),
    scheduler: Type.Optional(
      Type.Object(
        {
          httpAllowList: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
          misfireGrace: Type.Optional(
            Type.Union([Type.Integer({ minimum: 0 }), Type.String({ minLength: 1 })]),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    alerts: Type.Optional(Type.Unknown()),
    secretsFile: Type.Optional(Type.String({ minLength: 1 })),
    worker: Type.Optional(
      Type.Object(
        {
          maxConcurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
          pollIntervalMs: Type.Optional(Type.Integer({ minimum: 10, maximum: 600_000 })),
          shutdownGraceMs: Type.Optional(Type.Integer({ minimum: 0 })),
        },
        { additionalProperties: false },
      ),
    ),
    log: Type.Optional(
      Type.Object(
        { level: Type.Optional(Type.Union(LOG_LEVELS.map((l) => Type.Literal(l)))) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** What `mainspring.config.ts` exports (through `defineConfig`). */
export interface MainspringConfig {
  /** Store URL: `sqlite:PATH`, `sqlite::memory:` or `postgres://…`. `--db` and `DATABASE_URL` override it. */
  db?: string;
  api?: {
    /** Default 7400; `--port` and `MAINSPRING_PORT` override it. 0 picks a free port. */
    port?: number;
    /** Default 127.0.0.1. Any other address requires MAINSPRING_API_TOKEN. */
    host?: string;
    /** Largest request body in bytes (default 1 MiB). */
    bodyLimit?: number;
    /**
     * Most requests served at once (default 128); past it a request is answered 503
     * E_OVERLOADED with `Retry-After: 1` before its body is read. /healthz and /metrics are
     * exempt. `--max-in-flight` and `MAINSPRING_MAX_IN_FLIGHT` override it.
     */
    maxInFlight?: number;
    /**
     * Requests past `maxInFlight` that wait, first come first served, for a slot (default
     * 1024); only past both is a request answered 503. 0 refuses at once.
     */
    maxQueued?: number;
    /** The API's address as others reach it, for links in alerts (default http://HOST:PORT). */
    publicUrl?: string;
    /**
     * Origins whose browser pages may call the API (CORS), each `scheme://host[:port]` with no
     * path, e.g. `{ origins: ['https://app.example.com'] }`. Default: none, and no
     * Access-Control-* headers at all.
     */
    cors?: { origins: readonly string[] };
    /** Serve the API explorer (Swagger UI) at /docs (default true); false answers /docs 404. */
    explorer?: boolean;
  };
  /** Queues of the app (`defineQueue`). */
  queues?: readonly QueueDefinition[];
  /** Functions of the app (`defineFunction`), with their triggers. */
  functions?: readonly FunctionDefinition[];
  /** Durable workflows of the app (`defineWorkflow`). */
  workflows?: readonly WorkflowDefinition[];
  /** Event rules (`defineRule`): which events go to which functions and queues. */
  rules?: readonly RuleDefinition[];
  /** File-arrival triggers (`defineFileTrigger`). */
  fileTriggers?: readonly FileTriggerDefinition[];
  /**
   * Webhook sources accepted at `POST /v1/webhooks/:source`, with their signature checks, e.g.
   * `{ github: { scheme: 'github', secret: process.env.GITHUB_WEBHOOK_SECRET } }`.
   */
  webhooks?: Readonly<Record<string, WebhookSourceConfig>>;
  events?: {
    /** How long events are kept for replay: milliseconds or `'30d'` (default 30 days). */
    retention?: Duration;
  };
  runs?: {
    /** How long finished runs and their logs are kept: milliseconds or `'30d'` (default 30 days). */
    retention?: Duration;
    /** Keep a record of each queue-triggered run (default true); invocations are always recorded. */
    record?: boolean;
  };
  scheduler?: {
    /**
     * Hosts schedules' HTTP targets may call: `api.example.com`, `*.example.com`
     * (subdomains), `host:8080` (that port only). Default: none.
     */
    httpAllowList?: readonly string[];
    /** A tick fired more than this late counts as missed and its misfire policy applies (default `'1m'`). */
    misfireGrace?: Duration;
  };
  /** Alerts after any function's final failure or timeout: `{ webhooks: [url], email: { smtp, from, to } }`. */
  alerts?: AlertSettings;
  /** A dotenv-format file with command secrets (relative to the config's folder); the environment wins over it. */
  secretsFile?: string;
  worker?: {
    /** Handler calls at once in one process, across all functions (default 1000). */
    maxConcurrency?: number;
    /** Longest wait between checks for work when no wake-up arrives (default 1000 ms). */
    pollIntervalMs?: number;
    /** On SIGTERM, how long running handlers may finish before their messages are released (default 30 s). */
    shutdownGraceMs?: number;
  };
  log?: { level?: LogLevel };
}

/**
 * Declares the app in `mainspring.config.ts`. Checks the config eagerly so a
 * mistake is reported with its field when the file loads.
 *
 * @example
 * ```ts
 * // mainspring.config.ts
 * import { defineConfig } from 'mainspringjs';
 * export default defineConfig({ api: { port: 7400 }, log: { level: 'info' } });
 * ```
 */
export function defineConfig(config: MainspringConfig): MainspringConfig {
  // Secrets are checked when the config is loaded to serve, so a command that only reads
  // the store never needs them in its environment.
  return validateConfig(config, 'config', { requireSecrets: false });
}

export interface ValidateConfigOptions {
  /** Require webhook signing secrets (default true: the config is about to serve). */
  readonly requireSecrets?: boolean;
}

export function validateConfig(
  value: unknown,
  where: string,
  options: ValidateConfigOptions = {},
): MainspringConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MainspringError(
      'E_CONFIG_INVALID',
      `${where} exports ${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`}, not a config; write \`export default defineConfig({ … })\``,
    );
  }
  const problems = [...Value.Errors(ConfigSchema, value)]
    .filter((e) => e.keyword !== 'boolean')
    .map((e) => {
      const path = e.instancePath.replace(/^\//, '').replaceAll('/', '.');
      const extra = (e.params as { additionalProperties?: string[] }).additionalProperties;
      if (extra) return `${[path, extra[0]].filter(Boolean).join('.')} is not a known setting`;
      return `${path} ${e.message}`;
    });
  const c = value as {
    queues?: unknown[];
    functions?: unknown[];
    workflows?: unknown[];
    rules?: unknown[];
    fileTriggers?: unknown[];
    webhooks?: unknown;
  };
  c.queues?.forEach((q, i) => {
    if (!isQueueDefinition(q))
      problems.push(`queues[${i}] is not a queue; create it with defineQueue({ name })`);
  });
  c.functions?.forEach((f, i) => {
    if (!isFunctionDefinition(f))
      problems.push(`functions[${i}] is not a function; create it with defineFunction({ name, handler })`);
  });
  if (Array.isArray(c.workflows)) {
    c.workflows.forEach((w, i) => {
      if ((w as { kind?: unknown } | null)?.kind !== 'workflow')
        problems.push(`workflows[${i}] is not a workflow; create it with defineWorkflow({ name, handler })`);
    });
  }
  if (Array.isArray(c.rules)) {
    c.rules.forEach((r, i) => {
      if (!isRuleDefinition(r))
        problems.push(`rules[${i}] is not a rule; create it with defineRule({ name, pattern, targets })`);
    });
  }
  if (Array.isArray(c.fileTriggers)) {
    c.fileTriggers.forEach((t, i) => {
      if (!isFileTriggerDefinition(t))
        problems.push(
          `fileTriggers[${i}] is not a file trigger; create it with defineFileTrigger({ name, dir, targets })`,
        );
    });
  }
  if (typeof c.webhooks === 'object' && c.webhooks !== null && !Array.isArray(c.webhooks)) {
    for (const [source, settings] of Object.entries(c.webhooks))
      problems.push(...checkWebhookConfig(source, settings, options.requireSecrets ?? true));
  }
  const collect = (check: () => unknown) => {
    try {
      check();
    } catch (err) {
      if (!isMainspringError(err)) throw err;
      problems.push(err.message);
    }
  };
  const origins = (c as { api?: { cors?: { origins?: unknown } } }).api?.cors?.origins;
  if (Array.isArray(origins)) problems.push(...originProblems(origins));
  const grace = (c as { scheduler?: { misfireGrace?: unknown } }).scheduler?.misfireGrace;
  if (grace !== undefined) collect(() => parseDuration(grace as Duration, 'scheduler.misfireGrace'));
  const retention = (c as { events?: { retention?: unknown } }).events?.retention;
  if (typeof retention === 'string') collect(() => parseDuration(retention, 'events.retention'));
  const runRetention = (c as { runs?: { retention?: unknown } }).runs?.retention;
  if (typeof runRetention === 'string') collect(() => parseDuration(runRetention, 'runs.retention'));
  const alerts = (c as { alerts?: unknown }).alerts;
  if (alerts !== undefined) collect(() => resolveAlertSettings(alerts, 'alerts'));
  c.functions?.forEach((f, i) => {
    const fnAlerts = (f as { alerts?: unknown } | null)?.alerts;
    if (isFunctionDefinition(f) && fnAlerts != null) {
      collect(() => resolveAlertSettings(fnAlerts, `functions[${i}].alerts`));
    }
  });
  if (problems.length > 0) {
    throw new MainspringError('E_CONFIG_INVALID', `${where}: ${problems.join('; ')}`, { details: problems });
  }
  return value as MainspringConfig;
}

/** Why each of `api.cors.origins` is not an origin (`scheme://host[:port]`, nothing after). */
function originProblems(origins: readonly unknown[]): string[] {
  const problems: string[] = [];
  origins.forEach((origin, i) => {
    if (typeof origin !== 'string' || origin === '') return; // the schema says it
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {}
    if (url !== undefined && url.origin === origin && (url.protocol === 'http:' || url.protocol === 'https:'))
      return;
    const suggestion =
      url !== undefined && url.origin !== 'null' ? `, e.g. ${JSON.stringify(url.origin)}` : '';
    problems.push(
      `api.cors.origins.${i} is ${JSON.stringify(origin)}, which is not an origin; give scheme://host[:port] (http or https, lowercase, no path or trailing slash)${suggestion}`,
    );
  });
  return problems;
}

/** Options as each source gives them; the first defined one wins: flags, environment, config, defaults. */
export interface CliOptions {
  db?: string;
  port?: number;
  host?: string;
  maxInFlight?: number;
}

export interface ResolvedOptions {
  readonly dbUrl: string;
  readonly port: number;
  readonly host: string;
  readonly token: string | undefined;
  /** MAINSPRING_API_READ_TOKEN: may read, not act (the dashboard's read-only view). */
  readonly readToken: string | undefined;
  readonly bodyLimit: number;
  readonly maxInFlight: number;
  readonly maxQueued: number;
  /** `api.cors.origins` (empty: no CORS headers). */
  readonly corsOrigins: readonly string[];
  /** `api.explorer`: serve /docs (default true). */
  readonly explorer: boolean;
  readonly logLevel: LogLevel;
}

export const DEFAULT_PORT = 7400;
export const DEFAULT_BODY_LIMIT = 1024 * 1024;
export const DEFAULT_HOST = '127.0.0.1';

export function parseMaxInFlight(raw: string, field: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n < 1 || n > MAX_IN_FLIGHT_CEILING) {
    throw new MainspringError(
      'E_CONFIG_INVALID',
      `${field} is ${JSON.stringify(raw)}; give the most requests to serve at once, a whole number from 1 to ${MAX_IN_FLIGHT_CEILING} (default ${DEFAULT_MAX_IN_FLIGHT})`,
      { details: { field, value: raw } },
    );
  }
  return n;
}

function envMaxInFlight(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env['MAINSPRING_MAX_IN_FLIGHT'];
  if (raw === undefined || raw.trim() === '') return undefined;
  return parseMaxInFlight(raw, 'MAINSPRING_MAX_IN_FLIGHT');
}

function envPort(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env['MAINSPRING_PORT'];
  if (raw === undefined || raw === '') return undefined;
  return parsePort(raw, 'MAINSPRING_PORT');
}

export function parsePort(raw: string, field: string): number {
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535) {
    throw new MainspringError(
      'E_CONFIG_INVALID',
      `${field} is ${JSON.stringify(raw)}; use a port number from 0 to 65535`,
      {
        details: { field, value: raw },
      },
    );
  }
  return port;
}

export function resolveOptions(
  cli: CliOptions,
  config: MainspringConfig,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedOptions {
  const level = env['MAINSPRING_LOG_LEVEL'] ?? config.log?.level ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new MainspringError(
      'E_CONFIG_INVALID',
      `MAINSPRING_LOG_LEVEL is ${JSON.stringify(level)}; use one of ${LOG_LEVELS.join(', ')}`,
    );
  }
  return {
    dbUrl:
      cli.db ?? (env['DATABASE_URL']?.trim() || undefined) ?? config.db ?? resolveStoreUrl(undefined, {}),
    port: cli.port ?? envPort(env) ?? config.api?.port ?? DEFAULT_PORT,
    host: cli.host ?? (env['MAINSPRING_HOST'] || undefined) ?? config.api?.host ?? DEFAULT_HOST,
    token: env['MAINSPRING_API_TOKEN']?.trim() || undefined,
    readToken: env['MAINSPRING_API_READ_TOKEN']?.trim() || undefined,
    bodyLimit: config.api?.bodyLimit ?? DEFAULT_BODY_LIMIT,
    maxInFlight: cli.maxInFlight ?? envMaxInFlight(env) ?? config.api?.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT,
    maxQueued: config.api?.maxQueued ?? DEFAULT_MAX_QUEUED,
    corsOrigins: config.api?.cors?.origins ?? [],
    explorer: config.api?.explorer ?? true,
    logLevel: level as LogLevel,
  };
}

/**
 * The app a config declares, as `createMainspring` options: to run it inside a process of
 * your own. `configPath` is the file's path, for the paths in it (default: the current folder).
 *
 * @example
 * ```ts
 * import config from './mainspring.config.ts';
 * const ms = await createMainspring({ ...appFromConfig(config), db: process.env.DATABASE_URL });
 * ```
 */
export function appFromConfig(
  config: MainspringConfig,
  configPath: string | null = null,
): CreateMainspringOptions {
  // Relative paths in the config (command cwd, secrets file) are relative to its folder.
  const dir = configPath === null ? process.cwd() : dirname(configPath);
  return {
    appDir: dir,
    ...(config.secretsFile !== undefined ? { secretsFile: resolve(dir, config.secretsFile) } : {}),
    queues: config.queues ?? [],
    functions: config.functions ?? [],
    workflows: config.workflows ?? [],
    rules: config.rules ?? [],
    fileTriggers: config.fileTriggers ?? [],
    ...(config.events?.retention !== undefined
      ? { eventRetentionMs: parseDuration(config.events.retention, 'events.retention') }
      : {}),
    ...(config.runs?.retention !== undefined ? { runRetention: config.runs.retention } : {}),
    ...(config.runs?.record !== undefined ? { recordRuns: config.runs.record } : {}),
    ...(config.alerts !== undefined ? { alerts: config.alerts } : {}),
    ...(config.scheduler !== undefined ? { scheduler: config.scheduler } : {}),
    ...(config.api?.publicUrl !== undefined ? { baseUrl: config.api.publicUrl.replace(/\/+$/, '') } : {}),
  };
}
