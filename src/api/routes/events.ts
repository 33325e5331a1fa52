// /v1/events: put events on the bus (per-entry results, as PutEvents), read a stored
// event, and replay a time range to the rules.

import { Type } from 'typebox';
import { NAME_LIMITS } from '../../core/names.ts';
import { ErrorSchema } from '../schemas.ts';
import type { Api, ApiDeps } from '../server.ts';

const Entry = Type.Unknown({
  description: '{ source, detailType, detail, time?, id? }; each entry is checked on its own',
});
const Result = Type.Union([
  Type.Object({ eventId: Type.String() }),
  Type.Object({ errorCode: Type.String(), errorMessage: Type.String() }),
]);
const EventSchema = Type.Object({
  id: Type.String(),
  source: Type.String(),
  detailType: Type.String(),
  detail: Type.Unknown(),
  time: Type.String({ format: 'date-time' }),
  putAt: Type.String({ format: 'date-time' }),
  routedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
const Errors = { 400: ErrorSchema, 404: ErrorSchema, 413: ErrorSchema };

export function eventRoutes(app: Api, { events }: ApiDeps): void {
  app.post(
    '/v1/events',
    {
      schema: {
        summary: 'Put events on the bus',
        description:
          'Stores the valid entries and routes them to the matching rules; invalid entries get errorCode and errorMessage in their place and store nothing.',
        tags: ['events'],
        body: Type.Object(
          { entries: Type.Array(Entry, { minItems: 1, maxItems: 1000 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ failedEntryCount: Type.Integer(), entries: Type.Array(Result) }),
          ...Errors,
        },
      },
    },
    async (req) => {
      const result = await events.put(req.body.entries);
      return { failedEntryCount: result.failedEntryCount, entries: [...result.entries] };
    },
  );

  app.get(
    '/v1/events/:id',
    {
      schema: {
        summary: 'A stored event',
        tags: ['events'],
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: NAME_LIMITS.event }) }),
        response: { 200: EventSchema, ...Errors },
      },
    },
    async (req) => events.get(req.params.id),
  );

  app.post(
    '/v1/events/replay',
    {
      schema: {
        summary: 'Send the events of a time range to the rules again',
        description: 'Events whose time is in [from, to) go to every rule, or to `rule`, marked replayed.',
        tags: ['events'],
        body: Type.Object(
          {
            from: Type.String({ format: 'date-time' }),
            to: Type.String({ format: 'date-time' }),
            rule: Type.Optional(Type.String({ minLength: 1, maxLength: NAME_LIMITS.eventRule })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ replayId: Type.String(), events: Type.Integer(), deliveries: Type.Integer() }),
          ...Errors,
        },
      },
    },
    async (req) =>
      events.replay({
        from: req.body.from,
        to: req.body.to,
        ...(req.body.rule ? { rule: req.body.rule } : {}),
      }),
  );
}
