// Stacktape and Serverless YAML → ImportPlan: the seed's real Stacktape config, a Serverless
// service with every event form we read, and input that must fail cleanly or be reported.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSchedule } from '../../src/expressions/index.ts';
import type { ImportedFunction, ImportPlan, ReportLine } from '../../src/import/model.ts';
import { ImportError } from '../../src/import/model.ts';
import {
  looksLikeServerless,
  looksLikeStacktape,
  readServerless,
  readStacktape,
} from '../../src/import/yaml/index.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');

function fixture(path: string): { file: string; text: string } {
  const file = join(FIXTURES, path);
  return { file, text: readFileSync(file, 'utf8') };
}

/** The 1-based line where `line` (a whole line, indentation included) is in `text`. */
function lineIn(text: string, line: string): number {
  const index = text.split('\n').indexOf(line);
  if (index < 0) throw new Error(`fixture has no line ${JSON.stringify(line)}`);
  return index + 1;
}

function fn(plan: ImportPlan, name: string): ImportedFunction {
  const found = plan.functions.find((f) => f.name === name);
  if (!found) throw new Error(`no function ${name} in ${plan.functions.map((f) => f.name).join(', ')}`);
  return found;
}

function reportFor(plan: ImportPlan, item: string): ReportLine {
  const lines = plan.report.filter((r) => r.origin.item === item);
  expect(lines, `one report line for ${item}`).toHaveLength(1);
  return lines[0]!;
}

function thrown(run: () => unknown): ImportError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ImportError);
    return error as ImportError;
  }
  throw new Error('expected an ImportError');
}

function scheduleError(expression: string): string {
  try {
    parseSchedule(expression);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`${expression} parses`);
}

describe('readStacktape: the seed 001 config', () => {
  const { file, text } = fixture('stacktape-seed-001.yml');
  const plan = readStacktape(file, text);

  it('imports the job queue with its retry policy and the dead-letter queue', () => {
    const queue = plan.queues.find((q) => q.name === 'job-queue');
    expect(queue).toMatchObject({
      visibilityTimeoutSeconds: 300,
      maxReceiveCount: 3,
      deadLetterQueue: 'dead-letter-queue',
    });
    expect(plan.queues.map((q) => q.name).sort()).toEqual(['dead-letter-queue', 'job-queue']);
  });

  it('imports the worker with its queue trigger and its entry file beside the YAML', () => {
    const worker = fn(plan, 'worker');
    expect(worker.kind).toBe('handler');
    expect(worker.triggers).toEqual([{ kind: 'queue', queue: 'job-queue', batchSize: 1 }]);
    expect(worker.timeoutSeconds).toBe(300);
    if (worker.kind !== 'handler') throw new Error('not a handler');
    expect(worker.handlerFile).toBe(join(FIXTURES, 'src/worker.ts'));
    expect(worker.handlerFile?.endsWith('src/worker.ts')).toBe(true);
  });

  it('imports dailyReport as daily-report with its cron verbatim', () => {
    const report = fn(plan, 'daily-report');
    expect(report.triggers).toEqual([{ kind: 'schedule', schedule: { expression: 'cron(0 9 * * ? *)' } }]);
    expect(report.timeoutSeconds).toBe(300);
    expect(reportFor(plan, 'resources.dailyReport').outcome).toBe('imported');
  });

  it('imports the batch job as a node command with its timeout and schedule, noting cpu/memory', () => {
    const job = fn(plan, 'heavy-job');
    if (job.kind !== 'command') throw new Error(`heavy-job is a ${job.kind}`);
    expect(job.command).toEqual(['node', join(FIXTURES, 'src/heavy-processing.ts')]);
    expect(job.timeoutSeconds).toBe(3600);
    expect(job.triggers).toEqual([{ kind: 'schedule', schedule: { expression: 'cron(0 2 * * ? *)' } }]);
    const line = reportFor(plan, 'resources.heavyJob');
    expect(line.outcome).toBe('noted');
    expect(line.message).toContain('cpu 4, memory 8192');
  });

  it('keeps the api function as a stub and notes its HTTP event', () => {
    expect(fn(plan, 'api').triggers).toEqual([]);
    const line = reportFor(plan, 'resources.api');
    expect(line.outcome).toBe('noted');
    expect(line.message).toContain('HTTP events are not imported');
  });

  it('gives every resource exactly one report line, at the real line of its key', () => {
    const keys = ['dailyReport', 'api', 'jobQueue', 'deadLetterQueue', 'worker', 'heavyJob'];
    expect(plan.report.map((r) => r.origin.item).sort()).toEqual(keys.map((k) => `resources.${k}`).sort());
    for (const key of keys) {
      const line = reportFor(plan, `resources.${key}`);
      expect(line.origin, key).toEqual({ file, line: lineIn(text, `  ${key}:`), item: `resources.${key}` });
    }
    expect(fn(plan, 'worker').origin.line).toBe(lineIn(text, '  worker:'));
    expect(plan.queues.find((q) => q.name === 'job-queue')?.origin.line).toBe(lineIn(text, '  jobQueue:'));
  });
});

describe('readStacktape: other shapes', () => {
  const file = 'app/stacktape.yml';

  it('turns an event-bus event into a rule named after the function, and skips buses and buckets', () => {
    const text = [
      'resources:',
      '  eventBus:',
      '    type: event-bus',
      '  uploads:',
      '    type: bucket',
      '  emailServiceWithLongNameForTheRuleToBeCut:',
      '    type: function',
      '    properties:',
      '      packaging:',
      '        type: stacktape-lambda-buildpack',
      '        properties:',
      '          entryfilePath: src/send-emails.ts',
      '      environment:',
      '        - name: FROM',
      '          value: shop@example.com',
      '        - name: DB_URL',
      "          value: $ResourceParam('db', 'connectionString')",
      '      events:',
      '        - type: event-bus',
      '          properties:',
      '            eventBusName: eventBus',
      '            eventPattern:',
      '              source:',
      '                - orders',
      '        - type: s3',
      '          properties:',
      '            bucketName: uploads',
    ].join('\n');
    const plan = readStacktape(file, text);
    expect(plan.rules).toHaveLength(1);
    const rule = plan.rules[0]!;
    expect(rule.name.length).toBeLessThanOrEqual(40);
    expect(rule.name).toBe('email-service-with-long-name-for-the-rul');
    expect(rule.pattern).toEqual({ source: ['orders'] });
    expect(rule.targets).toEqual([
      { kind: 'function', name: 'email-service-with-long-name-for-the-rule-to-be-cut' },
    ]);
    expect(rule.origin.line).toBe(19);
    const email = fn(plan, 'email-service-with-long-name-for-the-rule-to-be-cut');
    if (email.kind !== 'handler') throw new Error('not a handler');
    expect(email.handlerFile).toBe('app/src/send-emails.ts');
    expect(email.env).toEqual({ FROM: 'shop@example.com' });
    // The directive is kept as written, for the server's environment to supply.
    expect(email.envFromServer).toEqual({ DB_URL: "$ResourceParam('db', 'connectionString')" });
    const line = reportFor(plan, 'resources.emailServiceWithLongNameForTheRuleToBeCut');
    expect(line.message).toContain('DB_URL');
    expect(line.message).toContain('defineFileTrigger');
    expect(reportFor(plan, 'resources.eventBus')).toMatchObject({ outcome: 'skipped', origin: { line: 2 } });
    expect(reportFor(plan, 'resources.eventBus').message).toContain('one bus per app');
    expect(reportFor(plan, 'resources.uploads').message).toContain('defineFileTrigger');
  });

  it('skips an unknown resource type with a line of its own', () => {
    const text = 'resources:\n  cache:\n    type: redis-cluster\n  q:\n    type: sqs-queue\n';
    const plan = readStacktape(file, text);
    expect(reportFor(plan, 'resources.cache')).toMatchObject({ outcome: 'skipped', origin: { line: 2 } });
    expect(reportFor(plan, 'resources.cache').message).toContain('redis-cluster');
    expect(plan.queues.map((q) => q.name)).toEqual(['q']);
  });

  it('drops a schedule AWS would reject with the parser message, skipping a function left with nothing', () => {
    const bad = 'cron(0 9 * * * *)';
    const text = [
      'resources:',
      '  onlyBad:',
      '    type: function',
      '    properties:',
      '      packaging: { type: stacktape-lambda-buildpack, properties: { entryfilePath: src/a.ts } }',
      '      events:',
      '        - type: schedule',
      `          properties: { scheduleRate: '${bad}' }`,
      '  halfBad:',
      '    type: function',
      '    properties:',
      '      packaging: { type: stacktape-lambda-buildpack, properties: { entryfilePath: src/b.ts } }',
      '      events:',
      `        - { type: schedule, properties: { scheduleRate: '${bad}' } }`,
      '        - { type: schedule, properties: { scheduleRate: rate(5 minutes) } }',
    ].join('\n');
    const plan = readStacktape(file, text);
    const message = scheduleError(bad);
    expect(plan.functions.map((f) => f.name)).toEqual(['half-bad']);
    expect(reportFor(plan, 'resources.onlyBad')).toMatchObject({ outcome: 'skipped', origin: { line: 2 } });
    expect(reportFor(plan, 'resources.onlyBad').message).toContain(message);
    expect(reportFor(plan, 'resources.halfBad')).toMatchObject({ outcome: 'noted', origin: { line: 9 } });
    expect(reportFor(plan, 'resources.halfBad').message).toContain(message);
    expect(fn(plan, 'half-bad').triggers).toEqual([
      { kind: 'schedule', schedule: { expression: 'rate(5 minutes)' } },
    ]);
  });

  it('notes queue properties it leaves behind and a dead-letter queue not in the file', () => {
    const text = [
      'resources:',
      '  orders:',
      '    type: sqs-queue',
      '    properties:',
      '      fifoQueue: true',
      '      delayMessageSeconds: 5',
      '      messageRetentionPeriodSeconds: 600',
      '      redrivePolicy: { targetSqsQueueName: elsewhere, maxReceiveCount: 2 }',
    ].join('\n');
    const plan = readStacktape(file, text);
    expect(plan.queues).toEqual([
      {
        name: 'orders',
        origin: { file, line: 2, item: 'resources.orders' },
        fifo: true,
        delaySeconds: 5,
        maxReceiveCount: 2,
      },
    ]);
    const line = reportFor(plan, 'resources.orders');
    expect(line.outcome).toBe('noted');
    expect(line.message).toContain('messageRetentionPeriodSeconds');
    expect(line.message).toContain('elsewhere');
  });
});

describe('readServerless', () => {
  const { file, text } = fixture('serverless/serverless.yml');
  const plan = readServerless(file, text);

  it('reads the queues in resources with their redrive policy', () => {
    expect(plan.queues.map((q) => q.name)).toEqual(['job-queue', 'job-dlq', 'orders-mail']);
    expect(plan.queues[0]).toMatchObject({
      visibilityTimeoutSeconds: 720,
      maxReceiveCount: 4,
      deadLetterQueue: 'job-dlq',
      origin: { line: lineIn(text, '    JobQueue:'), item: 'resources.Resources.JobQueue' },
    });
    expect(plan.queues[2]).toMatchObject({ delaySeconds: 10, fifo: false });
    // QueueName was a ${…} variable: named after the logical id, with a note.
    expect(reportFor(plan, 'resources.Resources.JobQueue').outcome).toBe('noted');
    expect(reportFor(plan, 'resources.Resources.JobDlq').message).toContain('MessageRetentionPeriod');
    expect(reportFor(plan, 'resources.Resources.UploadsBucket')).toMatchObject({
      outcome: 'skipped',
      origin: { line: lineIn(text, '    UploadsBucket:') },
    });
  });

  it('resolves sqs events through Fn::GetAtt, !GetAtt and a literal ARN', () => {
    expect(fn(plan, 'worker').triggers).toEqual([{ kind: 'queue', queue: 'job-queue', batchSize: 5 }]);
    expect(fn(plan, 'digest').triggers).toEqual([{ kind: 'queue', queue: 'job-dlq', batchSize: 10 }]);
    expect(fn(plan, 'mailer').triggers).toEqual([{ kind: 'queue', queue: 'orders-mail' }]);
  });

  it('reads the handler path, export, timeout and environment, variables in envFromServer', () => {
    const worker = fn(plan, 'worker');
    if (worker.kind !== 'handler') throw new Error('not a handler');
    expect(worker.handlerFile).toBe(join(FIXTURES, 'serverless/src/worker.ts'));
    expect(worker.handlerExport).toBe('handler');
    expect(worker.timeoutSeconds).toBe(120);
    expect(worker.env).toEqual({ STAGE: 'prod', BATCH: '10' });
    expect(worker.envFromServer).toEqual({ TABLE: `\${self:service}-\${sls:stage}-orders` });
    expect(reportFor(plan, 'functions.worker').message).toContain('TABLE');
    const mailer = fn(plan, 'mailer');
    if (mailer.kind !== 'handler') throw new Error('not a handler');
    expect(mailer.handlerExport).toBe('send');
    expect(mailer.timeoutSeconds).toBe(30); // provider.timeout
    expect(reportFor(plan, 'functions.mailer').message).toContain('src/mailer.{ts');
  });

  it('reads schedules in string and object form, one trigger per rate, disabled and with input', () => {
    expect(fn(plan, 'nightly').triggers).toEqual([
      { kind: 'schedule', schedule: { expression: 'cron(0 3 * * ? *)' } },
      { kind: 'schedule', schedule: { expression: 'cron(0 12 * * ? *)', payload: { kind: 'rollup' } } },
      { kind: 'schedule', schedule: { expression: 'rate(5 minutes)', payload: { kind: 'rollup' } } },
      { kind: 'schedule', schedule: { expression: 'rate(1 day)', enabled: false } },
    ]);
    expect(fn(plan, 'nightly').description).toBe('Nightly rollup');
    // `${self:custom.reportRate}` is not resolved: reported, not guessed.
    expect(reportFor(plan, 'functions.nightly').message).toContain(`\${self:custom.reportRate}`);
  });

  it('notes the HTTP event and turns the eventBridge pattern into a rule', () => {
    const line = reportFor(plan, 'functions.api');
    expect(line.outcome).toBe('noted');
    expect(line.message).toContain('HTTP events are not imported');
    expect(plan.rules).toEqual([
      {
        name: 'api',
        origin: { file, line: lineIn(text, '      - eventBridge:'), item: 'functions.api.events[1]' },
        pattern: { source: ['orders'], 'detail-type': ['OrderCreated'] },
        targets: [{ kind: 'function', name: 'api' }],
      },
    ]);
  });

  it('gives every function and resource one report line at its real line', () => {
    const fns = ['worker', 'mailer', 'digest', 'nightly', 'api'];
    const res = ['JobQueue', 'JobDlq', 'MailQueue', 'UploadsBucket'];
    expect(plan.report).toHaveLength(fns.length + res.length);
    for (const name of fns)
      expect(reportFor(plan, `functions.${name}`).origin.line).toBe(lineIn(text, `  ${name}:`));
    for (const id of res) {
      expect(reportFor(plan, `resources.Resources.${id}`).origin.line).toBe(lineIn(text, `    ${id}:`));
    }
  });

  it('reads CloudFormation short tags, Fn::Sub ARNs, anchors and merge keys', () => {
    const yml = [
      'service: tags',
      'defaults: &defaults',
      '  timeout: 45',
      'functions:',
      '  one:',
      '    <<: *defaults',
      '    handler: one.handler',
      '    environment:',
      '      QUEUE_URL: !Ref Queue',
      '    events:',
      '      - sqs:',
      // CloudFormation's own ${…} placeholders, as written in the YAML.
      `          arn: !Sub arn:aws:sqs:\${AWS::Region}:\${AWS::AccountId}:work`,
      'resources:',
      '  Resources:',
      '    Queue:',
      '      Type: AWS::SQS::Queue',
      '      Properties:',
      '        QueueName: work',
      '        VisibilityTimeout: !Ref Visibility',
    ].join('\n');
    const p = readServerless('serverless.yml', yml);
    const one = fn(p, 'one');
    expect(one.timeoutSeconds).toBe(45);
    expect(one.triggers).toEqual([{ kind: 'queue', queue: 'work' }]);
    if (one.kind !== 'handler') throw new Error('not a handler');
    expect(one.env).toBeUndefined();
    expect(one.envFromServer).toEqual({ QUEUE_URL: '!Ref Queue' });
    expect(reportFor(p, 'functions.one').message).toContain('QUEUE_URL');
    expect(p.queues).toEqual([
      { name: 'work', origin: { file: 'serverless.yml', line: 15, item: 'resources.Resources.Queue' } },
    ]);
    expect(reportFor(p, 'resources.Resources.Queue').message).toContain('VisibilityTimeout');
  });

  it("keeps computed environment values as written, a function's own replacing the provider's", () => {
    const yml = [
      'service: env',
      'provider:',
      '  environment:',
      `    REGION: \${aws:region}`,
      `    STAGE: \${sls:stage}`,
      'functions:',
      '  one:',
      '    handler: one.handler',
      '    environment:',
      '      STAGE: prod',
      `      TOKEN: '\${ssm:/app/token}'`,
      '      QUEUE_ARN:',
      '        Fn::GetAtt: [Queue, Arn]',
    ].join('\n');
    const one = fn(readServerless('serverless.yml', yml), 'one');
    if (one.kind !== 'handler') throw new Error('not a handler');
    expect(one.env).toEqual({ STAGE: 'prod' });
    expect(one.envFromServer).toEqual({
      REGION: `\${aws:region}`,
      TOKEN: `\${ssm:/app/token}`,
      QUEUE_ARN: 'Fn::GetAtt: [Queue, Arn]',
    });
  });
});

describe('bad input', () => {
  it('throws an ImportError with the file, the line and the parser message on malformed YAML', () => {
    const text = 'service: x\nfunctions:\n  a:\n    handler: [one\n  b: 2\n';
    for (const read of [readServerless, readStacktape]) {
      const error = thrown(() => read('broken.yml', text));
      expect(error.file).toBe('broken.yml');
      expect(error.line).toBe(5);
      expect(error.message).toMatch(/^broken\.yml:5: YAML: .*Flow sequence/);
      expect(error.code).toBe('E_IMPORT_INVALID');
    }
  });

  it('throws an ImportError naming what was expected for a document in neither format', () => {
    for (const text of [
      'name: hello\nsteps: []\n',
      '',
      '- a\n- b\n',
      'resources:\n  Resources:\n    Q:\n      Type: x\n',
    ]) {
      expect(thrown(() => readStacktape('x.yml', text)).message).toContain('expected a Stacktape config');
      expect(thrown(() => readServerless('x.yml', text)).message).toContain(
        'expected a Serverless Framework file',
      );
    }
  });

  it('throws an ImportError on an alias that contains itself', () => {
    const error = thrown(() => readServerless('loop.yml', 'service: x\nfunctions: &f\n  a: *f\n'));
    expect(error.message).toContain('loop.yml');
  });

  it('reports a Serverless schedule AWS would reject instead of throwing', () => {
    const bad = 'cron(0 9 * * * *)';
    const text = `service: x\nfunctions:\n  a:\n    handler: a.handler\n    events:\n      - schedule: ${bad}\n`;
    const plan = readServerless('serverless.yml', text);
    expect(plan.functions).toEqual([]);
    expect(plan.report).toHaveLength(1);
    expect(plan.report[0]).toMatchObject({ outcome: 'skipped', origin: { line: 3, item: 'functions.a' } });
    expect(plan.report[0]?.message).toContain(scheduleError(bad));
  });
});

describe('looksLikeServerless / looksLikeStacktape', () => {
  it('tells the formats apart', () => {
    expect(looksLikeServerless({ service: 'a', functions: {} })).toBe(true);
    expect(looksLikeServerless({ service: 'a', provider: { name: 'aws' } })).toBe(true);
    expect(looksLikeServerless({ functions: {} })).toBe(false);
    expect(looksLikeServerless(null)).toBe(false);
    expect(looksLikeStacktape({ resources: { q: { type: 'sqs-queue' } } })).toBe(true);
    expect(looksLikeStacktape({ resources: { Resources: { Q: { Type: 'AWS::SQS::Queue' } } } })).toBe(false);
    expect(looksLikeStacktape({ resources: {} })).toBe(false);
    expect(looksLikeStacktape('resources')).toBe(false);
  });
});
