// /v1/workflows, /v1/executions and /v1/callbacks: the app's workflow definitions;
// executions started (idempotent on id), listed, read with their journal, stopped and
// deleted, waited on; callbacks completed, failed and kept alive by outside systems.
//
// An execution id may contain "/" (a child execution is `<parent>/<operation>`) and ":".
// In the path, clients must percent-encode "/" as %2F (encodeURIComponent does): an
// unencoded slash starts a new path segment, so "/v1/executions/a/history" is the history
// of "a", not the execution "a/history". ":" needs no encoding.
//
// The body schemas check only the JSON shape; the workflow client checks the rest (the
// id's characters, the input's size) and answers 400 `E_WORKFLOW_INVALID` naming the
// field in `details.field`, with nothing stored.

import { Type } from 'typebox';
import { MainspringError } from '../../core/errors.ts';
import { NAME_LIMITS } from '../../core/names.ts';
import { type ExecutionStatus, FINISHED_STATUSES } from '../../store/workflow-row.ts';
import { EXECUTION_STATUSES, type Execution } from '../../workflow/client.ts';
import { ErrorSchema } from '../schemas.ts';
import type { Api, ApiDeps } from '../types.ts';

const DateTime = Type.String({ format: 'date-time' });
const NullableDateTime = Type.Union([DateTime, Type.Null()]);

const ErrorView = Type.Object({
  name: Type.String(),
  message: Type.String(),
  code: Type.Optional(Type.String({ description: 'A mainspring error code, when it was one' })),
});

const StatusSchema = Type.Enum([...EXECUTION_STATUSES], {
  description:
    '`running` (replaying or about to), `waiting` (for time, a callback, a retry, a child or an event), or finished: `succeeded`, `failed`, `stopped`, `timed_out`',
});

export const ExecutionSchema = Type.Object({
  id: Type.String(),
  workflow: Type.String(),
  version: Type.String({ description: 'The workflow version it started on' }),
  status: StatusSchema,
  input: Type.Unknown(),
  output: Type.Optional(Type.Unknown({ description: 'Once it has succeeded' })),
  error: Type.Optional(ErrorView),
  progress: Type.Unknown({ description: 'The last value the workflow passed to ctx.progress (null: none)' }),
  wait: Type.Union(
    [
      Type.Object({
        kind: Type.String({ description: 'wait, callback, retry, invoke or event' }),
        name: Type.String(),
        operation: Type.String(),
        until: NullableDateTime,
        callbackId: Type.Optional(Type.String()),
        waiting: Type.Optional(
          Type.Integer({ minimum: 1, description: 'How many operations it waits on (parallel branches)' }),
        ),
      }),
      Type.Null(),
    ],
    { description: 'What it waits for, while `waiting`' },
  ),
  parentId: Type.Union([Type.String(), Type.Null()], { description: 'The execution that invoked it' }),
  operations: Type.Integer({ minimum: 0, description: 'Journaled operations so far' }),
  replays: Type.Integer({ minimum: 0 }),
  stopRequested: Type.Boolean(),
  createdAt: DateTime,
  startedAt: NullableDateTime,
  updatedAt: DateTime,
  finishedAt: NullableDateTime,
});

const OperationSchema = Type.Object({
  id: Type.String(),
  parentId: Type.Union([Type.String(), Type.Null()]),
  type: Type.String({ description: 'step, wait, callback, invoke, parallel, map, …' }),
  name: Type.String(),
  status: Type.String(),
  attempts: Type.Integer({ minimum: 0 }),
  result: Type.Optional(Type.Unknown()),
  error: Type.Optional(ErrorView),
  startedAt: DateTime,
  finishedAt: NullableDateTime,
  wakeAt: Type.Union([DateTime, Type.Null()], {
    description: "A wait's end, a retry's next attempt, a callback's timeout",
  }),
  callbackId: Type.Optional(Type.String()),
  childId: Type.Optional(Type.String()),
});

const Page = Type.Object({
  executions: Type.Array(ExecutionSchema),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

const paging = {
  status: Type.Optional(
    Type.String({
      pattern: `^(${EXECUTION_STATUSES.join('|')})(,(${EXECUTION_STATUSES.join('|')}))*$`,
      maxLength: 100,
      description: `One or more of ${EXECUTION_STATUSES.join(', ')}, comma-separated (any of them)`,
    }),
  ),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  // Query values are strings (the API's Ajv does not coerce): numbers are matched as text.
  limit: Type.Optional(
    Type.String({ pattern: '^([1-9][0-9]?|[1-4][0-9]{2}|500)$', description: '1 to 500 (default 50)' }),
  ),
};

const StartBody = Type.Object(
  {
    input: Type.Optional(Type.Unknown({ description: "The workflow's input: JSON, at most 256 KiB" })),
    id: Type.Optional(
      Type.String({
        description:
          'Idempotency key: 1–200 letters, digits, "_", ".", ":", "/", "-" (default: generated). Starting again with a stored id answers that execution.',
      }),
    ),
  },
  { additionalProperties: false },
);

const WorkflowName = Type.Object({ name: Type.String({ minLength: 1, maxLength: NAME_LIMITS.workflow }) });
const ExecutionId = Type.Object({
  id: Type.String({
    minLength: 1,
    maxLength: NAME_LIMITS.execution,
    description: 'The execution id, "/" encoded as %2F',
  }),
});
const CallbackId = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });
const Errors = { 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema };

// A bare POST (no body) means no input or result: Fastify would validate `undefined`. A JSON
// null is a body, and not an object: refused like any other.
const bareIsEmpty = async (req: { body: unknown }) => {
  if (req.body === undefined) req.body = {};
};

export function workflowRoutes(app: Api, { workflows }: ApiDeps): void {
  const list = (q: { status?: string; cursor?: string; limit?: string }, workflow?: string) =>
    workflows.list({
      ...(workflow !== undefined ? { workflow } : {}),
      ...(q.status !== undefined ? { statuses: q.status.split(',') as ExecutionStatus[] } : {}),
      ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
      ...(q.limit !== undefined ? { limit: Number(q.limit) } : {}),
    });

  app.get(
    '/v1/workflows',
    {
      schema: {
        summary: "The app's workflow definitions",
        tags: ['workflows'],
        response: {
          200: Type.Object({
            workflows: Type.Array(
              Type.Object({
                name: Type.String(),
                version: Type.String(),
                compatibleVersions: Type.Array(Type.String(), {
                  description: 'Executions started on these versions resume under this one too',
                }),
              }),
            ),
          }),
        },
      },
    },
    async () => ({
      workflows: workflows.definitions().map((d) => ({
        name: d.name,
        version: d.version,
        compatibleVersions: [...d.compatibleVersions],
      })),
    }),
  );

  app.post(
    '/v1/workflows/:name/executions',
    {
      schema: {
        summary: 'Start an execution',
        description:
          'Answers 201 with the new execution (status `running`; a worker picks it up). With an `id` already stored for this workflow, answers 200 with that execution unchanged (`created: false`); 409 `E_EXECUTION_EXISTS` if the id belongs to another workflow. 404 `E_WORKFLOW_NOT_FOUND` if the app does not define the workflow.',
        tags: ['workflows'],
        params: WorkflowName,
        body: StartBody,
        response: {
          200: Type.Intersect([ExecutionSchema, Type.Object({ created: Type.Boolean() })]),
          201: Type.Intersect([ExecutionSchema, Type.Object({ created: Type.Boolean() })]),
          ...Errors,
          413: ErrorSchema,
        },
      },
      preValidation: bareIsEmpty,
    },
    async (req, reply) => {
      const { input, id } = req.body;
      const started = await workflows.start(req.params.name, input, id !== undefined ? { id } : {});
      return reply.status(started.created ? 201 : 200).send(started);
    },
  );

  app.get(
    '/v1/workflows/:name/executions',
    {
      schema: {
        summary: "List a workflow's executions, newest first",
        description:
          'Pass `nextCursor` back as `cursor` for the next page. 404 `E_WORKFLOW_NOT_FOUND` if the app does not define the workflow (`GET /v1/executions?workflow=` lists any stored).',
        tags: ['workflows'],
        params: WorkflowName,
        querystring: Type.Object(paging, { additionalProperties: false }),
        response: { 200: Page, ...Errors },
      },
    },
    async (req) => {
      const names = workflows.definitions().map((d) => d.name);
      if (!names.includes(req.params.name)) throw notDefined(req.params.name, names);
      return list(req.query, req.params.name);
    },
  );

  app.get(
    '/v1/executions',
    {
      schema: {
        summary: 'List executions, newest first',
        description: 'Filters combine; pass `nextCursor` back as `cursor` for the next page.',
        tags: ['workflows'],
        querystring: Type.Object(
          {
            workflow: Type.Optional(Type.String({ minLength: 1, maxLength: NAME_LIMITS.workflow })),
            ...paging,
          },
          { additionalProperties: false },
        ),
        response: { 200: Page, ...Errors },
      },
    },
    async (req) => list(req.query, req.query.workflow),
  );

  app.get(
    '/v1/executions/:id',
    {
      schema: {
        summary: 'One execution',
        tags: ['workflows'],
        params: ExecutionId,
        response: { 200: ExecutionSchema, ...Errors },
      },
    },
    async (req) => workflows.get(req.params.id),
  );

  app.get(
    '/v1/executions/:id/history',
    {
      schema: {
        summary: "An execution's journal",
        description: 'Every journaled operation, in the order they started.',
        tags: ['workflows'],
        params: ExecutionId,
        response: { 200: Type.Object({ operations: Type.Array(OperationSchema) }), ...Errors },
      },
    },
    async (req) => ({ operations: await workflows.history(req.params.id) }),
  );

  app.post(
    '/v1/executions/:id/stop',
    {
      schema: {
        summary: 'Stop an execution',
        description:
          'A waiting execution stops at once; a running one has its steps signalled and starts nothing further. A finished one is answered as it is.',
        tags: ['workflows'],
        params: ExecutionId,
        response: { 200: ExecutionSchema, ...Errors },
      },
    },
    async (req) => workflows.stop(req.params.id),
  );

  app.post(
    '/v1/executions/:id/wait',
    {
      schema: {
        summary: 'Wait for an execution to finish',
        description:
          'Answers 200 with the execution once it has finished (succeeded, failed, stopped, timed out), or 202 with it as it stands when `timeoutMs` passes first: call again to keep waiting. A short `timeoutMs` makes this a poll that still answers the moment the execution ends.',
        tags: ['workflows'],
        params: ExecutionId,
        body: Type.Object(
          { timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 60_000, default: 30_000 })) },
          { additionalProperties: false },
        ),
        response: { 200: ExecutionSchema, 202: ExecutionSchema, ...Errors },
      },
      preValidation: bareIsEmpty,
    },
    async (req, reply) => {
      const stop = new AbortController();
      const timer = setTimeout(() => stop.abort(), req.body.timeoutMs ?? 30_000);
      // A client that hangs up stops the wait's polling of the store.
      const onClose = () => stop.abort();
      reply.raw.on('close', onClose);
      let execution: Execution;
      try {
        execution = await workflows.wait(req.params.id, { signal: stop.signal });
      } catch (e) {
        if (!stop.signal.aborted) throw e;
        execution = await workflows.get(req.params.id);
      } finally {
        clearTimeout(timer);
        reply.raw.off('close', onClose);
      }
      return reply.status(FINISHED_STATUSES.includes(execution.status) ? 200 : 202).send(execution);
    },
  );

  app.delete(
    '/v1/executions/:id',
    {
      schema: {
        summary: 'Delete a finished execution and its journal',
        description: '409 `E_EXECUTION_NOT_FINISHED` while it runs or waits: stop it first.',
        tags: ['workflows'],
        params: ExecutionId,
        response: { 204: Type.Null(), ...Errors },
      },
    },
    async (req, reply) => {
      await workflows.delete(req.params.id);
      return reply.status(204).send(null);
    },
  );

  const callbackErrors = {
    ...Errors,
    413: ErrorSchema,
  };
  const callbackNote =
    '404 `E_CALLBACK_NOT_FOUND` for an unknown id; 409 `E_CALLBACK_CLOSED` once it was completed, failed or timed out, or its execution finished.';

  app.post(
    '/v1/callbacks/:id/succeed',
    {
      schema: {
        summary: 'Complete a callback with a result',
        description: `The execution waiting on it resumes with \`result\` (default null). ${callbackNote}`,
        tags: ['workflows'],
        params: CallbackId,
        body: Type.Object(
          { result: Type.Optional(Type.Unknown({ description: 'JSON, at most 256 KiB' })) },
          { additionalProperties: false },
        ),
        response: { 204: Type.Null(), ...callbackErrors },
      },
      preValidation: bareIsEmpty,
    },
    async (req, reply) => {
      await workflows.succeedCallback(req.params.id, req.body.result);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/v1/callbacks/:id/fail',
    {
      schema: {
        summary: 'Fail a callback',
        description: `The execution's \`await\` of it throws this error. ${callbackNote}`,
        tags: ['workflows'],
        params: CallbackId,
        body: Type.Object(
          {
            error: Type.Union(
              [
                Type.String({ maxLength: 10_000 }),
                Type.Object(
                  {
                    message: Type.String({ maxLength: 10_000 }),
                    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
                  },
                  { additionalProperties: false },
                ),
              ],
              { description: 'A message, or `{ message, name? }` (name default CallbackError)' },
            ),
          },
          { additionalProperties: false },
        ),
        response: { 204: Type.Null(), ...callbackErrors },
      },
    },
    async (req, reply) => {
      await workflows.failCallback(req.params.id, req.body.error);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/v1/callbacks/:id/heartbeat',
    {
      schema: {
        summary: 'Keep a callback alive (its heartbeatTimeout starts again)',
        description: callbackNote,
        tags: ['workflows'],
        params: CallbackId,
        response: { 204: Type.Null(), ...callbackErrors },
      },
    },
    async (req, reply) => {
      await workflows.heartbeatCallback(req.params.id);
      return reply.status(204).send(null);
    },
  );
}

/** As `start` answers for an unknown workflow. */
function notDefined(name: string, known: readonly string[]): MainspringError {
  return new MainspringError(
    'E_WORKFLOW_NOT_FOUND',
    `workflow "${name}" is not defined in this app${known.length ? ` (defined: ${known.join(', ')})` : ''}; add it to the app's workflows`,
    { details: { field: 'workflow', value: name } },
  );
}
