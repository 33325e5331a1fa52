// The operations of /v1/schedules and /v1/tasks.

import { Type } from 'typebox';
import { NAME_LIMITS } from '../core/names.ts';
import { operation } from './operation.ts';
import {
  DurationSchema,
  ErrorSchema,
  PageLimit,
  ref,
  ScheduleSchema,
  TargetSchema,
  TaskSchema,
} from './resources.ts';

const Failure = ref(ErrorSchema);
const Schedule = ref(ScheduleSchema);
const Task = ref(TaskSchema);
const DateTime = Type.String({ format: 'date-time' });

const CronObjectSchema = Type.Record(Type.String(), Type.String(), {
  description: 'A CDK-style cron object, e.g. {"minute": "0", "hour": "9", "weekDay": "MON-FRI"}',
});
const ExpressionSchema = Type.Union([Type.String({ minLength: 1, maxLength: 1000 }), CronObjectSchema], {
  description: 'cron(…), rate(…), at(…), a 5/6-field Unix cron line, or a cron object',
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

const ScheduleName = Type.Object({
  name: Type.String({
    minLength: 1,
    maxLength: NAME_LIMITS.schedule,
    description: 'The schedule name, "/" encoded as %2F',
  }),
});
const Errors = { 400: Failure, 404: Failure, 409: Failure };
const named = { params: ScheduleName, response: { 200: Schedule, ...Errors } };

export const scheduleOperations = {
  listSchedules: operation({
    method: 'GET',
    path: '/v1/schedules',
    schema: {
      operationId: 'listSchedules',
      querystring: Type.Object(
        {
          source: Type.Optional(Type.Enum(['config', 'api'])),
          enabled: Type.Optional(Type.Enum(['true', 'false'])),
          cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          // Query values are strings (the API's Ajv does not coerce): numbers are matched as text.
          limit: Type.Optional(PageLimit),
        },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({
          schedules: Type.Array(Schedule),
          nextCursor: Type.Union([Type.String(), Type.Null()]),
        }),
        ...Errors,
      },
    },
  }),
  createSchedule: operation({
    method: 'POST',
    path: '/v1/schedules',
    schema: { operationId: 'createSchedule', body: CreateBody, response: { 201: Schedule, ...Errors } },
  }),
  getSchedule: operation({
    method: 'GET',
    path: '/v1/schedules/:name',
    schema: { operationId: 'getSchedule', ...named },
  }),
  updateSchedule: operation({
    method: 'PATCH',
    path: '/v1/schedules/:name',
    schema: { operationId: 'updateSchedule', body: UpdateBody, ...named },
  }),
  deleteSchedule: operation({
    method: 'DELETE',
    path: '/v1/schedules/:name',
    schema: { operationId: 'deleteSchedule', ...named },
  }),
  enableSchedule: operation({
    method: 'POST',
    path: '/v1/schedules/:name/enable',
    schema: { operationId: 'enableSchedule', ...named },
  }),
  disableSchedule: operation({
    method: 'POST',
    path: '/v1/schedules/:name/disable',
    schema: { operationId: 'disableSchedule', ...named },
  }),
  runSchedule: operation({
    method: 'POST',
    path: '/v1/schedules/:name/run',
    schema: {
      operationId: 'runSchedule',
      params: ScheduleName,
      response: {
        200: Type.Object({
          runId: Type.Optional(Type.String()),
          messageId: Type.Optional(Type.String()),
          executionId: Type.Optional(Type.String()),
        }),
        ...Errors,
      },
    },
  }),
  getNextTicks: operation({
    method: 'GET',
    path: '/v1/schedules/:name/next',
    schema: {
      operationId: 'getNextTicks',
      params: ScheduleName,
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
  }),
};

const TaskBody = Type.Object(
  {
    id: Type.String({
      description: 'Caller-chosen: 1–200 printable characters (spaces and any script; no control characters)',
    }),
    due: Type.String({
      description:
        'When it fires: an ISO-8601 instant with a zone, e.g. 2027-03-01T09:00:00Z (a past time fires at once)',
    }),
    action: Type.String({ description: 'The function that runs it' }),
    payload: Type.Optional(Type.Unknown({ description: "The function's input: JSON, at most 256 KiB" })),
  },
  { additionalProperties: false },
);
// One task or `{ tasks }`, as one object rather than a union: a union's validation errors
// list every branch's complaints, where this names the one field at fault.
const UpsertBody = Type.Object(
  {
    id: Type.Optional(TaskBody.properties.id),
    due: Type.Optional(TaskBody.properties.due),
    action: Type.Optional(TaskBody.properties.action),
    payload: TaskBody.properties.payload,
    tasks: Type.Optional(
      Type.Array(TaskBody, {
        maxItems: 100_000,
        description: 'Many tasks instead of one: all are checked before any is stored',
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'One task `{ id, due, action, payload }`, or many: `{ tasks: [...] }`',
  },
);

const TaskId = Type.Object({
  id: Type.String({
    minLength: 1,
    maxLength: NAME_LIMITS.task,
    description: 'The task id, percent-encoded (`some%20task%20id`, "/" as %2F)',
  }),
});
const TaskErrors = { 400: Failure, 404: Failure };

export const taskOperations = {
  listTasks: operation({
    method: 'GET',
    path: '/v1/tasks',
    schema: {
      operationId: 'listTasks',
      querystring: Type.Object(
        {
          action: Type.Optional(Type.String({ minLength: 1, maxLength: NAME_LIMITS.function })),
          status: Type.Optional(Type.Enum(['pending', 'fired'])),
          dueBefore: Type.Optional(Type.String({ description: 'Due before this ISO-8601 instant' })),
          dueAfter: Type.Optional(Type.String({ description: 'Due at or after this ISO-8601 instant' })),
          cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
          // Query values are strings (the API's Ajv does not coerce): numbers are matched as text.
          limit: Type.Optional(
            Type.String({ pattern: '^([1-9][0-9]{0,2}|1000)$', description: '1 to 1000 (default 50)' }),
          ),
        },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({ tasks: Type.Array(Task), nextCursor: Type.Union([Type.String(), Type.Null()]) }),
        ...TaskErrors,
      },
    },
  }),
  upsertTasks: operation({
    method: 'POST',
    path: '/v1/tasks',
    schema: {
      operationId: 'upsertTasks',
      body: UpsertBody,
      response: {
        200: Type.Union([Task, Type.Object({ upserted: Type.Integer({ minimum: 0 }) })]),
        ...TaskErrors,
      },
    },
  }),
  getTask: operation({
    method: 'GET',
    path: '/v1/tasks/:id',
    schema: { operationId: 'getTask', params: TaskId, response: { 200: Task, ...TaskErrors } },
  }),
  deleteTask: operation({
    method: 'DELETE',
    path: '/v1/tasks/:id',
    schema: { operationId: 'deleteTask', params: TaskId, response: { 200: Task, ...TaskErrors } },
  }),
};
