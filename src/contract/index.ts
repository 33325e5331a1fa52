// The HTTP API's contract, shared by the server (api/) and the client (client/): the named
// resource schemas and every operation, keyed by its operationId.

import { eventOperations, lockOperations, queueOperations } from './locks-queues-events.ts';
import { functionOperations, runOperations, serviceOperations } from './runs-functions.ts';
import { scheduleOperations, taskOperations } from './schedules-tasks.ts';
import { workflowOperations } from './workflows.ts';

export * from './operation.ts';
export * from './resources.ts';
export { ChangeMarksSchema, DEFAULT_INVOKE_WAIT_MS, MAX_INVOKE_WAIT_MS } from './runs-functions.ts';

/**
 * Every operation of the API by operationId: method, path and schemas.
 *
 * @example
 * OPERATIONS.getRun; // { method: 'GET', path: '/v1/runs/:id', schema: { operationId: 'getRun', … } }
 */
export const OPERATIONS = {
  ...serviceOperations,
  ...lockOperations,
  ...queueOperations,
  ...eventOperations,
  ...functionOperations,
  ...runOperations,
  ...scheduleOperations,
  ...taskOperations,
  ...workflowOperations,
};

export type Operations = typeof OPERATIONS;
export type OperationId = keyof Operations;
