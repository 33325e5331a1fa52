// CloudFormation resources (Serverless `resources.Resources`, Stacktape `cloudformationResources`):
// SQS queues are imported, everything else is reported as skipped.

import type { ImportedQueue } from '../model.ts';
import type { Builder } from './builder.ts';
import { Item } from './builder.ts';
import { isComputed } from './refs.ts';
import { count, flag, payload, record, show, stripUndefined } from './values.ts';

const SQS_PROPERTIES = new Set([
  'QueueName',
  'VisibilityTimeout',
  'DelaySeconds',
  'FifoQueue',
  'RedrivePolicy',
]);

export function readCloudFormation(b: Builder, resources: Record<string, unknown>, path: string): void {
  // Names first, so a reference resolves whichever comes first in the file.
  const queues = Object.entries(resources).filter(([, r]) => record(r)?.Type === 'AWS::SQS::Queue');
  const named = new Map<string, { name: string; computedName: unknown }>();
  for (const [id, r] of queues) {
    const queueName = record(record(r)?.Properties)?.QueueName;
    const literal = typeof queueName === 'string' && !isComputed(queueName) ? queueName : undefined;
    const name = b.queueName(literal ?? id);
    b.queues.byId.set(id, name);
    if (literal) b.queues.byAwsName.set(literal, name);
    named.set(id, { name, computedName: literal === undefined ? queueName : undefined });
  }
  for (const [id, r] of Object.entries(resources)) {
    const origin = b.origin(resources, id, `${path}.${id}`);
    const resource = record(r) ?? {};
    const entry = named.get(id);
    if (!entry) {
      b.skip(origin, `CloudFormation ${show(resource.Type ?? 'resource without Type')}: not imported`);
      continue;
    }
    const item = new Item(origin);
    const props = record(resource.Properties) ?? {};
    if (entry.computedName !== undefined) {
      item.note(`QueueName ${show(entry.computedName)} is computed; named after its logical id`);
    }
    let redrive = props.RedrivePolicy;
    if (typeof redrive === 'string') redrive = payload(redrive); // older templates give it as JSON text
    const policy = record(redrive);
    if (redrive !== undefined && !policy) item.note(`RedrivePolicy ${show(redrive)} could not be read`);
    const deadLetterQueue =
      policy?.deadLetterTargetArn === undefined
        ? undefined
        : b.resolveQueue(policy.deadLetterTargetArn, item, 'dead-letter queue', true);
    const numbers: [string, number | undefined][] = [
      ['VisibilityTimeout', count(props.VisibilityTimeout)],
      ['DelaySeconds', count(props.DelaySeconds)],
    ];
    for (const [k, v] of numbers) {
      if (props[k] !== undefined && v === undefined)
        item.note(`${k} ${show(props[k])} is not a number; not imported`);
    }
    const queue: ImportedQueue = {
      name: entry.name,
      origin,
      visibilityTimeoutSeconds: numbers[0]?.[1],
      delaySeconds: numbers[1]?.[1],
      maxReceiveCount: count(policy?.maxReceiveCount),
      deadLetterQueue,
      fifo: flag(props.FifoQueue),
    };
    const left = Object.keys(props).filter((k) => !SQS_PROPERTIES.has(k));
    if (left.length > 0) item.note(`not imported: ${left.join(', ')}`);
    b.plan.queues.push(stripUndefined(queue));
    b.finish(item, `queue ${entry.name}`);
  }
}
