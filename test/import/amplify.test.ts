import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readAmplify } from '../../src/import/amplify/index.ts';
import { mergePlans } from '../../src/import/merge.ts';
import { ImportError, type ImportedHandler, type ImportPlan } from '../../src/import/model.ts';

// Fixtures end in .ts.txt so the project's tsc and biome leave them alone (they import
// @aws-amplify/backend and aws-cdk-lib, which are not installed, and keep the seed's formatting);
// each is read under the name it has in an Amplify project.
const fixture = (path: string) =>
  readFileSync(new URL(`fixtures/amplify/${path}.txt`, import.meta.url), 'utf8');
const read = (path: string) => readAmplify(`amplify/${path}`, fixture(path));

function handler(plan: ImportPlan, name: string): ImportedHandler {
  const f = plan.functions.find((x) => x.name === name);
  if (f?.kind !== 'handler') throw new Error(`no handler ${name} in ${JSON.stringify(plan.functions)}`);
  return f;
}

describe('readAmplify', () => {
  it('reads the seed: resource.ts and the backend.ts rule become daily-sync on cron(0 2 * * ? *)', () => {
    const plan = mergePlans([read('functions/daily-sync/resource.ts'), read('backend.ts')]);
    expect(plan.functions).toHaveLength(1);
    const f = handler(plan, 'daily-sync');
    expect(f.handlerFile).toBe('amplify/functions/daily-sync/handler.ts');
    expect(f.timeoutSeconds).toBe(300);
    expect(f.env).toEqual({ ENV: 'dev', EXTERNAL_API_URL: 'https://api.example.com' });
    expect(f.triggers).toEqual([
      {
        kind: 'schedule',
        schedule: { expression: 'cron(0 2 * * ? *)', description: 'Daily data synchronization at 2 AM UTC' },
      },
    ]);
    expect(f.origin).toMatchObject({
      file: 'amplify/functions/daily-sync/resource.ts',
      line: 3,
      item: 'dailySync',
    });
  });

  it('notes what resource.ts gives that mainspring has no place for', () => {
    const plan = read('functions/daily-sync/resource.ts');
    const line = plan.report.find((r) => r.message.startsWith('function daily-sync'));
    expect(line?.outcome).toBe('noted');
    expect(line?.message).toContain('resourceGroupName');
  });

  it('reads backend.ts alone as a stub with no handler file, and says so', () => {
    const plan = read('backend.ts');
    const f = handler(plan, 'daily-sync');
    expect(f.handlerFile).toBeUndefined();
    expect(f.origin).toMatchObject({ file: 'amplify/backend.ts', line: 19, item: 'Rule DailySyncSchedule' });
    expect(f.triggers).toHaveLength(1);
    expect(plan.report.some((r) => r.outcome === 'noted' && r.message.includes('stays a stub'))).toBe(true);
  });

  it('translates Amplify schedules as Amplify deploys them, and skips one Amplify rejects', () => {
    const plan = read('functions/weekly-digest/resource.ts');
    const f = handler(plan, 'weekly-digest');
    expect(f.handlerFile).toBe('amplify/functions/weekly-digest/digest.ts');
    expect(f.env).toEqual({ REGION: 'eu-west-1' });
    expect(f.triggers.map((t) => (t.kind === 'schedule' ? t.schedule : t))).toEqual([
      { expression: 'cron(0 0 * * ? *)' },
      { expression: 'cron(0 9 ? * 2 *)' },
      { expression: 'cron(30 8 1 * ? *)', timezone: 'Europe/Berlin' },
      { expression: 'cron(*/15 * * * ? *)' },
    ]);
    const messages = plan.report.map((r) => `${r.outcome}: ${r.message}`);
    expect(messages).toContain('noted: schedule "every day" became cron(0 0 * * ? *), as Amplify deploys it');
    expect(messages.some((m) => m.startsWith('skipped: schedule: "0 9 * * 2" restricts both'))).toBe(true);
    const fn = plan.report.find((r) => r.message.startsWith('function weekly-digest'));
    expect(fn?.message).toContain('the Amplify secret "DIGEST_API_KEY"');
    expect(fn?.message).toContain('memoryMB');
  });

  it('reads CDK Schedule.rate/cron/expression, target options, enabled: false, and skips a bad cron', () => {
    const plan = read('backend-rate.ts');
    expect(handler(plan, 'cleanup').triggers).toEqual([
      {
        kind: 'schedule',
        schedule: {
          expression: 'rate(15 minutes)',
          maxAttempts: 3,
          maxEventAgeSeconds: 3600,
          payload: { mode: 'quick' },
        },
      },
    ]);
    expect(handler(plan, 'report').triggers.map((t) => (t.kind === 'schedule' ? t.schedule : t))).toEqual([
      { expression: 'rate(1 hour)', enabled: false },
      { expression: 'cron(0 9 ? * MON-FRI *)' },
      { expression: 'cron(0/5 8-17 ? * MON-FRI *)' },
    ]);
    const bad = plan.report.find((r) => r.origin.item === 'Rule BadCron');
    expect(bad?.outcome).toBe('skipped');
    expect(bad?.message).toMatch(/hour/);
    expect(bad?.origin.line).toBe(38);
  });

  it('throws ImportError with the line of a syntax error', () => {
    const file = 'amplify/functions/broken/resource.ts';
    const text = fixture('functions/broken-resource.ts');
    expect(() => readAmplify(file, text)).toThrow(ImportError);
    try {
      readAmplify(file, text);
    } catch (err) {
      expect(err).toBeInstanceOf(ImportError);
      expect((err as ImportError).file).toBe(file);
      expect((err as ImportError).line).toBe(7);
    }
  });

  it('says so when a file has neither pattern', () => {
    const plan = readAmplify(
      'amplify/auth/resource.ts',
      'export const auth = defineAuth({ loginWith: { email: true } });\n',
    );
    expect(plan.functions).toEqual([]);
    expect(plan.report).toEqual([
      {
        origin: { file: 'amplify/auth/resource.ts', line: 0, item: 'amplify/auth/resource.ts' },
        outcome: 'skipped',
        message: 'no defineFunction or schedule rule found',
      },
    ]);
  });
});
