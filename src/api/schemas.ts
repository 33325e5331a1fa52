// The route schemas come from the API's contract (src/contract/), which the client shares.
// Here: the named schemas the server registers once, and the check that the contract's
// status lists are the engine's.

import {
  type EXECUTION_STATUSES as CONTRACT_EXECUTION_STATUSES,
  type RUN_STATUSES as CONTRACT_RUN_STATUSES,
  NAMED_SCHEMAS,
} from '../contract/index.ts';
import type { RunStatus } from '../store/run-row.ts';
import type { ExecutionStatus } from '../store/workflow-row.ts';
import type { Api } from './types.ts';

export { OPERATIONS } from '../contract/index.ts';

// The contract lists the statuses again (the client cannot import the engine): a status
// added to one list and not the other fails to compile here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameRunStatuses: Same<(typeof CONTRACT_RUN_STATUSES)[number], RunStatus> = true;
const sameExecutionStatuses: Same<(typeof CONTRACT_EXECUTION_STATUSES)[number], ExecutionStatus> = true;
void sameRunStatuses;
void sameExecutionStatuses;

/**
 * Registers the named schemas (`Run`, `Schedule`, `Error`, …) once, so routes reach them by
 * `$ref` and the OpenAPI document lists them under `components.schemas`.
 */
export function addNamedSchemas(app: Api): void {
  for (const schema of NAMED_SCHEMAS) app.addSchema(schema);
}

/** Names a shared schema in the OpenAPI document by its `$id` (@fastify/swagger's `refResolver`). */
export const refResolver = {
  buildLocalReference: (json: { $id?: unknown }, _baseUri: unknown, _fragment: unknown, i: number) =>
    typeof json.$id === 'string' ? json.$id : `def-${i}`,
};
