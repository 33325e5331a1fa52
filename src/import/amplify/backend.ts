// An Amplify backend.ts: `new events.Rule(scope, 'Id', { schedule | eventPattern, targets })`
// and `rule.addTarget(…)`, with targets the Lambdas of defineBackend (backend.<key>.resources.lambda).
// Each key becomes a handler stub until the same import reads that function's resource.ts.

import type { CallExpression, Expression, NewExpression, Node, ObjectExpression } from 'acorn';
import {
  type ImportedRule,
  type ImportedSchedule,
  type ImportedTrigger,
  type ImportPlan,
  type Origin,
  type ReportLine,
  safeName,
} from '../model.ts';
import { cdkSchedule, durationSeconds, validate } from './cdk.ts';
import { arg, calleeName, describe, lineOfNode, memberPath, walk } from './parse.ts';
import { type Context, Unknown } from './values.ts';

interface RuleFound {
  readonly node: NewExpression;
  readonly id: string;
  readonly props: ObjectExpression | undefined;
  readonly targets: Expression[];
}

export function readRules(ctx: Context, plan: ImportPlan): void {
  const backendVars = new Set<string>();
  for (const [name, init] of ctx.consts) {
    if (init.type === 'CallExpression' && calleeName(init) === 'defineBackend') backendVars.add(name);
  }

  const rules = new Map<Node, RuleFound>();
  walk(ctx.program, (node) => {
    if (node.type !== 'NewExpression') return;
    const n = node as NewExpression;
    if (calleeName(n) !== 'Rule') return;
    const idValue = ctx.literal(arg(n, 1) ?? n);
    const props = ctx.object(arg(n, 2));
    const targets: Expression[] = [];
    const targetsNode = props ? new Map(ctx.properties(props)).get('targets') : undefined;
    const list = targetsNode ? ctx.resolve(targetsNode) : undefined;
    if (list?.type === 'ArrayExpression') {
      for (const el of list.elements) if (el && el.type !== 'SpreadElement') targets.push(el);
    }
    rules.set(n, {
      node: n,
      id: typeof idValue === 'string' ? idValue : `line ${lineOfNode(n)}`,
      props,
      targets,
    });
  });
  if (rules.size === 0) return;

  // rule.addTarget(target), with `rule` a const bound to the `new Rule(…)` or the expression itself.
  walk(ctx.program, (node) => {
    if (node.type !== 'CallExpression') return;
    const call = node as CallExpression;
    if (calleeName(call) !== 'addTarget' || call.callee.type !== 'MemberExpression') return;
    const owner = ctx.resolve(call.callee.object as Expression);
    const rule = rules.get(owner);
    const target = arg(call, 0);
    if (rule && target) rule.targets.push(target);
  });

  for (const rule of rules.values()) readRule(ctx, plan, rule, backendVars);
}

function readRule(ctx: Context, plan: ImportPlan, rule: RuleFound, backendVars: Set<string>): void {
  const origin: Origin = { file: ctx.file, line: lineOfNode(rule.node), item: `Rule ${rule.id}` };
  const skip = (message: string): void => {
    plan.report.push({ origin, outcome: 'skipped', message });
  };
  if (!rule.props) {
    skip("the rule's props are not an object literal");
    return;
  }
  const props = new Map(ctx.properties(rule.props));
  const notes: string[] = [];

  const description = props.get('description') ? ctx.literal(props.get('description')!) : undefined;
  const enabledValue = props.get('enabled') ? ctx.literal(props.get('enabled')!) : undefined;
  const enabled = enabledValue === false ? false : undefined;

  const targets: { key: string; schedule: Partial<ImportedSchedule> }[] = [];
  for (const t of rule.targets) {
    const read = readTarget(ctx, t, backendVars);
    if ('skip' in read) {
      plan.report.push({
        origin: { ...origin, line: lineOfNode(t) },
        outcome: 'skipped',
        message: read.skip,
      });
    } else {
      targets.push(read);
      notes.push(...read.notes);
    }
  }

  const scheduleNode = props.get('schedule');
  const patternNode = props.get('eventPattern');
  if (scheduleNode) {
    const expression = cdkSchedule(ctx, scheduleNode);
    if (typeof expression !== 'string') {
      skip(`schedule: ${expression.error}`);
      return;
    }
    const base: ImportedSchedule = {
      expression,
      ...(enabled === false ? { enabled } : {}),
      ...(typeof description === 'string' ? { description } : {}),
    };
    const problem = validate(base);
    if (problem) {
      skip(`schedule ${expression}: ${problem}`);
      return;
    }
    if (targets.length === 0) {
      skip(`schedule ${expression} has no Lambda target this file names`);
      return;
    }
    for (const target of targets) {
      const name = safeName(target.key);
      if (addTrigger(plan, name, origin, { kind: 'schedule', schedule: { ...base, ...target.schedule } })) {
        plan.report.push(stubNote(origin, name, target.key));
      }
    }
    plan.report.push({
      origin,
      outcome: notes.length > 0 ? 'noted' : 'imported',
      message: [`schedule ${expression} on ${targets.map((t) => safeName(t.key)).join(', ')}`, ...notes].join(
        '; ',
      ),
    });
    return;
  }
  if (patternNode) {
    const pattern = ctx.literal(patternNode);
    if (typeof pattern !== 'object' || pattern === null || Array.isArray(pattern)) {
      skip(`eventPattern is ${pattern instanceof Unknown ? pattern.why : 'not an object'}`);
      return;
    }
    if (targets.some((t) => Object.keys(t.schedule).length > 0)) {
      notes.push('target retry, event age and input options are not kept on event rules');
    }
    const imported: ImportedRule = {
      name: safeName(rule.id, 40),
      origin,
      pattern: pattern as Record<string, unknown>,
      targets: targets.map((t) => ({ kind: 'function' as const, name: safeName(t.key) })),
      ...(enabled === false ? { enabled } : {}),
      ...(typeof description === 'string' ? { description } : {}),
    };
    plan.rules.push(imported);
    for (const t of targets) {
      if (addTrigger(plan, safeName(t.key), origin, undefined)) {
        plan.report.push(stubNote(origin, safeName(t.key), t.key));
      }
    }
    plan.report.push({
      origin,
      outcome: notes.length > 0 ? 'noted' : 'imported',
      message: [`event rule ${imported.name}`, ...notes].join('; '),
    });
    return;
  }
  skip('the rule has neither a schedule nor an eventPattern this reader can read');
}

function stubNote(origin: Origin, name: string, key: string): ReportLine {
  return {
    origin,
    outcome: 'noted',
    whileStub: name,
    message: `function ${name} is backend.${key}: its handler and settings come from its defineFunction (resource.ts); import that file too, or ${name} stays a stub with no handler file`,
  };
}

/** A stub handler per backend key in this file; a second rule on the same key adds a trigger. True: a new stub. */
function addTrigger(
  plan: ImportPlan,
  name: string,
  origin: Origin,
  trigger: ImportedTrigger | undefined,
): boolean {
  const i = plan.functions.findIndex((f) => f.name === name);
  const had = plan.functions[i];
  const triggers = trigger ? [trigger] : [];
  if (had) plan.functions[i] = { ...had, triggers: [...had.triggers, ...triggers] };
  else plan.functions.push({ kind: 'handler', name, origin, triggers });
  return !had;
}

type TargetRead = { key: string; schedule: Partial<ImportedSchedule>; notes: string[] } | { skip: string };

/** `new targets.LambdaFunction(backend.<key>.resources.lambda, { retryAttempts, maxEventAge, event })`. */
function readTarget(ctx: Context, node: Expression, backendVars: Set<string>): TargetRead {
  const t = ctx.resolve(node);
  if (t.type !== 'NewExpression') return { skip: `target ${describe(t)} is not a new targets.X(…)` };
  const kind = calleeName(t);
  if (kind !== 'LambdaFunction') {
    return { skip: `target ${kind}: only Lambda functions of defineBackend are imported from backend.ts` };
  }
  const fn = arg(t, 0);
  const path = fn ? memberPath(ctx.resolve(fn)) : [];
  // backend.<key>.resources.lambda
  const key =
    path.length === 4 && backendVars.has(path[0]!) && path[2] === 'resources' && path[3] === 'lambda'
      ? path[1]!
      : undefined;
  if (!key) {
    return { skip: `target function ${fn ? describe(fn) : '(none)'} is not backend.<name>.resources.lambda` };
  }
  const schedule: { -readonly [K in keyof ImportedSchedule]?: ImportedSchedule[K] } = {};
  const notes: string[] = [];
  const options = ctx.object(arg(t, 1));
  for (const [name, value] of options ? ctx.properties(options) : []) {
    if (!value) continue;
    if (name === 'retryAttempts') {
      const v = ctx.literal(value);
      if (typeof v === 'number') schedule.maxAttempts = v + 1;
      else notes.push(`retryAttempts is ${describe(value)}: left out`);
    } else if (name === 'maxEventAge') {
      const seconds = durationSeconds(ctx, value);
      if (typeof seconds === 'number') schedule.maxEventAgeSeconds = seconds;
      else notes.push(`maxEventAge: ${seconds.error}`);
    } else if (name === 'event') {
      const e = ctx.resolve(value);
      const payload =
        e.type === 'CallExpression' && calleeName(e) === 'fromObject'
          ? ctx.literal(arg(e, 0) ?? e)
          : undefined;
      if (payload !== undefined && !(payload instanceof Unknown)) schedule.payload = payload;
      else notes.push(`event ${describe(value)} is not RuleTargetInput.fromObject of a literal: left out`);
    } else notes.push(`target option ${name}: left out`);
  }
  return { key, schedule, notes };
}
