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

import { MainspringError } from '../../core/errors.ts';
import { type ExecutionStatus, FINISHED_STATUSES } from '../../store/workflow-row.ts';
import type { Execution } from '../../workflow/client.ts';
import { OPERATIONS } from '../schemas.ts';
import type { Api, ApiDeps } from '../types.ts';

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
        ...OPERATIONS.listWorkflows.schema,
        summary: "The app's workflow definitions",
        tags: ['workflows'],
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
        ...OPERATIONS.startExecution.schema,
        summary: 'Start an execution',
        description:
          'Answers 201 with the new execution (status `running`; a worker picks it up). With an `id` already stored for this workflow, answers 200 with that execution unchanged (`created: false`); 409 `E_EXECUTION_EXISTS` if the id belongs to another workflow. 404 `E_WORKFLOW_NOT_FOUND` if the app does not define the workflow.',
        tags: ['workflows'],
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
        ...OPERATIONS.listWorkflowExecutions.schema,
        summary: "List a workflow's executions, newest first",
        description:
          'Pass `nextCursor` back as `cursor` for the next page. 404 `E_WORKFLOW_NOT_FOUND` if the app does not define the workflow (`GET /v1/executions?workflow=` lists any stored).',
        tags: ['workflows'],
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
        ...OPERATIONS.listExecutions.schema,
        summary: 'List executions, newest first',
        description: 'Filters combine; pass `nextCursor` back as `cursor` for the next page.',
        tags: ['workflows'],
      },
    },
    async (req) => list(req.query, req.query.workflow),
  );

  app.get(
    '/v1/executions/:id',
    {
      schema: {
        ...OPERATIONS.getExecution.schema,
        summary: 'One execution',
        tags: ['workflows'],
      },
    },
    async (req) => workflows.get(req.params.id),
  );

  app.get(
    '/v1/executions/:id/history',
    {
      schema: {
        ...OPERATIONS.getExecutionHistory.schema,
        summary: "An execution's journal",
        description: 'Every journaled operation, in the order they started.',
        tags: ['workflows'],
      },
    },
    async (req) => ({ operations: await workflows.history(req.params.id) }),
  );

  app.post(
    '/v1/executions/:id/stop',
    {
      schema: {
        ...OPERATIONS.stopExecution.schema,
        summary: 'Stop an execution',
        description:
          'A waiting execution stops at once; a running one has its steps signalled and starts nothing further. A finished one is answered as it is.',
        tags: ['workflows'],
      },
    },
    async (req) => workflows.stop(req.params.id),
  );

  app.post(
    '/v1/executions/:id/wait',
    {
      schema: {
        ...OPERATIONS.waitForExecution.schema,
        summary: 'Wait for an execution to finish',
        description:
          'Answers 200 with the execution once it has finished (succeeded, failed, stopped, timed out), or 202 with it as it stands when `timeoutMs` passes first: call again to keep waiting. A short `timeoutMs` makes this a poll that still answers the moment the execution ends.',
        tags: ['workflows'],
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
        ...OPERATIONS.deleteExecution.schema,
        summary: 'Delete a finished execution and its journal',
        description: '409 `E_EXECUTION_NOT_FINISHED` while it runs or waits: stop it first.',
        tags: ['workflows'],
      },
    },
    async (req, reply) => {
      await workflows.delete(req.params.id);
      return reply.status(204).send(null);
    },
  );

  const callbackNote =
    '404 `E_CALLBACK_NOT_FOUND` for an unknown id; 409 `E_CALLBACK_CLOSED` once it was completed, failed or timed out, or its execution finished.';

  app.post(
    '/v1/callbacks/:id/succeed',
    {
      schema: {
        ...OPERATIONS.succeedCallback.schema,
        summary: 'Complete a callback with a result',
        description: `The execution waiting on it resumes with \`result\` (default null). ${callbackNote}`,
        tags: ['workflows'],
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
        ...OPERATIONS.failCallback.schema,
        summary: 'Fail a callback',
        description: `The execution's \`await\` of it throws this error. ${callbackNote}`,
        tags: ['workflows'],
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
        ...OPERATIONS.heartbeatCallback.schema,
        summary: 'Keep a callback alive (its heartbeatTimeout starts again)',
        description: callbackNote,
        tags: ['workflows'],
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
