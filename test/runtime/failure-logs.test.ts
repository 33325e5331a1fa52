// Failed runs on the process logger, on both backends: each failed, timed-out or
// dead-lettered attempt logs exactly one line, at warn when a retry follows and at
// error when it is final (issue 16). Time moves only with the fake clock.

import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { Mainspring } from '../../src/app.ts';
import { NonRetryableError } from '../../src/functions/errors.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { defineFunction, fromQueue } from '../../src/runtime/function.ts';
import { fakeApp, recordEvents, tickUntil } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/backends.ts';

const WARN = 40;
const ERROR = 50;

/** A real pino logger writing to memory: every line it writes, parsed. */
function captureLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString('utf8').split('\n')) {
        if (text !== '') lines.push(JSON.parse(text) as Record<string, unknown>);
      }
      done();
    },
  });
  const logger = pino({ level: 'info' }, stream);
  /** Lines at warn or above. */
  const loud = () => lines.filter((l) => (l.level as number) >= WARN);
  return { logger, lines, loud };
}

describe.each(BACKENDS)('failed runs on the process logger on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  /** The function's only run, once it has finished. */
  async function onlyRun(ms: Mainspring, fn: string) {
    await vi.waitFor(
      async () => {
        const { runs } = await ms.runs.list({ function: fn });
        expect(runs.map((r) => r.status).filter((s) => s !== 'running' && s !== 'queued')).toHaveLength(1);
      },
      { timeout: 10_000, interval: 5 },
    );
    return (await ms.runs.list({ function: fn })).runs[0]!;
  }

  it_('logs a failure with a retry coming as one warn line', async () => {
    const dlq = defineQueue({ name: 'jobs-dlq' });
    const jobs = defineQueue({
      name: 'jobs',
      maxReceiveCount: 3,
      deadLetterQueue: dlq,
      retry: { backoff: 'fixed', base: '2s', jitter: false },
    });
    let calls = 0;
    const fn = defineFunction({
      name: 'work',
      triggers: [fromQueue(jobs)],
      handler: () => {
        if (++calls === 1) throw new Error('database is down');
      },
    });
    const log = captureLogger();
    const { ms, clock } = await fakeApp(backend, {
      queues: [jobs, dlq],
      functions: [fn],
      logger: log.logger,
    });
    const events = recordEvents(await ms.startWorker());
    await ms.queues.send(jobs, { n: 1 });
    await events.until('message:failed', 1);
    const run = await onlyRun(ms, 'work');
    await vi.waitFor(() => expect(log.loud()).toHaveLength(1));
    expect(log.loud()[0]).toMatchObject({
      level: WARN,
      function: 'work',
      runId: run.id,
      attempt: 1,
      trigger: 'queue',
      err: 'database is down',
      msg: 'run failed; retrying in 2s',
    });
    await tickUntil(clock, () => events.ids('message:acked').length === 1);
    expect(log.loud()).toHaveLength(1);
  });

  it_('logs a failure with no attempt left as one error line, after a warn for the retry', async () => {
    const fn = defineFunction({
      name: 'report',
      retry: { maxAttempts: 2, backoff: 'fixed', base: '10s', jitter: false },
      handler: (_input: unknown, ctx) => {
        throw new Error(`attempt ${ctx.run.attempt} failed`);
      },
    });
    const log = captureLogger();
    const { ms, clock } = await fakeApp(backend, { functions: [fn], logger: log.logger });
    await ms.startWorker();
    const first = await ms.runs.invoke(fn, {});
    await vi.waitFor(() => expect(log.loud()).toHaveLength(1), { timeout: 10_000 });
    await tickUntil(clock, () => log.loud().length === 2, { maxMs: 30_000 });
    const last = await ms.runs.wait(first.id);
    expect(last).toMatchObject({ attempt: 2, status: 'failed' });
    expect(log.loud()).toEqual([
      expect.objectContaining({
        level: WARN,
        function: 'report',
        runId: first.id,
        attempt: 1,
        trigger: 'manual',
        err: 'attempt 1 failed',
        msg: 'run failed; retrying in 10s',
      }),
      expect.objectContaining({
        level: ERROR,
        function: 'report',
        runId: last.id,
        attempt: 2,
        trigger: 'manual',
        err: 'attempt 2 failed',
        msg: 'run failed for good; no attempts left (2 of 2)',
      }),
    ]);
  });

  it_('logs a timeout as one error line', async () => {
    const fn = defineFunction({
      name: 'stuck',
      timeout: '5s',
      retry: { maxAttempts: 1 },
      handler: () => new Promise(() => {}),
    });
    const log = captureLogger();
    const { ms, clock } = await fakeApp(backend, { functions: [fn], logger: log.logger });
    await ms.startWorker();
    const run = await ms.runs.invoke(fn, {});
    await tickUntil(clock, () => log.loud().length > 0, { maxMs: 10_000 });
    expect((await ms.runs.wait(run.id)).status).toBe('timed_out');
    expect(log.loud()).toEqual([
      expect.objectContaining({
        level: ERROR,
        function: 'stuck',
        runId: run.id,
        attempt: 1,
        trigger: 'manual',
        err: 'function "stuck" ran past its timeout of 5000 ms; raise `timeout` or make it faster',
        msg: 'run timed out for good; no attempts left (1 of 1)',
      }),
    ]);
  });

  it_('logs a NonRetryableError on a queue with no dead-letter queue as one error line', async () => {
    const jobs = defineQueue({ name: 'jobs' });
    const fn = defineFunction({
      name: 'work',
      triggers: [fromQueue(jobs)],
      handler: () => {
        throw new NonRetryableError('malformed order');
      },
    });
    const log = captureLogger();
    const { ms } = await fakeApp(backend, { queues: [jobs], functions: [fn], logger: log.logger });
    const events = recordEvents(await ms.startWorker());
    const id = await ms.queues.send(jobs, { n: 1 });
    await events.until('message:dropped', 1);
    const run = await onlyRun(ms, 'work');
    expect(log.loud()).toEqual([
      expect.objectContaining({
        level: ERROR,
        function: 'work',
        runId: run.id,
        attempt: 1,
        trigger: 'queue',
        queue: 'jobs',
        messageIds: [id],
        err: 'malformed order',
        msg: 'run failed for good; not retryable; message dropped (the queue has no dead-letter queue)',
      }),
    ]);
  });

  it_('logs a message dead-lettered unhandled (its leases ran out) as one error line', async () => {
    const dlq = defineQueue({ name: 'jobs-dlq' });
    const jobs = defineQueue({
      name: 'jobs',
      visibilityTimeout: '1s',
      maxReceiveCount: 1,
      deadLetterQueue: dlq,
    });
    const fn = defineFunction({
      name: 'work',
      triggers: [fromQueue(jobs, { concurrency: 2 })],
      handler: () => new Promise(() => {}),
    });
    const log = captureLogger();
    const { ms, clock } = await fakeApp(backend, {
      queues: [jobs, dlq],
      functions: [fn],
      logger: log.logger,
    });
    const events = recordEvents(await ms.startWorker());
    const id = await ms.queues.send(jobs, { n: 1 });
    await events.until('message:started', 1);
    await tickUntil(clock, () => events.ids('message:dead').length === 1, { maxMs: 10_000 });
    await vi.waitFor(() => expect(log.loud()).toHaveLength(1));
    expect(log.loud()[0]).toMatchObject({
      level: ERROR,
      function: 'work',
      queue: 'jobs',
      messageIds: [id],
      err: 'received 2 times without being acknowledged (visibility timeout expired)',
      msg: 'dead-lettered to jobs-dlq unhandled: no attempt finished before its lease ran out',
    });
  });

  for (const recordRuns of [true, false]) {
    it_(`logs a dead-lettered run as one error line (run records ${recordRuns ? 'on' : 'off'})`, async () => {
      const dlq = defineQueue({ name: 'jobs-dlq' });
      const jobs = defineQueue({ name: 'jobs', maxReceiveCount: 1, deadLetterQueue: dlq });
      const fn = defineFunction({
        name: 'work',
        triggers: [fromQueue(jobs)],
        handler: (_b: unknown, ctx) => {
          throw new Error(`run ${ctx.run.id} failed`);
        },
      });
      const log = captureLogger();
      const { ms } = await fakeApp(backend, {
        queues: [jobs, dlq],
        functions: [fn],
        logger: log.logger,
        recordRuns,
      });
      const events = recordEvents(await ms.startWorker());
      await ms.queues.send(jobs, { n: 1 });
      await events.until('message:dead', 1);
      await vi.waitFor(() => expect(log.loud()).toHaveLength(1));
      const line = log.loud()[0]!;
      expect(line).toMatchObject({
        level: ERROR,
        function: 'work',
        attempt: 1,
        trigger: 'queue',
        msg: 'run failed for good; dead-lettered to jobs-dlq',
      });
      expect(line.err).toBe(`run ${line.runId as string} failed`);
      if (recordRuns) expect((await onlyRun(ms, 'work')).id).toBe(line.runId);
      else expect((await ms.runs.list()).runs).toEqual([]);
    });
  }
});
