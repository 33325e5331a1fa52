// Serverless Framework files: `service:` plus `functions:`. Functions become handler stubs with
// their schedule, SQS and EventBridge events; queues come from `resources.Resources`.

import { existsSync } from 'node:fs';
import {
  ImportError,
  type ImportedHandler,
  type ImportedSchedule,
  type ImportPlan,
  type Origin,
} from '../model.ts';
import { Builder, functionEnv, HTTP_NOTE, Item, S3_NOTE, timeout, type Wiring, wiring } from './builder.ts';
import { readCloudFormation } from './cloudformation.ts';
import { load } from './document.ts';
import { type EnvEntry, isComputed } from './refs.ts';
import { count, flag, isRecord, list, payload, record, show, stripUndefined } from './values.ts';

/** A Serverless Framework file: `service:` plus `functions:` (or an AWS `provider:`). */
export function looksLikeServerless(doc: unknown): boolean {
  if (!isRecord(doc) || doc.service === undefined) return false;
  return doc.functions !== undefined || record(doc.provider)?.name === 'aws';
}

const EXPECTED_SERVERLESS = 'expected a Serverless Framework file: `service:` and `functions:`';

/** Tried in order beside the YAML file for a `file.export` handler. */
const HANDLER_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs', '.cjs', '.py'];

export function readServerless(file: string, text: string): ImportPlan {
  const { value, lines } = load(file, text);
  if (!looksLikeServerless(value)) throw new ImportError(file, 0, 'document', EXPECTED_SERVERLESS);
  const doc = record(value) ?? {};
  const b = new Builder(file, lines);
  const provider = record(doc.provider) ?? {};

  // `resources:` is one object, or a list of objects and `${file(…)}` includes.
  const resources = doc.resources;
  const parts = Array.isArray(resources) ? resources : resources === undefined ? [] : [resources];
  parts.forEach((part, index) => {
    const cfn = record(record(part)?.Resources);
    const path = Array.isArray(resources) ? `resources[${index}].Resources` : 'resources.Resources';
    if (cfn) readCloudFormation(b, cfn, path);
    else if (Array.isArray(resources) && !isRecord(part)) {
      b.skip(
        b.origin(resources, index, `resources[${index}]`),
        `${show(part)} is not read: import that file itself`,
      );
    }
  });

  const functions = record(doc.functions);
  if (doc.functions !== undefined && !functions) {
    b.skip(
      { file, line: lines.of(doc, 'functions'), item: 'functions' },
      `${show(doc.functions)} is not read`,
    );
  }
  for (const [key, fn] of Object.entries(functions ?? {})) {
    serverlessFunction(b, key, fn, provider, b.origin(functions ?? {}, key, `functions.${key}`));
  }
  return b.done();
}

function serverlessFunction(
  b: Builder,
  key: string,
  value: unknown,
  provider: Record<string, unknown>,
  origin: Origin,
): void {
  const fn = record(value);
  if (!fn) {
    b.skip(origin, `${show(value)} is not a function definition`);
    return;
  }
  const item = new Item(origin);
  const name = b.functionName(key);
  const w = wiring(item, key, name);

  let handlerFile: string | undefined;
  let handlerExport: string | undefined;
  const handler = fn.handler;
  if (typeof handler === 'string' && !isComputed(handler) && handler.includes('.')) {
    const dot = handler.lastIndexOf('.');
    const base = handler.slice(0, dot);
    handlerExport = handler.slice(dot + 1);
    const ext = HANDLER_EXTENSIONS.find((e) => existsSync(b.path(base + e)));
    handlerFile = b.path(base + (ext ?? ''));
    if (!ext)
      item.note(
        `no ${base}.{${HANDLER_EXTENSIONS.map((e) => e.slice(1)).join(',')}} found: check the handler's file`,
      );
  } else if (fn.image !== undefined) {
    item.note('container image function: port its command by hand');
  } else {
    item.note(`handler ${show(handler)} could not be read: set the handler file by hand`);
  }

  const timeoutSeconds = timeout(fn.timeout ?? provider.timeout, item);
  // The provider's variables first: a function's own of the same name replace them.
  const entries: EnvEntry[] = [provider.environment, fn.environment].flatMap((map) =>
    isRecord(map) ? b.envEntries(map) : [],
  );
  const env = functionEnv(entries, item, 'Serverless');
  serverlessEvents(b, w, list(fn.events));

  const result: ImportedHandler = {
    kind: 'handler',
    name,
    origin,
    handlerFile,
    handlerExport,
    timeoutSeconds,
    description: typeof fn.description === 'string' ? fn.description : undefined,
    ...env,
    triggers: w.triggers,
  };
  b.addFunction(w, stripUndefined(result), `handler ${name}${handlerFile ? ` (${handlerFile})` : ''}`);
}

/** `schedule:` as a string or `{ rate, enabled, input, description, timezone, … }`. */
function serverlessSchedule(b: Builder, w: Wiring, value: unknown): void {
  const spec = record(value);
  if (!spec) {
    b.schedule(w, value);
    return;
  }
  const extra: { -readonly [K in keyof Omit<ImportedSchedule, 'expression'>]?: ImportedSchedule[K] } = {};
  if (flag(spec.enabled) === false) extra.enabled = false;
  if (spec.input !== undefined) extra.payload = payload(spec.input);
  if (typeof spec.description === 'string') extra.description = spec.description;
  if (typeof spec.timezone === 'string') extra.timezone = spec.timezone;
  for (const k of ['inputPath', 'inputTransformer'])
    if (spec[k] !== undefined) w.item.note(`schedule ${k} not imported`);
  const rates = Array.isArray(spec.rate) ? spec.rate : [spec.rate];
  for (const rate of rates) b.schedule(w, rate, extra);
}

/** `sqs:` as an ARN or `{ arn, batchSize, enabled, filterPatterns }`. */
function serverlessSqs(b: Builder, w: Wiring, spec: unknown): void {
  const options = record(spec);
  const queue = b.resolveQueue(options ? options.arn : spec, w.item, 'queue');
  if (!queue) {
    w.dropped++;
    return;
  }
  const batchSize = count(options?.batchSize);
  w.triggers.push({ kind: 'queue', queue, ...(batchSize === undefined ? {} : { batchSize }) });
  if (options?.enabled !== undefined && flag(options.enabled) === false) {
    w.item.note(`the sqs event on ${queue} was disabled; imported enabled`);
  }
  if (options?.filterPatterns !== undefined) w.item.note(`filterPatterns on ${queue} not imported`);
}

/** `eventBridge:` / `cloudwatchEvent:`: a schedule becomes a trigger, a pattern a rule. */
function serverlessEventBridge(b: Builder, w: Wiring, type: string, spec: unknown, origin: Origin): void {
  const options = record(spec) ?? {};
  const enabled = flag(options.enabled) === false ? false : undefined;
  if (options.schedule !== undefined) {
    b.schedule(w, options.schedule, {
      ...(options.input === undefined ? {} : { payload: payload(options.input) }),
      ...(enabled === undefined ? {} : { enabled }),
    });
  }
  const pattern = type === 'eventBridge' ? options.pattern : options.event;
  if (pattern !== undefined) {
    b.rule(w, origin, pattern, {
      ...(typeof options.inputPath === 'string' ? { inputPath: options.inputPath } : {}),
      ...(enabled === undefined ? {} : { enabled }),
      ...(typeof options.description === 'string' ? { description: options.description } : {}),
    });
    if (options.input !== undefined) w.item.note('the rule\u2019s constant input is not imported');
  }
  if (options.schedule === undefined && pattern === undefined) {
    w.item.note(`${type} event without schedule or pattern not imported`);
    w.dropped++;
  }
}

function serverlessEvents(b: Builder, w: Wiring, events: unknown[]): void {
  events.forEach((entry, index) => {
    const event = record(entry) ?? {};
    const type = Object.keys(event)[0] ?? show(entry);
    const spec = event[type];
    if (type === 'schedule') {
      serverlessSchedule(b, w, spec);
    } else if (type === 'sqs') {
      serverlessSqs(b, w, spec);
    } else if (type === 'http' || type === 'httpApi' || type === 'alb' || type === 'websocket') {
      w.item.note(HTTP_NOTE);
      w.kept = true;
    } else if (type === 's3') {
      w.item.note(S3_NOTE);
      w.kept = true;
    } else if (type === 'eventBridge' || type === 'cloudwatchEvent') {
      const origin = b.origin(events, index, `${w.item.origin.item}.events[${index}]`);
      serverlessEventBridge(b, w, type, spec, origin);
    } else {
      w.item.note(`${type} events are not imported`);
      w.kept = true;
    }
  });
}
