// The REST API the Lambda version's users script against, served by Fastify over a
// mainspring app: a task is an execution of the report workflow (taskId = execution
// id) and its status is the execution's progress. Where the Lambda version had API
// Gateway, a task-management function and a DynamoDB table, this is one process.
//
//   POST   /tasks           {"config": {...}} → { taskId, status: "INITIALIZED", message }
//   GET    /tasks/:taskId   → the task: status, currentDay, progress, config, startTime, finalReport
//   GET    /tasks           → { tasks, count }
//   DELETE /tasks           → { message, deletedCount }

import { setTimeout as delay } from 'node:timers/promises';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import {
  type Execution,
  type ExecutionStatus,
  isMainspringError,
  type Mainspring,
  MainspringError,
} from 'mainspringjs';
import {
  type FinalReport,
  REPORT_WORKFLOW,
  type StepRecord,
  type TaskConfig,
  type TaskInput,
  type TaskProgress,
  type TaskStatus,
  TOTAL_DAYS,
} from './workflow.ts';

/** A task as `GET /tasks/:taskId` returns it. */
export interface TaskView {
  readonly taskId: string;
  readonly status: TaskStatus;
  readonly currentDay: number;
  readonly progress: {
    readonly percentage: number;
    readonly completedDays: number;
    readonly totalDays: number;
    readonly steps: readonly StepRecord[];
  };
  readonly config: TaskConfig;
  readonly startTime: string;
  readonly finalReport?: FinalReport;
  /** Why the task failed, when its status is FAILED. */
  readonly error?: { readonly name: string; readonly message: string; readonly code?: string };
}

const FAILED: readonly ExecutionStatus[] = ['failed', 'stopped', 'timed_out'];
const FINISHED: readonly ExecutionStatus[] = ['succeeded', ...FAILED];
// How long DELETE waits (real time) for a running execution to stop, and how often it looks.
const STOP_WAIT_MS = 30_000;
const STOP_POLL_MS = 20;

/**
 * Builds the task API over `ms`, whose app must include the report workflow and run a
 * worker for tasks to advance. The caller listens and closes.
 *
 * @example
 * ```ts
 * const api = createTaskApi(ms);
 * await api.listen({ port: 3000 });
 * ```
 */
export function createTaskApi(ms: Mainspring, options: FastifyServerOptions = {}): FastifyInstance {
  const app = Fastify(options);

  app.setErrorHandler((err: FastifyError | Error, req, reply) => {
    const status = isMainspringError(err) ? err.status : ((err as FastifyError).statusCode ?? 500);
    if (status >= 500) req.log.error({ err }, 'request failed');
    const code = isMainspringError(err) ? err.code : status >= 500 ? 'E_INTERNAL' : 'E_VALIDATION';
    const message =
      status >= 500 && !isMainspringError(err) ? 'internal error; see the server log' : err.message;
    return reply.status(status).send({ error: { code, message } });
  });

  app.post('/tasks', async (req) => {
    const config = configOf(req.body);
    const input: TaskInput = { config };
    const execution = await startTask(ms, input);
    return { taskId: execution.id, status: 'INITIALIZED', message: 'Task started successfully' };
  });

  app.get<{ Params: { taskId: string } }>('/tasks/:taskId', async (req) => {
    const { taskId } = req.params;
    const execution = await ms.workflows.get(taskId).catch((err: unknown) => {
      throw isMainspringError(err) && err.code === 'E_EXECUTION_NOT_FOUND' ? taskNotFound(taskId) : err;
    });
    if (execution.workflow !== REPORT_WORKFLOW) throw taskNotFound(taskId);
    return toTask(execution);
  });

  app.get('/tasks', async () => {
    const tasks = (await allTasks(ms)).map(toTask);
    return { tasks, count: tasks.length };
  });

  app.delete('/tasks', async () => {
    let deletedCount = 0;
    for (const execution of await allTasks(ms)) {
      if (await deleteTask(ms, execution)) deletedCount++;
    }
    return { message: 'All tasks deleted successfully', deletedCount };
  });

  return app;
}

/** The body's `config`, or a 400 naming it. */
function configOf(body: unknown): TaskConfig {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new MainspringError(
      'E_VALIDATION',
      `the request body is ${describe(body)}; send a JSON object such as {"config": {"reportType": "weekly"}} with Content-Type: application/json`,
      { details: { field: 'body' } },
    );
  }
  const config = (body as { config?: unknown }).config;
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new MainspringError(
      'E_VALIDATION',
      `config is ${describe(config)}; it must be an object, e.g. {"config": {"reportType": "weekly", "notifyEmail": "admin@example.com"}}`,
      { details: { field: 'config' } },
    );
  }
  return config as TaskConfig;
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  return JSON.stringify(value)?.slice(0, 100) ?? String(value);
}

/** Starts an execution with id `TASK-<ms>`, the Lambda version's ids; a second task in the same millisecond gets `-2`, … */
async function startTask(ms: Mainspring, input: TaskInput): Promise<Execution> {
  const base = `TASK-${ms.clock.now()}`;
  for (let n = 1; ; n++) {
    const started = await ms.workflows.start(REPORT_WORKFLOW, input, { id: n === 1 ? base : `${base}-${n}` });
    if (started.created) return started;
  }
}

/** Every execution of the report workflow, newest first. */
async function allTasks(ms: Mainspring): Promise<Execution[]> {
  const all: Execution[] = [];
  let cursor: string | null = null;
  do {
    const page = await ms.workflows.list({
      workflow: REPORT_WORKFLOW,
      limit: 500,
      ...(cursor !== null ? { cursor } : {}),
    });
    all.push(...page.executions);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return all;
}

/** Deletes a task, stopping it first when it has not finished. False when it was already gone. */
async function deleteTask(ms: Mainspring, execution: Execution): Promise<boolean> {
  try {
    if (!FINISHED.includes(execution.status)) await stopTask(ms, execution.id);
    await ms.workflows.delete(execution.id);
    return true;
  } catch (err) {
    if (isMainspringError(err) && err.code === 'E_EXECUTION_NOT_FOUND') return false;
    throw err;
  }
}

/**
 * Stops an execution and resolves once it has stopped. A waiting one stops at once; a
 * running one is asked to, and stops when its step returns — or suspends first, and is
 * then waiting, so asking again stops it at once.
 */
async function stopTask(ms: Mainspring, id: string): Promise<void> {
  const signal = AbortSignal.timeout(STOP_WAIT_MS);
  for (;;) {
    const execution = await ms.workflows.stop(id);
    if (FINISHED.includes(execution.status)) return;
    try {
      await delay(STOP_POLL_MS, undefined, { signal });
    } catch {
      throw new MainspringError(
        'E_EXECUTION_NOT_FINISHED',
        `task "${id}" is still running a step ${STOP_WAIT_MS / 1000} s after it was asked to stop; try DELETE /tasks again`,
        { details: { field: 'taskId', value: id } },
      );
    }
  }
}

/** The task an execution stands for: its progress, with FAILED when the execution did not succeed. */
export function toTask(execution: Execution): TaskView {
  const progress = (execution.progress ?? null) as TaskProgress | null;
  const failed = FAILED.includes(execution.status);
  return {
    taskId: execution.id,
    status: failed ? 'FAILED' : (progress?.status ?? 'INITIALIZED'),
    currentDay: progress?.currentDay ?? 1,
    progress: {
      percentage: progress?.percentage ?? 0,
      completedDays: progress?.completedDays ?? 0,
      totalDays: progress?.totalDays ?? TOTAL_DAYS,
      steps: progress?.steps ?? [],
    },
    config: (execution.input as TaskInput | null)?.config ?? {},
    startTime: execution.createdAt,
    ...(progress?.finalReport !== undefined ? { finalReport: progress.finalReport } : {}),
    ...(failed && execution.error !== undefined ? { error: execution.error } : {}),
  };
}

function taskNotFound(taskId: string): MainspringError {
  return new MainspringError('E_EXECUTION_NOT_FOUND', `task "${taskId}" does not exist (or was deleted)`, {
    details: { field: 'taskId', value: taskId },
  });
}
