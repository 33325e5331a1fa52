// `mainspring schedule next` as a real child process on the pinned Node 24: valid
// expressions print the description and fire times in UTC and in the zone (exit 0);
// invalid input prints one error line on stderr and exits 2.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const NODE = join(REPO, 'node_modules', '.bin', 'node');
const CLI = join(REPO, 'src', 'cli', 'main.ts');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(...args: string[]): Promise<Result> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['MAINSPRING_TIME_SCALE'];
  return new Promise((resolve) => {
    execFile(
      NODE,
      [CLI, 'schedule', 'next', ...args],
      { cwd: REPO, env, timeout: 20_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('mainspring schedule next', () => {
  it('prints the description and the next fire times in UTC and in the zone', async () => {
    const r = await run(
      'cron(0 9 ? * MON-FRI *)',
      '--tz',
      'Europe/Berlin',
      '--from',
      '2026-03-27T12:00:00Z',
      '-n',
      '3',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'At 09:00, Monday through Friday (Europe/Berlin)',
        'UTC                   Europe/Berlin',
        '2026-03-30T07:00:00Z  2026-03-30T09:00:00+02:00 Mon',
        '2026-03-31T07:00:00Z  2026-03-31T09:00:00+02:00 Tue',
        '2026-04-01T07:00:00Z  2026-04-01T09:00:00+02:00 Wed',
        '',
      ].join('\n'),
    );
  });

  it('shows both passes of a Unix interval job on the fall-back day', async () => {
    const r = await run(
      '*/30 * * * *',
      '--tz',
      'America/New_York',
      '--from',
      '2026-11-01T05:00:00Z',
      '-n',
      '4',
    );
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').slice(2)).toEqual([
      '2026-11-01T05:30:00Z  2026-11-01T01:30:00-04:00 Sun',
      '2026-11-01T06:00:00Z  2026-11-01T01:00:00-05:00 Sun',
      '2026-11-01T06:30:00Z  2026-11-01T01:30:00-05:00 Sun',
      '2026-11-01T07:00:00Z  2026-11-01T02:00:00-05:00 Sun',
    ]);
  });

  it('handles at(), rate() and a CDK object given as JSON', async () => {
    const at = await run(
      'at(2026-03-08T02:30:00)',
      '--tz',
      'America/New_York',
      '--from',
      '2026-01-01T00:00:00Z',
    );
    expect(at.code).toBe(0);
    expect(at.stdout).toContain('DST skips that time');
    expect(at.stdout).toContain('2026-03-08T07:00:00Z  2026-03-08T03:00:00-04:00 Sun');

    const rate = await run('rate(5 minutes)', '--from', '2026-01-01T00:02:00Z', '-n', '2');
    expect(rate.stdout).toBe(
      'Every 5 minutes\nUTC                   UTC\n2026-01-01T00:05:00Z  2026-01-01T00:05:00+00:00 Thu\n2026-01-01T00:10:00Z  2026-01-01T00:10:00+00:00 Thu\n',
    );

    const cdk = await run(
      '{"minute":"0","hour":"9","weekDay":"MON-FRI"}',
      '--from',
      '2026-01-01T00:00:00Z',
      '-n',
      '1',
    );
    expect(cdk.code).toBe(0);
    expect(cdk.stdout).toContain('At 09:00, Monday through Friday (UTC)');
    expect(cdk.stdout).toContain('2026-01-01T09:00:00Z');
  });

  it('says so when nothing fires any more, and exits 0', async () => {
    const r = await run('cron(0 0 30 2 ? *)', '--from', '2026-01-01T00:00:00Z');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'At 00:00, on day 30 of the month, in February (UTC)\nno fire times after 2026-01-01T00:00:00Z\n',
    );
  });

  it('defaults to five fire times from now', async () => {
    const r = await run('* * * * *');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(7);
  });

  it.each([
    [
      ['cron(0 9 * * MON *)'],
      'mainspring: cron() field 5 (day-of-week) is "MON" but field 3 (day-of-month) is "*"; one of them must be "?" [E_SCHEDULE_INVALID]\n',
    ],
    [
      ['rate(1 minutes)'],
      'mainspring: rate() unit "minutes" is plural but the value is 1; write "rate(1 minute)" [E_SCHEDULE_INVALID]\n',
    ],
    [['cron(0 9 * * 1)'], 'cron() takes 6 fields'],
    [['0 9 * * 1', '--tz', 'Mars/Olympus'], 'timezone "Mars/Olympus" is not a known IANA time zone'],
    [['0 9 * * 1', '--from', 'yesterday'], '--from "yesterday" is not an ISO-8601 time'],
    [['0 9 * * 1', '-n', '0'], '-n "0" must be a whole number from 1 to 1000'],
    [['0 9 * * 1', '-n', 'lots'], '-n "lots"'],
    [['{"minute": 0'], 'not valid JSON'],
    [[''], 'the schedule expression is empty'],
  ])('rejects %j with exit code 2', async (args, message) => {
    const r = await run(...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
