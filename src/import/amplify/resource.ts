// An Amplify function's resource.ts: each defineFunction({ … }) becomes a handler stub with
// its entry, timeout, environment and schedules; what mainspring has no place for is noted.

import { dirname, join } from 'node:path';
import type { CallExpression, Node, ObjectExpression } from 'acorn';
import {
  type ImportedHandler,
  type ImportedTrigger,
  type ImportPlan,
  type Origin,
  safeName,
} from '../model.ts';
import { amplifySchedule, validate } from './cdk.ts';
import { arg, calleeName, describe, identifierName, lineOfNode, walk } from './parse.ts';
import { type Context, Unknown } from './values.ts';

/** Options mainspring has no counterpart for; named in a note so the user knows they were seen. */
const HANDLED = new Set(['name', 'entry', 'timeoutSeconds', 'environment', 'schedule']);

export function readDefineFunctions(ctx: Context, plan: ImportPlan): void {
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
