// The config writer and the merge of several files' plans: what the writer prints must load
// as a mainspring config, with every setting of the plan where mainspring keeps it.

import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/cli/load-config.ts';
import { mergePlans } from '../../src/import/merge.ts';
import { emptyPlan, type ImportPlan, type Origin, safeName } from '../../src/import/model.ts';
import { formatReport } from '../../src/import/report.ts';
import { renderConfig } from '../../src/import/write-config.ts';
import type { QueueDefinition } from '../../src/index.ts';
import { tempDir } from '../helpers/backends.ts';
import { REPO } from '../helpers/cli.ts';

/** Terraform's interpolation, as source text (not a template literal). */
const VAR_ENV = ['$', '{var.env}'].join('');

const at = (item: string, line = 1, file = 'infra/main.tf'): Origin => ({ file, line, item });

function plan(): ImportPlan {
  const p = emptyPlan();
  // The queue first, its dead-letter queue after: the writer must declare the DLQ first.
  p.queues.push(
    {
      name: 'jobs',
      origin: at('aws_sqs_queue.jobs', 3),
      visibilityTimeoutSeconds: 300,
      maxReceiveCount: 3,
      deadLetterQueue: 'jobs-dlq',
    },
    { name: 'jobs-dlq', origin: at('aws_sqs_queue.jobs_dlq', 9) },
    { name: 'orders.v1', origin: at('aws_sqs_queue.orders', 14), fifo: true, delaySeconds: 30 },
  );
  p.functions.push(
    {
      kind: 'command',
      name: 'db-cleanup',
      origin: at('aws_ecs_task_definition.db_cleanup', 20),
      command: ['node', "jobs/it's.js"],
      env: { JOB_NAME: 'db-cleanup', 'WITH-DASH': 'x' },
      envFromServer: { NODE_ENV: VAR_ENV },
      secrets: ['DB_PASSWORD'],
      maxAttempts: 1,
      timeoutSeconds: 600,
      triggers: [{ kind: 'schedule', schedule: { expression: 'cron(0 2 * * ? *)' } }],
    },
    {
      kind: 'handler',
      name: 'class',
      origin: at('aws_lambda_function.worker', 40),
      handlerFile: 'infra/src/worker.ts',
      env: { MODE: 'fast' },
      triggers: [{ kind: 'queue', queue: 'jobs', batchSize: 5 }],
    },
    {
      kind: 'send',
      name: '3am-push',
      origin: at('aws_scheduler_schedule.push', 60),
      queue: 'orders.v1',
      triggers: [
        {
          kind: 'schedule',
          schedule: {
            expression: 'cron(0 3 * * ? *)',
            timezone: 'Europe/Berlin',
            enabled: false,
            start: '2030-01-01T00:00:00Z',
            end: '2031-01-01T00:00:00Z',
            flexibleWindowMinutes: 15,
            payload: { kind: 'push', 'two words': [1, 'a'] },
            maxAttempts: 4,
            maxEventAgeSeconds: 3600,
            description: 'push orders',
          },
        },
      ],
    },
  );
  p.rules.push(
    {
      name: 'orders',
      origin: at('aws_cloudwatch_event_rule.orders', 80),
      pattern: { source: ['shop'], 'detail-type': ['Order Placed'] },
      targets: [
        { kind: 'function', name: 'class' },
        { kind: 'queue', name: 'jobs' },
      ],
      inputPath: '$.detail',
    },
    {
      name: 'off',
      origin: at('aws_cloudwatch_event_rule.off', 90),
      pattern: { source: ['x'] },
      targets: [{ kind: 'queue', name: 'jobs' }],
      enabled: false,
    },
  );
  return p;
}

function projectWith(config: string): string {
  const cwd = tempDir('mainspring-import-write-');
  writeFileSync(join(cwd, 'package.json'), '{ "type": "module" }\n');
  mkdirSync(join(cwd, 'node_modules'));
  symlinkSync(REPO, join(cwd, 'node_modules/mainspringjs'), 'dir');
  writeFileSync(join(cwd, 'mainspring.config.ts'), config);
  return cwd;
}

describe('renderConfig', () => {
  it('writes a config that loads, with every setting where mainspring keeps it', async () => {
    const text = renderConfig(plan(), { outFile: 'mainspring.config.ts', sources: ['infra/main.tf'] });
    expect(text.indexOf("name: 'jobs-dlq'")).toBeLessThan(text.indexOf("name: 'jobs',"));
    expect(text).toContain('// infra/main.tf:20: aws_ecs_task_definition.db_cleanup');
    expect(text).toContain(`// was ${VAR_ENV}\n    NODE_ENV: env['NODE_ENV'] ?? ''`);
    expect(text).toContain("send with { delay: '30s' }");
    expect(text).toContain('port the Lambda handler in ./infra/src/worker.ts');
    expect(text).toContain('// offRule, (disabled in AWS)');

    const cwd = projectWith(text);
    const { config } = await loadConfig(cwd);
    const queues = new Map((config.queues ?? []).map((q: QueueDefinition) => [q.name, q.settings]));
    expect(queues.get('jobs')).toMatchObject({
      visibilityTimeoutMs: 300_000,
      maxReceiveCount: 3,
      deadLetterQueue: 'jobs-dlq',
    });
    expect(queues.get('orders.v1')).toMatchObject({ fifo: true });

    const fns = new Map((config.functions ?? []).map((f) => [f.name, f]));
    expect([...fns.keys()]).toEqual(['db-cleanup', 'class', '3am-push']);
    const cleanup = fns.get('db-cleanup')!;
    expect(cleanup.command).toMatchObject({ argv: ['node', "jobs/it's.js"], secrets: ['DB_PASSWORD'] });
    expect(cleanup.command?.env).toEqual({
      JOB_NAME: 'db-cleanup',
      'WITH-DASH': 'x',
      NODE_ENV: process.env['NODE_ENV'] ?? '',
    });
    expect(cleanup).toMatchObject({ timeoutMs: 600_000, retry: { maxAttempts: 1 } });
    expect(cleanup.triggers).toEqual([
      expect.objectContaining({ kind: 'schedule', expression: 'cron(0 2 * * ? *)' }),
    ]);

    expect(fns.get('class')!.triggers).toEqual([
      expect.objectContaining({ kind: 'queue', queue: 'jobs', batchSize: 5 }),
    ]);
    expect(fns.get('class')!.env).toEqual({ MODE: 'fast' });
    expect(fns.get('3am-push')!.triggers[0]).toMatchObject({
      kind: 'schedule',
      expression: 'cron(0 3 * * ? *)',
      settings: {
        timezone: 'Europe/Berlin',
        enabled: false,
        start: '2030-01-01T00:00:00Z',
        end: '2031-01-01T00:00:00Z',
        flexibleWindow: '15m',
        payload: { kind: 'push', 'two words': [1, 'a'] },
        retry: { maxAttempts: 4, maxEventAge: '3600s' },
        description: 'push orders',
      },
    });
    // The disabled rule is declared but not in the config's rules.
    expect((config.rules ?? []).map((r) => r.name)).toEqual(['orders']);
    expect(config.rules![0]).toMatchObject({ input: '$.detail' });
  });

  it('an empty plan is still a config that loads', async () => {
    const text = renderConfig(emptyPlan(), { outFile: 'mainspring.config.ts', sources: ['crontab'] });
    const { config } = await loadConfig(projectWith(text));
    expect(config.functions ?? []).toEqual([]);
  });
});

describe('mergePlans', () => {
  it("one Amplify function from resource.ts and backend.ts's schedule is one function with both", () => {
    const resource = emptyPlan();
    resource.functions.push({
      kind: 'handler',
      name: 'daily-sync',
      origin: at('defineFunction dailySync', 3, 'amplify/functions/daily-sync/resource.ts'),
      handlerFile: 'amplify/functions/daily-sync/handler.ts',
      timeoutSeconds: 300,
      triggers: [],
    });
    const backend = emptyPlan();
    backend.functions.push({
      kind: 'handler',
      name: 'daily-sync',
      origin: at('events.Rule DailySyncSchedule', 18, 'amplify/backend.ts'),
      triggers: [{ kind: 'schedule', schedule: { expression: 'cron(0 2 * * ? *)' } }],
    });
    const merged = mergePlans([backend, resource]);
    expect(merged.functions).toEqual([
      expect.objectContaining({
        name: 'daily-sync',
        handlerFile: 'amplify/functions/daily-sync/handler.ts',
        timeoutSeconds: 300,
        triggers: [{ kind: 'schedule', schedule: { expression: 'cron(0 2 * * ? *)' } }],
      }),
    ]);
  });

  it('two different items with one name are kept apart, the later renamed with a note', () => {
    const a = emptyPlan();
    a.functions.push({
      kind: 'command',
      name: 'backup',
      origin: at('x', 1, 'a.tf'),
      command: ['a'],
      triggers: [],
    });
    a.queues.push({ name: 'jobs', origin: at('q', 2, 'a.tf'), visibilityTimeoutSeconds: 10 });
    const b = emptyPlan();
    b.functions.push({
      kind: 'command',
      name: 'backup',
      origin: at('y', 1, 'crontab'),
      command: ['b'],
      triggers: [],
    });
    b.queues.push({ name: 'jobs', origin: at('q', 2, 'b.tf'), visibilityTimeoutSeconds: 20 });
    b.functions.push({
      kind: 'handler',
      name: 'w',
      origin: at('w', 5, 'b.tf'),
      triggers: [{ kind: 'queue', queue: 'jobs' }],
    });
    const merged = mergePlans([a, b]);
    expect(merged.functions.map((f) => f.name)).toEqual(['backup', 'backup-2', 'w']);
    expect(merged.queues.map((q) => q.name)).toEqual(['jobs', 'jobs-2']);
    // b's worker consumed b's queue, which is now jobs-2.
    expect(merged.functions[2]!.triggers).toEqual([{ kind: 'queue', queue: 'jobs-2' }]);
    expect(merged.report.map((l) => l.message)).toEqual([
      'another queue is already named "jobs": this one is "jobs-2"',
      'another function is already named "backup": this one is "backup-2"',
    ]);
  });
});

describe('safeName and the report', () => {
  it('makes mainspring names of source names', () => {
    expect(safeName('dailyReport')).toBe('daily-report');
    expect(safeName('db_cleanup_job')).toBe('db-cleanup-job');
    expect(safeName(`${VAR_ENV}-db-cleanup`)).toBe('var.env-db-cleanup');
    expect(safeName('x'.repeat(50), 40)).toHaveLength(40);
  });

  it('lists every item, by file and line, with the counts', () => {
    const lines = [
      { origin: at('b', 9), outcome: 'skipped' as const, message: 'not a thing mainspring runs' },
      { origin: at('a', 2), outcome: 'imported' as const, message: 'queue jobs' },
      { origin: at('c', 0, 'crontab'), outcome: 'noted' as const, message: 'became sh -c' },
    ];
    expect(formatReport(lines, ['infra/main.tf', 'crontab'])).toBe(
      'mainspring import: 3 items in 2 files: 1 imported, 1 imported with a note, 1 not importable\n' +
        '  noted     crontab          c: became sh -c\n' +
        '  imported  infra/main.tf:2  a: queue jobs\n' +
        '  skipped   infra/main.tf:9  b: not a thing mainspring runs\n',
    );
  });
});
