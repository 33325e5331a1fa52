// /v1/events: put events on the bus (per-entry results, as PutEvents), read a stored
// event, and replay a time range to the rules.

import { Type } from 'typebox';
import { MainspringError } from '../../core/errors.ts';
import { readInstant } from '../../core/instant.ts';
import { NAME_LIMITS } from '../../core/names.ts';
import { ErrorSchema } from '../schemas.ts';
import type { Api, ApiDeps } from '../types.ts';

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

export function eventRoutes(app: Api, { events, clock }: ApiDeps): void {
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
    '/v1/events',
    {
      schema: {
        summary: 'Stored events of a time range, oldest first',
        description:
          'Events whose time is in [from, to) (default: the last 24 hours), each with the stored rules it matches and the queues they deliver to. Pass `nextCursor` back as `cursor` for the next page.',
        tags: ['events'],
        querystring: Type.Object(
          {
            from: Type.Optional(Type.String({ format: 'date-time' })),
            to: Type.Optional(Type.String({ format: 'date-time' })),
            cursor: Type.Optional(Type.String({ minLength: 3, maxLength: 40 })),
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
            events: Type.Array(
              Type.Object({
                ...EventSchema.properties,
                rules: Type.Array(Type.Object({ name: Type.String(), queues: Type.Array(Type.String()) })),
              }),
            ),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...Errors,
        },
      },
    },
    async (req) => {
      const q = req.query;
      const at = (value: string | undefined, field: string, fallback: number) => {
        if (value === undefined) return fallback;
        const ms = readInstant(value);
        if (typeof ms !== 'number') {
          throw new MainspringError('E_VALIDATION', `${field}: ${ms.why}`, { details: { field, value } });
        }
        return ms;
      };
      const now = clock.now();
      return events.list({
        from: at(q.from, 'from', now - 86_400_000),
        to: at(q.to, 'to', now + 60_000),
        after: q.cursor,
        limit: Number(q.limit ?? 50),
      });
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
