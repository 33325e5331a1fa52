// The operations of /v1/workflows, /v1/executions and /v1/callbacks.

import { Type } from 'typebox';
import { NAME_LIMITS } from '../core/names.ts';
import { operation } from './operation.ts';
import {
  ErrorSchema,
  EXECUTION_STATUSES,
  ExecutionSchema,
  OperationSchema,
  PageLimit,
  ref,
} from './resources.ts';

const Failure = ref(ErrorSchema);
const Execution = ref(ExecutionSchema);

const Page = Type.Object({
  executions: Type.Array(Execution),
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
  limit: Type.Optional(PageLimit),
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
const Errors = { 400: Failure, 404: Failure, 409: Failure };
const CallbackErrors = { ...Errors, 413: Failure };
const Started = Type.Intersect([Execution, Type.Object({ created: Type.Boolean() })]);

export const workflowOperations = {
  listWorkflows: operation({
    method: 'GET',
    path: '/v1/workflows',
    schema: {
      operationId: 'listWorkflows',
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
  }),
  startExecution: operation({
    method: 'POST',
    path: '/v1/workflows/:name/executions',
    schema: {
      operationId: 'startExecution',
      params: WorkflowName,
      body: StartBody,
      response: { 200: Started, 201: Started, ...Errors, 413: Failure },
    },
  }),
  listWorkflowExecutions: operation({
    method: 'GET',
    path: '/v1/workflows/:name/executions',
    schema: {
      operationId: 'listWorkflowExecutions',
      params: WorkflowName,
      querystring: Type.Object(paging, { additionalProperties: false }),
      response: { 200: Page, ...Errors },
    },
  }),
  listExecutions: operation({
    method: 'GET',
    path: '/v1/executions',
    schema: {
      operationId: 'listExecutions',
      querystring: Type.Object(
        {
          workflow: Type.Optional(Type.String({ minLength: 1, maxLength: NAME_LIMITS.workflow })),
          ...paging,
        },
        { additionalProperties: false },
      ),
      response: { 200: Page, ...Errors },
    },
  }),
  getExecution: operation({
    method: 'GET',
    path: '/v1/executions/:id',
    schema: { operationId: 'getExecution', params: ExecutionId, response: { 200: Execution, ...Errors } },
  }),
  getExecutionHistory: operation({
    method: 'GET',
    path: '/v1/executions/:id/history',
    schema: {
      operationId: 'getExecutionHistory',
      params: ExecutionId,
      response: { 200: Type.Object({ operations: Type.Array(ref(OperationSchema)) }), ...Errors },
    },
  }),
  stopExecution: operation({
    method: 'POST',
    path: '/v1/executions/:id/stop',
    schema: { operationId: 'stopExecution', params: ExecutionId, response: { 200: Execution, ...Errors } },
  }),
  waitForExecution: operation({
    method: 'POST',
    path: '/v1/executions/:id/wait',
    schema: {
      operationId: 'waitForExecution',
      params: ExecutionId,
      body: Type.Object(
        { timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 60_000, default: 30_000 })) },
        { additionalProperties: false },
      ),
      response: { 200: Execution, 202: Execution, ...Errors },
    },
  }),
  deleteExecution: operation({
    method: 'DELETE',
    path: '/v1/executions/:id',
    schema: {
      operationId: 'deleteExecution',
      params: ExecutionId,
      response: { 204: Type.Null(), ...Errors },
    },
  }),
  succeedCallback: operation({
    method: 'POST',
    path: '/v1/callbacks/:id/succeed',
    schema: {
      operationId: 'succeedCallback',
      params: CallbackId,
      body: Type.Object(
        { result: Type.Optional(Type.Unknown({ description: 'JSON, at most 256 KiB' })) },
        { additionalProperties: false },
      ),
      response: { 204: Type.Null(), ...CallbackErrors },
    },
  }),
  failCallback: operation({
    method: 'POST',
    path: '/v1/callbacks/:id/fail',
    schema: {
      operationId: 'failCallback',
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
      response: { 204: Type.Null(), ...CallbackErrors },
    },
  }),
  heartbeatCallback: operation({
    method: 'POST',
    path: '/v1/callbacks/:id/heartbeat',
    schema: {
      operationId: 'heartbeatCallback',
      params: CallbackId,
      response: { 204: Type.Null(), ...CallbackErrors },
    },
  }),
};
