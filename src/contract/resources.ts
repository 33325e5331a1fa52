// The API's resources as TypeBox schemas, each named by its `$id`: the server registers
// them once (`app.addSchema`), so /openapi.json lists them under `components.schemas`
// and routes point at them with `$ref`; the client types its answers from the same
// schemas (`Static<…>`). Browser-safe: TypeBox and pure constants only.

import { type Static, type TSchema, Type } from 'typebox';

/**
 * A reference to a named schema, typed as the schema it names: `{ $ref: 'Run' }` on the
 * wire, `Static<typeof RunSchema>` to TypeScript.
 *
 * @example
 * const Page = Type.Object({ runs: Type.Array(ref(RunSchema)) });
 */
export function ref<T extends TSchema>(schema: T) {
  const id = (schema as { $id?: unknown }).$id;
  if (typeof id !== 'string') throw new TypeError('ref() needs a schema with an $id');
  return Type.Unsafe<Static<T>>(Type.Ref(id));
}

// Kept equal to the engine's lists by a type check in api/schemas.ts (the client cannot
// import the engine: it runs in browsers).
/** A run's statuses (store/run-row.ts). */
export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled'] as const;
/** A workflow execution's statuses (store/workflow-row.ts). */
export const EXECUTION_STATUSES = [
  'running',
  'waiting',
  'succeeded',
  'failed',
  'stopped',
  'timed_out',
] as const;
export const TRIGGER_KINDS = ['manual', 'queue', 'event', 'schedule', 'task', 'webhook'] as const;

const DateTime = Type.String({ format: 'date-time' });
const NullableDateTime = Type.Union([DateTime, Type.Null()]);

/** A list's `limit` query parameter: 1 to 500, as text (query strings are text). */
export const PageLimit = Type.String({
  pattern: '^([1-9][0-9]?|[1-4][0-9]{2}|500)$',
  description: '1 to 500 (default 50)',
});

export const ErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable error code, e.g. E_VALIDATION (see docs/errors.md)' }),
      message: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { $id: 'Error', description: 'Every error the API returns has this shape.' },
);

/** A duration: milliseconds, or a string such as "30s", "5m", "24h". */
export const DurationSchema = Type.Union(
  [Type.Integer({ minimum: 0 }), Type.String({ minLength: 1, maxLength: 64 })],
  {
    description: 'Milliseconds, or a string such as "30s", "5m", "24h"',
  },
);

export const RunSchema = Type.Object(
  {
    id: Type.String({ description: 'One per attempt' }),
    function: Type.String(),
    invocationId: Type.String({ description: 'Shared by every attempt of one invocation' }),
    attempt: Type.Integer({ minimum: 1 }),
    status: Type.Enum([...RUN_STATUSES]),
    trigger: Type.Object(
      { kind: Type.String({ description: TRIGGER_KINDS.join(', ') }) },
      { additionalProperties: true, description: 'What started the run, with its details' },
    ),
    input: Type.Unknown(),
    scheduledFor: NullableDateTime,
    createdAt: DateTime,
    startedAt: NullableDateTime,
    finishedAt: NullableDateTime,
    durationMs: Type.Union([Type.Integer(), Type.Null()]),
    result: Type.Unknown({ description: 'What the handler returned (succeeded runs)' }),
    error: Type.Union([
      Type.Object(
        {
          name: Type.String(),
          message: Type.String(),
          code: Type.Optional(Type.String()),
          stack: Type.Optional(Type.String()),
          exitCode: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
        },
        { additionalProperties: true },
      ),
      Type.Null(),
    ]),
    cancelRequestedAt: NullableDateTime,
    owner: Type.Union([Type.String(), Type.Null()], { description: 'The process that ran it' }),
    logCount: Type.Integer({ minimum: 0 }),
  },
  { $id: 'Run', description: 'One attempt of a function' },
);

export const RunLogLineSchema = Type.Object(
  {
    runId: Type.String(),
    function: Type.String(),
    seq: Type.Integer({ description: '1, 2, … within the run' }),
    id: Type.Integer(),
    time: DateTime,
    level: Type.Integer({ description: 'pino level: 30 info, 40 warn, 50 error' }),
    msg: Type.String(),
    fields: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  },
  { $id: 'RunLogLine', description: 'One log line a run wrote' },
);

const ScheduleTargetSchema = Type.Object(
  {
    kind: Type.String({ description: 'function, queue, workflow or http' }),
    function: Type.Optional(
      Type.String({ description: 'kind function: the function invoked with the payload' }),
    ),
    queue: Type.Optional(Type.String({ description: 'kind queue: the queue the payload is sent to' })),
    workflow: Type.Optional(
      Type.String({
        description: 'kind workflow: the workflow started with the payload as input, once per tick',
      }),
    ),
    url: Type.Optional(
      Type.String({ description: "kind http: the URL called (host on the app's allow-list)" }),
    ),
    method: Type.Optional(
      Type.String({ description: 'kind http: GET, POST (default), PUT, PATCH or DELETE' }),
    ),
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
    body: Type.Optional(Type.Unknown({ description: 'kind http: sent as JSON (default: the payload)' })),
    timeout: Type.Optional(DurationSchema),
  },
  { additionalProperties: true, description: 'Where a tick goes' },
);
/** A schedule's target, in request bodies and answers alike (unnamed: it is part of a Schedule). */
export const TargetSchema = ScheduleTargetSchema;

const Policy = <T extends string>(values: readonly T[], description: string) =>
  Type.Enum([...values], { description });

export const ScheduleSchema = Type.Object(
  {
    name: Type.String(),
    expression: Type.String(),
    timezone: Type.String(),
    summary: Type.String({ description: 'In plain English, e.g. "At 02:00 (UTC)"' }),
    start: NullableDateTime,
    end: NullableDateTime,
    enabled: Type.Boolean(),
    target: ScheduleTargetSchema,
    payload: Type.Unknown(),
    retry: Type.Object({
      maxAttempts: Type.Union([Type.Integer(), Type.Null()]),
      maxEventAgeMs: Type.Union([Type.Integer(), Type.Null()]),
    }),
    flexibleWindowMs: Type.Integer(),
    misfire: Policy(['skip', 'once', 'all'], 'What to do with ticks missed while no scheduler ran'),
    misfireLimit: Type.Integer(),
    overlap: Policy(['allow', 'skip', 'queue'], "While the previous tick's run is queued or running"),
    description: Type.Union([Type.String(), Type.Null()]),
    source: Type.Enum(['config', 'api'], {
      description:
        '`config`: declared in the config (read-only here but for enable/disable); `api`: created at run time',
    }),
    createdAt: DateTime,
    updatedAt: DateTime,
    state: Type.Object({
      nextTick: NullableDateTime,
      nextFireAt: NullableDateTime,
      lastTick: NullableDateTime,
      lastFiredAt: NullableDateTime,
      lastRun: Type.Union([
        Type.Object({ id: Type.String(), status: Type.Enum([...RUN_STATUSES]) }),
        Type.Null(),
      ]),
      ended: Type.Boolean(),
    }),
  },
  { $id: 'Schedule', description: 'A persistent schedule with its state' },
);

export const TaskSchema = Type.Object(
  {
    id: Type.String(),
    action: Type.String({ description: 'The function that runs it' }),
    payload: Type.Unknown({ description: "The function's input" }),
    due: DateTime,
    status: Type.Enum(['pending', 'fired'], { description: '`pending` until it fires, then `fired`' }),
    createdAt: DateTime,
    updatedAt: DateTime,
    firedAt: Type.Union([DateTime, Type.Null()]),
    runId: Type.Union([Type.String(), Type.Null()], {
      description: 'The first attempt of the run it fired',
    }),
  },
  { $id: 'Task', description: 'A one-off task' },
);

/** A queue's pause state: in the Queue resource, and what pause and resume answer. */
export const QueuePauseFields = {
  paused: Type.Boolean({ description: 'No process receives from it until it is resumed; sends are stored' }),
  pausedAt: NullableDateTime,
};

export const QueueSchema = Type.Object(
  {
    name: Type.String(),
    settings: Type.Object({
      visibilityTimeoutMs: Type.Integer(),
      maxReceiveCount: Type.Union([Type.Integer(), Type.Null()]),
      deadLetterQueue: Type.Union([Type.String(), Type.Null()]),
      retry: Type.Object({
        backoff: Type.String(),
        baseMs: Type.Integer(),
        maxMs: Type.Integer(),
        jitter: Type.Boolean(),
      }),
      fifo: Type.Boolean(),
      maxBodyBytes: Type.Integer(),
      dedupWindowMs: Type.Integer(),
    }),
    counts: Type.Object({
      visible: Type.Integer(),
      inFlight: Type.Integer(),
      delayed: Type.Integer(),
      dead: Type.Integer(),
      waitingForSlot: Type.Integer({
        description:
          "Of the visible: turned back by a function's keyed concurrency limit, waiting for a slot",
      }),
      rateLimited: Type.Integer({ description: "Of the delayed: held back by a function's rate limit" }),
      oldestAgeMs: Type.Union([Type.Integer(), Type.Null()]),
    }),
    ...QueuePauseFields,
  },
  { $id: 'Queue', description: 'A queue with its settings and counts' },
);

export const MessageSchema = Type.Object(
  {
    id: Type.String(),
    queue: Type.String(),
    body: Type.Unknown(),
    priority: Type.Integer(),
    receiveCount: Type.Integer(),
    state: Type.String({ description: 'visible, in_flight or delayed' }),
    sentAt: DateTime,
    visibleAt: DateTime,
    groupId: Type.Union([Type.String(), Type.Null()]),
    errors: Type.Array(Type.Unknown()),
    sourceQueue: Type.Union([Type.String(), Type.Null()]),
    deadAt: Type.Union([DateTime, Type.Null()]),
  },
  { $id: 'Message', description: 'A stored message' },
);

const ErrorView = Type.Object({
  name: Type.String(),
  message: Type.String(),
  code: Type.Optional(Type.String({ description: 'A mainspring error code, when it was one' })),
});

export const ExecutionSchema = Type.Object(
  {
    id: Type.String(),
    workflow: Type.String(),
    version: Type.String({ description: 'The workflow version it started on' }),
    status: Type.Enum([...EXECUTION_STATUSES], {
      description:
        '`running` (replaying or about to), `waiting` (for time, a callback, a retry, a child or an event), or finished: `succeeded`, `failed`, `stopped`, `timed_out`',
    }),
    input: Type.Unknown(),
    output: Type.Optional(Type.Unknown({ description: 'Once it has succeeded' })),
    error: Type.Optional(ErrorView),
    progress: Type.Unknown({
      description: 'The last value the workflow passed to ctx.progress (null: none)',
    }),
    wait: Type.Union(
      [
        Type.Object({
          kind: Type.String({ description: 'wait, callback, retry, invoke or event' }),
          name: Type.String(),
          operation: Type.String(),
          until: NullableDateTime,
          callbackId: Type.Optional(Type.String()),
          waiting: Type.Optional(
            Type.Integer({ minimum: 1, description: 'How many operations it waits on (parallel branches)' }),
          ),
        }),
        Type.Null(),
      ],
      { description: 'What it waits for, while `waiting`' },
    ),
    parentId: Type.Union([Type.String(), Type.Null()], { description: 'The execution that invoked it' }),
    operations: Type.Integer({ minimum: 0, description: 'Journaled operations so far' }),
    replays: Type.Integer({ minimum: 0 }),
    stopRequested: Type.Boolean(),
    createdAt: DateTime,
    startedAt: NullableDateTime,
    updatedAt: DateTime,
    finishedAt: NullableDateTime,
  },
  { $id: 'Execution', description: 'A durable workflow execution' },
);

export const OperationSchema = Type.Object(
  {
    id: Type.String(),
    parentId: Type.Union([Type.String(), Type.Null()]),
    type: Type.String({ description: 'step, wait, callback, invoke, parallel, map, …' }),
    name: Type.String(),
    status: Type.String(),
    attempts: Type.Integer({ minimum: 0 }),
    result: Type.Optional(Type.Unknown()),
    error: Type.Optional(ErrorView),
    startedAt: DateTime,
    finishedAt: NullableDateTime,
    wakeAt: Type.Union([DateTime, Type.Null()], {
      description: "A wait's end, a retry's next attempt, a callback's timeout",
    }),
    callbackId: Type.Optional(Type.String()),
    childId: Type.Optional(Type.String()),
  },
  { $id: 'Operation', description: "One journaled operation of an execution's history" },
);

export const LeaseSchema = Type.Object(
  {
    name: Type.String(),
    owner: Type.String(),
    token: Type.Integer({ description: 'Fencing token: strictly increasing per lock name' }),
    acquiredAt: DateTime,
    expiresAt: DateTime,
  },
  { $id: 'Lease', description: 'A held lease (lock)' },
);

/** An event's own fields; `Event` adds the rules it matched. */
export const EventFields = {
  id: Type.String(),
  source: Type.String(),
  detailType: Type.String(),
  detail: Type.Unknown(),
  time: DateTime,
  putAt: DateTime,
  routedAt: Type.Union([DateTime, Type.Null()]),
};

export const EventSchema = Type.Object(EventFields, { $id: 'Event', description: 'A stored event' });

/** Every named schema, registered once by the server. */
export const NAMED_SCHEMAS = [
  ErrorSchema,
  RunSchema,
  RunLogLineSchema,
  ScheduleSchema,
  TaskSchema,
  QueueSchema,
  MessageSchema,
  ExecutionSchema,
  OperationSchema,
  LeaseSchema,
  EventSchema,
] as const;

export type ApiError = Static<typeof ErrorSchema>['error'];
export type Run = Static<typeof RunSchema>;
export type RunLogLine = Static<typeof RunLogLineSchema>;
export type Schedule = Static<typeof ScheduleSchema>;
export type Task = Static<typeof TaskSchema>;
export type Queue = Static<typeof QueueSchema>;
export type Message = Static<typeof MessageSchema>;
export type Execution = Static<typeof ExecutionSchema>;
export type Operation = Static<typeof OperationSchema>;
export type Lease = Static<typeof LeaseSchema>;
export type Event = Static<typeof EventSchema>;
