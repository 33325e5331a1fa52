// Amplify Gen 2 files, read statically: a function's `resource.ts` (defineFunction) and the
// `backend.ts` that may schedule it with a CDK `events.Rule`. The TypeScript is stripped of
// its types and parsed, never run: only literal values (and consts bound to them) are read.

import { emptyPlan, type ImportPlan } from '../model.ts';
import { readRules } from './backend.ts';
import { parseTypeScript } from './parse.ts';
import { readDefineFunctions } from './resource.ts';
import { Context } from './values.ts';

export function readAmplify(file: string, text: string): ImportPlan {
  const program = parseTypeScript(file, text);
  const ctx = new Context(file, program);
  const plan = emptyPlan();
  readDefineFunctions(ctx, plan);
  readRules(ctx, plan);
  if (plan.functions.length === 0 && plan.rules.length === 0 && plan.report.length === 0) {
    plan.report.push({
      origin: { file, line: 0, item: file },
      outcome: 'skipped',
      message: 'no defineFunction or schedule rule found',
    });
  }
  return plan;
}
