// Stacktape configs: `resources:` whose entries have a `type:`. Queues, functions (Lambda
// handlers, imported as stubs) and batch jobs (imported as commands) are read; the rest is reported.

import {
  ImportError,
  type ImportedCommand,
  type ImportedHandler,
  type ImportedQueue,
  type ImportedSchedule,
  type ImportPlan,
  type Origin,
} from '../model.ts';
import { Builder, functionEnv, HTTP_NOTE, Item, S3_NOTE, timeout, type Wiring, wiring } from './builder.ts';
import { readCloudFormation } from './cloudformation.ts';
import { load } from './document.ts';
import { DIRECTIVE, type EnvEntry, isComputed, splitEnv } from './refs.ts';
import { count, flag, isRecord, list, payload, record, show, stripUndefined } from './values.ts';

/** A Stacktape config: `resources:` whose entries are objects with a `type:`. */
export function looksLikeStacktape(doc: unknown): boolean {
  const resources = record(record(doc)?.resources);
  if (!resources) return false;
  const entries = Object.values(resources);
  return entries.length > 0 && entries.every((entry) => typeof record(entry)?.type === 'string');
}

const EXPECTED_STACKTAPE =
  'expected a Stacktape config: a `resources:` map whose entries each have a `type:`';

const STACKTAPE_SKIPS: Readonly<Record<string, string>> = {
  bucket: 'use defineFileTrigger for uploads',
  'event-bus': 'mainspring has one bus per app',
  'relational-database': 'databases are not imported: point your code at the database yourself',
};

/** Properties of an sqs-queue mainspring has no counterpart for; named in the queue's note. */
const STACKTAPE_QUEUE_KEYS = new Set([
  'visibilityTimeoutSeconds',
  'delayMessageSeconds',
  'fifoQueue',
  'redrivePolicy',
]);

export function readStacktape(file: string, text: string): ImportPlan {
  const { value, lines } = load(file, text);
  if (!looksLikeStacktape(value)) throw new ImportError(file, 0, 'document', EXPECTED_STACKTAPE);
  const resources = record(record(value)?.resources) ?? {};
  const b = new Builder(file, lines);

  // Names first, so a reference resolves whichever comes first in the file.
  for (const [key, entry] of Object.entries(resources)) {
    if (record(entry)?.type === 'sqs-queue') b.queues.byId.set(key, b.queueName(key));
  }
  for (const [key, entry] of Object.entries(resources)) {
    const origin = b.origin(resources, key, `resources.${key}`);
    const resource = record(entry) ?? {};
    const type = String(resource.type);
    const props = record(resource.properties) ?? {};
    if (type === 'sqs-queue') stacktapeQueue(b, key, props, origin);
    else if (type === 'function') stacktapeFunction(b, key, props, origin);
    else if (type === 'batch-job') stacktapeBatchJob(b, key, props, origin);
    else
      b.skip(
        origin,
        `Stacktape ${type}: ${STACKTAPE_SKIPS[type] ?? 'no mainspring counterpart; not imported'}`,
      );
  }
  const cfn = record(record(value)?.cloudformationResources);
  if (cfn) readCloudFormation(b, cfn, 'cloudformationResources');
  return b.done();
}

function stacktapeQueue(b: Builder, key: string, props: Record<string, unknown>, origin: Origin): void {
  const item = new Item(origin);
  const name = b.queues.byId.get(key) ?? b.queueName(key);
  const redrive = record(props.redrivePolicy);
  let deadLetterQueue: string | undefined;
  if (redrive) {
    const target = queueRef(redrive.targetSqsQueueName, redrive.targetSqsQueueArn);
    deadLetterQueue =
      target === undefined ? undefined : b.resolveQueue(target, item, 'dead-letter queue', true);
  }
  const queue: ImportedQueue = {
    name,
    origin,
    visibilityTimeoutSeconds: count(props.visibilityTimeoutSeconds),
    delaySeconds: count(props.delayMessageSeconds),
    maxReceiveCount: count(redrive?.maxReceiveCount),
    deadLetterQueue,
    fifo: flag(props.fifoQueue),
  };
  const left = Object.keys(props).filter((k) => !STACKTAPE_QUEUE_KEYS.has(k));
  if (left.length > 0) item.note(`not imported: ${left.join(', ')}`);
  b.plan.queues.push(stripUndefined(queue));
  b.finish(item, `queue ${name}`);
}

/** Stacktape's `…QueueName` is a resource key (a reference, whatever it looks like); `…QueueArn` an ARN. */
function queueRef(name: unknown, arn: unknown): unknown {
  return typeof name === 'string' && !DIRECTIVE.test(name) ? { Ref: name } : (name ?? arn);
}

/** Stacktape `environment`: a list of `{ name, value }` (a map is accepted too). */
function stacktapeEnv(b: Builder, value: unknown): EnvEntry[] {
  if (isRecord(value)) return b.envEntries(value);
  return list(value).flatMap((entry): EnvEntry[] => {
    const e = record(entry);
    return e && typeof e.name === 'string' ? [[e.name, e.value, b.lines.source(e, 'value')]] : [];
  });
}

function stacktapeEvents(b: Builder, w: Wiring, events: unknown[]): void {
  events.forEach((entry, index) => {
    const event = record(entry) ?? {};
    const type = String(event.type);
    const props = record(event.properties) ?? {};
    if (type === 'schedule') {
      const extra: Omit<ImportedSchedule, 'expression'> =
        props.input === undefined ? {} : { payload: payload(props.input) };
      b.schedule(w, props.scheduleRate, extra);
    } else if (type === 'sqs') {
      const queue = b.resolveQueue(queueRef(props.sqsQueueName, props.sqsQueueArn), w.item, 'queue');
      if (queue) {
        const batchSize = count(props.batchSize);
        w.triggers.push({ kind: 'queue', queue, ...(batchSize === undefined ? {} : { batchSize }) });
      } else w.dropped++;
    } else if (type === 'http-api-gateway' || type === 'application-load-balancer') {
      w.item.note(HTTP_NOTE);
      w.kept = true;
    } else if (type === 's3') {
      w.item.note(S3_NOTE);
      w.kept = true;
    } else if (type === 'event-bus') {
      const origin = b.origin(events, index, `${w.item.origin.item}.events[${index}]`);
      const inputPath = typeof props.inputPath === 'string' ? { inputPath: props.inputPath } : {};
      b.rule(w, origin, props.eventPattern, inputPath);
    } else {
      w.item.note(`${type} events are not imported`);
      w.kept = true;
    }
  });
}

function stacktapeFunction(b: Builder, key: string, props: Record<string, unknown>, origin: Origin): void {
  const item = new Item(origin);
  const name = b.functionName(key);
  const w = wiring(item, key, name);
  const packaging = record(record(props.packaging)?.properties) ?? {};
  const entry = packaging.entryfilePath;
  let handlerFile: string | undefined;
  if (typeof entry === 'string' && !isComputed(entry)) handlerFile = b.path(entry);
  else item.note('no entryfilePath in packaging: set the handler file by hand');
  const handlerExport = typeof packaging.handlerFunction === 'string' ? packaging.handlerFunction : undefined;
  const timeoutSeconds = timeout(props.timeout, item);
  const env = functionEnv(stacktapeEnv(b, props.environment), item, 'Stacktape');
  stacktapeEvents(b, w, list(props.events));
  const fn: ImportedHandler = {
    kind: 'handler',
    name,
    origin,
    handlerFile,
    handlerExport,
    timeoutSeconds,
    ...env,
    triggers: w.triggers,
  };
  b.addFunction(w, stripUndefined(fn), `handler ${name}${handlerFile ? ` (${handlerFile})` : ''}`);
}

function stacktapeBatchJob(b: Builder, key: string, props: Record<string, unknown>, origin: Origin): void {
  const item = new Item(origin);
  // Older configs nest packaging and environment under `container`.
  const container = record(props.container) ?? {};
  const packaging = record(props.packaging) ?? record(container.packaging) ?? {};
  const packagingProps = record(packaging.properties) ?? {};
  const given = list(container.command ?? packagingProps.command);
  const entry = packagingProps.entryfilePath;
  let command: string[] | undefined;
  if (given.length > 0 && given.every((part) => typeof part === 'string')) {
    command = given as string[];
  } else if (typeof entry === 'string' && !isComputed(entry)) {
    command = ['node', b.path(entry)];
    if (/\.[cm]?ts$/.test(entry))
      item.note('runs the .ts entry with node (Node 24 strips types; no build step)');
  }
  if (!command) {
    b.skip(origin, `Stacktape batch-job ${key}: no entryfilePath or command to run`);
    return;
  }
  const name = b.functionName(key);
  const w = wiring(item, key, name);
  const resources = record(props.resources);
  if (resources) {
    const what = Object.entries(resources).map(([k, v]) => `${k} ${show(v)}`);
    item.note(`resources (${what.join(', ')}) are not imported: the command runs on the mainspring server`);
  }
  const timeoutSeconds = timeout(props.timeout, item);
  const { env, computed } = splitEnv(stacktapeEnv(b, props.environment ?? container.environment));
  stacktapeEvents(b, w, list(props.events));
  const fn: ImportedCommand = {
    kind: 'command',
    name,
    origin,
    command,
    timeoutSeconds,
    env: Object.keys(env).length > 0 ? env : undefined,
    envFromServer: Object.keys(computed).length > 0 ? computed : undefined,
    triggers: w.triggers,
  };
  b.addFunction(w, stripUndefined(fn), `command ${name} (${command.join(' ')})`);
}
