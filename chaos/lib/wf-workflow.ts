// The workflow of chaos/workflows.ts, shared by the scenario (which starts executions and
// reads their journals) and chaos/lib/wf-worker.ts (which runs them): ten steps with a durable
// wait before each but the first. Each step's body appends `<execution> <step> <pid> <ms>`
// to the input's log file the moment it starts — evidence outside the store — then works for
// a while (the input's step durations, so kills land mid-step) and returns a hash of the
// previous step's result: a skipped step, or one fed another value, changes the output.

import { createHash } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineWorkflow } from '../../src/workflow/define.ts';

export const STEPS = 10;

export interface WfInput {
  /** The side-effect file, shared by every execution. */
  readonly log: string;
  /** How long each step's body works (STEPS values), ms. */
  readonly stepMs: readonly number[];
  /** The durable wait before steps 2…STEPS (STEPS − 1 values), ms. */
  readonly waitMs: readonly number[];
}

export interface WfOutput {
  readonly trail: readonly string[];
}

export const hashStep = (prior: string, k: number): string =>
  createHash('sha256').update(`${prior}/${k}`).digest('hex').slice(0, 16);

/** The output an uninterrupted run of execution `id` returns. */
export function expectedOutput(id: string): WfOutput {
  const trail: string[] = [];
  let previous = id;
  for (let k = 1; k <= STEPS; k++) {
    previous = hashStep(previous, k);
    trail.push(previous);
  }
  return { trail };
}

export const chaosWorkflow = defineWorkflow({
  name: 'chaos-steps',
  handler: async (input: WfInput, ctx): Promise<WfOutput> => {
    const trail: string[] = [];
    let previous = ctx.execution.id;
    for (let k = 1; k <= STEPS; k++) {
      if (k > 1) await ctx.wait(`pause-${k}`, input.waitMs[k - 2]!);
      const prior = previous;
      previous = await ctx.step(`step-${k}`, async () => {
        appendFileSync(input.log, `${ctx.execution.id} step-${k} ${process.pid} ${Date.now()}\n`);
        await sleep(input.stepMs[k - 1]!);
        return hashStep(prior, k);
      });
      trail.push(previous);
      await ctx.progress({ step: k, of: STEPS });
    }
    return { trail };
  },
});
