// The library entry point: one object that owns the store, the clock and the
// services built on them. The CLI's `start` and a user's own process both use it.

import type { Logger } from 'pino';
import { type Clock, RealClock } from './core/clock.ts';
import { type Duration, parseDuration } from './core/duration.ts';
import { MainspringError } from './core/errors.ts';
import { EventBus } from './events/bus.ts';
import type { FileTriggerDefinition } from './events/files/define.ts';
import { FileWatcher } from './events/files/watcher.ts';
import type { RuleDefinition } from './events/rules-define.ts';
import { defaultOwner, Locks } from './locks/locks.ts';
import {
  Alerter,
  type AlertSettings,
  type ResolvedAlertSettings,
  resolveAlertSettings,
} from './observability/alerts.ts';
import { Metrics, type QueueGaugeRead } from './observability/metrics.ts';
import type { QueueDefinition } from './queue/define.ts';
import { Queues } from './queue/queues.ts';
import type { FunctionDefinition } from './runtime/function.ts';
import { DEFAULT_RUN_RETENTION_MS } from './runtime/retention.ts';
import { invocationQueue, Runs } from './runtime/runs.ts';
import { Worker, type WorkerOptions } from './runtime/worker.ts';
import { HTTP_FUNCTION, httpTargetFunction } from './scheduler/http-target.ts';
import { type RunDueOptions, type RunDueResult, runDue } from './scheduler/run-due.ts';
import { Scheduler, type SchedulerOptions } from './scheduler/scheduler.ts';
import { Schedules } from './scheduler/schedules.ts';
import { Tasks } from './scheduler/tasks.ts';
import { declaredSchedules } from './scheduler/trigger.ts';
import { WORKFLOW_FUNCTION, workflowTargetFunction } from './scheduler/workflow-target.ts';
import { NO_MESSAGES } from './store/message-row.ts';
import { openStore } from './store/open.ts';
import type { Store } from './store/types.ts';
import { Workflows } from './workflow/client.ts';
import type { WorkflowDefinition } from './workflow/define.ts';

export interface CreateMainspringOptions {
  /** Store URL; defaults to `DATABASE_URL`, then `sqlite:.mainspring/mainspring.db`. */
  readonly db?: string;
  /** Time source; defaults to the real clock. Pass a FakeClock in tests. */
  readonly clock?: Clock;
  /** Folder relative SQLite paths resolve against. */
  readonly cwd?: string;
  /** Folder command functions run in (their `cwd` is relative to it); default: `cwd`. */
  readonly appDir?: string;
  /** Owner name this process uses for leases (default host:pid:random). */
  readonly owner?: string;
  /** Queues this process defines; stored so every process sharing the store sees them. */
  readonly queues?: readonly QueueDefinition[];
  /** Functions this process can run. */
  readonly functions?: readonly FunctionDefinition[];
  /**
   * Event rules (`defineRule`); their function targets are consumed by this process's worker.
   * A serving process stores them: every process sharing the store routes by the stored rules.
   */
  readonly rules?: readonly RuleDefinition[];
  /** File-arrival triggers (`defineFileTrigger`); watched once `startFileTriggers` is called. */
  readonly fileTriggers?: readonly FileTriggerDefinition[];
  /** How long the bus keeps events for replay (default 30 days). */
  readonly eventRetentionMs?: number;
  /** Postgres pool size (default 10). */
  readonly poolSize?: number;
  readonly logger?: Logger;
  /** Alerts for every function's final failures and timeouts (functions may add their own). */
  readonly alerts?: AlertSettings;
  /** A dotenv-format file command secrets are read from when not in the environment. */
  readonly secretsFile?: string;
  /** How long finished runs and their logs are kept (default 30 days). */
  readonly runRetention?: Duration;
  /**
   * Keep a record of each queue-triggered run (default true). Invocations (manual calls,
   * schedules, tasks) are always recorded: their record is how they are tracked.
   */
  readonly recordRuns?: boolean;
  /** Where the API is reachable, for links in alerts (default http://127.0.0.1:7400). */
  readonly baseUrl?: string;
  /** Scheduler settings. */
  readonly scheduler?: SchedulerSettings;
  /** Durable workflows (`defineWorkflow`) this process can start and run. */
  readonly workflows?: readonly WorkflowDefinition[];
  /**
   * How this process uses the store. `'serve'` (default): migrate it and store this app's
   * queue definitions and event rules, as `start`, `worker` and `scheduler` do. `'client'`:
   * use the store as it is (it must exist and be migrated), writing only what each call asks;
   * queues are sent to with their stored settings, events routed by the stored rules.
   * `'read'`: as `'client'`, and the connection refuses writes.
   */
  readonly access?: 'serve' | 'client' | 'read';
}

export interface SchedulerSettings {
  /**
   * Hosts HTTP targets may call: `api.example.com`, `*.example.com` (subdomains),
   * `host:8080` (that port only). Empty (the default): no HTTP targets.
   */
  readonly httpAllowList?: readonly string[];
  /**
   * A tick fired more than this late counts as missed, and its misfire policy applies
   * (default 1 minute; real time, also when MAINSPRING_TIME_SCALE speeds the clock up).
   */
  readonly misfireGrace?: Duration;
}

export interface Mainspring {
  readonly store: Store;
  readonly clock: Clock;
  readonly locks: Locks;
  readonly queues: Queues;
  /** The event bus: put, replay, and the rules' routing. */
  readonly events: EventBus;
  /** The app's functions, with the triggers rules add for their function targets. */
  readonly functions: readonly FunctionDefinition[];
  /** Run history, manual invocation, cancellation and logs. */
  readonly runs: Runs;
  /** Persistent schedules: create, change, enable, disable, see the next ticks. */
  readonly schedules: Schedules;
  /** One-off tasks, upserted by id. */
  readonly tasks: Tasks;
  /** Durable workflow executions: start, read, stop, delete; callbacks. */
  readonly workflows: Workflows;
  /** Prometheus metrics of this process (and queue depth of the whole store). */
  readonly metrics: Metrics;
  /** Starts consuming the queues this app's functions are triggered from. */
  startWorker(options?: WorkerOptions): Promise<Worker>;
  /**
   * Stores the schedules the config declares (adding, updating and removing, as the
   * config now says), then fires due ticks and tasks until stopped.
   */
  startScheduler(options?: SchedulerOptions): Promise<Scheduler>;
  /**
   * Stores the config's schedules, then fires everything due at the clock's now (ticks and
   * tasks) once, runs it with a worker of this process, and waits for those runs: the batch
   * worker of the slow-scheduler pattern. With `now` months away from the clock it fires
   * the tasks due by then and leaves schedules alone unless `schedules: true`; `dryRun`
   * only lists what would fire, and writes nothing.
   *
   * @example
   * ```ts
   * const plan = await ms.runDue({ now: new Date('2027-03-01T00:00:00Z'), dryRun: true });
   * for (const d of plan.wouldFire) console.log(d.kind, d.name, d.tickAt, d.target);
   * ```
   */
  runDue(options?: RunDueOptions): Promise<RunDueResult>;
  /**
   * Watches the app's file triggers' folders, announcing files already there that were
   * never announced; resolves once those have been seen.
   */
  startFileTriggers(): Promise<FileWatcher[]>;
  /** Stops workers started here (gracefully) and closes the store. */
  close(): Promise<void>;
}

/**
 * Opens (and migrates) the store, registers the app's queues and event rules, and builds the
 * services on it.
 *
 * @example
 * ```ts
 * import { createMainspring, defineQueue } from 'mainspringjs';
 * const orders = defineQueue({ name: 'orders' });
 * const ms = await createMainspring({ db: process.env.DATABASE_URL, queues: [orders] });
 * await ms.queues.send(orders, { orderId: 42 });
 * await ms.close();
 * ```
 */
export async function createMainspring(options: CreateMainspringOptions = {}): Promise<Mainspring> {
  const clock = options.clock ?? new RealClock();
  const userFunctions = options.functions ?? [];
  const names = new Set<string>();
  for (const fn of userFunctions) {
    if (names.has(fn.name)) {
      throw new MainspringError(
        'E_FUNCTION_INVALID',
        `function "${fn.name}" is defined twice; give each function one name`,
      );
    }
    names.add(fn.name);
  }
  const alerts = options.alerts === undefined ? null : resolveAlertSettings(options.alerts, 'alerts');
  const functionAlerts = new Map<string, ResolvedAlertSettings>();
  userFunctions.forEach((fn, i) => {
    if (fn.alerts !== null)
      functionAlerts.set(fn.name, resolveAlertSettings(fn.alerts, `functions[${i}].alerts`));
  });
  const runRetentionMs =
    options.runRetention === undefined
      ? DEFAULT_RUN_RETENTION_MS
      : parseDuration(options.runRetention, 'runRetention');
  const owner = options.owner ?? defaultOwner();
  const fileTriggers = options.fileTriggers ?? [];
  const rules = [...(options.rules ?? []), ...fileTriggers.map((t) => t.rule)];
  const httpAllowList = options.scheduler?.httpAllowList ?? [];
  const misfireGraceMs =
    options.scheduler?.misfireGrace === undefined
      ? undefined
      : parseDuration(options.scheduler.misfireGrace, 'scheduler.misfireGrace');
  for (const reserved of [HTTP_FUNCTION, WORKFLOW_FUNCTION]) {
    if (names.has(reserved)) {
      throw new MainspringError(
        'E_FUNCTION_INVALID',
        `function name "${reserved}" is reserved; choose another`,
      );
    }
  }
  // HTTP and workflow targets are runs of built-in functions, there only when they can be used.
  let workflowsClient: Workflows | null = null;
  const builtIn = [
    ...(httpAllowList.length > 0 ? [httpTargetFunction(httpAllowList)] : []),
    ...((options.workflows ?? []).length > 0 ? [workflowTargetFunction(() => workflowsClient!)] : []),
  ];
  const functions = withRuleTriggers([...userFunctions, ...builtIn], rules);
  const functionsByName = new Map(functions.map((f) => [f.name, f]));
  const workflowsByName = new Map<string, WorkflowDefinition>();
  for (const [i, wf] of (options.workflows ?? []).entries()) {
    if (wf?.kind !== 'workflow') {
      throw new MainspringError(
        'E_WORKFLOW_INVALID',
        `workflows[${i}] is not a workflow; build it with defineWorkflow`,
        {
          details: { field: `workflows[${i}]` },
        },
      );
    }
    if (workflowsByName.has(wf.name)) {
      throw new MainspringError(
        'E_WORKFLOW_INVALID',
        `workflows[${i}]: the name "${wf.name}" is used twice`,
        {
          details: { field: `workflows[${i}].name` },
        },
      );
    }
    workflowsByName.set(wf.name, wf as WorkflowDefinition);
  }
  const access = options.access ?? 'serve';
  const serving = access === 'serve';
  const store = await openStore(options.db, {
    clock,
    ...(access === 'read' ? { access: 'read' as const } : {}),
    ...(access === 'client' ? { mustExist: true } : {}),
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.poolSize ? { poolSize: options.poolSize } : {}),
  });
  const workers = new Set<Worker>();
  const watchers: FileWatcher[] = [];
  try {
    // A client sends with the stored settings: the config it loaded may not be the one serving.
    const queues = new Queues(
      store.queues,
      clock,
      serving
        ? [...(options.queues ?? []), ...rules.flatMap((r) => r.queues), ...functions.map(invocationQueue)]
        : [],
    );
    if (serving) await queues.register();
    const events = new EventBus({
      store: store.events,
      queues,
      clock,
      rules,
      listen: (channel, handler) => store.listen(channel, handler),
      ...(options.eventRetentionMs !== undefined ? { retentionMs: options.eventRetentionMs } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
    if (serving) {
      await events.checkTargets();
      // Rules live in the store, so processes without them (producers, clients) route alike.
      await events.storeRules();
    }
    const locks = new Locks(store.locks, clock, owner);
    const metrics = new Metrics({
      queueCounts: () => allQueueCounts(store, clock.now()),
      workflowsWaiting: () => store.workflows.countWaiting(),
      clock,
    });
    const alerter =
      alerts !== null || functionAlerts.size > 0
        ? new Alerter({ clock, metrics, ...(options.logger ? { logger: options.logger } : {}) })
        : null;
    const runs = new Runs(store, clock, queues, functions);
    const schedules = new Schedules({
      store,
      clock,
      queues,
      runs,
      functions: functionsByName,
      httpAllowList,
      workflows: new Set(workflowsByName.keys()),
    });
    const tasks = new Tasks({ store, clock, runs, functions: functionsByName });
    const workflows = new Workflows({ store, clock, definitions: workflowsByName, observer: metrics });
    workflowsClient = workflows;
    // Every process that puts events resumes the executions waiting for them: the waits are
    // in the store with their patterns, so a producer without the workflows' definitions (a
    // client, another service) delivers its events as the worker's own process would.
    events.watch((put) => workflows.deliverEvents(put));
    const schedulers = new Set<Scheduler>();
    const newScheduler = (schedulerOptions: SchedulerOptions = {}) =>
      new Scheduler(
        { store, clock, functions: functionsByName, metrics },
        {
          ...(options.logger ? { logger: options.logger } : {}),
          ...(misfireGraceMs !== undefined ? { misfireGraceMs } : {}),
          ...schedulerOptions,
        },
      );
    const app: Mainspring = {
      store,
      clock,
      locks,
      queues,
      events,
      functions,
      runs,
      schedules,
      tasks,
      workflows,
      metrics,
      async startScheduler(schedulerOptions: SchedulerOptions = {}) {
        await schedules.reconcile(declaredSchedules(functions), options.logger);
        const scheduler = newScheduler(schedulerOptions);
        await scheduler.start();
        schedulers.add(scheduler);
        return scheduler;
      },
      async runDue(runDueOptions: RunDueOptions = {}) {
        // A dry run writes nothing: it sees the schedules as stored.
        if (!runDueOptions.dryRun) await schedules.reconcile(declaredSchedules(functions), options.logger);
        return runDue(app, newScheduler(), runDueOptions);
      },
      async startWorker(workerOptions: WorkerOptions = {}) {
        const worker = new Worker(
          {
            store,
            clock,
            queues,
            functions,
            locks,
            clients: { queues, events, workflows },
            owner,
            metrics,
            alerter,
            alerts,
            functionAlerts,
            recordRuns: options.recordRuns ?? true,
            cwd: options.appDir ?? options.cwd ?? process.cwd(),
            secretsFile: options.secretsFile ?? null,
            baseUrl: options.baseUrl ?? 'http://127.0.0.1:7400',
            runRetentionMs,
            workflows: workflowsByName,
          },
          { ...(options.logger ? { logger: options.logger } : {}), ...workerOptions },
        );
        await worker.start();
        workers.add(worker);
        return worker;
      },
      async startFileTriggers() {
        const started: FileWatcher[] = [];
        for (const trigger of fileTriggers) {
          const watcher = new FileWatcher(trigger, {
            bus: events,
            store: store.events,
            clock,
            cwd: options.appDir ?? options.cwd ?? process.cwd(),
            ...(options.logger ? { logger: options.logger } : {}),
          });
          watchers.push(watcher);
          await watcher.start();
          started.push(watcher);
        }
        return started;
      },
      async close() {
        await Promise.all([...schedulers].map((sc) => sc.stop()));
        await Promise.all(watchers.splice(0).map((w) => w.stop()));
        await events.stop();
        await Promise.all([...workers].map((w) => w.stop()));
        await alerter?.idle();
        alerter?.close();
        await store.close();
      },
    };
    return app;
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** The app's functions with a trigger added on each rule's internal queue for them. */
function withRuleTriggers(
  functions: readonly FunctionDefinition[],
  rules: readonly RuleDefinition[],
): FunctionDefinition[] {
  const byName = new Map(functions.map((f) => [f.name, f]));
  for (const rule of rules) {
    for (const target of rule.functions) {
      const known = byName.get(target.name) ?? { ...target, triggers: [] };
      byName.set(target.name, { ...known, triggers: [...known.triggers, ...target.triggers] });
    }
  }
  return [...byName.values()];
}

/**
 * Counts of every stored queue, empty ones as zeros (the store returns only queues with
 * messages), each with whether it is paused.
 */
async function allQueueCounts(store: Store, nowMs: number): Promise<QueueGaugeRead[]> {
  const [counts, queues] = await Promise.all([store.queues.counts(nowMs), store.queues.listQueues()]);
  const paused = new Set(queues.filter((q) => q.pausedAtMs !== null).map((q) => q.name));
  const seen = new Set(counts.map((c) => c.queue));
  const empty = queues.filter((q) => !seen.has(q.name)).map((q) => ({ ...NO_MESSAGES, queue: q.name }));
  return [...counts, ...empty].map((c) => ({ ...c, paused: paused.has(c.queue) }));
}
