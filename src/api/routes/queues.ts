// /v1/queues: send messages, read stats, inspect and redrive dead letters, purge.

import { Type } from 'typebox';
import { NAME_LIMITS } from '../../core/names.ts';
import type { MessageInfo, QueueInfo } from '../../queue/queues.ts';
import { DurationSchema, ErrorSchema } from '../schemas.ts';
import type { Api, ApiDeps } from '../types.ts';

const SendOptions = {
  delay: Type.Optional(DurationSchema),
  priority: Type.Optional(Type.Integer({ description: 'Higher is delivered first (default 0)' })),
  dedupKey: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  groupId: Type.Optional(
    Type.String({ minLength: 1, maxLength: 128, description: 'FIFO queues only, and required there' }),
  ),
};
const Entry = Type.Object(
  { body: Type.Unknown({ description: 'Any JSON value' }), ...SendOptions },
  { additionalProperties: false },
);

const Counts = Type.Object({
  visible: Type.Integer(),
  inFlight: Type.Integer(),
  delayed: Type.Integer(),
  dead: Type.Integer(),
  oldestAgeMs: Type.Union([Type.Integer(), Type.Null()]),
});
const QueueSchema = Type.Object({
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
  counts: Counts,
});
const MessageSchema = Type.Object({
  id: Type.String(),
  queue: Type.String(),
  body: Type.Unknown(),
  priority: Type.Integer(),
  receiveCount: Type.Integer(),
  state: Type.String({ description: 'visible, in_flight or delayed' }),
  sentAt: Type.String({ format: 'date-time' }),
  visibleAt: Type.String({ format: 'date-time' }),
  groupId: Type.Union([Type.String(), Type.Null()]),
  errors: Type.Array(Type.Unknown()),
  sourceQueue: Type.Union([Type.String(), Type.Null()]),
  deadAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
const Name = Type.Object({ name: Type.String({ minLength: 1, maxLength: NAME_LIMITS.queue }) });
const Errors = { 400: ErrorSchema, 404: ErrorSchema, 413: ErrorSchema };

const queueJson = (q: QueueInfo) => q;
const messageJson = (m: MessageInfo) => ({
  ...m,
  sentAt: m.sentAt.toISOString(),
  visibleAt: m.visibleAt.toISOString(),
  deadAt: m.deadAt?.toISOString() ?? null,
});

export function queueRoutes(app: Api, { queues }: ApiDeps): void {
  app.get(
    '/v1/queues',
    {
      schema: {
        summary: 'List queues with their settings and counts',
        tags: ['queues'],
        response: { 200: Type.Object({ queues: Type.Array(QueueSchema) }) },
      },
    },
    async () => ({ queues: (await queues.list()).map(queueJson) }),
  );

  app.get(
    '/v1/queues/:name',
    {
      schema: {
        summary: 'A queue with its counts',
        tags: ['queues'],
        params: Name,
        response: { 200: QueueSchema, ...Errors },
      },
    },
    async (req) => queueJson(await queues.stats(req.params.name)),
  );

  app.post(
    '/v1/queues/:name/messages',
    {
      schema: {
        summary: 'Send a message',
        description:
          'Returns the message id; with a live dedupKey, the id of the first message sent with it.',
        tags: ['queues'],
        params: Name,
        body: Entry,
        response: { 201: Type.Object({ id: Type.String() }), ...Errors },
      },
    },
    async (req, reply) => {
      const { body, ...options } = req.body;
      return reply.status(201).send({ id: await queues.send(req.params.name, body, options) });
    },
  );

  app.post(
    '/v1/queues/:name/messages/batch',
    {
      schema: {
        summary: 'Send messages in order, atomically',
        tags: ['queues'],
        params: Name,
        body: Type.Object(
          { entries: Type.Array(Entry, { minItems: 1, maxItems: 10_000 }) },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ ids: Type.Array(Type.String()) }), ...Errors },
      },
    },
    async (req, reply) =>
      reply.status(201).send({ ids: await queues.sendBatch(req.params.name, req.body.entries) }),
  );

  app.delete(
    '/v1/queues/:name/messages',
    {
      schema: {
        summary: 'Purge: delete every message of the queue',
        tags: ['queues'],
        params: Name,
        response: { 200: Type.Object({ purged: Type.Integer() }), ...Errors },
      },
    },
    async (req) => ({ purged: await queues.purge(req.params.name) }),
  );

  app.get(
    '/v1/queues/:name/dlq',
    {
      schema: {
        summary: "The queue's dead letters, oldest first",
        tags: ['queues'],
        params: Name,
        querystring: Type.Object(
          {
            // Query values are strings (the API's Ajv does not coerce).
            limit: Type.Optional(
              Type.String({ pattern: '^([1-9][0-9]{0,2}|1000)$', description: '1 to 1000' }),
            ),
            after: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,15}$' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ messages: Type.Array(MessageSchema) }), ...Errors },
      },
    },
    async (req) => ({
      messages: (
        await queues.deadLetters(req.params.name, {
          ...(req.query.limit ? { limit: Number(req.query.limit) } : {}),
          ...(req.query.after ? { after: req.query.after } : {}),
        })
      ).map(messageJson),
    }),
  );

  app.post(
    '/v1/queues/:name/redrive',
    {
      schema: {
        summary: 'Move dead letters back into the queue (all, or by id)',
        tags: ['queues'],
        params: Name,
        body: Type.Object(
          {
            ids: Type.Optional(Type.Array(Type.String({ pattern: '^[1-9][0-9]{0,15}$' }), { minItems: 1 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ redriven: Type.Integer() }), ...Errors },
      },
      // A bare POST (no body) redrives everything: Fastify would validate `undefined`.
      preValidation: async (req) => {
        req.body ??= {};
      },
    },
    async (req) => ({
      redriven: await queues.redrive(req.params.name, req.body?.ids ? { ids: req.body.ids } : {}),
    }),
  );

  app.get(
    '/v1/messages/:id',
    {
      schema: {
        summary: 'One stored message',
        tags: ['queues'],
        params: Type.Object({ id: Type.String({ pattern: '^[1-9][0-9]{0,15}$' }) }),
        response: { 200: MessageSchema, ...Errors },
      },
    },
    async (req) => messageJson(await queues.getMessage(req.params.id)),
  );
}
