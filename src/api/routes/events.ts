// /v1/events: put events on the bus (per-entry results, as PutEvents), read a stored
// event, and replay a time range to the rules.

import { MainspringError } from '../../core/errors.ts';
import { readInstant } from '../../core/instant.ts';
import { OPERATIONS } from '../schemas.ts';
import type { Api, ApiDeps } from '../types.ts';

export function eventRoutes(app: Api, { events, clock }: ApiDeps): void {
  app.post(
    '/v1/events',
    {
      schema: {
        ...OPERATIONS.putEvents.schema,
        summary: 'Put events on the bus',
        description:
          'Stores the valid entries and routes them to the matching rules; invalid entries get errorCode and errorMessage in their place and store nothing.',
        tags: ['events'],
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
        ...OPERATIONS.listEvents.schema,
        summary: 'Stored events of a time range, oldest first',
        description:
          'Events whose time is in [from, to) (default: the last 24 hours), each with the stored rules it matches and the queues they deliver to. Pass `nextCursor` back as `cursor` for the next page.',
        tags: ['events'],
      },
    },
    async (req) => {
      const q = req.query;
      const at = (value: string | undefined, field: string, fallback: number) => {
        if (value === undefined) return fallback;
        const ms = readInstant(value);
        if (typeof ms !== 'number') {
          throw new MainspringError('E_VALIDATION', `query.${field}: ${ms.why}`, {
            details: { field: `query.${field}`, value, message: ms.why },
          });
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
        ...OPERATIONS.getEvent.schema,
        summary: 'A stored event',
        tags: ['events'],
      },
    },
    async (req) => events.get(req.params.id),
  );

  app.post(
    '/v1/events/replay',
    {
      schema: {
        ...OPERATIONS.replayEvents.schema,
        summary: 'Send the events of a time range to the rules again',
        description: 'Events whose time is in [from, to) go to every rule, or to `rule`, marked replayed.',
        tags: ['events'],
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
