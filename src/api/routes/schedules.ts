// /v1/schedules: persistent schedules (list, create, read, change, delete, enable,
// disable) and the next ticks of one.
//
// A schedule name may contain "/" and ":". In the path, clients must percent-encode
// "/" as %2F (encodeURIComponent does): an unencoded slash starts a new path segment,
// so "/v1/schedules/reports/next" is the next-ticks route of a schedule named
// "reports", not the schedule "reports/next". ":" needs no encoding (%3A works too).
//
// The body schemas check only the JSON shape; what a schedule means (expression, zone,
// start and end, target, payload size, HTTP allow-list) is checked by the schedule
// module, whose E_SCHEDULE_INVALID errors name the field in `details.field`.

import { Type } from 'typebox';
import { MainspringError } from '../../core/errors.ts';
import { NAME_LIMITS } from '../../core/names.ts';
import { RUN_STATUSES } from '../../runtime/runs.ts';
import type { CreateScheduleInput, UpdateScheduleInput } from '../../scheduler/spec.ts';
import { DurationSchema, ErrorSchema } from '../schemas.ts';
import type { Api, ApiDeps } from '../types.ts';

const DateTime = Type.String({ format: 'date-time' });
const NullableDateTime = Type.Union([DateTime, Type.Null()]);
const Policy = <T extends string>(values: readonly T[], description: string) =>
  Type.Enum([...values], { description });

const TargetSchema = Type.Object(
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

const CronObjectSchema = Type.Record(Type.String(), Type.String(), {
  description: 'A CDK-style cron object, e.g. {"minute": "0", "hour": "9", "weekDay": "MON-FRI"}',
});
const ExpressionSchema = Type.Union([Type.String({ minLength: 1, maxLength: 1000 }), CronObjectSchema], {
  description: 'cron(…), rate(…), at(…), a 5/6-field Unix cron line, or a cron object',
});

export const ScheduleSchema = Type.Object({
  name: Type.String(),
  expression: Type.String(),
  timezone: Type.String(),
  summary: Type.String({ description: 'In plain English, e.g. "At 02:00 (UTC)"' }),
  start: NullableDateTime,
  end: NullableDateTime,
  enabled: Type.Boolean(),
  target: TargetSchema,
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
});

const settings = {
  timezone: Type.Optional(Type.String({ description: 'IANA zone the expression is read in (default UTC)' })),
  enabled: Type.Optional(Type.Boolean()),
  payload: Type.Optional(Type.Unknown({ description: 'JSON, at most 256 KiB' })),
  retry: Type.Optional(
    Type.Object(
      { maxAttempts: Type.Optional(Type.Integer()), maxEventAge: Type.Optional(DurationSchema) },
      { additionalProperties: false },
    ),
  ),
  misfire: Type.Optional(Type.String({ description: 'skip (default), once or all' })),
  misfireLimit: Type.Optional(Type.Integer()),
  overlap: Type.Optional(Type.String({ description: 'allow (default), skip or queue' })),
  description: Type.Optional(Type.String({ maxLength: 1000 })),
};
const Instant = Type.String({ description: 'An ISO-8601 instant with a zone, e.g. 2027-01-01T00:00:00Z' });

const CreateBody = Type.Object(
  {
    name: Type.String({ description: 'Letters, digits, "-", "_", ".", ":", "/"; at most 200' }),
    expression: ExpressionSchema,
    target: TargetSchema,
    start: Type.Optional(Instant),
    end: Type.Optional(Instant),
    flexibleWindow: Type.Optional(Type.Union([DurationSchema, Type.Null()])),
    ...settings,
  },
  { additionalProperties: false },
);

const UpdateBody = Type.Object(
  {
    name: Type.Optional(
      Type.String({ description: 'If given, must be the current name (names do not change)' }),
    ),
    expression: Type.Optional(ExpressionSchema),
    target: Type.Optional(TargetSchema),
    start: Type.Optional(Type.Union([Instant, Type.Null()])),
    end: Type.Optional(Type.Union([Instant, Type.Null()])),
    flexibleWindow: Type.Optional(Type.Union([DurationSchema, Type.Null()])),
    ...settings,
  },
  {
    additionalProperties: false,
    description: 'The fields to change; the rest stay. null clears start, end or flexibleWindow.',
  },
);

const Name = Type.Object({
  name: Type.String({
    minLength: 1,
    maxLength: NAME_LIMITS.schedule,
    description: 'The schedule name, "/" encoded as %2F',
  }),
});
const Errors = { 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema };

export function scheduleRoutes(app: Api, { schedules, runs, queues, workflows }: ApiDeps): void {
  app.get(
    '/v1/schedules',
    {
      schema: {
        summary: 'List schedules, by name',
        description: 'Filters combine; pass `nextCursor` back as `cursor` for the next page.',
        tags: ['schedules'],
        querystring: Type.Object(
          {
            source: Type.Optional(Type.Enum(['config', 'api'])),
            enabled: Type.Optional(Type.Enum(['true', 'false'])),
            cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            // Query values are strings (the API's Ajv does not coerce): numbers are matched as text.
            limit: Type.Optional(
              Type.String({
                pattern: '^([1-9][0-9]?|[1-4][0-9]{2}|500)$',
                description: '1 to 500 (default 50)',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            schedules: Type.Array(ScheduleSchema),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...Errors,
        },
      },
    },
    async (req) => {
      const q = req.query;
      return schedules.list({
        ...(q.source !== undefined ? { source: q.source as 'config' | 'api' } : {}),
        ...(q.enabled !== undefined ? { enabled: q.enabled === 'true' } : {}),
        ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
        ...(q.limit !== undefined ? { limit: Number(q.limit) } : {}),
      });
    },
  );

  app.post(
    '/v1/schedules',
    {
      schema: {
        summary: 'Create a schedule',
        description:
          'Answers 201 with the schedule; 409 `E_SCHEDULE_EXISTS` if the name is taken; 400 `E_SCHEDULE_INVALID` naming the field at fault (`details.field`), with nothing stored.',
        tags: ['schedules'],
        body: CreateBody,
        response: { 201: ScheduleSchema, ...Errors },
      },
    },
    async (req, reply) => {
      const created = await schedules.create(req.body as CreateScheduleInput);
      return reply.status(201).send(created);
    },
  );

  app.get(
    '/v1/schedules/:name',
    {
      schema: {
        summary: 'One schedule, with its state (next and last tick, last run)',
        tags: ['schedules'],
        params: Name,
        response: { 200: ScheduleSchema, ...Errors },
      },
    },
    async (req) => schedules.get(req.params.name),
  );

  app.patch(
    '/v1/schedules/:name',
    {
      schema: {
        summary: 'Change a schedule',
        description:
          'Changes the given fields; a change to when it fires takes effect from now. A schedule from the config is read-only (409 `E_SCHEDULE_READ_ONLY`): change the config.',
        tags: ['schedules'],
        params: Name,
        body: UpdateBody,
        response: { 200: ScheduleSchema, ...Errors },
      },
    },
    async (req) => schedules.update(req.params.name, req.body as UpdateScheduleInput),
  );

  app.delete(
    '/v1/schedules/:name',
    {
      schema: {
        summary: 'Delete a schedule',
        description:
          'Answers with the schedule as it was. A schedule from the config cannot be deleted (409 `E_SCHEDULE_READ_ONLY`): remove it from the config, or disable it.',
        tags: ['schedules'],
        params: Name,
        response: { 200: ScheduleSchema, ...Errors },
      },
    },
    async (req) => schedules.delete(req.params.name),
  );

  for (const action of ['enable', 'disable'] as const) {
    app.post(
      `/v1/schedules/:name/${action}`,
      {
        schema: {
          summary: action === 'enable' ? 'Enable a schedule' : 'Disable a schedule',
          description:
            action === 'enable'
              ? 'It fires from its next tick after now; ticks missed while disabled do not fire.'
              : 'It fires no tick until enabled again. Works on schedules from the config too.',
          tags: ['schedules'],
          params: Name,
          response: { 200: ScheduleSchema, ...Errors },
        },
      },
      async (req) => schedules[action](req.params.name),
    );
  }

  app.post(
    '/v1/schedules/:name/run',
    {
      schema: {
        summary: "Run a schedule's target once, now",
        description:
          'Outside its cadence: its next tick does not move, and it works while disabled. A function target answers the new run, a queue target the message id, a workflow target the execution id. An HTTP target answers 409: call its URL yourself.',
        tags: ['schedules'],
        params: Name,
        response: {
          200: Type.Object({
            runId: Type.Optional(Type.String()),
            messageId: Type.Optional(Type.String()),
            executionId: Type.Optional(Type.String()),
          }),
          ...Errors,
        },
      },
    },
    async (req) => {
      const s = await schedules.get(req.params.name);
      const t = s.target;
      switch (t.kind) {
        case 'function': {
          const run = await runs.invoke(t.function, s.payload, {
            trigger: { kind: 'manual', by: `schedule:${s.name}` },
          });
          return { runId: run.id };
        }
        case 'queue':
          return { messageId: await queues.send(t.queue, s.payload ?? {}) };
        case 'workflow':
          return { executionId: (await workflows.start(t.workflow, s.payload)).id };
        default:
          throw new MainspringError(
            'E_CONFLICT',
            `schedule ${s.name} sends an HTTP request; run now works for function, queue and workflow targets`,
            { details: { field: 'target' } },
          );
      }
    },
  );

  app.get(
    '/v1/schedules/:name/next',
    {
      schema: {
        summary: 'The next ticks of a schedule',
        description: 'From now (or its last tick, if later), whether or not it is enabled.',
        tags: ['schedules'],
        params: Name,
        querystring: Type.Object(
          {
            count: Type.Optional(
              Type.String({ pattern: '^([1-9][0-9]{0,2}|1000)$', description: '1 to 1000 (default 5)' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ next: Type.Array(DateTime) }), ...Errors },
      },
    },
    async (req) => {
      const next = await schedules.next(req.params.name, Number(req.query.count ?? 5));
      return { next: next.map((d) => d.toISOString()) };
    },
  );
}
