// Lambda event source mappings from SQS: a queue trigger on the Lambda's handler stub.
// Mappings from other sources (Kinesis, DynamoDB streams, Kafka) have no mainspring form.

import type { ImportedTrigger } from '../model.ts';
import type { TerraformModule } from './module.ts';
import { queueFrom } from './queues.ts';
import { handlerDraft, lambdaRef } from './targets.ts';
import { defined, literalString, refTo } from './values.ts';

export function readEventSourceMappings(m: TerraformModule): void {
  for (const mapping of m.ofType('aws_lambda_event_source_mapping')) {
    const key = mapping.key;
    const source = mapping.body['event_source_arn'];
    const isQueue =
      refTo(source, 'aws_sqs_queue') !== undefined ||
      (literalString(source)?.startsWith('arn:aws:sqs:') ?? false);
    if (!isQueue) {
      m.ledger.skip(key, 'aws_lambda_event_source_mapping from a source other than SQS: left out');
      continue;
    }
    const fn = lambdaRef(m, mapping.body['function_name']);
    if (!fn) {
      m.ledger.skip(key, `aws_lambda_event_source_mapping to a function not in ${m.here}: left out`);
      continue;
    }
    const queue = queueFrom(m, key, source);
    if (!queue.ok) {
      m.ledger.skip(key, queue.reason);
      continue;
    }
    const draft = handlerDraft(m, fn);
    const batchSize = m.number(key, mapping.body, 'batch_size');
    draft.triggers.push(defined<ImportedTrigger>({ kind: 'queue', queue: queue.value, batchSize }));
    m.ledger.did(key, `queue ${queue.value} triggers ${draft.fn.name}`);
  }
}
