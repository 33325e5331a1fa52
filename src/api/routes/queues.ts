// /v1/queues: send messages, read stats, inspect and redrive dead letters, purge, pause and resume.

import type { MessageInfo, QueueInfo, QueuePauseInfo } from '../../queue/queues.ts';
import { OPERATIONS } from '../schemas.ts';
import type { Api, ApiDeps } from '../types.ts';

const pauseJson = <Q extends QueuePauseInfo>(q: Q) => ({ ...q, pausedAt: q.pausedAt?.toISOString() ?? null });
const queueJson = (q: QueueInfo) => pauseJson(q);
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
        ...OPERATIONS.listQueues.schema,
        summary: 'List queues with their settings and counts',
        tags: ['queues'],
      },
    },
    async () => ({ queues: (await queues.list()).map(queueJson) }),
  );

  app.get(
    '/v1/queues/:name',
    {
      schema: {
        ...OPERATIONS.getQueue.schema,
        summary: 'A queue with its counts',
        tags: ['queues'],
      },
    },
    async (req) => queueJson(await queues.stats(req.params.name)),
  );

  app.post(
    '/v1/queues/:name/messages',
    {
      schema: {
        ...OPERATIONS.sendMessage.schema,
        summary: 'Send a message',
        description:
          "Returns the message id; with a live dedupKey or a dropping throttle, the id of the first message sent with it; with a debounce key whose message is pending, that message's id (its body replaced).",
        tags: ['queues'],
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
        ...OPERATIONS.sendMessageBatch.schema,
        summary: 'Send messages in order, atomically',
        tags: ['queues'],
      },
    },
    async (req, reply) =>
      reply.status(201).send({ ids: await queues.sendBatch(req.params.name, req.body.entries) }),
  );

  app.delete(
    '/v1/queues/:name/messages',
    {
      schema: {
        ...OPERATIONS.purgeQueue.schema,
        summary: 'Purge: delete every message of the queue',
        tags: ['queues'],
      },
    },
    async (req) => ({ purged: await queues.purge(req.params.name) }),
  );

  app.get(
    '/v1/queues/:name/dlq',
    {
      schema: {
        ...OPERATIONS.listDeadLetters.schema,
        summary: "The queue's dead letters, oldest first",
        tags: ['queues'],
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
        ...OPERATIONS.redriveQueue.schema,
        summary: 'Move dead letters back into the queue (all, or by id)',
        tags: ['queues'],
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

  for (const action of ['pause', 'resume'] as const) {
    app.post(
      `/v1/queues/:name/${action}`,
      {
        schema: {
          ...OPERATIONS[action === 'pause' ? 'pauseQueue' : 'resumeQueue'].schema,
          summary:
            action === 'pause'
              ? 'Pause: no process receives from the queue until it is resumed; sends are still stored'
              : 'Resume a paused queue',
          description: 'Idempotent. Messages already received finish or time out as usual.',
          tags: ['queues'],
        },
      },
      async (req) => pauseJson(await queues[action](req.params.name)),
    );
  }

  app.get(
    '/v1/messages/:id',
    {
      schema: {
        ...OPERATIONS.getMessage.schema,
        summary: 'One stored message',
        tags: ['queues'],
      },
    },
    async (req) => messageJson(await queues.getMessage(req.params.id)),
  );
}
