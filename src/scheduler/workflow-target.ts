// Workflow targets: a tick that starts a workflow is a run of a built-in function, so it
// gets the same record, retries and alerts as any other. The execution id is derived
// from the schedule and the tick, and starting is idempotent on it, so a retried run
// (or one whose worker died after starting) never starts a second execution.

import { isMainspringError } from '../core/errors.ts';
import { NonRetryableError } from '../functions/errors.ts';
import { defineFunction, type FunctionDefinition } from '../runtime/function.ts';
import type { Workflows } from '../workflow/client.ts';

/** The built-in function workflow targets invoke. */
export const WORKFLOW_FUNCTION = 'mainspring:workflow';

export interface WorkflowStartInput {
  readonly workflow: string;
  readonly input: unknown;
  /** `<schedule>:<tick ISO>`. */
  readonly id: string;
}

/** The execution id a schedule's tick starts. */
export function tickExecutionId(schedule: string, tickAt: string): string {
  return `${schedule}:${tickAt}`;
}

/** `workflows` is read when a run starts: the client is built after the function list. */
export function workflowTargetFunction(workflows: () => Workflows): FunctionDefinition {
  return defineFunction<WorkflowStartInput, { executionId: string; created: boolean }>({
    name: WORKFLOW_FUNCTION,
    retry: { maxAttempts: 5 },
    handler: async (req) => {
      try {
        const e = await workflows().start(req.workflow, req.input, { id: req.id });
        return { executionId: e.id, created: e.created };
      } catch (err) {
        // A refusal (no such workflow any more, input too large) would be refused again.
        if (isMainspringError(err) && err.status < 500)
          throw new NonRetryableError(err.message, { cause: err });
        throw err;
      }
    },
  });
}
