// Every page through a real browser against a real server, on both backends: it renders
// the state a fixture made, its filters and search narrow on the server, and its actions
// change the stored state (checked through the API). No console errors anywhere.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createReportWorkflow } from '../../examples/multi-day-report/workflow.ts';
import type { Clock } from '../../src/core/clock.ts';
import { defineRule } from '../../src/events/rules-define.ts';
import { defineQueue } from '../../src/queue/define.ts';
import { defineCommand } from '../../src/runtime/define-command.ts';
import { defineFunction, fromQueue } from '../../src/runtime/function.ts';
import type { Run } from '../../src/runtime/runs.ts';
import { defineWorkflow } from '../../src/workflow/define.ts';
import { tick } from '../helpers/app.ts';
import { BACKENDS, tempDir } from '../helpers/backends.ts';
import { dashboardServer, eventually, hasCount, hasText, openDashboard, visible } from './harness.ts';

const flaky = defineFunction({
  name: 'flaky',
  retry: { maxAttempts: 1 },
  handler: async (input: { n: number; word: string }, ctx) => {
    ctx.log.info(`checked ${input.word}`);
    if (input.n % 2 === 1) throw new Error(`odd input ${input.n} refused`);
    return { ok: input.n };
  },
});
const steady = defineFunction({ name: 'steady', handler: async () => 'fine' });

/** Lets the worker's store I/O settle while fake time moves, until `done` holds. */
async function settle(
  clock: { advance(ms: number): Promise<void> },
  done: () => Promise<boolean>,
): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await done()) return;
    await tick(clock as never, 100, 100);
  }
  expect(await done()).toBe(true);
}

describe.each(BACKENDS)('dashboard pages on $name', (backend) => {
  const it_ = backend.skip ? it.skip : it;

  it_(
    'runs: lists, filters by two statuses and trigger, searches, retries the selected, shows a run',
    async () => {
      const server = await dashboardServer(backend, { functions: [flaky, steady] });
      const { ms, clock } = server;
      await ms.startWorker();
      for (const [n, word] of [
        [1, 'apple'],
        [2, 'banana'],
        [3, 'cherry'],
        [4, 'damson'],
      ] as const)
        await ms.runs.invoke(flaky, { n, word });
      await ms.runs.invoke(steady, {});
      await settle(clock, async () => (await ms.runs.list()).runs.every((r) => r.finishedAt));

      const { page, expectNoErrors } = await openDashboard(server, '#/runs');
      const rows = page.locator('tbody tr[data-run]');
      await hasCount(rows, 5);
      await hasText(page.locator('tbody'), 'odd input 3 refused');
      // Two statuses at once, then trigger kind, then a search over the logs.
      await page.getByLabel('failed', { exact: true }).check();
      await hasCount(rows, 2);
      await page.getByLabel('succeeded', { exact: true }).check();
      await hasCount(rows, 5);
      expect(new URL(page.url()).hash).toContain('status=failed%2Csucceeded');
      await page.getByLabel('Trigger').selectOption('queue');
      await hasCount(rows, 0);
      await page.getByLabel('Trigger').selectOption('');
      await page.getByLabel('Search input, errors and logs').fill('checked cherry');
      await page.getByRole('button', { name: 'Search' }).click();
      await hasCount(rows, 1);
      await hasText(rows, 'odd input 3 refused');

      // Retry: the selected failed run starts again.
      await page.getByLabel('Search input, errors and logs').fill('');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByLabel('succeeded', { exact: true }).uncheck();
      await hasCount(rows, 2);
      await page.getByLabel('Select all').check();
      await page.getByRole('button', { name: 'Retry selected (2)' }).click();
      await eventually(async () => {
        const { json } = await server.call<{ runs: Run[] }>('GET', '/v1/runs?function=flaky');
        expect(json.runs.filter((r) => (r.trigger as Record<string, unknown>)['retryOf'])).toHaveLength(2);
      });

      const failed = (await server.call<{ runs: Run[] }>('GET', '/v1/runs?status=failed')).json.runs[0]!;
      await page.goto(`${server.url}/#/runs/${failed.id}`);
      await hasText(page.locator('main'), 'odd input');
      await visible(page.locator('pre.stack'));
      await hasText(page.locator('pre.lines'), 'checked');
      expectNoErrors();
    },
  );

  it_("a running command's log lines appear on its run page as it writes them; cancel stops it", async () => {
    const dir = tempDir();
    const go = join(dir, 'go');
    const script =
      "console.log('first line'); const fs = require('node:fs'); " +
      `const t = setInterval(() => { if (fs.existsSync(${JSON.stringify(go)})) { console.log('second line'); clearInterval(t); setInterval(() => {}, 1000); } }, 20);`;
    const slow = defineCommand({ name: 'slow', command: [process.execPath, '-e', script], timeout: '1h' });
    const server = await dashboardServer(backend, { functions: [slow] });
    const { ms, clock } = server;
    await ms.startWorker();
    const { id } = await ms.runs.invoke(slow, {});
    await settle(clock, async () => (await ms.runs.get(id)).status === 'running');
    const { page, expectNoErrors } = await openDashboard(server, `#/runs/${id}`);
    const log = page.locator('pre.lines');
    // The page is open before the second line exists: it arrives on the live stream.
    const moving = (async () => {
      for (let i = 0; i < 200 && !(await log.textContent().catch(() => ''))?.includes('second line'); i++)
        await tick(clock, 100, 100);
    })();
    await hasText(log, 'first line');
    expect(await log.textContent()).not.toContain('second line');
    writeFileSync(go, '');
    await hasText(log, 'second line');
    await moving;
    expect((await ms.runs.get(id)).status).toBe('running');
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Cancel' }).click();
    await eventually(async () => expect((await ms.runs.get(id)).cancelRequestedAt).not.toBeNull());
    expect(existsSync(go)).toBe(true);
    expectNoErrors();
  });

  it_(
    'schedules: disable, enable and run now change the store; a bad edit shows its error by the field',
    async () => {
      const server = await dashboardServer(backend, { functions: [steady] });
      await server.call('POST', '/v1/schedules', {
        name: 'nightly',
        expression: 'cron(0 2 * * ? *)',
        target: { kind: 'function', function: 'steady' },
      });
      const { page, expectNoErrors } = await openDashboard(server, '#/schedules');
      const row = page.locator('tr[data-schedule="nightly"]');
      await hasText(row, 'At 02:00');
      await row.getByRole('button', { name: 'Disable' }).click();
      await eventually(async () =>
        expect((await server.call<{ enabled: boolean }>('GET', '/v1/schedules/nightly')).json.enabled).toBe(
          false,
        ),
      );
      await row.getByRole('button', { name: 'Enable' }).click();
      await eventually(async () =>
        expect((await server.call<{ enabled: boolean }>('GET', '/v1/schedules/nightly')).json.enabled).toBe(
          true,
        ),
      );
      await row.getByRole('button', { name: 'Run now' }).click();
      await eventually(async () =>
        expect(
          (await server.call<{ runs: Run[] }>('GET', '/v1/runs?function=steady')).json.runs,
        ).toHaveLength(1),
      );
      // Next ticks, then an edit the API refuses: the message is shown and nothing stored changes.
      await row.getByRole('button', { name: 'nightly' }).click();
      await hasCount(page.locator('ol.ticks li'), 5);
      await row.getByRole('button', { name: 'Edit' }).click();
      await page.getByLabel('Expression').fill('cron(99 2 * * ? *)');
      await page.getByRole('button', { name: 'Save' }).click();
      await visible(page.locator('.field-error'));
      expect(
        (await server.call<{ expression: string }>('GET', '/v1/schedules/nightly')).json.expression,
      ).toBe('cron(0 2 * * ? *)');
      await page.getByLabel('Expression').fill('cron(30 3 * * ? *)');
      await page.getByRole('button', { name: 'Save' }).click();
      await eventually(async () =>
        expect(
          (await server.call<{ expression: string }>('GET', '/v1/schedules/nightly')).json.expression,
        ).toBe('cron(30 3 * * ? *)'),
      );
      // The refused edit's 400, which the browser logs, is the one error expected.
      expectNoErrors(/status of 400/);
    },
  );

  it_('tasks: create, overwrite by id, filter by action and due range, delete', async () => {
    const server = await dashboardServer(backend, { functions: [steady, flaky] });
    await server.call('POST', '/v1/tasks', {
      id: 'later',
      action: 'flaky',
      due: '2027-06-01T09:00:00Z',
      payload: { n: 2 },
    });
    const { page, expectNoErrors } = await openDashboard(server, '#/tasks');
    await hasText(page.locator('tr[data-task="later"]'), '2027-06-01T09:00:00Z');
    const form = page.getByRole('form', { name: 'New task' });
    await form.getByLabel('Id').fill('renewal-acme');
    await form.getByLabel('Action').selectOption('steady');
    await form.getByLabel(/^Due/).fill('2027-03-01T10:30');
    await form.getByLabel('Payload (JSON)').fill('{ "customer": "acme" }');
    await form.getByRole('button', { name: 'Save task' }).click();
    await eventually(async () =>
      expect((await server.call('GET', '/v1/tasks/renewal-acme')).json).toMatchObject({
        action: 'steady',
        payload: { customer: 'acme' },
      }),
    );
    const rows = page.locator('tbody tr[data-task]');
    const filters = page.getByRole('form', { name: 'Filters' });
    await hasCount(rows, 2);
    await filters.getByLabel('Action').selectOption('flaky');
    await hasCount(rows, 1);
    await filters.getByLabel('Action').selectOption('');
    await filters.getByLabel('Due before').fill('2027-04-01T00:00');
    await hasCount(rows, 1);
    await hasText(rows, 'renewal-acme');
    // Overwrite by id through Edit, then delete.
    await rows.getByRole('button', { name: 'Edit' }).click();
    await page
      .getByRole('form', { name: 'Edit task renewal-acme' })
      .getByLabel('Payload (JSON)')
      .fill('{ "customer": "acme-2" }');
    await page.getByRole('button', { name: 'Save task' }).click();
    await eventually(async () =>
      expect((await server.call('GET', '/v1/tasks/renewal-acme')).json).toMatchObject({
        payload: { customer: 'acme-2' },
      }),
    );
    page.once('dialog', (d) => void d.accept());
    await rows.getByRole('button', { name: 'Delete' }).click();
    await eventually(async () =>
      expect((await server.call('GET', '/v1/tasks/renewal-acme')).status).toBe(404),
    );
    expectNoErrors();
  });

  it_('queues: dead letters with their errors; redrive selected, redrive all, purge', async () => {
    const dlq = defineQueue({ name: 'jobs-dlq' });
    const jobs = defineQueue({ name: 'jobs', maxReceiveCount: 1, deadLetterQueue: dlq });
    const worker = defineFunction({
      name: 'job-worker',
      triggers: [fromQueue(jobs)],
      handler: async (job: { n: number }) => {
        throw new Error(`job ${job.n} cannot be done`);
      },
    });
    const server = await dashboardServer(backend, { queues: [jobs, dlq], functions: [worker] });
    const { ms, clock } = server;
    const worker_ = await ms.startWorker();
    for (const n of [1, 2, 3]) await ms.queues.send('jobs', { n });
    await settle(clock, async () => (await ms.queues.stats('jobs-dlq')).counts.visible === 3);
    // Redriven messages stay where they are put: nothing consumes them again.
    await worker_.stop();
    const { page, expectNoErrors } = await openDashboard(server, '#/queues');
    await hasText(page.locator('tr[data-queue="jobs-dlq"]'), '3');
    await page.getByRole('link', { name: 'jobs', exact: true }).first().click();
    const dead = page.locator('tr[data-message]');
    await hasCount(dead, 3);
    await hasText(page.locator('main'), 'job 2 cannot be done');
    await dead.first().getByRole('checkbox').check();
    await page.getByRole('button', { name: 'Redrive selected (1)' }).click();
    await hasCount(dead, 2);
    expect(
      (await ms.queues.stats('jobs')).counts.visible + (await ms.queues.stats('jobs')).counts.delayed,
    ).toBe(1);
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Redrive all' }).click();
    await hasCount(dead, 0);
    await hasText(page.locator('tr[data-queue="jobs"]'), '3');
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Purge' }).click();
    await eventually(async () => expect((await ms.queues.stats('jobs')).counts.visible).toBe(0));
    expectNoErrors();
  });

  it_("queues: pause and resume from the queue's page, marked paused in the list", async () => {
    const jobs = defineQueue({ name: 'jobs' });
    const server = await dashboardServer(backend, { queues: [jobs] });
    const { ms } = server;
    const { page, expectNoErrors } = await openDashboard(server, '#/queues/jobs');
    const badge = page.locator('tr[data-queue="jobs"] .badge', { hasText: 'paused' });
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await visible(badge);
    await visible(page.getByRole('button', { name: 'Resume', exact: true }));
    expect((await ms.queues.stats('jobs')).paused).toBe(true);
    expect((await server.call('GET', '/v1/queues/jobs')).json).toMatchObject({ paused: true });
    await page.goto(`${server.url}/#/queues`);
    await visible(badge);
    await page.getByRole('link', { name: 'jobs', exact: true }).first().click();
    await page.getByRole('button', { name: 'Resume', exact: true }).click();
    await visible(page.getByRole('button', { name: 'Pause', exact: true }));
    await hasCount(badge, 0);
    expect((await ms.queues.stats('jobs')).paused).toBe(false);
    expectNoErrors();
  });

  it_('runs: filtered to one function, pause and resume it', async () => {
    const server = await dashboardServer(backend, { functions: [steady, flaky] });
    const { ms } = server;
    const { page, expectNoErrors } = await openDashboard(server, '#/runs?function=steady');
    const badge = page.locator('.badge', { hasText: 'steady paused' });
    await page.getByRole('button', { name: 'Pause steady', exact: true }).click();
    await visible(badge);
    expect(await ms.runs.pausedFunctions()).toEqual(new Map([['steady', expect.any(Date)]]));
    expect((await server.call('GET', '/v1/functions')).json).toMatchObject({
      functions: expect.arrayContaining([expect.objectContaining({ name: 'steady', paused: true })]),
    });
    await page.getByRole('button', { name: 'Resume steady', exact: true }).click();
    await visible(page.getByRole('button', { name: 'Pause steady', exact: true }));
    await hasCount(badge, 0);
    expect(await ms.runs.pausedFunctions()).toEqual(new Map());
    expectNoErrors();
  });

  it_(
    "workflows: a progress bar advances under the fake clock; the seed 004 report's progress shows",
    async () => {
      // The report reads the time inside its steps: the server's fake clock, made just below.
      let now = () => 0;
      const report = createReportWorkflow({ clock: { now: () => now() } as Clock });
      const steps = defineWorkflow({
        name: 'three-steps',
        handler: async (_input: unknown, ctx) => {
          for (let i = 1; i <= 3; i++) {
            await ctx.step(`part-${i}`, () => i);
            await ctx.progress({ completed: i, total: 3, message: `part ${i} of 3` });
            await ctx.wait(`rest-${i}`, '1h');
          }
        },
      });
      const live = await dashboardServer(backend, {
        workflows: [report, steps],
        start: '2026-01-05T10:00:00Z',
      });
      now = () => live.clock.now();
      await live.ms.startWorker();
      await live.ms.workflows.start(steps, {}, { id: 'steps-1' });
      await live.ms.workflows.start(report, { config: { reportType: 'weekly' } }, { id: 'REPORT-1' });
      await settle(live.clock, async () => (await live.ms.workflows.get('steps-1')).status === 'waiting');
      await settle(live.clock, async () => (await live.ms.workflows.get('REPORT-1')).status === 'waiting');
      const { page, expectNoErrors } = await openDashboard(live, '#/workflows');
      const bar = page.locator('tr[data-execution="steps-1"] [role="progressbar"]');
      await eventually(async () => expect(await bar.getAttribute('aria-valuenow')).toBe('33'));
      await hasText(page.locator('tr[data-execution="REPORT-1"]'), 'DAY_1_COMPLETE');
      // An hour of fake time: the next part runs, and the open page follows without a reload.
      await live.clock.advance(3_600_000);
      await eventually(async () => expect(await bar.getAttribute('aria-valuenow')).toBe('67'));
      await page.getByLabel('waiting').check();
      await hasCount(page.locator('tr[data-execution]'), 2);
      await page.getByLabel('failed').check();
      await page.getByLabel('waiting').uncheck();
      await hasCount(page.locator('tr[data-execution]'), 0);

      await page.goto(`${live.url}/#/executions/REPORT-1`);
      await hasText(page.locator('main'), 'collect-data');
      await visible(page.locator('table.timeline tr[data-op]'));
      page.once('dialog', (d) => void d.accept());
      await page.getByRole('button', { name: 'Stop' }).click();
      await eventually(async () =>
        expect((await live.ms.workflows.get('REPORT-1')).stopRequested).toBe(true),
      );
      expectNoErrors();
    },
  );

  it_('events: recent events with the rules they matched; a replay', async () => {
    const audit = defineQueue({ name: 'audit' });
    const server = await dashboardServer(backend, {
      queues: [audit],
      rules: [defineRule({ name: 'to-audit', pattern: { source: ['shop'] }, targets: [audit] })],
    });
    await server.ms.events.put([
      { source: 'shop', detailType: 'order.placed', detail: { id: 7 } },
      { source: 'crm', detailType: 'lead', detail: { id: 8 } },
    ]);
    const { page, expectNoErrors } = await openDashboard(server, '#/events');
    const rows = page.locator('tr[data-event]');
    await hasCount(rows, 2);
    await hasText(rows.filter({ hasText: 'order.placed' }), 'to-audit → audit');
    await hasText(rows.filter({ hasText: 'lead' }), 'no rule');
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Replay this range' }).click();
    await hasText(page.getByRole('status'), 'Replayed 2 events: 1 deliveries');
    expect((await server.ms.queues.stats('audit')).counts.visible).toBe(2);
    expectNoErrors();
  });

  it_(
    'overview: the fixture on one page, no horizontal scroll on a phone; a read-only token cannot act',
    async () => {
      const server = await dashboardServer(backend, {
        functions: [flaky],
        token: 'ov-full',
        readToken: 'ov-read',
      });
      await server.ms.startWorker();
      await server.ms.runs.invoke(flaky, { n: 1, word: 'x' });
      await settle(server.clock, async () => (await server.ms.runs.list()).runs.every((r) => r.finishedAt));
      const phone = await openDashboard(server, '#/', {
        token: 'ov-full',
        viewport: { width: 390, height: 844 },
      });
      await hasText(phone.page.locator('main'), 'odd input 1 refused');
      await hasText(phone.page.locator('figcaption'), '1 runs, 1 failed');
      expect(await phone.page.evaluate(() => document.documentElement.scrollWidth <= innerWidth)).toBe(true);
      phone.expectNoErrors();

      const read = await openDashboard(server, '#/runs', { token: 'ov-read' });
      await hasCount(read.page.locator('tr[data-run]'), 1);
      const retry = read.page.getByRole('button', { name: /Retry selected/ });
      expect(await retry.isDisabled()).toBe(true);
      expect(await retry.getAttribute('title')).toContain('Read-only');
      read.expectNoErrors();
    },
  );

  it_('reloads what it loaded before the change stream first answered', async () => {
    const jobs = defineQueue({ name: 'jobs' });
    const server = await dashboardServer(backend, { queues: [jobs] });
    // The page's data loads while its stream cannot connect; what is sent then must show
    // once the stream's first marks arrive, though the page has no earlier marks to compare.
    const { page, errors } = await openDashboard(server, '#/queues', {
      route: (p) => p.route('**/v1/changes', (route) => route.abort()),
    });
    const row = page.locator('tr[data-queue="jobs"] td.num').first();
    await hasText(row, '0');
    await visible(page.getByText('○ reconnecting'));
    await server.ms.queues.send('jobs', { n: 1 });
    await page.unroute('**/v1/changes');
    await visible(page.getByText('● live'));
    await hasText(row, '1');
    expect(errors.filter((e) => !/net::ERR_(FAILED|INCOMPLETE_CHUNKED_ENCODING)/.test(e))).toEqual([]);
  });

  it_('keeps working when its change stream drops, and catches up when it is back', async () => {
    const jobs = defineQueue({ name: 'jobs' });
    const server = await dashboardServer(backend, { queues: [jobs] });
    const { page, errors } = await openDashboard(server, '#/queues');
    const row = page.locator('tr[data-queue="jobs"] td.num').first();
    await hasText(row, '0');
    // The stream is cut and, for a while, cannot come back: the page says so and keeps its data.
    await page.route('**/v1/changes', (route) => route.abort());
    server.dropConnections();
    await visible(page.getByText('○ reconnecting'));
    await hasText(row, '0');
    await server.ms.queues.send('jobs', { n: 1 });
    await server.ms.queues.send('jobs', { n: 2 });
    await page.unroute('**/v1/changes');
    await visible(page.getByText('● live'));
    await hasText(row, '2');
    // The refused reconnects are the browser's console errors this test caused; nothing else.
    expect(errors.filter((e) => !/net::ERR_(FAILED|INCOMPLETE_CHUNKED_ENCODING)/.test(e))).toEqual([]);
  });
});
