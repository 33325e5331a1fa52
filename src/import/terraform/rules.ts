// EventBridge rules and their targets. A rule with a schedule_expression becomes a schedule
// trigger on what each target runs; a rule with an event_pattern becomes a mainspring rule.
// A target names its rule by reference or by name, in whichever file of the module.

import { type ImportedRule, type ImportedSchedule, safeName } from '../model.ts';
import type { Resource, TerraformModule } from './module.ts';
import { ECS_INPUT, noteDeadLetter, readRetry, readTarget, sendDraft } from './targets.ts';
import {
  claim,
  defined,
  isComputed,
  isObj,
  literalString,
  refTo,
  scheduleExpression,
  type Value,
} from './values.ts';

/** Options a target carries beside what it runs. */
interface TargetExtras {
  payload?: unknown;
  maxAttempts?: number;
  maxEventAgeSeconds?: number;
  inputPath?: string;
}

export async function readRules(m: TerraformModule): Promise<void> {
  const rules = m.ofType('aws_cloudwatch_event_rule');
  const targetsOf = new Map<string, Resource[]>();
  for (const t of m.ofType('aws_cloudwatch_event_target')) {
    const rule = ruleOf(t.body['rule'], rules);
    if (!rule) {
      m.ledger.skip(
        t.key,
        `aws_cloudwatch_event_target whose rule (${String(t.body['rule'])}) is not in ${m.here}`,
      );
      continue;
    }
    targetsOf.set(rule.key, [...(targetsOf.get(rule.key) ?? []), t]);
  }
  for (const rule of rules) {
    const targets = targetsOf.get(rule.key) ?? [];
    if (rule.body['schedule_expression'] !== undefined) await scheduleRule(m, rule, targets);
    else if (rule.body['event_pattern'] !== undefined) await patternRule(m, rule, targets);
    else
      skipRule(
        m,
        rule,
        targets,
        'aws_cloudwatch_event_rule with neither schedule_expression nor event_pattern',
      );
  }
}

function ruleOf(value: Value | undefined, rules: readonly Resource[]): Resource | undefined {
  const ref = refTo(value, 'aws_cloudwatch_event_rule');
  if (ref) return rules.find((r) => r.key === ref);
  const literal = literalString(value);
  return literal === undefined ? undefined : rules.find((r) => literalString(r.body['name']) === literal);
}

function skipRule(m: TerraformModule, rule: Resource, targets: readonly Resource[], reason: string): void {
  m.ledger.skip(rule.key, reason);
  for (const t of targets) m.ledger.skip(t.key, `its rule ${rule.key} was not imported`);
}

async function scheduleRule(m: TerraformModule, rule: Resource, targets: readonly Resource[]): Promise<void> {
  const checked = scheduleExpression(rule.body['schedule_expression'], {});
  if (!checked.ok) return skipRule(m, rule, targets, checked.reason);
  const expression = checked.value;
  if (targets.length === 0) {
    return skipRule(m, rule, targets, `no aws_cloudwatch_event_target in ${m.here} runs anything on it`);
  }
  const enabled = ruleEnabled(m, rule);
  const description = literalString(rule.body['description']);
  for (const t of targets) {
    const target = await readTarget(m, t.body['ecs_target'], t.body['arn'], t.key);
    if (!target.ok) {
      m.ledger.skip(t.key, target.reason);
      continue;
    }
    const extras = await targetExtras(m, t, 'schedule');
    const draft =
      target.value.kind === 'function' ? target.value.draft : sendDraft(m, rule, target.value.queue);
    if (draft.fn.kind === 'command' && extras.payload !== undefined) {
      extras.payload = undefined;
      m.ledger.note(t.key, ECS_INPUT);
    }
    draft.triggers.push({
      kind: 'schedule',
      schedule: defined<ImportedSchedule>({
        expression,
        enabled,
        description,
        payload: extras.payload,
        maxAttempts: extras.maxAttempts,
        maxEventAgeSeconds: extras.maxEventAgeSeconds,
      }),
    });
    m.ledger.did(t.key, `runs ${draft.fn.name} on rule ${rule.key}`);
    m.ledger.did(
      rule.key,
      `schedule ${expression}${enabled === false ? ' (disabled)' : ''} on ${draft.fn.name}`,
    );
  }
  if (!m.ledger.hasDone(rule.key)) m.ledger.skip(rule.key, 'none of its targets could be imported');
}

async function patternRule(m: TerraformModule, rule: Resource, targets: readonly Resource[]): Promise<void> {
  const decoded = await m.decode(rule.body['event_pattern']);
  if (!decoded.ok || !isObj(decoded.value)) {
    const why = decoded.ok ? 'is not an object' : decoded.reason;
    return skipRule(m, rule, targets, `event_pattern ${why}`);
  }
  const pattern = decoded.value;
  if (JSON.stringify(pattern).includes('${')) {
    m.ledger.note(rule.key, 'event_pattern has computed values: copied as written, fill them in');
  }
  const out: { kind: 'function' | 'queue'; name: string }[] = [];
  let inputPath: string | undefined;
  for (const t of targets) {
    const target = await readTarget(m, t.body['ecs_target'], t.body['arn'], t.key);
    if (!target.ok) {
      m.ledger.skip(t.key, target.reason);
      continue;
    }
    const extras = await targetExtras(m, t, 'pattern');
    // A mainspring rule has one input path for all its targets: the first one written wins.
    if (extras.inputPath !== undefined) {
      if (inputPath !== undefined && inputPath !== extras.inputPath) {
        m.ledger.note(t.key, `input_path ${extras.inputPath} differs from another target’s: left out`);
      } else inputPath = extras.inputPath;
    }
    const entry =
      target.value.kind === 'function'
        ? { kind: 'function' as const, name: target.value.draft.fn.name }
        : { kind: 'queue' as const, name: target.value.queue };
    out.push(entry);
    m.ledger.did(t.key, `${entry.kind} ${entry.name} on rule ${rule.key}`);
  }
  if (out.length === 0) {
    const why = targets.length === 0 ? `no aws_cloudwatch_event_target in ${m.here}` : 'none of its targets';
    return m.ledger.skip(rule.key, `${why} could be imported`);
  }
  const name = claim(m.ruleNames, safeName(rule.name, 40), 40);
  const imported: ImportedRule = defined<ImportedRule>({
    name,
    origin: rule.origin,
    pattern,
    targets: out,
    inputPath,
    enabled: ruleEnabled(m, rule),
    description: literalString(rule.body['description']),
  });
  m.plan.rules.push(imported);
  m.ledger.did(rule.key, `rule ${name} → ${out.map((t) => `${t.kind} ${t.name}`).join(', ')}`);
}

/** `state = "DISABLED"` or the older `is_enabled = false`: imported disabled. */
function ruleEnabled(m: TerraformModule, rule: Resource): false | undefined {
  const state = rule.body['state'];
  if (state === 'DISABLED' || rule.body['is_enabled'] === false) return false;
  if (typeof state === 'string' && isComputed(state)) {
    m.ledger.note(rule.key, `state is computed (${state}): imported enabled`);
  }
  return undefined;
}

async function targetExtras(
  m: TerraformModule,
  t: Resource,
  mode: 'schedule' | 'pattern',
): Promise<TargetExtras> {
  const body = t.body;
  const out: TargetExtras = {};
  if (body['input'] !== undefined) {
    const input = await m.decode(body['input']);
    if (mode === 'pattern')
      m.ledger.note(t.key, 'constant input is not imported: the target receives the event');
    else if (input.ok) out.payload = input.value;
    else m.ledger.note(t.key, `input ${input.reason}: left out`);
  }
  if (body['input_transformer'] !== undefined) {
    m.ledger.note(t.key, 'input transformers are not imported; the target receives the whole event');
  }
  const inputPath = literalString(body['input_path']);
  if (inputPath !== undefined) {
    if (mode === 'pattern') out.inputPath = inputPath;
    else m.ledger.note(t.key, `input_path ${inputPath} on a schedule is not imported`);
  }
  const retry = readRetry(m, t.key, body);
  if (mode === 'schedule') Object.assign(out, retry);
  else if (retry.maxAttempts !== undefined || retry.maxEventAgeSeconds !== undefined) {
    m.ledger.note(t.key, 'retry_policy on an event-pattern target is not imported');
  }
  noteDeadLetter(m, t.key, body);
  return out;
}
