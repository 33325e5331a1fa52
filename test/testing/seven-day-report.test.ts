// docs/testing.md, "A workflow that runs for a week" (seed 004's report): seven fake days,
// day by day, in well under a second.
import { FakeClock } from 'mainspringjs';
import { createTestApp } from 'mainspringjs/testing';
import { expect, it } from 'vitest';
import {
  createReportWorkflow,
  type Notification,
  type TaskProgress,
} from '../../examples/multi-day-report/workflow.ts';

it('reports after seven days, one day of work every 24 hours', async () => {
  const clock = new FakeClock('2026-01-05T10:00:00Z');
  const sent: Notification[] = [];
  const report = createReportWorkflow({ clock, notify: (n) => void sent.push(n) });
  const t = await createTestApp({ workflows: [report] }, { clock });

  await t.ms.workflows.start(report, { config: { reportType: 'weekly' } }, { id: 'TASK-1' });
  const progress = async () => (await t.ms.workflows.get('TASK-1')).progress as TaskProgress;

  await t.settle();
  expect(await progress()).toMatchObject({ status: 'DAY_1_COMPLETE', completedDays: 1 });
  for (let day = 2; day <= 6; day++) {
    await t.advance('23h59m');
    expect((await progress()).status).toBe(`DAY_${day - 1}_COMPLETE`); // a minute early: nothing yet
    await t.advance('1m');
    expect((await progress()).status).toBe(`DAY_${day}_COMPLETE`);
  }
  await t.advance('24h');

  const done = await progress();
  expect(done.status).toBe('COMPLETED');
  expect(done.steps.map((s) => s.completedAt.slice(0, 10))).toEqual([
    '2026-01-05',
    '2026-01-06',
    '2026-01-07',
    '2026-01-08',
    '2026-01-09',
    '2026-01-10',
    '2026-01-11',
    '2026-01-11',
  ]);
  expect(sent.map((n) => n.report.summary.totalDays)).toEqual([7]);
  expect((await t.ms.workflows.get('TASK-1')).status).toBe('succeeded');
  await t.close();
});
