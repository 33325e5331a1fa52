// Terraform → ImportPlan: reads a module's EventBridge rules and targets, EventBridge
// Scheduler schedules, ECS task definitions, Lambda functions and SQS queues. A module is the
// .tf files of one folder, so a reference (`aws_sqs_queue.dlq.arn`) is followed into any of
// them; anything computed is reported rather than guessed.

import type { ImportPlan } from '../model.ts';
import { readEventSourceMappings } from './event-sources.ts';
import { type ParsedFile, TerraformModule } from './module.ts';
import { parseHcl } from './parse.ts';
import { readQueues } from './queues.ts';
import { readRules } from './rules.ts';
import { readSchedulerSchedules } from './scheduler.ts';

/** Types that are infrastructure around the jobs, not jobs: one short reason each. */
const QUIET: readonly (readonly [string, string])[] = [
  ['aws_iam_', 'AWS permissions; mainspring runs with its server’s own'],
  ['aws_security_group', 'network rules, not a job'],
  ['aws_vpc_security_group_', 'network rules, not a job'],
  ['aws_cloudwatch_log_', 'logs; mainspring keeps each run’s output itself'],
  ['aws_lambda_permission', 'an invoke permission; mainspring needs none'],
  ['aws_sqs_queue_policy', 'a queue access policy; mainspring needs none'],
  ['aws_scheduler_schedule_group', 'a schedule group; mainspring needs none'],
  ['aws_ecs_cluster', 'ECS infrastructure; the command runs on the mainspring server'],
  ['aws_cloudwatch_event_bus', 'an event bus; mainspring has one per server'],
];

/** One .tf file read on its own: a module of one file. */
export function readTerraform(file: string, text: string): Promise<ImportPlan> {
  return readTerraformModule([{ file, text }]);
}

/**
 * The .tf files of one folder read as one module: references resolve across the files, and
 * each item's Origin keeps its own file and line. A file that does not parse is an ImportError
 * naming it; so is a resource declared in two files, as Terraform would refuse it too.
 */
export async function readTerraformModule(
  files: readonly { readonly file: string; readonly text: string }[],
): Promise<ImportPlan> {
  const parsed: ParsedFile[] = [];
  // One at a time, so the error reported is always the first bad file's.
  for (const { file, text } of files) parsed.push({ file, text, json: await parseHcl(file, text) });
  const m = new TerraformModule(parsed);
  // Queues first (targets and mappings name them), then what runs on them.
  await readQueues(m);
  await readRules(m);
  await readSchedulerSchedules(m);
  readEventSourceMappings(m);
  for (const r of m.resources) {
    if (r.body['count'] !== undefined || r.body['for_each'] !== undefined) {
      m.ledger.note(r.key, 'count/for_each is not expanded: imported once');
    }
    if (!m.ledger.touched(r.key)) m.ledger.skip(r.key, leftOutReason(r.type, m.here));
  }
  for (const d of m.drafts.values()) m.plan.functions.push(d.fn);
  m.plan.report.push(...m.ledger.lines());
  return m.plan;
}

function leftOutReason(type: string, here: string): string {
  if (type === 'aws_ecs_task_definition' || type === 'aws_lambda_function') {
    return `${type} that no rule, schedule or queue in ${here} runs: left out`;
  }
  const quiet = QUIET.find(([prefix]) => type.startsWith(prefix));
  if (quiet) return `${type} is ${quiet[1]}: left out`;
  return `${type} is not something mainspring runs: left out`;
}
