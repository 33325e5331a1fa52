// Amplify Gen 2 files, read statically: a function's `resource.ts` (defineFunction) and the
// `backend.ts` that may schedule it with a CDK `events.Rule`. The TypeScript is stripped of
// its types and parsed, never run: only literal values (and consts bound to them) are read.

import { stripTypeScriptTypes } from 'node:module';
import { dirname, join } from 'node:path';
import {
  type CallExpression,
  type Expression,
  type NewExpression,
  type Node,
  type ObjectExpression,
  type Program,
  parse,
} from 'acorn';
import { type CronObject, parseSchedule, ScheduleError } from '../expressions/index.ts';
import {
  emptyPlan,
  ImportError,
  type ImportedHandler,
  type ImportedRule,
  type ImportedSchedule,
  type ImportedTrigger,
  type ImportPlan,
  type Origin,
  type ReportLine,
  safeName,
} from './model.ts';

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

// ---------------------------------------------------------------------------------------
// Parsing

/**
 * Runs `fn` without Node's one-time "stripTypeScriptTypes is an experimental feature" warning:
 * the stripping is the one Node runs .ts files with, and the import's output is the user's.
 */
function quietly<T>(fn: () => T): T {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: never[]) => {
    if (String(warning).includes('stripTypeScriptTypes')) return;
    emit.call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return fn();
  } finally {
    process.emitWarning = emit;
  }
}

function parseTypeScript(file: string, text: string): Program {
  let js: string;
  try {
    // 'strip' replaces types with blanks, so lines and columns stay those of the user's file.
    js = quietly(() => stripTypeScriptTypes(text, { mode: 'strip' }));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // Node reports no position for these; the stack's first line is `<source>:<line>`.
    const stack = err instanceof Error ? (err.stack ?? '') : '';
    const line = Number(/^[^\n]*?:(\d+)\n/.exec(stack)?.[1] ?? 0);
    throw new ImportError(file, line, 'TypeScript', message);
  }
  try {
    return parse(js, { ecmaVersion: 'latest', sourceType: 'module', locations: true });
  } catch (err) {
    const loc = (err as { loc?: { line: number } }).loc;
    const message = err instanceof Error ? err.message.replace(/\s*\(\d+:\d+\)$/, '') : String(err);
    throw new ImportError(file, loc?.line ?? 0, 'TypeScript', message);
  }
}

function isNode(value: unknown): value is Node {
  return (
    typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string'
  );
}

/** Every node under `root`, depth first, parents before children. */
function walk(root: Node, visit: (node: Node) => void): void {
  visit(root);
  for (const value of Object.values(root as unknown as Record<string, unknown>)) {
    if (Array.isArray(value)) {
      for (const item of value) if (isNode(item)) walk(item, visit);
    } else if (isNode(value)) walk(value, visit);
  }
}

function lineOfNode(node: Node): number {
  return node.loc?.start.line ?? 0;
}

/** Why a value could not be read statically. */
class Unknown {
  readonly why: string;
  constructor(why: string) {
    this.why = why;
  }
}

/** The file's parsed program and its `const` bindings, so identifiers resolve to what they were given. */
class Context {
  readonly consts = new Map<string, Expression>();
  /** Local names of `defineFunction` imported from '@aws-amplify/backend'. */
  readonly defineFunctionNames = new Set<string>(['defineFunction']);
  readonly secretNames = new Set<string>(['secret']);

  readonly file: string;
  readonly program: Program;

  constructor(file: string, program: Program) {
    this.file = file;
    this.program = program;
    walk(program, (node) => {
      if (node.type === 'VariableDeclaration') {
        const decl = node as unknown as {
          kind: string;
          declarations: { id: Node; init?: Expression | null }[];
        };
        if (decl.kind !== 'const') return;
        for (const d of decl.declarations) {
          if (d.id.type === 'Identifier' && d.init) this.consts.set(identifierName(d.id), d.init);
        }
      } else if (node.type === 'ImportDeclaration') {
        const imp = node as unknown as { source: { value: unknown }; specifiers: Node[] };
        if (imp.source.value !== '@aws-amplify/backend') return;
        for (const spec of imp.specifiers) {
          if (spec.type !== 'ImportSpecifier') continue;
          const s = spec as unknown as { imported: Node; local: Node };
          const imported = s.imported.type === 'Identifier' ? identifierName(s.imported) : '';
          if (imported === 'defineFunction') this.defineFunctionNames.add(identifierName(s.local));
          if (imported === 'secret') this.secretNames.add(identifierName(s.local));
        }
      }
    });
  }

  /** Follows identifiers through `const` bindings (a few hops, no cycles). */
  resolve(node: Expression): Expression {
    let current = node;
    for (let hops = 0; hops < 10 && current.type === 'Identifier'; hops++) {
      const bound = this.consts.get(current.name);
      if (!bound) break;
      current = bound;
    }
    return current;
  }

  /** A JSON-like literal value, or why it is not one. */
  literal(node: Expression, depth = 0): unknown {
    if (depth > 20) return new Unknown('nested too deeply');
    const n = this.resolve(node);
    switch (n.type) {
      case 'Literal':
        return n.value instanceof RegExp || typeof n.value === 'bigint' ? new Unknown(n.raw ?? '') : n.value;
      case 'TemplateLiteral':
        if (n.expressions.length === 0) return n.quasis.map((q) => q.value.cooked ?? '').join('');
        return new Unknown('a template string with values in it');
      case 'UnaryExpression':
        if (n.operator === '-') {
          const v = this.literal(n.argument, depth + 1);
          return typeof v === 'number' ? -v : new Unknown('a computed number');
        }
        return new Unknown(`a ${n.operator} expression`);
      case 'ArrayExpression': {
        const out: unknown[] = [];
        for (const el of n.elements) {
          if (!el || el.type === 'SpreadElement') return new Unknown('an array with a spread or hole');
          const v = this.literal(el, depth + 1);
          if (v instanceof Unknown) return v;
          out.push(v);
        }
        return out;
      }
      case 'ObjectExpression': {
        const out: Record<string, unknown> = {};
        for (const [key, value] of this.properties(n)) {
          if (value === undefined) return new Unknown('an object with a spread or computed key');
          const v = this.literal(value, depth + 1);
          if (v instanceof Unknown) return v;
          out[key] = v;
        }
        return out;
      }
      default:
        return new Unknown(describe(n));
    }
  }

  /** An object literal's properties by name; a spread or computed key is listed with no value. */
  properties(node: ObjectExpression): [string, Expression | undefined][] {
    const out: [string, Expression | undefined][] = [];
    for (const p of node.properties) {
      if (p.type !== 'Property' || p.computed || p.kind !== 'init') {
        out.push(['…', undefined]);
        continue;
      }
      const key =
        p.key.type === 'Identifier' ? p.key.name : p.key.type === 'Literal' ? String(p.key.value) : '…';
      out.push([key, p.value as Expression]);
    }
    return out;
  }

  object(node: Expression | undefined): ObjectExpression | undefined {
    if (!node) return undefined;
    const n = this.resolve(node);
    return n.type === 'ObjectExpression' ? n : undefined;
  }
}

function identifierName(node: Node): string {
  return node.type === 'Identifier' ? (node as unknown as { name: string }).name : '';
}

/** Short words for a construct that is not a literal, for report lines. */
function describe(node: Expression): string {
  if (node.type === 'Identifier') return node.name;
  if (node.type === 'CallExpression' || node.type === 'NewExpression') return `a call of ${calleeName(node)}`;
  if (node.type === 'MemberExpression') return memberPath(node).join('.') || 'a property read';
  return `a ${node.type}`;
}

/** `a.b.c` as ['a', 'b', 'c']; [] when any part is computed or not a name. */
function memberPath(node: Node): string[] {
  if (node.type === 'Identifier') return [identifierName(node)];
  if (node.type === 'ChainExpression')
    return memberPath((node as unknown as { expression: Node }).expression);
  if (node.type !== 'MemberExpression') return [];
  const m = node as unknown as { object: Node; property: Node; computed: boolean };
  if (m.computed || m.property.type !== 'Identifier') return [];
  const head = memberPath(m.object);
  return head.length === 0 ? [] : [...head, identifierName(m.property)];
}

/** The last name of a callee: `events.Schedule.cron` → `cron`, `new Rule(…).addTarget` → `addTarget`. */
function calleeName(node: CallExpression | NewExpression): string {
  return lastName(node.callee as Node);
}

/** The callee's name before its last: `events.Schedule.cron` → `Schedule`. */
function calleeOwner(node: CallExpression | NewExpression): string {
  const callee = node.callee as Node;
  return callee.type === 'MemberExpression' ? lastName((callee as unknown as { object: Node }).object) : '';
}

function lastName(node: Node): string {
  if (node.type === 'Identifier') return identifierName(node);
  if (node.type !== 'MemberExpression') return '';
  const m = node as unknown as { property: Node; computed: boolean };
  return m.computed ? '' : identifierName(m.property);
}

function arg(node: CallExpression | NewExpression, i: number): Expression | undefined {
  const a = node.arguments[i];
  return a && a.type !== 'SpreadElement' ? a : undefined;
}

function validate(schedule: ImportedSchedule): string | undefined {
  try {
    parseSchedule(schedule.expression, schedule.timezone ? { timezone: schedule.timezone } : {});
    return undefined;
  } catch (err) {
    if (err instanceof ScheduleError) return err.message;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------
// resource.ts: defineFunction({ … })

/** Options mainspring has no counterpart for; named in a note so the user knows they were seen. */
const HANDLED = new Set(['name', 'entry', 'timeoutSeconds', 'environment', 'schedule']);

function readDefineFunctions(ctx: Context, plan: ImportPlan): void {
  const declared = new Map<Node, string>();
  walk(ctx.program, (node) => {
    if (node.type !== 'VariableDeclarator') return;
    const d = node as unknown as { id: Node; init?: Node | null };
    if (d.init && d.id.type === 'Identifier') declared.set(d.init, identifierName(d.id));
  });
  walk(ctx.program, (node) => {
    if (node.type !== 'CallExpression') return;
    const call = node as CallExpression;
    if (call.callee.type !== 'Identifier' || !ctx.defineFunctionNames.has(call.callee.name)) return;
    const constName = declared.get(call);
    const origin: Origin = { file: ctx.file, line: lineOfNode(call), item: constName ?? 'defineFunction' };
    const first = arg(call, 0);
    const props = ctx.object(first);
    if (!props) {
      plan.report.push({
        origin,
        outcome: 'skipped',
        message:
          first?.type === 'ArrowFunctionExpression' || first?.type === 'FunctionExpression'
            ? 'a custom function (a CDK construct built in code): port it by hand'
            : `defineFunction is given ${first ? describe(first) : 'nothing'}, not an object literal`,
      });
      return;
    }
    plan.functions.push(readFunction(ctx, plan, props, constName, origin));
  });
}

function readFunction(
  ctx: Context,
  plan: ImportPlan,
  props: ObjectExpression,
  constName: string | undefined,
  origin: Origin,
): ImportedHandler {
  const notes: string[] = [];
  const values = new Map(ctx.properties(props));
  const str = (key: string): string | undefined => {
    const node = values.get(key);
    if (!node) return undefined;
    const v = ctx.literal(node);
    if (typeof v === 'string') return v;
    notes.push(`${key} is ${v instanceof Unknown ? v.why : JSON.stringify(v)}, not a string: left out`);
    return undefined;
  };

  const given = str('name');
  // The backend key is the exported const's name, so a backend.ts rule finds it by that name.
  const name = safeName(given ?? constName ?? 'amplify-function');
  const entry = str('entry') ?? './handler.ts';
  const handlerFile = join(dirname(ctx.file), entry);

  let timeoutSeconds: number | undefined;
  const timeoutNode = values.get('timeoutSeconds');
  if (timeoutNode) {
    const v = ctx.literal(timeoutNode);
    if (typeof v === 'number' && v > 0) timeoutSeconds = v;
    else notes.push(`timeoutSeconds is ${v instanceof Unknown ? v.why : JSON.stringify(v)}: left out`);
  }

  const env: Record<string, string> = {};
  const envNode = values.get('environment');
  const envObject = ctx.object(envNode);
  if (envNode && !envObject)
    notes.push(`environment is ${describe(envNode)}, not an object literal: left out`);
  for (const [key, valueNode] of envObject ? ctx.properties(envObject) : []) {
    if (!valueNode) {
      notes.push('environment has a spread or computed key: that part is left out');
      continue;
    }
    const v = ctx.literal(valueNode);
    if (typeof v === 'string') env[key] = v;
    else {
      const resolved = ctx.resolve(valueNode);
      const secretName =
        resolved.type === 'CallExpression' && ctx.secretNames.has(calleeName(resolved))
          ? ctx.literal(arg(resolved, 0) ?? resolved)
          : undefined;
      notes.push(
        typeof secretName === 'string'
          ? `environment ${key} is the Amplify secret "${secretName}": set it in the server's environment`
          : `environment ${key} is ${v instanceof Unknown ? v.why : JSON.stringify(v)}, not a string: set it in the server's environment`,
      );
    }
  }

  const triggers: ImportedTrigger[] = [];
  const scheduleNode = values.get('schedule');
  if (scheduleNode) {
    const v = ctx.literal(scheduleNode);
    const list = Array.isArray(v) ? v : [v];
    for (const one of list) {
      const read = amplifySchedule(one);
      const where = { ...origin, line: lineOfNode(scheduleNode) || origin.line };
      if ('error' in read) {
        plan.report.push({ origin: where, outcome: 'skipped', message: `schedule: ${read.error}` });
        continue;
      }
      const problem = validate(read.schedule);
      if (problem) {
        plan.report.push({ origin: where, outcome: 'skipped', message: `schedule: ${problem}` });
        continue;
      }
      triggers.push({ kind: 'schedule', schedule: read.schedule });
      plan.report.push({
        origin: where,
        outcome: read.note ? 'noted' : 'imported',
        message: read.note ?? `schedule ${read.schedule.expression} on function ${name}`,
      });
    }
  }

  const ignored = [...values.keys()].filter((k) => !HANDLED.has(k) && k !== '…');
  if (ignored.length > 0) notes.push(`${ignored.join(', ')}: no mainspring equivalent, left out`);
  if (!given && constName) notes.push(`no name given: named after the export ${constName}`);

  plan.report.push({
    origin,
    outcome: notes.length > 0 ? 'noted' : 'imported',
    message: [`function ${name}: a stub for the handler in ${handlerFile}`, ...notes].join('; '),
  });
  return {
    kind: 'handler',
    name,
    origin,
    handlerFile,
    triggers,
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
    ...(Object.keys(env).length > 0 ? { env } : {}),
  };
}

type ScheduleRead = { schedule: ImportedSchedule; note?: string } | { error: string };

/**
 * One entry of defineFunction's `schedule`, as Amplify deploys it (backend-function's
 * schedule parser): phrases and cron strings both become EventBridge Scheduler cron fields.
 */
function amplifySchedule(value: unknown): ScheduleRead {
  let spec: unknown = value;
  let timezone: string | undefined;
  let description: string | undefined;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    spec = o['cron'] ?? o['rate'];
    if (typeof o['timezone'] === 'string') timezone = o['timezone'];
    if (typeof o['description'] === 'string') description = o['description'];
  }
  if (typeof spec !== 'string')
    return { error: `${JSON.stringify(value)} is not a string, { cron } or { rate }` };
  const fields = spec.startsWith('every') ? phraseFields(spec) : cronStringFields(spec);
  if ('error' in fields) return fields;
  let expression: string;
  try {
    expression = parseSchedule(fields).expression;
  } catch (err) {
    if (err instanceof ScheduleError) return { error: `"${spec}": ${err.message}` };
    throw err;
  }
  const schedule: ImportedSchedule = {
    expression,
    ...(timezone ? { timezone } : {}),
    ...(description ? { description } : {}),
  };
  return {
    schedule,
    note: spec.startsWith('every')
      ? `schedule "${spec}" became ${expression}, as Amplify deploys it`
      : `schedule "${spec}" (Amplify reads EventBridge cron fields: day-of-week 1-7 = SUN-SAT) became ${expression}`,
  };
}

/** Amplify's natural-language intervals, translated as Amplify translates them (cron, not rate). */
function phraseFields(phrase: string): CronObject | { error: string } {
  const every = /^every (\d+)(m|h)$/.exec(phrase.trim());
  if (every) {
    const n = Number(every[1]);
    if (!(n > 0)) return { error: `"${phrase}": the interval must be a positive whole number` };
    return every[2] === 'm' ? { minute: `*/${n}` } : { minute: '0', hour: `*/${n}` };
  }
  switch (phrase.trim()) {
    case 'every day':
      return { minute: '0', hour: '0', day: '*' };
    case 'every week':
      return { minute: '0', hour: '0', weekDay: '1' };
    case 'every month':
      return { minute: '0', hour: '0', day: '1', month: '*' };
    case 'every year':
      return { minute: '0', hour: '0', day: '1', month: '1', year: '*' };
    default:
      return {
        error: `"${phrase}" is not an Amplify interval (every Nm, every Nh, every day/week/month/year)`,
      };
  }
}

/**
 * An Amplify cron string: 5 or 6 EventBridge fields (minute hour day month weekDay [year]).
 * Amplify keeps day-of-week only when day-of-month is `?`, and rejects a string with
 * neither day field `?`; with day-of-week `*` the meaning is plain, so that one is accepted.
 */
function cronStringFields(cron: string): CronObject | { error: string } {
  const parts = cron.trim().split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) {
    return { error: `"${cron}" has ${parts.length} fields; Amplify cron strings have 5 or 6` };
  }
  const [minute, hour, day, month, weekDay, year] = parts as [
    string,
    string,
    string,
    string,
    string,
    string?,
  ];
  const fields: CronObject = { minute, hour, month, year: year ?? '*' };
  if (day === '?') fields.weekDay = weekDay;
  else if (weekDay === '*' || weekDay === '?') fields.day = day;
  else {
    return {
      error:
        `"${cron}" restricts both day-of-month and day-of-week; Amplify rejects that (one must be "?"). ` +
        `Day-of-week here is EventBridge's (1-7 = SUN-SAT): write e.g. "${minute} ${hour} ? ${month} ${weekDay}"`,
    };
  }
  return fields;
}

// ---------------------------------------------------------------------------------------
// backend.ts: new events.Rule(scope, 'Id', { schedule, … }) and rule.addTarget(…)

interface RuleFound {
  readonly node: NewExpression;
  readonly id: string;
  readonly props: ObjectExpression | undefined;
  readonly targets: Expression[];
}

function readRules(ctx: Context, plan: ImportPlan): void {
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

/** A CDK `Schedule.cron/rate/expression(…)` as the expression string CDK would render. */
function cdkSchedule(ctx: Context, node: Expression): string | { error: string } {
  const n = ctx.resolve(node);
  if (n.type !== 'CallExpression' || calleeOwner(n) !== 'Schedule') {
    return { error: `${describe(n)} is not Schedule.cron/rate/expression(…)` };
  }
  const method = calleeName(n);
  const a = arg(n, 0);
  if (!a) return { error: `Schedule.${method}() has no argument` };
  if (method === 'expression') {
    const v = ctx.literal(a);
    return typeof v === 'string' ? v : { error: `Schedule.expression is given ${describe(a)}, not a string` };
  }
  if (method === 'cron') {
    const v = ctx.literal(a);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      return { error: `Schedule.cron is given ${v instanceof Unknown ? v.why : 'no object'}` };
    }
    try {
      // mainspring's CDK cron reader applies the CDK's defaults ('*', '?' in the unused day field).
      return parseSchedule(v as CronObject).expression;
    } catch (err) {
      if (err instanceof ScheduleError) return { error: err.message };
      throw err;
    }
  }
  if (method === 'rate') {
    const seconds = durationSeconds(ctx, a);
    if (typeof seconds !== 'number') return seconds;
    return cdkRate(seconds);
  }
  return { error: `Schedule.${method} is not read by the importer` };
}

const DURATION_UNITS: Record<string, number> = { seconds: 1, minutes: 60, hours: 3600, days: 86400 };

/** `Duration.minutes(15)` → 900. */
function durationSeconds(ctx: Context, node: Expression): number | { error: string } {
  const n = ctx.resolve(node);
  if (n.type === 'CallExpression' && calleeOwner(n) === 'Duration') {
    const unit = DURATION_UNITS[calleeName(n)];
    const v = ctx.literal(arg(n, 0) ?? n);
    if (unit !== undefined && typeof v === 'number') return v * unit;
  }
  return { error: `${describe(n)} is not Duration.seconds/minutes/hours/days of a number` };
}

/** As CDK's Schedule.rate renders it: whole days, else whole hours, else whole minutes. */
function cdkRate(seconds: number): string | { error: string } {
  const minutes = seconds / 60;
  if (!Number.isInteger(minutes) || minutes <= 0) {
    return { error: `a rate of ${seconds} seconds: EventBridge rates are whole minutes, at least 1` };
  }
  const [n, unit] =
    minutes % 1440 === 0
      ? [minutes / 1440, 'day']
      : minutes % 60 === 0
        ? [minutes / 60, 'hour']
        : [minutes, 'minute'];
  return `rate(${n} ${unit}${n === 1 ? '' : 's'})`;
}
