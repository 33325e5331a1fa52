// `mainspring run-due --json` with a handler that writes to the console (seed 000's
// console.log/console.error), as a real child process: stdout stays one JSON document,
// the console lines are kept with the run (log → INFO, error → ERROR) and shown on stderr.

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { RunLogLine } from '../../src/runtime/runs.ts';
import type { RunDueResult } from '../../src/scheduler/run-due.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { type CliResult, runCli } from '../helpers/cli.ts';

const CONFIG = fileURLToPath(new URL('./fixtures/console/mainspring.config.ts', import.meta.url));
const SQLITE = BACKENDS[0]!;
const env = { MAINSPRING_TIME_SCALE: undefined };

function cli(db: string, ...args: string[]): Promise<CliResult> {
  return runCli([...args, '--config', CONFIG, '--db', db], { env, timeoutMs: 30_000 });
}

describe('run-due --json with a handler that writes to the console', { timeout: 120_000 }, () => {
  it('prints only JSON on stdout and keeps the console lines with the run', async () => {
    const db = SQLITE.freshUrl();
    // A minute ago by the real clock: due for the real-clock run-due below.
    const due = new Date(Date.now() - 60_000).toISOString();
    expect((await cli(db, 'migrate')).code).toBe(0);
    const upsert = await cli(db, 'tasks', 'upsert', 'sync', '--due', due, '--action', 'chatty');
    expect(upsert.code, upsert.stderr).toBe(0);

    const r = await cli(db, 'run-due', '--json');
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as RunDueResult;
    expect(result.fired.map((f) => [f.name, f.run?.status])).toEqual([['sync', 'succeeded']]);
    // Still visible to whoever runs it, on stderr.
    expect(r.stderr).toContain('syncing { records: 3 }');
    expect(r.stderr).toContain('one record failed');

    const logs = await cli(db, 'logs', result.fired[0]!.run!.id, '--json');
    expect(logs.code, logs.stderr).toBe(0);
    const lines = logs.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as RunLogLine);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [30, 'syncing { records: 3 }'],
      [50, 'one record failed'],
    ]);
  });
});
