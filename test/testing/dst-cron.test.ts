// docs/testing.md, "A cron across a daylight-saving change": three fake days in milliseconds.
import { defineFunction, schedule } from 'mainspringjs';
import { createTestApp } from 'mainspringjs/testing';
import { expect, it } from 'vitest';

const backup = defineFunction({
  name: 'nightly-backup',
  // 02:30 in New York. On 2026-03-08 the clocks jump from 02:00 to 03:00: that 02:30 never happens.
  triggers: [schedule('cron(30 2 * * ? *)', { timezone: 'America/New_York' })],
  handler: async () => ({ backedUp: true }),
});

it('runs the nightly backup at 02:30 New York time, and not on the night 02:30 does not exist', async () => {
  const t = await createTestApp({ functions: [backup] }, { start: '2026-03-06T12:00:00Z' });
  await t.advance('3d');

  const runs = await t.runsOf(backup);
  expect(runs.map((r) => [r.scheduledFor, r.status])).toEqual([
    ['2026-03-07T07:30:00.000Z', 'succeeded'], // 02:30 EST (UTC-5)
    // 2026-03-08: no 02:30 in New York, so no run (as EventBridge Scheduler does; docs/schedules.md)
    ['2026-03-09T06:30:00.000Z', 'succeeded'], // 02:30 EDT (UTC-4)
  ]);
  await t.close();
});
