import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readAwsJson } from '../../src/import/aws-json.ts';
import { ImportError, type ImportPlan } from '../../src/import/model.ts';

const read = (name: string) =>
  readAwsJson(name, readFileSync(new URL(`fixtures/aws-json/${name}`, import.meta.url), 'utf8'));

function fn(plan: ImportPlan, name: string) {
  const f = plan.functions.find((x) => x.name === name);
  if (!f) throw new Error(`no function ${name} in ${JSON.stringify(plan.functions)}`);
  return f;
}

function importError(run: () => unknown): ImportError {
  try {
    run();
  } catch (err) {
    if (err instanceof ImportError) return err;
    throw err;
  }
  throw new Error('no ImportError thrown');
}

describe('readAwsJson', () => {
  it('reads describe-rule with its list-targets output: a Lambda target becomes a scheduled stub', () => {
    const plan = read('rule-and-targets.json');
    expect(plan.functions).toEqual([
      {
        kind: 'handler',
        name: 'nightly-report',
        origin: { file: 'rule-and-targets.json', line: 3, item: 'rule nightly-report' },
        triggers: [
          {
            kind: 'schedule',
            schedule: {
              expression: 'cron(0 3 * * ? *)',
              description: 'Builds the nightly report',
              payload: { format: 'pdf' },
              maxAttempts: 3,
              maxEventAgeSeconds: 3600,
            },
          },
        ],
      },
    ]);
    expect(plan.report).toEqual([
      expect.objectContaining({
        outcome: 'noted',
        message: expect.stringContaining('runs Lambda function nightlyReport'),
      }),
    ]);
  });

  it('reads get-schedule: zone, window, dates, retry and an SQS target become a send and its queue', () => {
    const plan = read('get-schedule.json');
    expect(plan.queues).toEqual([
      {
        name: 'invoice-jobs',
        origin: { file: 'get-schedule.json', line: 13, item: 'schedule billing/invoice-run' },
      },
    ]);
    const send = fn(plan, 'invoice-run');
    expect(send).toMatchObject({ kind: 'send', queue: 'invoice-jobs' });
    expect(send.triggers).toEqual([
      {
        kind: 'schedule',
        schedule: {
          expression: 'cron(0 6 1 * ? *)',
          timezone: 'Europe/Paris',
          start: '2025-01-31T23:00:00.000Z',
          end: '2026-12-31T23:00:00.000Z',
          flexibleWindowMinutes: 15,
          description: 'Monthly invoices',
          payload: { kind: 'monthly' },
          maxAttempts: 6,
          maxEventAgeSeconds: 86400,
        },
      },
    ]);
    expect(plan.report.find((r) => r.message.startsWith('queue invoice-jobs'))?.message).toContain(
      'not in this JSON',
    );
  });

  it('reads a pattern rule with SQS and Lambda targets as a mainspring rule', () => {
    const plan = read('pattern-rule.json');
    expect(plan.rules).toEqual([
      {
        name: 'order-placed',
        origin: { file: 'pattern-rule.json', line: 3, item: 'rule orders/order-placed' },
        pattern: { source: ['shop.orders'], 'detail-type': ['OrderPlaced'] },
        targets: [
          { kind: 'queue', name: 'fulfilment.fifo' },
          { kind: 'function', name: 'notify-customer' },
        ],
        inputPath: '$.detail',
      },
    ]);
    expect(plan.queues).toMatchObject([{ name: 'fulfilment.fifo', fifo: true }]);
    expect(fn(plan, 'notify-customer')).toMatchObject({ kind: 'handler', triggers: [] });
    const line = plan.report.find((r) => r.message.startsWith('event rule'));
    expect(line?.message).toContain('event bus orders');
  });

  it('reads list-rules with targets named by "Rule": a disabled rule, an ECS target, a bad expression', () => {
    const plan = read('list-rules.json');
    expect(fn(plan, 'cleanup').triggers).toEqual([
      { kind: 'schedule', schedule: { expression: 'rate(1 day)', enabled: false } },
    ]);
    const ecs = plan.report.find((r) => r.origin.item === 'rule ecs-export');
    expect(ecs).toMatchObject({ outcome: 'skipped', origin: { line: 12 } });
    expect(ecs?.message).toContain('task-definition/export:3');
    expect(ecs?.message).toContain('the task definition is not in this JSON: import the Terraform');
    const bad = plan.report.find((r) => r.origin.item === 'rule bad-rate');
    expect(bad?.outcome).toBe('skipped');
    expect(bad?.message).toMatch(/rate/);
    expect(plan.functions.map((f) => f.name)).toEqual(['cleanup']);
  });

  it('skips targets it cannot match to one rule', () => {
    const text = JSON.stringify([
      { Name: 'a', ScheduleExpression: 'rate(5 minutes)' },
      { Name: 'b', ScheduleExpression: 'rate(5 minutes)' },
      { Targets: [{ Id: '1', Arn: 'arn:aws:lambda:eu-west-1:1:function:f' }] },
    ]);
    const plan = readAwsJson('rules.json', text);
    expect(plan.functions).toEqual([]);
    expect(plan.report.map((r) => r.outcome)).toEqual(['skipped', 'skipped', 'skipped']);
    expect(plan.report[0]?.message).toContain('add "Rule"');
  });

  it('throws ImportError with the line of malformed JSON', () => {
    const text = readFileSync(new URL('fixtures/aws-json/malformed.json.txt', import.meta.url), 'utf8');
    const err = importError(() => readAwsJson('malformed.json', text));
    expect(err).toMatchObject({ file: 'malformed.json', line: 4, construct: 'JSON' });
    // Cut short: Node gives no position, so the last line is blamed.
    expect(importError(() => readAwsJson('cut.json', '{\n  "Name":\n')).line).toBe(2);
  });

  it('throws ImportError naming the shapes it reads for JSON that is none of them', () => {
    const err = importError(() => read('unknown.json'));
    expect(err.file).toBe('unknown.json');
    expect(err.message).toContain('describe-rule');
    expect(err.message).toContain('get-schedule');
    expect(err.message).toContain('Functions');
  });
});
