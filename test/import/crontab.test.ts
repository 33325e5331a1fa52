import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readCrontab } from '../../src/import/crontab.ts';
import type { ImportedCommand, ImportPlan } from '../../src/import/model.ts';

const text = readFileSync(new URL('fixtures/crontab/user.crontab', import.meta.url), 'utf8');
const plan = readCrontab('user.crontab', text);

function command(p: ImportPlan, name: string): ImportedCommand {
  const f = p.functions.find((x) => x.name === name);
  if (f?.kind !== 'command') throw new Error(`no command ${name} in ${JSON.stringify(p.functions)}`);
  return f;
}

const reportAt = (line: number) => plan.report.find((r) => r.origin.line === line);

describe('readCrontab', () => {
  it('turns plain lines into commands split on spaces, named after the program, counted when repeated', () => {
    expect(plan.functions.map((f) => f.name)).toEqual([
      'backup',
      'backup-2',
      'report',
      'weekly-digest',
      'logrotate',
    ]);
    const backup = command(plan, 'backup');
    expect(backup.command).toEqual(['/usr/local/bin/backup.sh', '--incremental']);
    expect(backup.triggers).toEqual([{ kind: 'schedule', schedule: { expression: '*/15 * * * *' } }]);
    expect(backup.origin).toEqual({
      file: 'user.crontab',
      line: 6,
      item: '*/15 * * * * /usr/local/bin/backup.sh --incremental',
    });
    expect(command(plan, 'backup-2').command).toEqual(['/usr/local/bin/backup.sh', '--full']);
  });

  it('gives NAME=value lines to the commands after them, and notes SHELL and MAILTO', () => {
    expect(command(plan, 'backup').env).toEqual({ APP_ENV: 'production' });
    expect(reportAt(3)).toMatchObject({ outcome: 'noted', message: expect.stringContaining('use alerts') });
    expect(reportAt(2)?.message).toContain('/bin/bash');
    const later = readCrontab('x.cron', '0 1 * * * /bin/a\nFOO=bar\n0 2 * * * /bin/b\n');
    expect(command(later, 'a').env).toBeUndefined();
    expect(command(later, 'b').env).toEqual({ FOO: 'bar' });
  });

  it('runs a shell line with the crontab SHELL, -c, and notes it', () => {
    expect(command(plan, 'report').command).toEqual([
      '/bin/bash',
      '-c',
      'cd /srv/app && node scripts/report.js | gzip > /var/log/report.gz',
    ]);
    expect(reportAt(8)?.message).toContain('a shell line');
    const plain = readCrontab('x.cron', '5 * * * * grep -c ERROR /var/log/app.log | mail -s errors ops\n');
    expect(command(plain, 'grep').command).toEqual([
      'sh',
      '-c',
      'grep -c ERROR /var/log/app.log | mail -s errors ops',
    ]);
  });

  it('reads the lines after CRON_TZ in that zone', () => {
    expect(command(plan, 'backup-2').triggers[0]).toEqual({
      kind: 'schedule',
      schedule: { expression: '0 2 * * *' },
    });
    expect(command(plan, 'weekly-digest').triggers).toEqual([
      { kind: 'schedule', schedule: { expression: '0 9 * * 1', timezone: 'Europe/Berlin' } },
    ]);
    const bad = readCrontab('x.cron', 'CRON_TZ=Mars/Olympus\n0 1 * * * /bin/a\n');
    expect(bad.functions).toEqual([]);
    expect(bad.report.map((r) => r.outcome)).toEqual(['skipped', 'skipped']);
  });

  it('translates @daily into its five fields, with a note', () => {
    expect(command(plan, 'logrotate').triggers).toEqual([
      { kind: 'schedule', schedule: { expression: '0 0 * * *', timezone: 'Europe/Berlin' } },
    ]);
    expect(reportAt(11)).toMatchObject({
      outcome: 'noted',
      message: expect.stringContaining('@daily became "0 0 * * *"'),
    });
  });

  it('skips @reboot', () => {
    expect(reportAt(12)).toEqual({
      origin: { file: 'user.crontab', line: 12, item: '@reboot /srv/app/bin/warm-cache' },
      outcome: 'skipped',
      message: 'runs at boot, not on a schedule: not importable',
    });
  });

  it("skips a line that is not valid cron with the parser's message, and a line with no command", () => {
    expect(reportAt(13)?.outcome).toBe('skipped');
    expect(reportAt(13)?.message).toMatch(/minute.*61|61.*minute/i);
    expect(reportAt(14)).toMatchObject({
      outcome: 'skipped',
      message: expect.stringContaining('not a cron line'),
    });
  });

  it('ignores comments and blank lines', () => {
    expect(plan.report.some((r) => r.origin.line === 1 || r.origin.line === 5)).toBe(false);
  });

  it('reads the user field of /etc/crontab', () => {
    const system = readCrontab(
      '/etc/crontab',
      '17 * * * * root cd / && run-parts --report /etc/cron.hourly\n',
    );
    expect(system.functions[0]).toMatchObject({
      kind: 'command',
      name: 'run-parts',
      command: ['sh', '-c', 'cd / && run-parts --report /etc/cron.hourly'],
    });
    expect(system.report[0]?.message).toContain('ran as user root');
  });
});
