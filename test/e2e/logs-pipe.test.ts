// `mainspring logs <run> | head`: when the reader closes the pipe early, the command
// stops quietly with status 0 (no EPIPE stack trace), as a real child process.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Run } from '../../src/runtime/runs.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { type CliResult, NODE_ARGS, runCli } from '../helpers/cli.ts';

const CONFIG = fileURLToPath(new URL('./fixtures/console/mainspring.config.ts', import.meta.url));
const SQLITE = BACKENDS[0]!;
const env = { MAINSPRING_TIME_SCALE: undefined };

function cli(db: string, ...args: string[]): Promise<CliResult> {
  return runCli([...args, '--config', CONFIG, '--db', db], { env, timeoutMs: 30_000 });
}

/** Runs the CLI with its stdout piped to a reader that closes the pipe after its first chunk. */
function closedEarly(
  args: string[],
): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  delete childEnv['DATABASE_URL'];
  delete childEnv['MAINSPRING_TIME_SCALE'];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_ARGS, ...args], { env: childEnv, stdio: 'pipe' });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    // As `head -n 1` does: read a little, then close the read end.
    child.stdout.once('data', () => child.stdout.destroy());
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

describe('logs into a pipe closed early', { timeout: 120_000 }, () => {
  it('exits 0 without a stack trace', async () => {
    const db = SQLITE.freshUrl();
    const due = new Date(Date.now() - 60_000).toISOString();
    // Far more output than a pipe buffers (64 KiB), so the command writes after the close.
    const payload = JSON.stringify({ lines: 900 });
    expect((await cli(db, 'migrate')).code).toBe(0);
    expect(
      (await cli(db, 'tasks', 'upsert', 'big', '--due', due, '--action', 'chatty', '--payload', payload))
        .code,
    ).toBe(0);
    expect((await cli(db, 'run-due')).code).toBe(0);
    const listed = await cli(db, 'runs', 'list', '--function', 'chatty', '--json');
    const [run] = (JSON.parse(listed.stdout) as { runs: Run[] }).runs;
    expect(run?.logCount).toBeGreaterThanOrEqual(900);

    const r = await closedEarly(['logs', run!.id, '--config', CONFIG, '--db', db]);
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ code: 0, signal: null });
  });
});
