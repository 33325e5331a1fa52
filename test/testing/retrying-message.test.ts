// docs/testing.md, "A message that fails, retries, and is dead-lettered".
import { defineFunction, defineQueue, fromQueue } from 'mainspringjs';
import { createTestApp } from 'mainspringjs/testing';
import { expect, it } from 'vitest';

const emailsDlq = defineQueue({ name: 'emails-dlq' });
const emails = defineQueue({
  name: 'emails',
  maxReceiveCount: 3,
  deadLetterQueue: emailsDlq,
  retry: { backoff: 'exponential', base: '1m', jitter: false }, // 1 min, then 2 min
});

const send = defineFunction({
  name: 'send-email',
  triggers: [fromQueue(emails)],
  handler: async (email: { to: string }) => {
    if (email.to.endsWith('@bounce.example')) throw new Error(`mailbox ${email.to} does not exist`);
    return { sent: email.to };
  },
});

it('retries a failing message with backoff, then dead-letters it; the others go through', async () => {
  const t = await createTestApp({ queues: [emails, emailsDlq], functions: [send] });
  await t.ms.queues.send(emails, { to: 'ada@example.com' });
  await t.ms.queues.send(emails, { to: 'nobody@bounce.example' });

  await t.advance('30s');
  expect((await t.runsOf(send)).map((r) => r.status).sort()).toEqual(['failed', 'succeeded']);

  await t.advance('10m');
  const failed = (await t.runsOf(send)).filter((r) => r.status === 'failed');
  expect(failed).toHaveLength(3); // maxReceiveCount
  const gaps = failed.slice(1).map((r, i) => Date.parse(r.startedAt!) - Date.parse(failed[i]!.startedAt!));
  expect(gaps).toEqual([60_000, 120_000]);

  const { live, dead } = await t.messages(emails);
  expect(live).toEqual([]);
  expect(dead.map((m) => m.body)).toEqual([{ to: 'nobody@bounce.example' }]);
  await t.close();
});
