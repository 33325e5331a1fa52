// The operations of /v1/locks, /v1/queues, /v1/messages and /v1/events.

import { Type } from 'typebox';
import { NAME_LIMITS } from '../core/names.ts';
import { operation } from './operation.ts';
import {
  DurationSchema,
  ErrorSchema,
  EventFields,
  EventSchema,
  LeaseSchema,
  MessageSchema,
  PageLimit,
  QueuePauseFields,
  QueueSchema,
  ref,
} from './resources.ts';

const Failure = ref(ErrorSchema);
const Lease = ref(LeaseSchema);
const LockName = Type.Object({ name: Type.String({ minLength: 1, maxLength: NAME_LIMITS.lock }) });

export const lockOperations = {
  listLocks: operation({
    method: 'GET',
    path: '/v1/locks',
    schema: { operationId: 'listLocks', response: { 200: Type.Object({ locks: Type.Array(Lease) }) } },
  }),
  getLock: operation({
    method: 'GET',
    path: '/v1/locks/:name',
    schema: { operationId: 'getLock', params: LockName, response: { 200: Lease, 404: Failure } },
  }),
  acquireLock: operation({
    method: 'POST',
    path: '/v1/locks/:name',
    schema: {
      operationId: 'acquireLock',
      params: LockName,
      body: Type.Object(
        { ttl: DurationSchema, owner: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) },
        { additionalProperties: false },
      ),
      response: { 200: Lease, 409: Failure },
    },
  }),
  renewLock: operation({
    method: 'POST',
    path: '/v1/locks/:name/renew',
    schema: {
      operationId: 'renewLock',
      params: LockName,
      body: Type.Object(
        // Past a safe integer PostgreSQL's bigint overflows (1e308 is an integer to JSON Schema).
        { token: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), ttl: DurationSchema },
        { additionalProperties: false },
      ),
      response: { 200: Lease, 409: Failure },
    },
  }),
  releaseLock: operation({
    method: 'DELETE',
    path: '/v1/locks/:name',
    schema: {
      operationId: 'releaseLock',
      params: LockName,
      querystring: Type.Object(
        {
          token: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,15}$' })),
          force: Type.Optional(Type.Union([Type.Literal('1'), Type.Literal('true')])),
        },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({ released: Type.Union([Lease, Type.Null()]) }),
        204: Type.Null(),
        400: Failure,
        409: Failure,
      },
    },
  }),
};

const GateKey = Type.String({ minLength: 1, maxLength: 128 });
const SendOptions = {
  delay: Type.Optional(DurationSchema),
  priority: Type.Optional(Type.Integer({ description: 'Higher is delivered first (default 0)' })),
  dedupKey: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  groupId: Type.Optional(
    Type.String({ minLength: 1, maxLength: 128, description: 'FIFO queues only, and required there' }),
  ),
  debounce: Type.Optional(
    Type.Object(
      { key: GateKey, period: DurationSchema, maxWait: Type.Optional(DurationSchema) },
      {
        additionalProperties: false,
        description:
          "Run once, with the last body, `period` (1 ms to 12 h) after the last send under `key`; never later than `maxWait` (period to 7 d) after the first. A send while the key's message is pending replaces it and returns its id. Not with dedupKey, throttle or delay; not on FIFO queues.",
      },
    ),
  ),
  throttle: Type.Optional(
    Type.Object(
      {
        key: GateKey,
        period: DurationSchema,
        mode: Type.Optional(Type.Union([Type.Literal('drop'), Type.Literal('delay')])),
      },
      {
        additionalProperties: false,
        description:
          "At most one message per `key` per `period` (1 ms to 12 h). `drop` (default): a send within the period stores nothing and returns the accepted message's id; `delay`: every send is kept, each due `period` after the key's previous one. Not with dedupKey or debounce; not on FIFO queues.",
      },
    ),
  ),
};
const Entry = Type.Object(
  { body: Type.Unknown({ description: 'Any JSON value' }), ...SendOptions },
  { additionalProperties: false },
);
const Queue = ref(QueueSchema);
const Message = ref(MessageSchema);
const QueueName = Type.Object({ name: Type.String({ minLength: 1, maxLength: NAME_LIMITS.queue }) });
const QueueErrors = { 400: Failure, 404: Failure, 413: Failure };
const PauseState = Type.Object({ name: Type.String(), ...QueuePauseFields });

export const queueOperations = {
  listQueues: operation({
    method: 'GET',
    path: '/v1/queues',
    schema: { operationId: 'listQueues', response: { 200: Type.Object({ queues: Type.Array(Queue) }) } },
  }),
  getQueue: operation({
    method: 'GET',
    path: '/v1/queues/:name',
    schema: { operationId: 'getQueue', params: QueueName, response: { 200: Queue, ...QueueErrors } },
  }),
  sendMessage: operation({
    method: 'POST',
    path: '/v1/queues/:name/messages',
    schema: {
      operationId: 'sendMessage',
      params: QueueName,
      body: Entry,
      response: { 201: Type.Object({ id: Type.String() }), ...QueueErrors },
    },
  }),
  sendMessageBatch: operation({
    method: 'POST',
    path: '/v1/queues/:name/messages/batch',
    schema: {
      operationId: 'sendMessageBatch',
      params: QueueName,
      body: Type.Object(
        { entries: Type.Array(Entry, { minItems: 1, maxItems: 10_000 }) },
        { additionalProperties: false },
      ),
      response: { 201: Type.Object({ ids: Type.Array(Type.String()) }), ...QueueErrors },
    },
  }),
  purgeQueue: operation({
    method: 'DELETE',
    path: '/v1/queues/:name/messages',
    schema: {
      operationId: 'purgeQueue',
      params: QueueName,
      response: { 200: Type.Object({ purged: Type.Integer() }), ...QueueErrors },
    },
  }),
  listDeadLetters: operation({
    method: 'GET',
    path: '/v1/queues/:name/dlq',
    schema: {
      operationId: 'listDeadLetters',
      params: QueueName,
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
      response: { 200: Type.Object({ messages: Type.Array(Message) }), ...QueueErrors },
    },
  }),
  redriveQueue: operation({
    method: 'POST',
    path: '/v1/queues/:name/redrive',
    schema: {
      operationId: 'redriveQueue',
      params: QueueName,
      body: Type.Object(
        {
          ids: Type.Optional(Type.Array(Type.String({ pattern: '^[1-9][0-9]{0,15}$' }), { minItems: 1 })),
        },
        { additionalProperties: false },
      ),
      response: { 200: Type.Object({ redriven: Type.Integer() }), ...QueueErrors },
    },
  }),
  pauseQueue: operation({
    method: 'POST',
    path: '/v1/queues/:name/pause',
    schema: { operationId: 'pauseQueue', params: QueueName, response: { 200: PauseState, ...QueueErrors } },
  }),
  resumeQueue: operation({
    method: 'POST',
    path: '/v1/queues/:name/resume',
    schema: { operationId: 'resumeQueue', params: QueueName, response: { 200: PauseState, ...QueueErrors } },
  }),
  getMessage: operation({
    method: 'GET',
    path: '/v1/messages/:id',
    schema: {
      operationId: 'getMessage',
      params: Type.Object({ id: Type.String({ pattern: '^[1-9][0-9]{0,15}$' }) }),
      response: { 200: Message, ...QueueErrors },
    },
  }),
};

const EventEntry = Type.Unknown({
  description: '{ source, detailType, detail, time?, id? }; each entry is checked on its own',
});
const PutResult = Type.Union([
  Type.Object({ eventId: Type.String() }),
  Type.Object({ errorCode: Type.String(), errorMessage: Type.String() }),
]);
const EventErrors = { 400: Failure, 404: Failure, 413: Failure };

export const eventOperations = {
  putEvents: operation({
    method: 'POST',
    path: '/v1/events',
    schema: {
      operationId: 'putEvents',
      body: Type.Object(
        { entries: Type.Array(EventEntry, { minItems: 1, maxItems: 1000 }) },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({ failedEntryCount: Type.Integer(), entries: Type.Array(PutResult) }),
        ...EventErrors,
      },
    },
  }),
  listEvents: operation({
    method: 'GET',
    path: '/v1/events',
    schema: {
      operationId: 'listEvents',
      querystring: Type.Object(
        {
          from: Type.Optional(Type.String({ format: 'date-time' })),
          to: Type.Optional(Type.String({ format: 'date-time' })),
          cursor: Type.Optional(Type.String({ minLength: 3, maxLength: 40 })),
          limit: Type.Optional(PageLimit),
        },
        { additionalProperties: false },
      ),
      response: {
        200: Type.Object({
          events: Type.Array(
            Type.Object({
              ...EventFields,
              rules: Type.Array(Type.Object({ name: Type.String(), queues: Type.Array(Type.String()) })),
            }),
          ),
          nextCursor: Type.Union([Type.String(), Type.Null()]),
        }),
        ...EventErrors,
      },
    },
  }),
  getEvent: operation({
    method: 'GET',
    path: '/v1/events/:id',
    schema: {
      operationId: 'getEvent',
      params: Type.Object({ id: Type.String({ minLength: 1, maxLength: NAME_LIMITS.event }) }),
      response: { 200: ref(EventSchema), ...EventErrors },
    },
  }),
  replayEvents: operation({
    method: 'POST',
    path: '/v1/events/replay',
    schema: {
      operationId: 'replayEvents',
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
        ...EventErrors,
      },
    },
  }),
};
