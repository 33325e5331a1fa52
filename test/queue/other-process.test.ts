// A producer in another process: a real child process opens the same store as a client
// (as the background-jobs example's order service does) and sends a message, starts a
// workflow execution, or puts an event a waiting execution here is waiting for. The worker
// here runs on a fake clock that never moves, so its polls never come: only a wake-up from
// the other process's commit can deliver them. PostgreSQL wakes through NOTIFY; SQLite
// through the file's data_version.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { defineQueue } from '../../src/queue/define.ts';
import { defineFunction, fromQueue } from '../../src/runtime/function.ts';
import { defineWorkflow } from '../../src/workflow/define.ts';
import { fakeApp } from '../helpers/app.ts';
import { BACKENDS } from '../helpers/backends.ts';

const APP = fileURLToPath(new URL('../../src/app.ts', import.meta.url));
const DEFINE = fileURLToPath(new URL('../../src/workflow/define.ts', import.meta.url));

/**
 * Runs `code` in a child process, with `ms` a client of `url`; with `greet`, it knows the
 * workflow `greet` (no handler of it runs there), else it has no workflows at all.
 */
function inOtherProcess(url: string, code: string, { greet = false } = {}): Promise<string> {
  const script = `
    import { createMainspring } from ${JSON.stringify(APP)};
    import { defineWorkflow } from ${JSON.stringify(DEFINE)};
    const greet = defineWorkflow({ name: 'greet', handler: async () => {} });
    const ms = await createMainspring({
      db: process.env.STORE_URL, access: 'client', workflows: ${greet ? '[greet]' : '[]'} });
    try { ${code} } finally { await ms.close(); }`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, STORE_URL: url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(err) : reject(new Error(`child exited ${code}: ${err}`)),
    );
  });
}

describe.each(BACKENDS)('a producer in another process, on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_('wakes an idle worker here at once: its message and its execution run without a poll', async () => {
    const url = backend.freshUrl();
    const jobs = defineQueue({ name: 'jobs' });
    const handled: unknown[] = [];
    const fn = defineFunction({
      name: 'consume',
      triggers: [fromQueue(jobs)],
      handler: (body: unknown) => {
        handled.push(body);
      },
    });
    const steps: string[] = [];
    const wf = defineWorkflow({
      name: 'greet',
      handler: async (input: { who: string }, ctx) => ctx.step('hello', () => steps.push(input.who)),
    });
    // Far ahead of the real clock: what the child stamps with its real time is due here.
    const { ms } = await fakeApp(backend, {
      url,
      queues: [jobs],
      functions: [fn],
      workflows: [wf],
      start: '2099-01-01T00:00:00Z',
    });
    await ms.startWorker();
    await inOtherProcess(
      url,
      `await ms.queues.send('jobs', { from: 'child' });
       await ms.workflows.start(greet, { who: 'child' }, { id: 'from-child' });`,
      { greet: true },
    );
    await vi.waitFor(() => expect(handled).toEqual([{ from: 'child' }]), { timeout: 10_000 });
    await vi.waitFor(() => expect(steps).toEqual(['child']), { timeout: 10_000 });
  });

  it_('resumes an execution here waiting for an event the other process puts', async () => {
    const url = backend.freshUrl();
    const got: unknown[] = [];
    const wf = defineWorkflow({
      name: 'await-order',
      handler: async (_: null, ctx) => {
        const event = await ctx.waitForEvent<{ detail: unknown }>('shipped', {
          source: ['orders'],
          'detail-type': ['OrderShipped'],
        });
        await ctx.step('record', () => got.push(event.detail));
      },
    });
    const { ms } = await fakeApp(backend, { url, workflows: [wf], start: '2099-01-01T00:00:00Z' });
    await ms.startWorker();
    await ms.workflows.start(wf, null, { id: 'order-1' });
    await vi.waitFor(async () => expect((await ms.workflows.get('order-1')).status).toBe('waiting'));
    // A client with no workflows of its own, as an order service is.
    await inOtherProcess(
      url,
      `await ms.events.put([{ source: 'orders', detailType: 'OrderShipped', detail: { order: 1 } }]);`,
    );
    await vi.waitFor(() => expect(got).toEqual([{ order: 1 }]), { timeout: 10_000 });
  });
});
