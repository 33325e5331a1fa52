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

import { MainspringError } from '../../core/errors.ts';
import type { CreateScheduleInput, UpdateScheduleInput } from '../../scheduler/spec.ts';
import { OPERATIONS } from '../schemas.ts';
import type { Api, ApiDeps } from '../types.ts';

export function scheduleRoutes(app: Api, { schedules, runs, queues, workflows }: ApiDeps): void {
  app.get(
    '/v1/schedules',
    {
      schema: {
        ...OPERATIONS.listSchedules.schema,
        summary: 'List schedules, by name',
        description: 'Filters combine; pass `nextCursor` back as `cursor` for the next page.',
        tags: ['schedules'],
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
        ...OPERATIONS.createSchedule.schema,
        summary: 'Create a schedule',
        description:
          'Answers 201 with the schedule; 409 `E_SCHEDULE_EXISTS` if the name is taken; 400 `E_SCHEDULE_INVALID` naming the field at fault (`details.field`), with nothing stored.',
        tags: ['schedules'],
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
        ...OPERATIONS.getSchedule.schema,
        summary: 'One schedule, with its state (next and last tick, last run)',
        tags: ['schedules'],
      },
    },
    async (req) => schedules.get(req.params.name),
  );

  app.patch(
    '/v1/schedules/:name',
    {
      schema: {
        ...OPERATIONS.updateSchedule.schema,
        summary: 'Change a schedule',
        description:
          'Changes the given fields; a change to when it fires takes effect from now. A schedule from the config is read-only (409 `E_SCHEDULE_READ_ONLY`): change the config.',
        tags: ['schedules'],
      },
    },
    async (req) => schedules.update(req.params.name, req.body as UpdateScheduleInput),
  );

  app.delete(
    '/v1/schedules/:name',
    {
      schema: {
        ...OPERATIONS.deleteSchedule.schema,
        summary: 'Delete a schedule',
        description:
          'Answers with the schedule as it was. A schedule from the config cannot be deleted (409 `E_SCHEDULE_READ_ONLY`): remove it from the config, or disable it.',
        tags: ['schedules'],
      },
    },
    async (req) => schedules.delete(req.params.name),
  );

  for (const action of ['enable', 'disable'] as const) {
    app.post(
      `/v1/schedules/:name/${action}`,
      {
        schema: {
          ...OPERATIONS[action === 'enable' ? 'enableSchedule' : 'disableSchedule'].schema,
          summary: action === 'enable' ? 'Enable a schedule' : 'Disable a schedule',
          description:
            action === 'enable'
              ? 'It fires from its next tick after now; ticks missed while disabled do not fire.'
              : 'It fires no tick until enabled again. Works on schedules from the config too.',
          tags: ['schedules'],
        },
      },
      async (req) => schedules[action](req.params.name),
    );
  }

  app.post(
    '/v1/schedules/:name/run',
    {
      schema: {
        ...OPERATIONS.runSchedule.schema,
        summary: "Run a schedule's target once, now",
        description:
          'Outside its cadence: its next tick does not move, and it works while disabled. A function target answers the new run, a queue target the message id, a workflow target the execution id. An HTTP target answers 409: call its URL yourself.',
        tags: ['schedules'],
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
        ...OPERATIONS.getNextTicks.schema,
        summary: 'The next ticks of a schedule',
        description: 'From now (or its last tick, if later), whether or not it is enabled.',
        tags: ['schedules'],
      },
    },
    async (req) => {
      const next = await schedules.next(req.params.name, Number(req.query.count ?? 5));
      return { next: next.map((d) => d.toISOString()) };
    },
  );
}
