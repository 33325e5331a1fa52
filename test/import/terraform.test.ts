import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  ImportError,
  type ImportedCommand,
  type ImportedFunction,
  type ImportedHandler,
  type ImportedSend,
  type ImportPlan,
  type ReportLine,
} from '../../src/import/model.ts';
import { readTerraform, readTerraformModule } from '../../src/import/terraform/index.ts';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const SEED = `${FIXTURES}seed-002.tf`;
const QUEUES = `${FIXTURES}queues-and-schedules.tf`;
const MODULE = `${FIXTURES}tf-module/`;
/** seed-002.tf split the way a Terraform folder usually is. */
const MODULE_FILES = ['ecs.tf', 'events.tf', 'iam.tf'].map((f) => `${MODULE}${f}`);

function read(path: string): Promise<ImportPlan> {
  return readTerraform(path, readFileSync(path, 'utf8'));
}

function fn<K extends ImportedFunction['kind']>(
  plan: ImportPlan,
  name: string,
  kind: K,
): Extract<ImportedFunction, { kind: K }> {
  const found = plan.functions.find((f) => f.name === name);
  expect(found, `function ${name}`).toBeDefined();
  expect(found!.kind).toBe(kind);
  return found as Extract<ImportedFunction, { kind: K }>;
}

function line(plan: ImportPlan, item: string): ReportLine {
  const lines = plan.report.filter((l) => l.origin.item === item);
  expect(lines, `report lines for ${item}`).toHaveLength(1);
  return lines[0]!;
}

/** `resource "TYPE" "NAME"` blocks with their 1-based lines, found line by line (not with lineOf). */
function resourceLines(text: string): Map<string, number> {
  const out = new Map<string, number>();
  text.split('\n').forEach((l, i) => {
    const words = l.trim().split(/\s+/);
    if (words[0] === 'resource' && words.length >= 3) {
      out.set(`${words[1]!.replaceAll('"', '')}.${words[2]!.replaceAll('"', '')}`, i + 1);
    }
  });
  return out;
}

function expectOneLinePerResource(plan: ImportPlan, ...paths: string[]): void {
  const real = new Map<string, { file: string; line: number }>();
  for (const path of paths) {
    for (const [item, line] of resourceLines(readFileSync(path, 'utf8')))
      real.set(item, { file: path, line });
  }
  expect(real.size).toBeGreaterThan(0);
  expect(plan.report.map((l) => l.origin.item).sort()).toEqual([...real.keys()].sort());
  for (const l of plan.report) {
    expect({ file: l.origin.file, line: l.origin.line }, l.origin.item).toEqual(real.get(l.origin.item));
  }
}

function readModule(paths: readonly string[]): Promise<ImportPlan> {
  return readTerraformModule(paths.map((file) => ({ file, text: readFileSync(file, 'utf8') })));
}

/** A plan's items without where they came from, to compare one module's plan with another's. */
function withoutOrigins(plan: ImportPlan): unknown {
  const strip = <T extends { origin: unknown }>({ origin: _, ...rest }: T) => rest;
  return {
    queues: plan.queues.map(strip),
    functions: plan.functions.map(strip),
    rules: plan.rules.map(strip),
    report: plan.report.map((l) => ({ item: l.origin.item, outcome: l.outcome, message: l.message })),
  };
}

describe('readTerraform: the seed’s ECS cron job (seed 002)', () => {
  it('imports the task definition’s command, run by the rule’s schedule', async () => {
    const plan = await read(SEED);
    expect(plan.functions).toHaveLength(1);
    const job: ImportedCommand = fn(plan, 'db-cleanup', 'command');
    expect(job.command).toEqual(['node', 'jobs/db-cleanup.js']);
    expect(job.env).toEqual({ JOB_NAME: 'db-cleanup' });
    expect(job.envFromServer).toEqual({ NODE_ENV: `\${var.env}` });
    expect(job.secrets).toEqual(['DB_USERNAME', 'DB_PASSWORD']);
    expect(job.maxAttempts).toBe(1);
    expect(job.origin.item).toBe('aws_ecs_task_definition.db_cleanup_job');
    expect(job.triggers).toEqual([
      {
        kind: 'schedule',
        schedule: {
          expression: 'cron(0 2 * * ? *)',
          description: 'Run database cleanup job daily at 2 AM UTC',
        },
      },
    ]);
    expect(plan.queues).toEqual([]);
    expect(plan.rules).toEqual([]);
  });

  it('never copies a secret’s valueFrom', async () => {
    const plan = await read(SEED);
    expect(JSON.stringify(plan)).not.toContain('secret_arn');
  });

  it('reports every resource once, on its real line', async () => {
    const plan = await read(SEED);
    expectOneLinePerResource(plan, SEED);
    expect(line(plan, 'aws_ecs_task_definition.db_cleanup_job').outcome).toBe('noted');
    expect(line(plan, 'aws_ecs_task_definition.db_cleanup_job').message).toContain('maxAttempts 1');
    expect(line(plan, 'aws_cloudwatch_event_rule.db_cleanup_schedule').outcome).toBe('imported');
    expect(line(plan, 'aws_cloudwatch_event_target.db_cleanup_target').outcome).toBe('imported');
    for (const item of [
      'aws_iam_role.eventbridge_ecs_role',
      'aws_iam_role_policy.eventbridge_ecs_policy',
      'aws_security_group.cron_jobs',
      'aws_cloudwatch_log_group.cron_jobs',
    ]) {
      const l = line(plan, item);
      expect(l.outcome, item).toBe('skipped');
      expect(l.message).toContain(item.split('.')[0]);
    }
  });
});

describe('readTerraform: queues, Scheduler schedules, pattern rules, Lambda', () => {
  it('imports queues with their dead-letter queue, FIFO flag and the settings left behind', async () => {
    const plan = await read(QUEUES);
    expect(plan.queues.map((q) => q.name)).toEqual(['orders-dlq', 'orders', 'payments']);
    const [, orders, payments] = plan.queues;
    expect(orders).toMatchObject({
      visibilityTimeoutSeconds: 60,
      delaySeconds: 5,
      deadLetterQueue: 'orders-dlq',
      maxReceiveCount: 3,
    });
    expect(orders!.fifo).toBeUndefined();
    // Redrive written as a JSON heredoc with a literal ARN.
    expect(payments).toMatchObject({ fifo: true, deadLetterQueue: 'orders-dlq', maxReceiveCount: 5 });
    const note = line(plan, 'aws_sqs_queue.orders');
    expect(note.outcome).toBe('noted');
    expect(note.message).toContain('no per-queue delay');
    expect(note.message).toContain('left behind: message_retention_seconds, receive_wait_time_seconds');
  });

  it('turns a Scheduler schedule targeting a queue into a send function with every written option', async () => {
    const plan = await read(QUEUES);
    const send: ImportedSend = fn(plan, 'nightly-export', 'send');
    expect(send.queue).toBe('orders');
    expect(send.triggers).toEqual([
      {
        kind: 'schedule',
        schedule: {
          expression: 'cron(30 1 * * ? *)',
          timezone: 'Europe/Berlin',
          start: '2026-01-01T00:00:00Z',
          end: '2026-12-31T23:59:59Z',
          flexibleWindowMinutes: 15,
          payload: { kind: 'export', days: 1 },
          maxAttempts: 3,
          maxEventAgeSeconds: 3600,
          description: "Export yesterday's orders",
        },
      },
    ]);
    expect(line(plan, 'aws_scheduler_schedule.nightly_export').message).toContain('dead_letter_config');
  });

  it('gives a Lambda scheduled by a Scheduler schedule and a disabled rule two schedule triggers', async () => {
    const plan = await read(QUEUES);
    const report: ImportedHandler = fn(plan, 'report-builder', 'handler');
    expect(report.handlerExport).toBe('build');
    expect(report.handlerFile).toBe(`${FIXTURES}lambda/report.js`);
    expect(report.timeoutSeconds).toBe(30);
    expect(report.env).toEqual({ STAGE: 'prod' });
    // A computed value is read from the server's environment, the expression kept for the reader.
    expect(report.envFromServer).toEqual({ TABLE: `\${aws_dynamodb_table.reports.name}` });
    expect(report.triggers).toEqual([
      {
        kind: 'schedule',
        schedule: {
          expression: 'rate(5 minutes)',
          enabled: false,
          payload: { sweep: true },
          maxAttempts: 1,
          maxEventAgeSeconds: 600,
        },
      },
      // Scheduler's default retry policy is not written, so it is not copied.
      { kind: 'schedule', schedule: { expression: 'rate(1 hour)' } },
    ]);
    expect(line(plan, 'aws_lambda_function.report').message).toContain('TABLE is computed');
    expect(line(plan, 'aws_scheduler_schedule.hourly_report').message).toContain('185 retries');
  });

  it('imports an event-pattern rule with a Lambda and a queue target', async () => {
    const plan = await read(QUEUES);
    expect(plan.rules).toEqual([
      {
        name: 's3-uploads',
        origin: expect.objectContaining({ item: 'aws_cloudwatch_event_rule.s3_uploads' }),
        pattern: {
          source: ['aws.s3'],
          'detail-type': ['Object Created'],
          detail: { bucket: { name: ['uploads'] } },
        },
        targets: [
          { kind: 'function', name: 'process-upload' },
          { kind: 'queue', name: 'orders' },
        ],
        inputPath: '$.detail',
        description: 'New objects in the uploads bucket',
      },
    ]);
    const upload: ImportedHandler = fn(plan, 'process-upload', 'handler');
    expect(upload.handlerExport).toBe('main');
    expect(upload.handlerFile).toBeUndefined();
    expect(upload.triggers).toEqual([{ kind: 'queue', queue: 'orders', batchSize: 10 }]);
    expect(line(plan, 'aws_cloudwatch_event_target.s3_uploads_queue').message).toContain(
      'input transformers are not imported',
    );
  });

  it('skips a rule whose expression AWS rejects, saying why, and its target with it', async () => {
    const plan = await read(QUEUES);
    const broken = line(plan, 'aws_cloudwatch_event_rule.broken');
    expect(broken.outcome).toBe('skipped');
    expect(broken.message).toMatch(/^cron\(0 2 \* \* \* \*\): .*day-of-month.*"\?"/);
    expect(line(plan, 'aws_cloudwatch_event_target.broken_report')).toMatchObject({ outcome: 'skipped' });
    const expressions = plan.functions.flatMap((f) =>
      f.triggers.flatMap((t) => (t.kind === 'schedule' ? [t.schedule.expression] : [])),
    );
    expect(expressions).not.toContain('cron(0 2 * * * *)');
  });

  it('reports every resource once, on its real line; an unknown type is skipped by name', async () => {
    const plan = await read(QUEUES);
    expectOneLinePerResource(plan, QUEUES);
    expect(line(plan, 'aws_dynamodb_table.reports')).toMatchObject({
      outcome: 'skipped',
      message: 'aws_dynamodb_table is not something mainspring runs: left out',
    });
  });
});

describe('readTerraform: container definitions, references and bad input', () => {
  it('throws an ImportError with the file and line for malformed HCL', async () => {
    const text = 'resource "aws_sqs_queue" "q" {\n  name = \n}\n';
    const err = await readTerraform('bad.tf', text).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportError);
    const importError = err as ImportError;
    expect(importError.file).toBe('bad.tf');
    expect(importError.line).toBe(2);
    expect(importError.message).toMatch(
      /^bad\.tf:2: HCL: Invalid expression; Expected the start of an expression/,
    );
  });

  it('skips an unknown resource type without throwing', async () => {
    const plan = await readTerraform('x.tf', 'resource "aws_kinesis_stream" "s" {\n  name = "s"\n}\n');
    expect(plan.report).toEqual([
      {
        origin: { file: 'x.tf', line: 1, item: 'aws_kinesis_stream.s' },
        outcome: 'skipped',
        message: 'aws_kinesis_stream is not something mainspring runs: left out',
      },
    ]);
  });

  it('reads container definitions from file() relative to the .tf file, first essential container', async () => {
    const tf = `${FIXTURES}from-file.tf`;
    const text = [
      'resource "aws_ecs_task_definition" "reports" {',
      '  family                = "reports"',
      `  container_definitions = file("\${path.module}/terraform-containers.json")`,
      '}',
      'resource "aws_scheduler_schedule" "weekly" {',
      '  schedule_expression = "cron(0 6 ? * MON *)"',
      '  flexible_time_window {',
      '    mode = "OFF"',
      '  }',
      '  target {',
      '    arn = aws_ecs_cluster.main.arn',
      '    ecs_parameters {',
      '      task_definition_arn = aws_ecs_task_definition.reports.arn',
      '    }',
      '    retry_policy {',
      '      maximum_retry_attempts = 4',
      '    }',
      '  }',
      '}',
      '',
    ].join('\n');
    const plan = await readTerraform(tf, text);
    const job: ImportedCommand = fn(plan, 'report-sender', 'command');
    expect(job.command).toEqual(['node', 'jobs/send-reports.js', '--weekly']);
    expect(job.env).toEqual({ LOG_LEVEL: 'info' });
    expect(job.secrets).toEqual(['SMTP_PASSWORD']);
    expect(job.maxAttempts).toBe(1);
    expect(job.triggers).toEqual([
      { kind: 'schedule', schedule: { expression: 'cron(0 6 ? * MON *)', maxAttempts: 5 } },
    ]);
    expect(line(plan, 'aws_scheduler_schedule.weekly')).toMatchObject({
      outcome: 'imported',
      origin: { line: 5 },
    });
  });

  it('reads container definitions written as a JSON heredoc; is_enabled = false disables the rule; ECS input is not a payload', async () => {
    const text = [
      'resource "aws_ecs_task_definition" "sync" {',
      '  family                = "sync"',
      '  container_definitions = <<EOF',
      '[{"name": "sync", "essential": true, "command": ["./sync", "--all"],',
      `  "environment": [{"name": "REGION", "value": "\${var.region}"}]}]`,
      'EOF',
      '}',
      'resource "aws_cloudwatch_event_rule" "sync" {',
      '  schedule_expression = "rate(15 minutes)"',
      '  is_enabled          = false',
      '}',
      'resource "aws_cloudwatch_event_target" "sync" {',
      '  rule  = aws_cloudwatch_event_rule.sync.name',
      '  arn   = aws_ecs_cluster.main.arn',
      '  input = jsonencode({ containerOverrides = [] })',
      '  ecs_target {',
      '    task_definition_arn = aws_ecs_task_definition.sync.arn',
      '  }',
      '}',
      '',
    ].join('\n');
    const plan = await readTerraform('sync.tf', text);
    const job: ImportedCommand = fn(plan, 'sync', 'command');
    expect(job.command).toEqual(['./sync', '--all']);
    expect(job.envFromServer).toEqual({ REGION: `\${var.region}` });
    expect(job.triggers).toEqual([
      { kind: 'schedule', schedule: { expression: 'rate(15 minutes)', enabled: false } },
    ]);
    // An ECS target's input is RunTask overrides, never a payload.
    expect(line(plan, 'aws_cloudwatch_event_target.sync').message).toContain('container overrides');
  });

  it('skips a container with no command, a missing file(), and a task definition no rule runs', async () => {
    const text = [
      'resource "aws_ecs_task_definition" "image_only" {',
      '  container_definitions = jsonencode([{ name = "web", image = "nginx", essential = true }])',
      '}',
      'resource "aws_ecs_task_definition" "missing" {',
      '  container_definitions = file("nowhere.json")',
      '}',
      'resource "aws_ecs_task_definition" "idle" {',
      '  container_definitions = jsonencode([{ name = "idle", command = ["true"] }])',
      '}',
      'resource "aws_cloudwatch_event_rule" "r" {',
      '  schedule_expression = "rate(1 day)"',
      '}',
      'resource "aws_cloudwatch_event_target" "a" {',
      '  rule = aws_cloudwatch_event_rule.r.name',
      '  ecs_target {',
      '    task_definition_arn = aws_ecs_task_definition.image_only.arn',
      '  }',
      '}',
      'resource "aws_cloudwatch_event_target" "b" {',
      '  rule = aws_cloudwatch_event_rule.r.name',
      '  ecs_target {',
      '    task_definition_arn = aws_ecs_task_definition.missing.arn',
      '  }',
      '}',
      '',
    ].join('\n');
    const plan = await readTerraform(`${FIXTURES}none.tf`, text);
    expect(plan.functions).toEqual([]);
    expect(line(plan, 'aws_ecs_task_definition.image_only')).toMatchObject({
      outcome: 'skipped',
      message: 'no command in the container definition: mainspring runs a command, not an image',
    });
    expect(line(plan, 'aws_ecs_task_definition.missing').message).toMatch(
      /nowhere\.json, which does not exist/,
    );
    expect(line(plan, 'aws_ecs_task_definition.idle')).toMatchObject({
      outcome: 'skipped',
      origin: { line: 7 },
    });
    expect(line(plan, 'aws_ecs_task_definition.idle').message).toContain('no rule');
    expect(line(plan, 'aws_cloudwatch_event_rule.r')).toMatchObject({
      outcome: 'skipped',
      message: 'none of its targets could be imported',
    });
  });

  it('notes references to resources in other files instead of crashing', async () => {
    const text = [
      'resource "aws_sqs_queue" "jobs" {',
      `  name           = "\${var.env}-jobs"`,
      '  redrive_policy = jsonencode({ deadLetterTargetArn = aws_sqs_queue.shared_dlq.arn, maxReceiveCount = 4 })',
      '}',
      'resource "aws_cloudwatch_event_rule" "tick" {',
      '  schedule_expression = "rate(1 minute)"',
      '}',
      'resource "aws_cloudwatch_event_target" "tick_task" {',
      '  rule = aws_cloudwatch_event_rule.tick.name',
      '  ecs_target {',
      '    task_definition_arn = aws_ecs_task_definition.elsewhere.arn',
      '  }',
      '}',
      'resource "aws_cloudwatch_event_target" "tick_queue" {',
      '  rule  = aws_cloudwatch_event_rule.tick.name',
      '  arn   = aws_sqs_queue.other.arn',
      '  input = jsonencode({ ping = true })',
      '}',
      'resource "aws_cloudwatch_event_target" "orphan" {',
      '  rule = aws_cloudwatch_event_rule.gone.name',
      '  arn  = aws_sqs_queue.jobs.arn',
      '}',
      'module "workers" {',
      '  source = "./workers"',
      '}',
      '',
    ].join('\n');
    const plan = await readTerraform('part.tf', text);
    expect(plan.queues).toEqual([
      expect.objectContaining({ name: 'jobs', deadLetterQueue: 'shared-dlq', maxReceiveCount: 4 }),
    ]);
    expect(line(plan, 'aws_sqs_queue.jobs').message).toContain(
      'aws_sqs_queue.shared_dlq is not in this file',
    );
    const send: ImportedSend = fn(plan, 'tick', 'send');
    expect(send.queue).toBe('other');
    expect(send.triggers).toEqual([
      { kind: 'schedule', schedule: { expression: 'rate(1 minute)', payload: { ping: true } } },
    ]);
    expect(line(plan, 'aws_cloudwatch_event_target.tick_task')).toMatchObject({ outcome: 'skipped' });
    expect(line(plan, 'aws_cloudwatch_event_target.tick_task').message).toContain('not in this file');
    expect(line(plan, 'aws_cloudwatch_event_target.tick_queue').outcome).toBe('noted');
    expect(line(plan, 'aws_cloudwatch_event_target.orphan').outcome).toBe('skipped');
    expect(line(plan, 'module.workers')).toMatchObject({ outcome: 'skipped', origin: { line: 23 } });
  });

  it('applies a separate aws_sqs_queue_redrive_policy to its queue', async () => {
    const text = [
      'resource "aws_sqs_queue" "dlq" {',
      '  name = "work-dlq"',
      '}',
      'resource "aws_sqs_queue" "work" {',
      '  name = "work"',
      '}',
      'resource "aws_sqs_queue_redrive_policy" "work" {',
      '  queue_url      = aws_sqs_queue.work.id',
      '  redrive_policy = jsonencode({ deadLetterTargetArn = aws_sqs_queue.dlq.arn, maxReceiveCount = 7 })',
      '}',
      '',
    ].join('\n');
    const plan = await readTerraform('redrive.tf', text);
    expect(plan.queues.find((q) => q.name === 'work')).toMatchObject({
      deadLetterQueue: 'work-dlq',
      maxReceiveCount: 7,
    });
    expect(line(plan, 'aws_sqs_queue_redrive_policy.work').outcome).toBe('imported');
  });
});

describe('readTerraformModule: one folder’s .tf files read as one module', () => {
  it('reads seed 002 split over ecs.tf, events.tf and iam.tf as it reads the single file', async () => {
    const [single, split] = await Promise.all([read(SEED), readModule(MODULE_FILES)]);
    // The target in events.tf runs the task definition in ecs.tf: same command, same schedule.
    const job: ImportedCommand = fn(split, 'db-cleanup', 'command');
    expect(job.command).toEqual(['node', 'jobs/db-cleanup.js']);
    expect(job.triggers).toEqual([
      {
        kind: 'schedule',
        schedule: {
          expression: 'cron(0 2 * * ? *)',
          description: 'Run database cleanup job daily at 2 AM UTC',
        },
      },
    ]);
    const sortReport = (p: ImportPlan) => ({
      ...p,
      report: [...p.report].sort((a, b) => a.origin.item.localeCompare(b.origin.item)),
    });
    expect(withoutOrigins(sortReport(split))).toEqual(withoutOrigins(sortReport(single)));
  });

  it('keeps each item’s own file and line, and reports file by file', async () => {
    const plan = await readModule(MODULE_FILES);
    expectOneLinePerResource(plan, ...MODULE_FILES);
    expect(fn(plan, 'db-cleanup', 'command').origin).toEqual({
      file: `${MODULE}ecs.tf`,
      line: 7,
      item: 'aws_ecs_task_definition.db_cleanup_job',
    });
    expect(line(plan, 'aws_cloudwatch_event_rule.db_cleanup_schedule').origin).toEqual({
      file: `${MODULE}events.tf`,
      line: 7,
      item: 'aws_cloudwatch_event_rule.db_cleanup_schedule',
    });
    expect(line(plan, 'aws_cloudwatch_event_target.db_cleanup_target')).toMatchObject({
      outcome: 'imported',
      origin: { file: `${MODULE}events.tf`, line: 22 },
    });
    expect(line(plan, 'aws_iam_role.eventbridge_ecs_role').origin).toMatchObject({
      file: `${MODULE}iam.tf`,
      line: 7,
    });
    const files = plan.report.map((l) => l.origin.file);
    expect(files).toEqual([...files].sort((a, b) => MODULE_FILES.indexOf(a) - MODULE_FILES.indexOf(b)));
  });

  it('follows references whichever file comes first, and says “this module” when one is missing', async () => {
    const plan = await readTerraformModule([
      {
        file: 'events.tf',
        text: [
          'resource "aws_cloudwatch_event_target" "t" {',
          '  rule = aws_cloudwatch_event_rule.r.name',
          '  arn  = aws_sqs_queue.jobs.arn',
          '}',
          'resource "aws_cloudwatch_event_target" "gone" {',
          '  rule = aws_cloudwatch_event_rule.r.name',
          '  arn  = aws_lambda_function.elsewhere.arn',
          '}',
          '',
        ].join('\n'),
      },
      {
        file: 'rules.tf',
        text: 'resource "aws_cloudwatch_event_rule" "r" {\n  schedule_expression = "rate(1 hour)"\n}\n',
      },
      { file: 'sqs.tf', text: '\nresource "aws_sqs_queue" "jobs" {\n  name = "jobs"\n}\n' },
    ]);
    const send: ImportedSend = fn(plan, 'r', 'send');
    expect(send).toMatchObject({ queue: 'jobs', origin: { file: 'rules.tf', line: 1 } });
    expect(plan.queues).toEqual([
      { name: 'jobs', origin: { file: 'sqs.tf', line: 2, item: 'aws_sqs_queue.jobs' } },
    ]);
    expect(line(plan, 'aws_cloudwatch_event_target.gone')).toMatchObject({
      outcome: 'skipped',
      message: `Lambda function \${aws_lambda_function.elsewhere.arn} is not in this module: import the file that defines it`,
    });
  });

  it('throws an ImportError naming the file that does not parse', async () => {
    const err = await readTerraformModule([
      { file: 'good.tf', text: 'resource "aws_sqs_queue" "q" {\n  name = "q"\n}\n' },
      { file: 'bad.tf', text: '\n\nresource "aws_sqs_queue" "r" {\n  name = \n}\n' },
    ]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportError);
    expect(err).toMatchObject({ file: 'bad.tf', line: 4, construct: 'HCL' });
  });

  it('throws an ImportError for a resource declared in two files, as Terraform does', async () => {
    const queue = 'resource "aws_sqs_queue" "q" {\n  name = "q"\n}\n';
    const err = await readTerraformModule([
      { file: 'a.tf', text: queue },
      { file: 'b.tf', text: `\n${queue}` },
    ]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportError);
    expect(err).toMatchObject({ file: 'b.tf', line: 2, construct: 'aws_sqs_queue.q' });
    expect((err as ImportError).message).toContain('first at a.tf:1');
  });
});
