// The operations of /v1/runs, /v1/functions, /healthz, /metrics, /v1/access,
// /v1/changes and /v1/webhooks.

import { Type } from 'typebox';
import { NAME_LIMITS } from '../core/names.ts';
import { operation } from './operation.ts';
import {
  ErrorSchema,
  PageLimit,
  RUN_STATUSES,
  RunLogLineSchema,
  RunSchema,
  ref,
  TRIGGER_KINDS,
} from './resources.ts';

const Failure = ref(ErrorSchema);
const Run = ref(RunSchema);
const LogLine = ref(RunLogLineSchema);
const DateTime = Type.String({ format: 'date-time' });
const NullableDateTime = Type.Union([DateTime, Type.Null()]);
const RunId = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
// Query values are strings (the API's Ajv does not coerce): numbers are matched as text.
const Seq = Type.String({
  pattern: '^(0|[1-9][0-9]{0,15})$',
  description: 'A log line seq (0: from the first)',
});
const Errors = { 400: Failure, 404: Failure };
const Follow = Type.Optional(
  Type.Union([Type.Literal('1'), Type.Literal('true'), Type.Literal('0'), Type.Literal('false')], {
    description: '1 or true: a text/event-stream that stays open for new lines',
  }),
);

export const runOperations = {
  listRuns: operation({
    method: 'GET',
    path: '/v1/runs',
    schema: {
      operationId: 'listRuns',
      querystring: Type.Object(
        {
          function: Type.Optional(Type.String({ minLength: 1, maxLength: NAME_LIMITS.function })),
          status: Type.Optional(
            Type.String({
              pattern: `^(${RUN_STATUSES.join('|')})(,(${RUN_STATUSES.join('|')}))*$`,
              maxLength: 100,
              description: `One or more of ${RUN_STATUSES.join(', ')}, comma-separated (any of them)`,
            }),
          ),
          trigger: Type.Optional(Type.Enum([...TRIGGER_KINDS])),
          invocation: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 128,
              description: 'Only the attempts of this invocation',
            }),
          ),
          q: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 200,
              description: 'A case-insensitive substring of the input, the error or a log line',
            }),
          ),
          from: Type.Optional(Type.String({ format: 'date-time', description: 'Created at or after' })),
          to: Type.Optional(Type.String({ format: 'date-time', description: 'Created before' })),
          cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
          limit: Type.Optional(PageLimit),
        },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({ runs: Type.Array(Run), nextCursor: Type.Union([Type.String(), Type.Null()]) }),
        ...Errors,
      },
    },
  }),
  countRunsHourly: operation({
    method: 'GET',
    path: '/v1/runs/hourly',
    schema: {
      operationId: 'countRunsHourly',
      querystring: Type.Object(
        { hours: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,2}$', description: '1 to 168' })) },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({
          from: DateTime,
          hours: Type.Array(
            Type.Object({ start: DateTime, counts: Type.Record(Type.String(), Type.Integer()) }),
          ),
        }),
        ...Errors,
      },
    },
  }),
  retryRun: operation({
    method: 'POST',
    path: '/v1/runs/:id/retry',
    schema: {
      operationId: 'retryRun',
      params: RunId,
      response: { 200: Type.Object({ run: Run }), 409: Failure, ...Errors },
    },
  }),
  getRun: operation({
    method: 'GET',
    path: '/v1/runs/:id',
    schema: { operationId: 'getRun', params: RunId, response: { 200: Run, ...Errors } },
  }),
  cancelRun: operation({
    method: 'POST',
    path: '/v1/runs/:id/cancel',
    schema: {
      operationId: 'cancelRun',
      params: RunId,
      response: { 200: Type.Object({ run: Run }), ...Errors },
    },
  }),
  waitForRun: operation({
    method: 'POST',
    path: '/v1/runs/:id/wait',
    schema: {
      operationId: 'waitForRun',
      params: RunId,
      body: Type.Object(
        { timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 60_000, default: 30_000 })) },
        { additionalProperties: false },
      ),
      response: { 200: Type.Object({ run: Run }), 202: Type.Object({ run: Run }), ...Errors },
    },
  }),
  getRunLogs: operation({
    method: 'GET',
    path: '/v1/runs/:id/logs',
    schema: {
      operationId: 'getRunLogs',
      params: RunId,
      querystring: Type.Object(
        {
          afterSeq: Type.Optional(Seq),
          limit: Type.Optional(
            Type.String({ pattern: '^([1-9][0-9]{0,2}|1000)$', description: '1 to 1000 (default 1000)' }),
          ),
          follow: Follow,
        },
        { additionalProperties: false },
      ),
      headers: Type.Object({ 'last-event-id': Type.Optional(Seq) }),
      response: {
        200: Type.Object({
          lines: Type.Array(LogLine),
          nextAfterSeq: Type.Integer({ description: 'Pass back as afterSeq for the lines after these' }),
        }),
        ...Errors,
      },
    },
  }),
  getFunctionLogs: operation({
    method: 'GET',
    path: '/v1/functions/:name/logs',
    schema: {
      operationId: 'getFunctionLogs',
      params: Type.Object({ name: Type.String({ minLength: 1, maxLength: NAME_LIMITS.function }) }),
      querystring: Type.Object(
        {
          since: Type.Optional(Type.String({ format: 'date-time' })),
          afterId: Type.Optional(Type.String({ pattern: '^(0|[1-9][0-9]{0,15})$' })),
          follow: Follow,
        },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({ lines: Type.Array(LogLine), nextAfterId: Type.Integer() }),
        ...Errors,
      },
    },
  }),
};

/** Longest `waitTimeoutMs` an invocation may wait for its outcome. */
export const MAX_INVOKE_WAIT_MS = 15 * 60_000;
export const DEFAULT_INVOKE_WAIT_MS = 30_000;

const FunctionSchema = Type.Object({
  name: Type.String(),
  kind: Type.Union([Type.Literal('function'), Type.Literal('command')]),
  triggers: Type.Array(Type.String(), { description: 'Queues the function consumes' }),
  schedules: Type.Array(Type.String(), { description: 'Schedule expressions its schedule triggers declare' }),
  timeoutMs: Type.Union([Type.Integer(), Type.Null()]),
  retry: Type.Object({
    maxAttempts: Type.Integer(),
    backoff: Type.Union([Type.Literal('fixed'), Type.Literal('exponential')]),
    baseMs: Type.Integer(),
    maxMs: Type.Integer(),
    jitter: Type.Boolean(),
  }),
  concurrency: Type.Integer({ description: 'Invocations at once in one process' }),
  limits: Type.Union(
    [
      Type.Object({
        concurrency: Type.Union([Type.Object({ limit: Type.Integer(), keyed: Type.Boolean() }), Type.Null()]),
        rate: Type.Union([
          Type.Object({
            limit: Type.Integer(),
            periodMs: Type.Integer(),
            burst: Type.Integer(),
            keyed: Type.Boolean(),
          }),
          Type.Null(),
        ]),
      }),
      Type.Null(),
    ],
    { description: 'Limits across every process (concurrency per key, rate limit), or null' },
  ),
  paused: Type.Boolean({ description: 'No process starts a run of it until it is resumed' }),
  pausedAt: NullableDateTime,
});

const FunctionName = Type.Object({ name: Type.String({ minLength: 1, maxLength: NAME_LIMITS.function }) });
const FunctionPauseState = Type.Object({
  name: Type.String(),
  paused: Type.Boolean(),
  pausedAt: NullableDateTime,
});

export const functionOperations = {
  listFunctions: operation({
    method: 'GET',
    path: '/v1/functions',
    schema: {
      operationId: 'listFunctions',
      response: { 200: Type.Object({ functions: Type.Array(FunctionSchema) }) },
    },
  }),
  pauseFunction: operation({
    method: 'POST',
    path: '/v1/functions/:name/pause',
    schema: {
      operationId: 'pauseFunction',
      params: FunctionName,
      response: { 200: FunctionPauseState, ...Errors },
    },
  }),
  resumeFunction: operation({
    method: 'POST',
    path: '/v1/functions/:name/resume',
    schema: {
      operationId: 'resumeFunction',
      params: FunctionName,
      response: { 200: FunctionPauseState, ...Errors },
    },
  }),
  invokeFunction: operation({
    method: 'POST',
    path: '/v1/functions/:name/invoke',
    schema: {
      operationId: 'invokeFunction',
      params: Type.Object({ name: Type.String({ minLength: 1, maxLength: NAME_LIMITS.function }) }),
      body: Type.Object(
        {
          input: Type.Optional(Type.Unknown({ description: 'Any JSON value; the handler gets it' })),
          wait: Type.Optional(Type.Boolean({ default: false })),
          waitTimeoutMs: Type.Optional(
            Type.Integer({ minimum: 1, maximum: MAX_INVOKE_WAIT_MS, default: DEFAULT_INVOKE_WAIT_MS }),
          ),
        },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({ run: Run }),
        202: Type.Object({ run: Run }),
        400: Failure,
        404: Failure,
        413: Failure,
      },
    },
  }),
};

const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  store: Type.Object({ backend: Type.String(), url: Type.String(), schemaVersion: Type.Integer() }),
  version: Type.String(),
  time: Type.String({
    format: 'date-time',
    description: 'The server clock (which --now and time scaling affect)',
  }),
});

/** One mark per area: a live page reloads an area whose mark moved. */
export const ChangeMarksSchema = Type.Object({
  runs: Type.String(),
  queues: Type.String(),
  schedules: Type.String(),
  tasks: Type.String(),
  workflows: Type.String(),
  events: Type.String(),
});

export const serviceOperations = {
  getHealth: operation({
    method: 'GET',
    path: '/healthz',
    schema: { operationId: 'getHealth', response: { 200: Health, 503: Health } },
  }),
  getMetrics: operation({
    method: 'GET',
    path: '/metrics',
    answer: 'text',
    schema: {
      operationId: 'getMetrics',
      response: { 200: Type.String({ description: 'Prometheus text exposition format 0.0.4' }) },
    },
  }),
  getAccess: operation({
    method: 'GET',
    path: '/v1/access',
    schema: {
      operationId: 'getAccess',
      response: {
        200: Type.Object({
          access: Type.Union([Type.Literal('full'), Type.Literal('read'), Type.Literal('none')]),
          auth: Type.Boolean({ description: 'Whether this server asks for a token' }),
          version: Type.String(),
          now: Type.String({
            format: 'date-time',
            description:
              'The server\'s clock (scaled under MAINSPRING_TIME_SCALE): what "in 5 min" is counted from',
          }),
        }),
      },
    },
  }),
  streamChanges: operation({
    method: 'GET',
    path: '/v1/changes',
    answer: 'sse',
    schema: { operationId: 'streamChanges', response: { 200: ChangeMarksSchema } },
  }),
  receiveWebhook: operation({
    method: 'POST',
    path: '/v1/webhooks/:source',
    rawBody: true,
    schema: {
      operationId: 'receiveWebhook',
      params: Type.Object({ source: Type.String({ minLength: 1, maxLength: 64 }) }),
      response: {
        200: Type.Object({ eventId: Type.String(), duplicate: Type.Boolean() }),
        400: Failure,
        401: Failure,
        404: Failure,
        413: Failure,
      },
    },
  }),
};
