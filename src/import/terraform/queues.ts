// SQS queues: names, visibility, delay, FIFO, and redrive (inline or as its own resource);
// and how a queue is named from an ARN or reference elsewhere in the module.

import { type ImportedQueue, safeName } from '../model.ts';
import type { TerraformModule } from './module.ts';
import { claim, isObj, literalString, numberOf, type Result, refTo, type Value } from './values.ts';

/** SQS attributes that steer nothing mainspring has; listed in the queue's note when written. */
const QUEUE_LEFT_BEHIND = [
  'message_retention_seconds',
  'max_message_size',
  'receive_wait_time_seconds',
  'kms_master_key_id',
  'kms_data_key_reuse_period_seconds',
  'sqs_managed_sse_enabled',
  'content_based_deduplication',
  'deduplication_scope',
  'fifo_throughput_limit',
];

interface Redrive {
  deadLetterQueue?: string;
  maxReceiveCount?: number;
}

export async function readQueues(m: TerraformModule): Promise<void> {
  const queues = m.ofType('aws_sqs_queue');
  // Names first: a redrive policy may name a queue declared after it.
  const taken = new Set<string>();
  for (const q of queues) {
    const literal = literalString(q.body['name']);
    const base = literal !== undefined ? safeName(literal.replace(/\.fifo$/, '')) : safeName(q.name);
    m.queueNames.set(q.key, claim(taken, base));
  }
  // Redrive written as its own resource applies to the queue it names.
  const separate = new Map<string, Value>();
  for (const p of m.ofType('aws_sqs_queue_redrive_policy')) {
    const target = refTo(p.body['queue_url'], 'aws_sqs_queue');
    if (target && m.queueNames.has(target)) {
      separate.set(target, p.body['redrive_policy'] ?? null);
      m.ledger.did(p.key, `redrive policy of queue ${m.queueNames.get(target)}`);
    } else {
      m.ledger.skip(p.key, `aws_sqs_queue_redrive_policy for a queue not in ${m.here}: left out`);
    }
  }
  for (const q of queues) {
    const name = m.queueNames.get(q.key)!;
    const body = q.body;
    const literal = literalString(body['name']);
    const fifo = body['fifo_queue'] === true || (literal?.endsWith('.fifo') ?? false);
    const queue: { -readonly [K in keyof ImportedQueue]: ImportedQueue[K] } = { name, origin: q.origin };
    const visibility = m.number(q.key, body, 'visibility_timeout_seconds');
    if (visibility !== undefined) queue.visibilityTimeoutSeconds = visibility;
    const delay = m.number(q.key, body, 'delay_seconds');
    if (delay !== undefined && delay > 0) {
      queue.delaySeconds = delay;
      m.ledger.note(q.key, `delay_seconds ${delay}: mainspring has no per-queue delay; senders must delay`);
    }
    if (fifo) queue.fifo = true;
    if (literal === undefined && body['name'] !== undefined) {
      m.ledger.note(q.key, `name is computed (${String(body['name'])}): named ${name}`);
    }
    const policy = separate.get(q.key) ?? body['redrive_policy'];
    if (policy !== undefined && policy !== null) {
      const redrive = await readRedrive(m, q.key, policy);
      if (redrive.deadLetterQueue !== undefined) queue.deadLetterQueue = redrive.deadLetterQueue;
      if (redrive.maxReceiveCount !== undefined) queue.maxReceiveCount = redrive.maxReceiveCount;
    }
    const left = QUEUE_LEFT_BEHIND.filter((k) => body[k] !== undefined);
    if (left.length > 0) m.ledger.note(q.key, `left behind: ${left.join(', ')}`);
    m.plan.queues.push(queue);
    const dlq = queue.deadLetterQueue ? `, dead letters to ${queue.deadLetterQueue}` : '';
    m.ledger.did(q.key, `queue ${name}${fifo ? ' (FIFO)' : ''}${dlq}`);
  }
}

async function readRedrive(m: TerraformModule, key: string, policy: Value): Promise<Redrive> {
  const decoded = await m.decode(policy);
  if (!decoded.ok || !isObj(decoded.value)) {
    m.ledger.note(key, `redrive_policy ${decoded.ok ? 'is not an object' : decoded.reason}: left out`);
    return {};
  }
  const out: Redrive = {};
  const dlq = queueFrom(m, key, decoded.value['deadLetterTargetArn']);
  if (dlq.ok) out.deadLetterQueue = dlq.value;
  else m.ledger.note(key, `dead-letter queue ${dlq.reason}: left out`);
  const count = numberOf(decoded.value['maxReceiveCount']);
  if (count !== undefined) out.maxReceiveCount = count;
  return out;
}

/**
 * A queue's mainspring name from an ARN or a reference. A queue the module does not define is
 * named from the reference, with a note on `noteOn`: the user may import its file too.
 */
export function queueFrom(m: TerraformModule, noteOn: string, arn: Value | undefined): Result<string> {
  const ref = refTo(arn, 'aws_sqs_queue');
  if (ref) {
    const known = m.queueNames.get(ref);
    if (known) return { ok: true, value: known };
    const name = safeName(ref.slice('aws_sqs_queue.'.length));
    m.ledger.note(noteOn, `${ref} is not in ${m.here}: assumed to be queue ${name}`);
    return { ok: true, value: name };
  }
  const literal = literalString(arn);
  if (literal?.startsWith('arn:aws:sqs:')) {
    const awsName = literal.split(':').pop() ?? '';
    for (const q of m.ofType('aws_sqs_queue')) {
      if (literalString(q.body['name']) === awsName) return { ok: true, value: m.queueNames.get(q.key)! };
    }
    const name = safeName(awsName.replace(/\.fifo$/, ''));
    m.ledger.note(noteOn, `queue ${awsName} is not in ${m.here}: assumed to be queue ${name}`);
    return { ok: true, value: name };
  }
  return { ok: false, reason: `${String(arn)} is not an SQS queue ${m.here} defines` };
}
