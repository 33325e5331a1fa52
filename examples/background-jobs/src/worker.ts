// worker (seed: src/worker.ts): takes jobs off job-queue one at a time. A job that throws
// comes back after the queue's backoff; after its third receive it moves to
// dead-letter-queue, from where `mainspring queues redrive job-queue` sends it back.
//
// A `process-order` job asks the fulfilment service at FULFILMENT_URL to ship the order
// (without FULFILMENT_URL it only logs), so an outage there is what sends jobs to the DLQ.

import { type FunctionContext, NonRetryableError } from 'mainspringjs';

/** The jobs the API puts on the queue: `{ "type": "process-order", "orderId": 123 }`. */
export interface Job {
  readonly type: string;
  readonly orderId?: number | string;
}

export interface JobResult {
  readonly type: string;
  readonly orderId: number | string;
  readonly status: 'fulfilled' | 'processed';
}

export async function processJob(job: Job, ctx: FunctionContext): Promise<JobResult> {
  if (job.type !== 'process-order') {
    // Retrying cannot help: straight to the dead-letter queue.
    throw new NonRetryableError(
      `unknown job type ${JSON.stringify(job.type)}; this worker handles "process-order"`,
    );
  }
  if (job.orderId === undefined) throw new NonRetryableError('a process-order job needs an orderId');
  const fulfilment = process.env['FULFILMENT_URL'];
  if (fulfilment === undefined) {
    ctx.log.info({ orderId: job.orderId }, 'order processed');
    return { type: job.type, orderId: job.orderId, status: 'processed' };
  }
  const res = await fetch(new URL(`orders/${encodeURIComponent(String(job.orderId))}/fulfil`, fulfilment), {
    method: 'POST',
    signal: ctx.signal,
  });
  if (!res.ok) throw new Error(`the fulfilment service answered ${res.status} for order ${job.orderId}`);
  ctx.log.info({ orderId: job.orderId, receive: ctx.message?.receiveCount }, 'order fulfilled');
  return { type: job.type, orderId: job.orderId, status: 'fulfilled' };
}
