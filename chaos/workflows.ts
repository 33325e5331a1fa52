// Workflow workers killed until the work is done: executions of a ten-step workflow with a
// durable wait before each step (chaos/lib/wf-workflow.ts, short real waits) run on a worker
// process (chaos/lib/wf-worker.ts, the library with a 2 s lease) that is SIGKILLed at random
// moments — one kill in five while it starts, the others 0.3–4.5 s after it is ready — and
// restarted, over and over, until every execution has finished. Rounds of eight executions
// follow one another until a backend saw 40 kills (5 with --quick; past 200 s, 20 s quick,
// the last worker finishes its round undisturbed). SQLite and PostgreSQL run at once, each
// with its own worker.
//
// Each step's body appends a line as it starts. Completion evidence comes from the store:
// the step's operation in the journal (`history`), succeeded at `finishedAt`. Invariants: every
// execution succeeds with the output of an uninterrupted run; no step's body starts after
// its step was recorded complete (completed-step re-runs = 0); every completed step's body
// ran. A body that ran before its completion was recorded, other than the run that completed
// it, is a retry of an attempt a kill interrupted — allowed (steps run at least once per
// retry) and counted apart. One clock (this machine's) stamps both.
//
// node --conditions=mainspring-source chaos/workflows.ts [--quick]   (~4 min; --quick ~30 s)

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMainspring, type Mainspring } from '../src/app.ts';
import {
  between,
  describeExit,
  type Proc,
  scratchDir,
  scratchPgSchema,
  sigkill,
  sleep,
  spawnNode,
  stop,
} from './lib/proc.ts';
import { finish, quick } from './lib/report.ts';
import { chaosWorkflow, expectedOutput, STEPS, type WfInput } from './lib/wf-workflow.ts';

const EXECUTIONS = quick ? 4 : 8;
const STEP_MS: [number, number] = quick ? [50, 400] : [200, 1500];
const WAIT_MS: [number, number] = quick ? [100, 1000] : [500, 4000];
const LIFETIME_MS: [number, number] = quick ? [300, 2000] : [300, 4500];
/** Rounds of executions follow one another until a backend saw this many kills. */
const MIN_KILLS = quick ? 5 : 40;
/** Fewer kills than this (a slow, loaded machine) exercised too little: a failure. */
const REQUIRED_KILLS = quick ? 3 : 15;
/** Kills stop after this; the last worker then finishes the work undisturbed. */
const KILL_BUDGET_MS = quick ? 20_000 : 200_000;
const FINISH_TIMEOUT_MS = 60_000;
const WORKER = join(import.meta.dirname, 'lib', 'wf-worker.ts');

interface Outcome {
  readonly figures: Record<string, number | string>;
  readonly failures: string[];
}

const TERMINAL = new Set(['succeeded', 'failed', 'stopped', 'timed_out']);

async function allFinished(ms: Mainspring, ids: readonly string[]): Promise<boolean> {
  for (const id of ids) if (!TERMINAL.has((await ms.workflows.get(id)).status)) return false;
  return true;
}

async function runOn(backend: 'sqlite' | 'postgres', url: string, dir: string): Promise<Outcome> {
  const failures: string[] = [];
  const log = join(dir, `${backend}-steps.log`);
  const ms = await createMainspring({ db: url, workflows: [chaosWorkflow] });
  const ids: string[] = [];
  let kills = 0;
  let killsDuringStartup = 0;
  const workers: Proc[] = [];
  const started = Date.now();
  let rounds = 0;
  let undisturbedMs = 0;

  /** Spawns workers and kills each at a random moment until `round` finished; none runs after. */
  async function killUntilFinished(round: readonly string[]): Promise<void> {
    for (;;) {
      const worker = spawnNode(WORKER, [url], { name: `${backend} worker#${workers.length}` });
      workers.push(worker);
      const ready = worker.waitForLine((l) => l === 'ready', 60_000);
      ready.catch(() => {});
      if (Date.now() - started > KILL_BUDGET_MS) {
        // Out of time: this worker finishes the round undisturbed.
        const calmFrom = Date.now();
        while (!(await allFinished(ms, round)) && Date.now() - calmFrom < FINISH_TIMEOUT_MS) await sleep(100);
        undisturbedMs += Date.now() - calmFrom;
        if (worker.exit !== null) failures.push(`a worker exited on its own: ${describeExit(worker)}`);
        else if ((await stop(worker, 30_000)).code !== 0)
          failures.push(`the last worker did not stop cleanly on SIGTERM: ${describeExit(worker)}`);
        return;
      }
      let duringStartup = false;
      if (Math.random() < 0.2) {
        await sleep(between(50, 1200));
        duringStartup = !worker.tail.includes('ready');
      } else {
        await ready.catch(() => {});
        await sleep(between(...LIFETIME_MS));
      }
      if (worker.exit !== null) {
        failures.push(`a worker exited before it was killed: ${describeExit(worker)}`);
        return;
      }
      await sigkill(worker);
      kills++;
      if (duringStartup) killsDuringStartup++;
      if (await allFinished(ms, round)) return;
    }
  }

  try {
    // Rounds of executions until there were enough kills (or time is up).
    do {
      const round: string[] = [];
      for (let i = 0; i < EXECUTIONS; i++) {
        const input: WfInput = {
          log,
          stepMs: Array.from({ length: STEPS }, () => Math.round(between(...STEP_MS))),
          waitMs: Array.from({ length: STEPS - 1 }, () => Math.round(between(...WAIT_MS))),
        };
        const id = `${backend}-${rounds}-${i}`;
        round.push((await ms.workflows.start(chaosWorkflow, input, { id })).id);
      }
      rounds++;
      ids.push(...round);
      await killUntilFinished(round);
    } while (kills < MIN_KILLS && Date.now() - started < KILL_BUDGET_MS && failures.length === 0);

    // The evidence: body starts from the log, completions from the journal.
    const starts = new Map<string, number[]>();
    if (existsSync(log))
      for (const line of readFileSync(log, 'utf8').split('\n')) {
        if (!line) continue;
        const [id, step, , at] = line.split(' ');
        const key = `${id} ${step}`;
        starts.set(key, [...(starts.get(key) ?? []), Number(at)]);
      }
    let completedReruns = 0;
    let incompleteRetries = 0;
    let completedSteps = 0;
    let bodyRuns = 0;
    for (const id of ids) {
      const e = await ms.workflows.get(id);
      if (e.status !== 'succeeded') {
        failures.push(
          `${backend}: ${id} is ${e.status}${e.error ? ` (${e.error.code}: ${e.error.message})` : ''}`,
        );
        continue;
      }
      if (JSON.stringify(e.output) !== JSON.stringify(expectedOutput(id)))
        failures.push(`${backend}: ${id}'s output differs from an uninterrupted run's`);
      const history = await ms.workflows.history(id);
      for (let k = 1; k <= STEPS; k++) {
        const step = `step-${k}`;
        const op = history.find((o) => o.name === step && o.type === 'step');
        const runs = starts.get(`${id} ${step}`) ?? [];
        bodyRuns += runs.length;
        if (op?.status !== 'succeeded' || op.finishedAt === null) {
          failures.push(`${backend}: ${id} succeeded but ${step} is not journaled as succeeded`);
          continue;
        }
        completedSteps++;
        const doneAt = Date.parse(op.finishedAt);
        const after = runs.filter((at) => at > doneAt);
        const before = runs.length - after.length;
        if (after.length > 0)
          failures.push(
            `${backend}: ${id} ${step} completed at ${op.finishedAt} and its body ran again ${after.length}× after (at ${after.map((a) => new Date(a).toISOString()).join(', ')})`,
          );
        if (before === 0) failures.push(`${backend}: ${id} ${step} completed without its body running`);
        completedReruns += after.length;
        incompleteRetries += Math.max(0, before - 1);
      }
    }
    if (kills < REQUIRED_KILLS) failures.push(`${backend}: only ${kills} kills before the work was done`);
    return {
      failures,
      figures: {
        kills,
        kills_during_startup: killsDuringStartup,
        workers_started: workers.length,
        executions: ids.length,
        steps: completedSteps,
        body_runs: bodyRuns,
        completed_step_reruns: completedReruns,
        incomplete_step_retries: incompleteRetries,
        rounds,
        undisturbed_ms: undisturbedMs,
      },
    };
  } finally {
    for (const w of workers) if (w.exit === null) await sigkill(w);
    await ms.close();
  }
}

const started = Date.now();
const dir = scratchDir('workflows');
const pgStore = scratchPgSchema('wf');
const failures: string[] = [];
const figures: Record<string, number | string> = {};
try {
  const outcomes = await Promise.all([
    runOn('sqlite', `sqlite:${join(dir.path, 'app.db')}`, dir.path),
    runOn('postgres', pgStore.url, dir.path),
  ]);
  for (const [backend, o] of [
    ['sqlite', outcomes[0]],
    ['postgres', outcomes[1]],
  ] as const) {
    failures.push(...o.failures);
    for (const [k, v] of Object.entries(o.figures)) figures[`${backend}_${k}`] = v;
  }
  for (const k of ['kills', 'executions', 'steps', 'completed_step_reruns', 'incomplete_step_retries'])
    figures[k] = outcomes.reduce((sum, o) => sum + Number(o.figures[k]), 0);
  figures['seconds'] = Math.round((Date.now() - started) / 1000);
} catch (err) {
  failures.push(`scenario error: ${(err as Error).stack ?? err}`);
}
const ok = failures.length === 0 && figures['steps'] === Number(figures['executions']) * STEPS;
finish({ scenario: 'workflows', ok, figures, failures });
if (ok) {
  dir.remove();
  await pgStore.drop();
} else console.log(`     kept ${dir.path} and ${pgStore.url} for inspection`);
