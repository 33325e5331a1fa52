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

import { invalidField } from '../../scheduler/spec.ts';
import type { TaskInput } from '../../scheduler/tasks.ts';
import type { TaskStatus } from '../../store/schedule-row.ts';
import { OPERATIONS } from '../schemas.ts';
import type { Api, ApiDeps } from '../types.ts';

export function taskRoutes(app: Api, { tasks }: ApiDeps): void {
  app.get(
    '/v1/tasks',
    {
      schema: {
        ...OPERATIONS.listTasks.schema,
        summary: 'List tasks, by due time',
        description: 'Filters combine; pass `nextCursor` back as `cursor` for the next page.',
        tags: ['tasks'],
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
        ...OPERATIONS.upsertTasks.schema,
        summary: 'Create or overwrite a task, or many',
        description:
          'A task `{ id, due, action, payload }` answers 200 with it (an existing id is overwritten: a new due, action or payload replaces the old, and it is pending again). `{ tasks: [...] }` upserts them all (a later duplicate id wins) and answers `{ upserted }`. Bad input answers 400 `E_TASK_INVALID` naming the field, with nothing stored.',
        tags: ['tasks'],
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
        ...OPERATIONS.getTask.schema,
        summary: 'One task',
        tags: ['tasks'],
      },
    },
    async (req) => tasks.get(req.params.id),
  );

  app.delete(
    '/v1/tasks/:id',
    {
      schema: {
        ...OPERATIONS.deleteTask.schema,
        summary: 'Delete a task',
        description:
          'It never fires (one fired early whose run has not started is cancelled). Answers with the task as it was.',
        tags: ['tasks'],
      },
    },
    async (req) => tasks.delete(req.params.id),
  );
}
