// What a rule target or a Scheduler target runs, turned into mainspring terms: an ECS task
// definition's container becomes a command, a Lambda function a handler stub, and a queue
// either a rule's queue target or (on a schedule) a function that sends to it. Each function
// is built once per resource, however many rules and schedules run it.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  type ImportedCommand,
  type ImportedHandler,
  type ImportedSend,
  type ImportedTrigger,
  safeName,
} from '../model.ts';
import type { Draft, Resource, TerraformModule } from './module.ts';
import { queueFrom } from './queues.ts';
import {
  block,
  claim,
  isComputed,
  isObj,
  literalPath,
  literalString,
  type Obj,
  type Result,
  refTo,
  scalar,
  stringList,
  unescapeLiteral,
  type Value,
} from './values.ts';

/** What a rule or schedule target runs: a function, or (pattern rules) a queue directly. */
export type Target =
  | { readonly kind: 'function'; readonly draft: Draft }
  | { readonly kind: 'queue'; readonly queue: string };

/** An ECS target's `input` is RunTask overrides, not a payload a command could read. */
export const ECS_INPUT = 'input on an ECS target (container overrides) is not imported';

/** What a rule target or a Scheduler target runs: an ECS task's command, a Lambda's handler, or a queue. */
export async function readTarget(
  m: TerraformModule,
  ecs: Value | undefined,
  arn: Value | undefined,
  noteOn: string,
): Promise<Result<Target>> {
  const ecsBlock = Array.isArray(ecs) ? ecs.find(isObj) : isObj(ecs) ? ecs : undefined;
  if (ecsBlock) {
    const taskDefinition = ecsBlock['task_definition_arn'];
    const ref = refTo(taskDefinition, 'aws_ecs_task_definition') ?? taskDefinitionByArn(m, taskDefinition);
    if (!ref) return { ok: false, reason: `task definition ${String(taskDefinition)} is not in ${m.here}` };
    const command = await commandDraft(m, ref);
    return command.ok ? { ok: true, value: { kind: 'function', draft: command.value } } : command;
  }
  const lambda = lambdaRef(m, arn);
  if (lambda) return { ok: true, value: { kind: 'function', draft: handlerDraft(m, lambda) } };
  if (refTo(arn, 'aws_lambda_function') || literalString(arn)?.startsWith('arn:aws:lambda:')) {
    return {
      ok: false,
      reason: `Lambda function ${String(arn)} is not in ${m.here}: import the file that defines it`,
    };
  }
  if (refTo(arn, 'aws_sqs_queue') || literalString(arn)?.startsWith('arn:aws:sqs:')) {
    const queue = queueFrom(m, noteOn, arn);
    return queue.ok ? { ok: true, value: { kind: 'queue', queue: queue.value } } : queue;
  }
  return {
    ok: false,
    reason: `target ${String(arn)} is not an ECS task, Lambda function or SQS queue: not imported`,
  };
}

function taskDefinitionByArn(m: TerraformModule, value: Value | undefined): string | undefined {
  // arn:aws:ecs:region:account:task-definition/family:revision
  const family = literalString(value)?.split('task-definition/')[1]?.split(':')[0];
  if (family === undefined) return undefined;
  return m.ofType('aws_ecs_task_definition').find((r) => literalString(r.body['family']) === family)?.key;
}

/** The Lambda function a reference, ARN or function name points at, when the module defines it. */
export function lambdaRef(m: TerraformModule, value: Value | undefined): Resource | undefined {
  const ref = refTo(value, 'aws_lambda_function');
  if (ref) return m.byKey.get(ref);
  const literal = literalString(value);
  if (literal === undefined) return undefined;
  const name = literal.startsWith('arn:aws:lambda:') ? literal.split(':')[6] : literal;
  return m.ofType('aws_lambda_function').find((r) => literalString(r.body['function_name']) === name);
}

/** A function that sends each tick's payload to `queue`, named after the rule or schedule that owns it. */
export function sendDraft(m: TerraformModule, owner: Resource, queue: string): Draft {
  const key = `send:${owner.key}:${queue}`;
  const existing = m.drafts.get(key);
  if (existing) return existing;
  const triggers: ImportedTrigger[] = [];
  const name = claim(m.functionNames, safeName(owner.name));
  const fn: ImportedSend = { kind: 'send', name, origin: owner.origin, queue, triggers };
  const draft = { fn, triggers };
  m.drafts.set(key, draft);
  return draft;
}

export function handlerDraft(m: TerraformModule, lambda: Resource): Draft {
  const existing = m.drafts.get(lambda.key);
  if (existing) return existing;
  const body = lambda.body;
  const key = lambda.key;
  const literalName = literalString(body['function_name']);
  const name = claim(m.functionNames, safeName(literalName ?? lambda.name));
  const triggers: ImportedTrigger[] = [];
  const fn: { -readonly [K in keyof ImportedHandler]: ImportedHandler[K] } = {
    kind: 'handler',
    name,
    origin: lambda.origin,
    triggers,
  };
  const handler = literalString(body['handler']);
  if (handler !== undefined) {
    const dot = handler.lastIndexOf('.');
    const module = dot > 0 ? handler.slice(0, dot) : handler;
    fn.handlerExport = dot > 0 ? handler.slice(dot + 1) : 'handler';
    const file = handlerFile(m, body, module);
    if (file !== undefined) fn.handlerFile = file;
    else m.ledger.note(key, `handler ${handler}: its file is not known from ${m.here}; point the stub at it`);
  } else if (body['image_uri'] !== undefined) {
    m.ledger.note(key, 'a container-image Lambda: the stub has no handler to point at');
  }
  const runtime = literalString(body['runtime']);
  if (runtime !== undefined && !runtime.startsWith('nodejs')) {
    m.ledger.note(key, `runtime ${runtime}: the handler needs porting to TypeScript`);
  }
  const timeout = m.number(key, body, 'timeout');
  if (timeout !== undefined) fn.timeoutSeconds = timeout;
  const description = literalString(body['description']);
  if (description !== undefined) fn.description = description;
  const variables = block(body, 'environment')?.['variables'];
  if (isObj(variables)) {
    const entries: [string, string][] = [];
    for (const [k, v] of Object.entries(variables)) {
      const value = scalar(v);
      if (value !== undefined) entries.push([k, value]);
      else m.ledger.note(key, `env ${k} is not a single value (${String(v)}): left out`);
    }
    Object.assign(fn, splitEnv(m, key, entries));
  }
  const draft = { fn, triggers };
  m.drafts.set(key, draft);
  m.ledger.did(key, `handler stub ${name}${handler ? ` (${handler})` : ''}`);
  return draft;
}

/**
 * Environment variables split into literal values and ones the source computes (`${var.env}`):
 * those are read from the server's environment, and the note keeps the expression.
 */
function splitEnv(
  m: TerraformModule,
  key: string,
  entries: readonly (readonly [string, string])[],
): { env?: Record<string, string>; envFromServer?: Record<string, string> } {
  const env: Record<string, string> = {};
  const fromServer: Record<string, string> = {};
  for (const [name, value] of entries) {
    if (isComputed(value)) {
      fromServer[name] = value;
      m.ledger.note(key, `env ${name} is computed (${value}): read from the server’s environment`);
    } else env[name] = unescapeLiteral(value);
  }
  const out: { env?: Record<string, string>; envFromServer?: Record<string, string> } = {};
  if (Object.keys(env).length > 0) out.env = env;
  if (Object.keys(fromServer).length > 0) out.envFromServer = fromServer;
  return out;
}

/** The handler's file when the zip comes from an `archive_file` data source in the module. */
function handlerFile(m: TerraformModule, body: Obj, module: string): string | undefined {
  const archive = refTo(body['filename'], 'data.archive_file');
  const data = archive ? m.byKey.get(archive) : undefined;
  if (!data) return undefined;
  const sourceFile = literalPath(data.body['source_file']);
  if (sourceFile !== undefined) return join(m.dir, sourceFile);
  const sourceDir = literalPath(data.body['source_dir']);
  if (sourceDir === undefined) return undefined;
  for (const ext of ['.js', '.mjs', '.cjs', '.ts']) {
    const candidate = join(m.dir, sourceDir, module + ext);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** The command an ECS task definition runs, built (or refused, with the reason reported) once. */
async function commandDraft(m: TerraformModule, tdKey: string): Promise<Result<Draft>> {
  const cached = m.commandResults.get(tdKey);
  if (cached) return cached;
  const result = await buildCommand(m, tdKey);
  m.commandResults.set(tdKey, result);
  if (!result.ok && m.byKey.has(tdKey)) m.ledger.skip(tdKey, result.reason);
  return result;
}

async function buildCommand(m: TerraformModule, tdKey: string): Promise<Result<Draft>> {
  const td = m.byKey.get(tdKey);
  if (!td) return { ok: false, reason: `${tdKey} is not in ${m.here}: import the file that defines it` };
  const decoded = await m.decode(td.body['container_definitions']);
  if (!decoded.ok) return { ok: false, reason: `container_definitions ${decoded.reason}` };
  const containers = Array.isArray(decoded.value) ? decoded.value.filter(isObj) : [];
  const container = containers.find((c) => c['essential'] !== false) ?? containers[0];
  if (!container) return { ok: false, reason: 'container_definitions has no container' };
  const command = stringList(container['command']);
  if (!command || command.length === 0) {
    return {
      ok: false,
      reason: 'no command in the container definition: mainspring runs a command, not an image',
    };
  }
  const entryPoint = stringList(container['entryPoint']);
  const argv = [...(entryPoint ?? []), ...command];
  if (entryPoint && entryPoint.length > 0) {
    m.ledger.note(tdKey, `entryPoint ${entryPoint.join(' ')} put in front of the command`);
  }
  if (argv.some(isComputed)) m.ledger.note(tdKey, 'the command has computed parts: copied as written');
  const containerName = literalString(container['name']);
  const triggers: ImportedTrigger[] = [];
  const fn: { -readonly [K in keyof ImportedCommand]: ImportedCommand[K] } = {
    kind: 'command',
    name: claim(m.functionNames, safeName(containerName ?? td.name)),
    origin: td.origin,
    command: argv.map(unescapeLiteral),
    maxAttempts: 1,
    triggers,
  };
  const entries: [string, string][] = [];
  for (const entry of Array.isArray(container['environment']) ? container['environment'] : []) {
    if (!isObj(entry)) continue;
    const name = literalString(entry['name']);
    const value = scalar(entry['value']);
    if (name !== undefined && value !== undefined) entries.push([name, value]);
  }
  Object.assign(fn, splitEnv(m, tdKey, entries));
  const secrets = (Array.isArray(container['secrets']) ? container['secrets'] : [])
    .map((s) => (isObj(s) ? literalString(s['name']) : undefined))
    .filter((s): s is string => s !== undefined);
  if (secrets.length > 0) {
    fn.secrets = secrets;
    m.ledger.note(tdKey, `secrets ${secrets.join(', ')}: names only, set their values on the server`);
  }
  if (container['environmentFiles'] !== undefined) m.ledger.note(tdKey, 'environmentFiles are not imported');
  if (containers.length > 1) {
    m.ledger.note(tdKey, `only container ${containerName ?? '(unnamed)'} imported, of ${containers.length}`);
  }
  m.ledger.note(tdKey, 'maxAttempts 1: an ECS task started on a schedule ran once, with no retry');
  m.ledger.did(tdKey, `command ${fn.name}: ${argv.join(' ')}`);
  const draft = { fn, triggers };
  m.drafts.set(tdKey, draft);
  return { ok: true, value: draft };
}

/** A target's written retry policy in mainspring terms: attempts count the first one. */
export function readRetry(
  m: TerraformModule,
  key: string,
  body: Obj,
): { maxAttempts?: number; maxEventAgeSeconds?: number } {
  const policy = block(body, 'retry_policy');
  if (!policy) return {};
  const out: { maxAttempts?: number; maxEventAgeSeconds?: number } = {};
  const retries = m.number(key, policy, 'maximum_retry_attempts');
  if (retries !== undefined) out.maxAttempts = retries + 1;
  const age = m.number(key, policy, 'maximum_event_age_in_seconds');
  if (age !== undefined) out.maxEventAgeSeconds = age;
  return out;
}

export function noteDeadLetter(m: TerraformModule, key: string, body: Obj): void {
  const dlq = block(body, 'dead_letter_config');
  if (!dlq) return;
  m.ledger.note(
    key,
    `dead_letter_config (${String(dlq['arn'])}) is not imported: mainspring keeps failed runs in its history`,
  );
}
