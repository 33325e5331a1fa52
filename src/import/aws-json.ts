// What the AWS CLI prints about schedules: `aws events describe-rule`, `list-rules`,
// `list-targets-by-rule` and `aws scheduler get-schedule`, one per file, an array of them,
// or `{ "rule": …, "targets": … }`. Targets say what runs: a Lambda function becomes a stub
// handler, an SQS queue a send (or a rule target), an ECS task needs its task definition.

import { LineCounter, parseDocument } from 'yaml';
import { parseSchedule, ScheduleError, type ScheduleOptions } from '../expressions/index.ts';
import {
  emptyPlan,
  ImportError,
  type ImportedRule,
  type ImportedSchedule,
  type ImportPlan,
  lineOf,
  type Origin,
  safeName,
} from './model.ts';

const SHAPES =
  'expected the output of `aws events describe-rule` ({ Name, ScheduleExpression or EventPattern }), ' +
  '`aws events list-rules` ({ Rules }), `aws events list-targets-by-rule` ({ Targets }), ' +
  '`aws scheduler get-schedule` ({ Name, ScheduleExpression, Target }), { "rule": …, "targets": … }, or an array of these';

type Json = Record<string, unknown>;

interface RuleIn {
  readonly rule: Json;
  readonly name: string;
  targets: Json[];
}

interface TargetList {
  readonly targets: Json[];
  readonly rule: string | undefined;
}

export function readAwsJson(file: string, text: string): ImportPlan {
  const data = parseJson(file, text);
  const rules: RuleIn[] = [];
  const lists: TargetList[] = [];
  const schedules: Json[] = [];

  const items = Array.isArray(data) ? data : [data];
  items.forEach((item, i) => {
    const where = Array.isArray(data) ? `item ${i}` : 'JSON';
    if (!isObject(item))
      throw new ImportError(file, 0, where, `${JSON.stringify(item)?.slice(0, 40)}: ${SHAPES}`);
    if (isObject(item['rule']) && item['targets'] !== undefined) {
      const rule = asRule(file, where, item['rule']);
      rule.targets.push(...targetsOf(file, where, item['targets']));
      rules.push(rule);
    } else if (Array.isArray(item['Rules'])) {
      for (const r of item['Rules']) rules.push(asRule(file, where, r));
    } else if (Array.isArray(item['Targets'])) {
      lists.push({
        targets: targetsOf(file, where, item['Targets']),
        rule: typeof item['Rule'] === 'string' ? item['Rule'] : undefined,
      });
    } else if (isSchedulerSchedule(item)) schedules.push(item);
    else if (typeof item['Name'] === 'string' && ('ScheduleExpression' in item || 'EventPattern' in item)) {
      rules.push(asRule(file, where, item));
    } else
      throw new ImportError(file, 0, where, `keys ${Object.keys(item).join(', ') || '(none)'}: ${SHAPES}`);
  });

  const plan = emptyPlan();
  const ctx = new Ctx(file, text, plan);
  for (const list of lists) {
    const origin: Origin = { file, line: lineOf(text, '"Targets"'), item: 'list-targets-by-rule' };
    const rule =
      list.rule !== undefined
        ? rules.find((r) => r.name === list.rule)
        : rules.length === 1
          ? rules[0]
          : undefined;
    if (rule) rule.targets.push(...list.targets);
    else {
      plan.report.push({
        origin,
        outcome: 'skipped',
        message:
          list.rule !== undefined
            ? `targets of rule "${list.rule}", which this file does not describe: put its describe-rule output with them`
            : `targets with ${rules.length} rules in this file: add "Rule": "<rule name>" to the list-targets output to say whose they are`,
      });
    }
  }
  for (const rule of rules) ctx.rule(rule);
  for (const s of schedules) ctx.schedule(s);
  return plan;
}

// ---------------------------------------------------------------------------------------
// Shapes

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isSchedulerSchedule(o: Json): boolean {
  return (
    typeof o['Name'] === 'string' &&
    typeof o['ScheduleExpression'] === 'string' &&
    (isObject(o['Target']) || 'GroupName' in o || 'FlexibleTimeWindow' in o)
  );
}

function asRule(file: string, where: string, v: unknown): RuleIn {
  if (!isObject(v) || typeof v['Name'] !== 'string') {
    throw new ImportError(file, 0, where, `a rule without a "Name": ${SHAPES}`);
  }
  return { rule: v, name: v['Name'], targets: [] };
}

function targetsOf(file: string, where: string, v: unknown): Json[] {
  const list = isObject(v) && Array.isArray(v['Targets']) ? v['Targets'] : v;
  if (!Array.isArray(list) || !list.every((t) => isObject(t) && typeof t['Arn'] === 'string')) {
    throw new ImportError(
      file,
      0,
      where,
      `targets must be list-targets-by-rule output ({ Targets: [{ Id, Arn }] })`,
    );
  }
  return list as Json[];
}

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // Node 24: "… at position N (line L column C)"; at the end of input it gives neither.
    const line = /\(line (\d+) column \d+\)/.exec(message)?.[1];
    const position = /at position (\d+)/.exec(message)?.[1];
    const at =
      line !== undefined
        ? Number(line)
        : position !== undefined
          ? text.slice(0, Number(position)).split('\n').length
          : (lineOfYamlError(text) ?? text.trimEnd().split('\n').length);
    // V8 quotes the text around the error, newlines included: one line for the user.
    throw new ImportError(file, at, 'JSON', message.replace(/\s+/g, ' '));
  }
}

// ---------------------------------------------------------------------------------------
// Targets

type TargetKind =
  | { kind: 'lambda'; name: string }
  | { kind: 'sqs'; name: string }
  | { kind: 'ecs'; cluster: string }
  | { kind: 'other'; service: string };

function targetKind(arn: string): TargetKind {
  // arn:partition:service:region:account:resource
  const parts = arn.split(':');
  const service = parts[2] ?? '';
  if (service === 'lambda' && parts[5] === 'function' && parts[6]) return { kind: 'lambda', name: parts[6] };
  if (service === 'sqs' && parts[5]) return { kind: 'sqs', name: parts[5] };
  if (service === 'ecs')
    return {
      kind: 'ecs',
      cluster: parts
        .slice(5)
        .join(':')
        .replace(/^cluster\//, ''),
    };
  return { kind: 'other', service: service || arn };
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

class Ctx {
  readonly file: string;
  readonly text: string;
  readonly plan: ImportPlan;

  constructor(file: string, text: string, plan: ImportPlan) {
    this.file = file;
    this.text = text;
    this.plan = plan;
  }

  /** The line of `"Name": "<name>"`, where the CLI printed it. */
  origin(name: string, item: string): Origin {
    const quoted = JSON.stringify(name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return { file: this.file, line: lineOf(this.text, new RegExp(`"Name"\\s*:\\s*${quoted}`)), item };
  }

  /** Input → payload, RetryPolicy → attempts and event age, plus notes on what is left out. */
  targetSettings(target: Json, notes: string[]): Partial<ImportedSchedule> {
    const out: { -readonly [K in keyof ImportedSchedule]?: ImportedSchedule[K] } = {};
    if (typeof target['Input'] === 'string') {
      try {
        out.payload = JSON.parse(target['Input']);
      } catch {
        out.payload = target['Input'];
        notes.push('Input is not JSON: kept as a string');
      }
    }
    const retry = target['RetryPolicy'];
    if (isObject(retry)) {
      const attempts = num(retry['MaximumRetryAttempts']);
      const age = num(retry['MaximumEventAgeInSeconds']);
      if (attempts !== undefined) out.maxAttempts = attempts + 1;
      if (age !== undefined) out.maxEventAgeSeconds = age;
    }
    if (target['DeadLetterConfig'] !== undefined) {
      notes.push('DeadLetterConfig left out: failed runs stay in mainspring (use alerts)');
    }
    return out;
  }

  validate(schedule: ImportedSchedule): string | undefined {
    const options: ScheduleOptions = {};
    if (schedule.timezone) options.timezone = schedule.timezone;
    if (schedule.start) options.start = new Date(schedule.start);
    if (schedule.end) options.end = new Date(schedule.end);
    try {
      parseSchedule(schedule.expression, options);
      return undefined;
    } catch (err) {
      if (err instanceof ScheduleError) return err.message;
      throw err;
    }
  }

  addQueue(name: string, origin: Origin): void {
    if (this.plan.queues.some((q) => q.name === name)) return;
    this.plan.queues.push({ name, origin, ...(name.endsWith('.fifo') ? { fifo: true } : {}) });
    this.plan.report.push({
      origin,
      outcome: 'noted',
      message: `queue ${name}: its settings (visibility timeout, retries, dead-letter queue) are not in this JSON: defaults used`,
    });
  }

  /** A stub for a Lambda function; several schedules on one function add triggers to one stub. */
  addHandler(name: string, origin: Origin, schedule: ImportedSchedule | undefined): void {
    const i = this.plan.functions.findIndex((f) => f.name === name && f.kind === 'handler');
    const had = this.plan.functions[i];
    const triggers = schedule ? [{ kind: 'schedule' as const, schedule }] : [];
    if (had) this.plan.functions[i] = { ...had, triggers: [...had.triggers, ...triggers] };
    else this.plan.functions.push({ kind: 'handler', name, origin, triggers });
  }

  freeFunctionName(name: string): string {
    if (!this.plan.functions.some((f) => f.name === name)) return name;
    for (let n = 2; ; n++)
      if (!this.plan.functions.some((f) => f.name === `${name}-${n}`)) return `${name}-${n}`;
  }

  /** One schedule's target: what runs each tick. */
  scheduleTarget(owner: string, target: Json, base: ImportedSchedule, origin: Origin, notes: string[]): void {
    const arn = String(target['Arn']);
    const kind = targetKind(arn);
    const schedule: ImportedSchedule = { ...base, ...this.targetSettings(target, notes) };
    if (target['InputPath'] !== undefined || target['InputTransformer'] !== undefined) {
      notes.push('InputPath/InputTransformer left out: a schedule sends its payload as it is');
    }
    const skip = (message: string): void => {
      this.plan.report.push({ origin, outcome: 'skipped', message });
    };
    switch (kind.kind) {
      case 'lambda': {
        const name = safeName(kind.name);
        this.addHandler(name, origin, schedule);
        notes.push(`runs Lambda function ${kind.name}: ${name} is a stub, port its handler`);
        return;
      }
      case 'sqs': {
        const queue = safeName(kind.name);
        this.addQueue(queue, origin);
        const name = this.freeFunctionName(safeName(owner));
        this.plan.functions.push({
          kind: 'send',
          name,
          origin,
          queue,
          triggers: [{ kind: 'schedule', schedule }],
        });
        notes.push(`sends to queue ${queue} as function ${name}`);
        return;
      }
      case 'ecs': {
        const ecs = target['EcsParameters'];
        const task =
          isObject(ecs) && typeof ecs['TaskDefinitionArn'] === 'string' ? ` ${ecs['TaskDefinitionArn']}` : '';
        skip(
          `runs ECS task${task} on cluster ${kind.cluster}: the task definition is not in this JSON: import the Terraform, or add the command by hand`,
        );
        return;
      }
      default:
        skip(`its target is ${kind.service} (${arn}): only Lambda, SQS and ECS targets are imported`);
    }
  }

  rule(r: RuleIn): void {
    const { rule, name } = r;
    const bus = typeof rule['EventBusName'] === 'string' ? rule['EventBusName'] : 'default';
    const origin = this.origin(name, `rule ${bus === 'default' ? '' : `${bus}/`}${name}`);
    const skip = (message: string): void => {
      this.plan.report.push({ origin, outcome: 'skipped', message });
    };
    const notes: string[] = [];
    const enabled = rule['State'] === 'DISABLED' ? false : undefined;
    const description = typeof rule['Description'] === 'string' ? rule['Description'] : undefined;

    if (typeof rule['ScheduleExpression'] === 'string') {
      const base: ImportedSchedule = {
        expression: rule['ScheduleExpression'],
        ...(enabled === false ? { enabled } : {}),
        ...(description ? { description } : {}),
      };
      const problem = this.validate(base);
      if (problem) {
        skip(problem);
        return;
      }
      if (r.targets.length === 0) {
        skip(`no targets in this JSON: add the output of \`aws events list-targets-by-rule --rule ${name}\``);
        return;
      }
      const before = this.plan.report.length;
      for (const t of r.targets) {
        this.scheduleTarget(
          r.targets.length > 1 ? `${name}-${String(t['Id'] ?? '')}` : name,
          t,
          base,
          origin,
          notes,
        );
      }
      const allSkipped =
        this.plan.report.slice(before).filter((l) => l.outcome === 'skipped').length === r.targets.length;
      if (!allSkipped) {
        this.plan.report.push({
          origin,
          outcome: 'noted',
          message: [`schedule ${base.expression}${enabled === false ? ' (disabled)' : ''}`, ...notes].join(
            '; ',
          ),
        });
      }
      return;
    }

    if (rule['EventPattern'] !== undefined) {
      let pattern: unknown = rule['EventPattern'];
      if (typeof pattern === 'string') {
        try {
          pattern = JSON.parse(pattern);
        } catch (err) {
          skip(`EventPattern is not JSON: ${err instanceof Error ? err.message : String(err)}`);
          return;
        }
      }
      if (!isObject(pattern)) {
        skip('EventPattern is not a JSON object');
        return;
      }
      if (bus !== 'default') notes.push(`on event bus ${bus}: mainspring has one event stream`);
      const targets: ImportedRule['targets'][number][] = [];
      const inputPaths = new Set<string>();
      for (const t of r.targets) {
        const kind = targetKind(String(t['Arn']));
        if (typeof t['InputPath'] === 'string') inputPaths.add(t['InputPath']);
        if (t['Input'] !== undefined || t['InputTransformer'] !== undefined) {
          notes.push(
            `target ${String(t['Id'])}: Input/InputTransformer left out (the rule passes the event)`,
          );
        }
        if (t['RetryPolicy'] !== undefined || t['DeadLetterConfig'] !== undefined) {
          notes.push(`target ${String(t['Id'])}: RetryPolicy/DeadLetterConfig left out`);
        }
        if (kind.kind === 'lambda') {
          const fn = safeName(kind.name);
          this.addHandler(fn, origin, undefined);
          targets.push({ kind: 'function', name: fn });
        } else if (kind.kind === 'sqs') {
          const queue = safeName(kind.name);
          this.addQueue(queue, origin);
          targets.push({ kind: 'queue', name: queue });
        } else {
          skip(
            kind.kind === 'ecs'
              ? `target ${String(t['Id'])} runs an ECS task: the task definition is not in this JSON: import the Terraform, or add the command by hand`
              : `target ${String(t['Id'])} is ${kind.service}: only Lambda and SQS targets of event rules are imported`,
          );
        }
      }
      if (inputPaths.size > 1)
        notes.push(`targets use different InputPaths: ${[...inputPaths].join(', ')}; the first is kept`);
      const inputPath = [...inputPaths][0];
      if (targets.length === 0) notes.push('no Lambda or SQS target in this JSON: the rule has no targets');
      this.plan.rules.push({
        name: safeName(name, 40),
        origin,
        pattern,
        targets,
        ...(inputPath ? { inputPath } : {}),
        ...(enabled === false ? { enabled } : {}),
        ...(description ? { description } : {}),
      });
      this.plan.report.push({
        origin,
        outcome: notes.length > 0 ? 'noted' : 'imported',
        message: [`event rule ${safeName(name, 40)}`, ...notes].join('; '),
      });
      return;
    }
    skip('neither ScheduleExpression nor EventPattern');
  }

  /** `aws scheduler get-schedule` output. */
  schedule(s: Json): void {
    const name = String(s['Name']);
    const group = typeof s['GroupName'] === 'string' ? s['GroupName'] : 'default';
    const origin = this.origin(name, `schedule ${group}/${name}`);
    const skip = (message: string): void => {
      this.plan.report.push({ origin, outcome: 'skipped', message });
    };
    const notes: string[] = [];
    const base: { -readonly [K in keyof ImportedSchedule]: ImportedSchedule[K] } = {
      expression: String(s['ScheduleExpression']),
    };
    if (typeof s['ScheduleExpressionTimezone'] === 'string') base.timezone = s['ScheduleExpressionTimezone'];
    if (s['State'] === 'DISABLED') base.enabled = false;
    for (const [key, field] of [
      ['StartDate', 'start'],
      ['EndDate', 'end'],
    ] as const) {
      const v = s[key];
      if (v === undefined) continue;
      // The CLI prints ISO dates; a number is epoch seconds, as the API returns them.
      const date =
        typeof v === 'number' ? new Date(v * 1000) : typeof v === 'string' ? new Date(v) : undefined;
      if (date && !Number.isNaN(date.getTime())) base[field] = date.toISOString();
      else notes.push(`${key} ${JSON.stringify(v)} is not a date: left out`);
    }
    const window = s['FlexibleTimeWindow'];
    if (isObject(window) && window['Mode'] === 'FLEXIBLE') {
      const minutes = num(window['MaximumWindowInMinutes']);
      if (minutes !== undefined) base.flexibleWindowMinutes = minutes;
    }
    if (typeof s['Description'] === 'string') base.description = s['Description'];
    if (s['ActionAfterCompletion'] === 'DELETE')
      notes.push('ActionAfterCompletion DELETE left out: the schedule stays');

    const problem = this.validate(base);
    if (problem) {
      skip(problem);
      return;
    }
    const target = s['Target'];
    if (!isObject(target) || typeof target['Arn'] !== 'string') {
      skip('no Target with an Arn in this JSON');
      return;
    }
    if (isObject(target['SqsParameters'])) notes.push('SqsParameters (message group) left out');
    const before = this.plan.report.length;
    this.scheduleTarget(name, target, base, origin, notes);
    if (this.plan.report.slice(before).some((l) => l.outcome === 'skipped')) return;
    this.plan.report.push({
      origin,
      outcome: 'noted',
      message: [`schedule ${base.expression}${base.timezone ? ` (${base.timezone})` : ''}`, ...notes].join(
        '; ',
      ),
    });
  }
}

/** Where a YAML parser, which knows lines, finds the error V8 gave no position for (JSON is YAML). */
function lineOfYamlError(text: string): number | undefined {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, logLevel: 'silent' });
  const error = doc.errors[0];
  return error ? lines.linePos(error.pos[0]).line : undefined;
}
