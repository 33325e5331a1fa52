// A workflow worker process is SIGKILLed during a step, and again while an execution
// waits; a second worker process resumes the execution from its journal. Steps before
// the one interrupted do not run again (counted in a side-effect file), the interrupted
// at-least-once step runs again, an at-most-once one fails with E_STEP_INTERRUPTED
// instead, the wait is honoured, and the output equals that of an uninterrupted run.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMainspring, type Mainspring } from '../../src/app.ts';
import type { Execution } from '../../src/workflow/client.ts';
import { BACKENDS, type BackendFixture, tempDir } from '../helpers/backends.ts';
import { type CrashInput, crashWorkflow, HOLD_ENV } from './fixtures/workflow-crash/workflow.ts';

const WORKER = fileURLToPath(new URL('./fixtures/workflow-crash/worker.ts', import.meta.url));
/** Long enough that the second worker is up before it ends. */
const PAUSE_MS = 3000;
const STEPS = ['step-1', 'step-2', 'step-3', 'step-4', 'step-5'];
/** Each step ran once. */
const ONCE = { 'step-1': 1, 'step-2': 1, 'step-3': 1, 'step-4': 1, 'step-5': 1 };

interface WorkerProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children = new Set<ChildProcess>();
afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
});

function startWorker(url: string, hold?: string): WorkerProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, WF_CRASH_DB: url };
  delete env['DATABASE_URL'];
  if (hold === undefined) delete env[HOLD_ENV];
  else env[HOLD_ENV] = hold;
  const child = spawn(process.execPath, ['--conditions=mainspring-source', WORKER], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => {
    output += d;
  });
  child.stderr!.on('data', (d: Buffer) => {
    output += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('close', (code, signal) => r({ code, signal })),
  );
  return { child, output: () => output, exited };
}

async function kill(worker: WorkerProcess): Promise<void> {
  worker.child.kill('SIGKILL');
  expect((await worker.exited).signal).toBe('SIGKILL');
}

async function stop(worker: WorkerProcess): Promise<void> {
  worker.child.kill('SIGTERM');
  expect(await worker.exited, worker.output()).toEqual({ code: 0, signal: null });
}

interface SideEffect {
  readonly step: string;
  readonly pid: number;
  readonly atMs: number;
}

function sideEffects(file: string): SideEffect[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const m = /^(step-\d) pid=(\d+) at=(\d+)$/.exec(line);
      if (!m) throw new Error(`unexpected side-effect line: ${line}`);
      return { step: m[1]!, pid: Number(m[2]), atMs: Number(m[3]) };
    });
}

/** How many times each step ran. */
function counts(file: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of sideEffects(file)) out[e.step] = (out[e.step] ?? 0) + 1;
  return out;
}

async function finished(ms: Mainspring, id: string, workers: WorkerProcess[]): Promise<Execution> {
  try {
    return await ms.workflows.wait(id, { signal: AbortSignal.timeout(20_000), pollMs: 50 });
  } catch (err) {
    const state = JSON.stringify(await ms.workflows.get(id));
    throw new Error(`${id} did not finish: ${state}\n${workers.map((w) => w.output()).join('\n---\n')}`, {
      cause: err,
    });
  }
}

async function setUp(backend: BackendFixture) {
  const dir = tempDir();
  const url = backend.name === 'sqlite' ? `sqlite:${join(dir, 'app.db')}` : backend.freshUrl();
  // Opens and migrates the store; this process only starts and reads executions.
  const ms = await createMainspring({ db: url, workflows: [crashWorkflow] });
  const input = (name: string, extra: Partial<CrashInput> = {}): CrashInput => ({
    log: join(dir, `${name}.log`),
    pauseMs: PAUSE_MS,
    ...extra,
  });
  return { url, ms, input };
}

describe.each(BACKENDS)('workflow workers killed with SIGKILL on $name', (backend) => {
  it.skipIf(backend.skip)(
    'during step 4: steps 1–3 do not run again, step 4 runs again (or fails, at most once), same output',
    { timeout: 45_000 },
    async () => {
      const { url, ms, input } = await setUp(backend);
      try {
        const crashed = input('crashed');
        const atMostOnce = input('at-most-once', { atMostOnce: true });
        await ms.workflows.start(crashWorkflow, crashed, { id: 'crashed' });
        await ms.workflows.start(crashWorkflow, atMostOnce, { id: 'at-most-once' });

        const a = startWorker(url, 'step-4');
        await vi.waitFor(
          () => {
            expect(counts(crashed.log)['step-4'], a.output()).toBe(1);
            expect(counts(atMostOnce.log)['step-4'], a.output()).toBe(1);
          },
          { timeout: 20_000, interval: 50 },
        );
        await kill(a);
        // Killed mid-step, both still hold A's lease.
        expect((await ms.workflows.get('crashed')).status).toBe('running');
        expect((await ms.workflows.get('at-most-once')).status).toBe('running');

        const b = startWorker(url);
        const reference = input('reference');
        await ms.workflows.start(crashWorkflow, reference, { id: 'reference' });
        const [after, amo, ref] = await Promise.all(
          ['crashed', 'at-most-once', 'reference'].map((id) => finished(ms, id, [a, b])),
        );

        expect(ref!.status).toBe('succeeded');
        expect(after!.status, JSON.stringify(after)).toBe('succeeded');
        expect(after!.output).toEqual(ref!.output);
        expect(counts(reference.log)).toEqual(ONCE);
        expect(counts(crashed.log)).toEqual({ ...ONCE, 'step-4': 2 });
        const effects = sideEffects(crashed.log);
        expect(effects.map((e) => e.step)).toEqual([...STEPS.slice(0, 4), 'step-4', 'step-5']);
        expect(effects.slice(0, 4).map((e) => e.pid)).toEqual(Array(4).fill(a.child.pid));
        expect(effects.slice(4).map((e) => e.pid)).toEqual([b.child.pid, b.child.pid]);
        const history = await ms.workflows.history('crashed');
        expect(history.map((o) => [o.name, o.status])).toEqual([
          ['step-1', 'succeeded'],
          ['step-2', 'succeeded'],
          ['pause', 'succeeded'],
          ['step-3', 'succeeded'],
          ['step-4', 'succeeded'],
          ['step-5', 'succeeded'],
        ]);

        // At most once: the interrupted attempt is not run again; the execution fails.
        expect(amo!.status, JSON.stringify(amo)).toBe('failed');
        expect(amo!.error?.code).toBe('E_STEP_INTERRUPTED');
        expect(counts(atMostOnce.log)).toEqual({ 'step-1': 1, 'step-2': 1, 'step-3': 1, 'step-4': 1 });
        expect(sideEffects(atMostOnce.log).map((e) => e.pid)).toEqual(Array(4).fill(a.child.pid));

        await stop(b);
      } finally {
        await ms.close();
      }
    },
  );

  it.skipIf(backend.skip)(
    'during a wait: the wait is honoured, each step runs once, same output',
    { timeout: 45_000 },
    async () => {
      const { url, ms, input } = await setUp(backend);
      try {
        const crashed = input('crashed');
        await ms.workflows.start(crashWorkflow, crashed, { id: 'crashed' });

        const a = startWorker(url);
        const waiting = await vi.waitFor(
          async () => {
            const e = await ms.workflows.get('crashed');
            expect(e.status, a.output()).toBe('waiting');
            return e;
          },
          { timeout: 20_000, interval: 50 },
        );
        await kill(a);
        const killedAtMs = Date.now();
        expect(waiting.wait).toMatchObject({ kind: 'wait', name: 'pause' });
        const wakeAtMs = Date.parse(waiting.wait!.until!);
        // Otherwise the kill would not have been during the wait.
        expect(killedAtMs).toBeLessThan(wakeAtMs);

        const b = startWorker(url);
        const reference = input('reference');
        await ms.workflows.start(crashWorkflow, reference, { id: 'reference' });
        const [after, ref] = await Promise.all(
          ['crashed', 'reference'].map((id) => finished(ms, id, [a, b])),
        );

        expect(ref!.status).toBe('succeeded');
        expect(after!.status, JSON.stringify(after)).toBe('succeeded');
        expect(after!.output).toEqual(ref!.output);
        expect(counts(crashed.log)).toEqual(ONCE);
        expect(counts(reference.log)).toEqual(ONCE);
        const effects = sideEffects(crashed.log);
        expect(effects.map((e) => e.step)).toEqual(STEPS);
        expect(effects.map((e) => e.pid)).toEqual([
          a.child.pid,
          a.child.pid,
          b.child.pid,
          b.child.pid,
          b.child.pid,
        ]);
        // Not before the wait's end.
        expect(effects[2]!.atMs).toBeGreaterThanOrEqual(wakeAtMs);
        const pause = (await ms.workflows.history('crashed')).find((o) => o.name === 'pause');
        expect(pause).toMatchObject({ type: 'wait', status: 'succeeded', wakeAt: waiting.wait!.until });

        await stop(b);
      } finally {
        await ms.close();
      }
    },
  );
});
