// /v1/tasks: one-off tasks, upserted by id (one, or many at once), listed, read
// and deleted.
//
// A task id is any 1–200 printable characters: spaces, "/", "?", "%", any script. In the
// path it is percent-encoded as encodeURIComponent does (`/v1/tasks/some%20task%20id`,
// "/" as %2F); the server's router takes parameters that long (MAX_PARAM_LENGTH).
//
// The body schema checks only the JSON shape; the task module checks the rest (`due`
// an ISO-8601 instant with a zone, `action` a function of the app, the payload at most
// 256 KiB) and answers 400 `E_TASK_INVALID` naming the field in `details.field`, with
// nothing stored.

import { Type } from 'typebox';
import { NAME_LIMITS } from '../../core/names.ts';
import { invalidField } from '../../scheduler/spec.ts';
import { MAX_TASK_ID, type TaskInput } from '../../scheduler/tasks.ts';
import type { TaskStatus } from '../../store/schedule-row.ts';
import { ErrorSchema } from '../schemas.ts';
import type { Api, ApiDeps } from '../types.ts';

const DateTime = Type.String({ format: 'date-time' });

export const TaskSchema = Type.Object({
  id: Type.String(),
  action: Type.String({ description: 'The function that runs it' }),
  payload: Type.Unknown({ description: "The function's input" }),
  due: DateTime,
  status: Type.Enum(['pending', 'fired'], { description: '`pending` until it fires, then `fired`' }),
  createdAt: DateTime,
  updatedAt: DateTime,
  firedAt: Type.Union([DateTime, Type.Null()]),
  runId: Type.Union([Type.String(), Type.Null()], { description: 'The first attempt of the run it fired' }),
});

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

const Id = Type.Object({
  id: Type.String({
    minLength: 1,
    maxLength: MAX_TASK_ID,
    description: 'The task id, percent-encoded (`some%20task%20id`, "/" as %2F)',
  }),
});
const Errors = { 400: ErrorSchema, 404: ErrorSchema };

export function taskRoutes(app: Api, { tasks }: ApiDeps): void {
  app.get(
    '/v1/tasks',
    {
      schema: {
        summary: 'List tasks, by due time',
        description: 'Filters combine; pass `nextCursor` back as `cursor` for the next page.',
        tags: ['tasks'],
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
          200: Type.Object({
            tasks: Type.Array(TaskSchema),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...Errors,
        },
      },
    },
    async (req) => {
      const q = req.query;
      return tasks.list({
        ...(q.action !== undefined ? { action: q.action } : {}),
        ...(q.status !== undefined ? { status: q.status as TaskStatus } : {}),
        ...(q.dueBefore !== undefined ? { dueBefore: q.dueBefore } : {}),
        ...(q.dueAfter !== undefined ? { dueAfter: q.dueAfter } : {}),
        ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
        ...(q.limit !== undefined ? { limit: Number(q.limit) } : {}),
      });
    },
  );

  app.post(
    '/v1/tasks',
    {
      schema: {
        summary: 'Create or overwrite a task, or many',
        description:
          'A task `{ id, due, action, payload }` answers 200 with it (an existing id is overwritten: a new due, action or payload replaces the old, and it is pending again). `{ tasks: [...] }` upserts them all (a later duplicate id wins) and answers `{ upserted }`. Bad input answers 400 `E_TASK_INVALID` naming the field, with nothing stored.',
        tags: ['tasks'],
        body: UpsertBody,
        response: {
          200: Type.Union([TaskSchema, Type.Object({ upserted: Type.Integer({ minimum: 0 }) })]),
          ...Errors,
        },
      },
    },
    async (req) => {
      const { tasks: many, ...one } = req.body;
      if (many === undefined) return tasks.upsert(one as TaskInput);
      const extra = Object.keys(one);
      if (extra.length > 0) {
        throw invalidField(
          'E_TASK_INVALID',
          extra[0]!,
          'give one task { id, due, action, payload } or { tasks: [...] }, not both',
        );
      }
      return { upserted: await tasks.upsertMany(many) };
    },
  );

  app.get(
    '/v1/tasks/:id',
    {
      schema: {
        summary: 'One task',
        tags: ['tasks'],
        params: Id,
        response: { 200: TaskSchema, ...Errors },
      },
    },
    async (req) => tasks.get(req.params.id),
  );

  app.delete(
    '/v1/tasks/:id',
    {
      schema: {
        summary: 'Delete a task',
        description:
          'It never fires (one fired early whose run has not started is cancelled). Answers with the task as it was.',
        tags: ['tasks'],
        params: Id,
        response: { 200: TaskSchema, ...Errors },
      },
    },
    async (req) => tasks.delete(req.params.id),
  );
}
