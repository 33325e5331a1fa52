// Prometheus metrics for one app: run counts and durations, schedule ticks fired,
// missed and late, tasks fired, workflow executions started and finished, API
// requests, failed deliveries, and queue depth and waiting executions read from
// the store at scrape time. Each Metrics owns its own prom-client Registry (never
// the global one), so two apps in one process keep separate values and never clash
// over metric names. Node's process metrics are per process, not per app: they are
// collected once, into one registry every Metrics of the process serves.

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { type Clock, RealClock } from '../core/clock.ts';
import type { RunStatus } from '../store/run-row.ts';
import type { QueueCounts } from '../store/types.ts';
import type { ExecutionStatus, WaitingCount } from '../store/workflow-row.ts';

/** A queue's counts, and whether it is paused when the reader knows (no paused series otherwise). */
export interface QueueGaugeRead extends QueueCounts {
  readonly paused?: boolean;
}

export interface MetricsOptions {
  /** Read at every scrape, so queue depth is fresh and covers every process sharing the store. */
  readonly queueCounts?: () => Promise<readonly QueueGaugeRead[]>;
  /** Read at every scrape, like queueCounts: the executions waiting now, per workflow. */
  readonly workflowsWaiting?: () => Promise<readonly WaitingCount[]>;
  /**
   * Prepended to the name of every metric of this app. Default `'mainspring_'`. Node's
   * process metrics keep their standard names (`process_cpu_seconds_total`, …), so stock
   * dashboards find them.
   */
  readonly prefix?: string;
  /** Source of "now" for the age of the oldest message. Default: wall-clock time. */
  readonly clock?: Clock;
  /**
   * Also serve prom-client's default process metrics (CPU, memory, event loop lag, GC),
   * collected once per process whatever the number of apps. Default true.
   */
  readonly defaultMetrics?: boolean;
}

// 1 ms … 1 h: handlers range from sub-millisecond queue consumers to hour-long batch jobs.
const RUN_DURATION_BUCKETS_S = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600,
];
// 1 ms … 60 s: a tick later than a minute is an outage, not lateness worth resolving finely.
const LATENESS_BUCKETS_S = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
// 1 ms … 60 s: most answers take milliseconds; long polls and log streams end past the top.
const HTTP_DURATION_BUCKETS_S = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** The route label of a request no route matched: its URL is unbounded, so it is not the label. */
export const UNMATCHED_ROUTE = 'unmatched';

let processRegistry: Registry | null = null;

/**
 * prom-client's default metrics, collected once per process into a registry of their own:
 * each collection starts an event-loop monitor and a GC observer that are never stopped, so
 * a process building many apps (a test suite) must not start one per app.
 */
function processMetrics(): Registry {
  if (processRegistry === null) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * prom-client names three gauges `…_total` (`nodejs_active_handles_total`, `…_requests_total`,
 * `…_resources_total`), which `promtool check metrics` reports: `_total` is for counters. Stock
 * Node dashboards query those names, so they stay, declared untyped (which promtool accepts and
 * which changes nothing for queries) rather than gauges.
 */
function untypedTotals(text: string): string {
  return text.replace(/^# TYPE (nodejs_\w+_total) gauge$/gm, '# TYPE $1 untyped');
}

interface FinishedChildren {
  readonly count: Counter.Internal;
  readonly duration: Histogram.Internal<string>;
}

/**
 * A count of one label combination kept as a plain number and added to its counter when the
 * registry reads it (the counter's collect). prom-client hashes and checks a child's labels on
 * every inc: counting the start and end of every run that way took about a tenth of a worker's
 * time at 90,000 runs a second (bench:queue, SQLite, defaults).
 */
class Tally {
  n = 0;
  #published = 0;
  readonly #child: Counter.Internal;

  constructor(child: Counter.Internal) {
    this.#child = child;
  }

  publish(): void {
    if (this.n > this.#published) this.#child.inc(this.n - this.#published);
    this.#published = this.n;
  }
}

/** Label children by two label values, each made once (`make`) and then looked up. */
class ByTwoLabels<T> {
  readonly #byA = new Map<string, Map<string, T>>();
  readonly #make: (a: string, b: string) => T;

  constructor(make: (a: string, b: string) => T) {
    this.#make = make;
  }

  get(a: string, b: string): T {
    let byB = this.#byA.get(a);
    if (byB === undefined) {
      byB = new Map();
      this.#byA.set(a, byB);
    }
    let child = byB.get(b);
    if (child === undefined) {
      child = this.#make(a, b);
      byB.set(b, child);
    }
    return child;
  }

  *values(): IterableIterator<T> {
    for (const byB of this.#byA.values()) yield* byB.values();
  }

  entries(): IterableIterator<[string, Map<string, T>]> {
    return this.#byA.entries();
  }
}

/** A value of a metric as prom-client's registry reads it (`metricName` for a histogram's series). */
interface SeriesValue {
  readonly value: number;
  readonly labels: Record<string, string | number>;
  readonly sharedLabels?: Record<string, string>;
  readonly metricName: string;
}

/** One label combination of RunDurations: a count per bucket (not cumulative), their sum and count. */
class Durations {
  readonly buckets: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: number) {
    this.buckets = new Float64Array(bounds);
  }
}

/**
 * The run duration histogram, by function and status, as a metric of the registry's own kind
 * (prom-client reads `get`, and formats it as it does its Histogram: the same series and
 * labels). prom-client's Histogram checks the labels, hashes them into a string key and looks
 * up the bucket by its bound's text on every observe: at 90,000 runs a second on SQLite, about
 * a twentieth of a worker's time. Here an observation is two map lookups and a walk of 19 bounds.
 */
class RunDurations {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  readonly #bounds: readonly number[];
  #by!: ByTwoLabels<Durations>;

  constructor(name: string, help: string, bounds: readonly number[]) {
    this.name = name;
    this.help = help;
    this.#bounds = bounds;
    this.reset();
  }

  observe(fn: string, status: string, seconds: number): void {
    const d = this.#by.get(fn, status);
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    if (i < bounds.length) d.buckets[i]!++;
    d.sum += seconds;
    d.count++;
  }

  /** For the text exposition: each series' labels apart from its `le`, as prom-client's Histogram gives them. */
  getForPromString() {
    const values: SeriesValue[] = [];
    for (const [fn, byStatus] of this.#by.entries()) {
      for (const [status, d] of byStatus) {
        const sharedLabels = { function: fn, status };
        let acc = 0;
        this.#bounds.forEach((le, i) => {
          acc += d.buckets[i]!;
          values.push({ labels: { le }, sharedLabels, value: acc, metricName: `${this.name}_bucket` });
        });
        values.push(
          { labels: { le: '+Inf' }, sharedLabels, value: d.count, metricName: `${this.name}_bucket` },
          { labels: {}, sharedLabels, value: d.sum, metricName: `${this.name}_sum` },
          { labels: {}, sharedLabels, value: d.count, metricName: `${this.name}_count` },
        );
      }
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** For JSON: the same series with every label in `labels`. */
  get() {
    const text = this.getForPromString();
    return {
      ...text,
      values: text.values.map(({ labels, sharedLabels, value, metricName }) => ({
        labels: { ...labels, ...sharedLabels },
        value,
        metricName,
      })),
    };
  }

  /** Forgets every observation (the registry's resetMetrics). */
  reset(): void {
    this.#by = new ByTwoLabels(() => new Durations(this.#bounds.length));
  }
}

/**
 * One read from the store shared by every collector of a scrape (the registry starts them
 * concurrently); a read that fails or throws counts a scrape error and yields null.
 */
class ScrapeRead<T> {
  readonly #read: () => Promise<T>;
  readonly #failed: () => void;
  #pending: Promise<T | null> | null = null;

  constructor(read: () => Promise<T>, failed: () => void) {
    this.#read = read;
    this.#failed = failed;
  }

  get(): Promise<T | null> {
    if (this.#pending) return this.#pending;
    const read = this.#read;
    const pending = (async () => {
      try {
        return await read();
      } catch {
        this.#failed();
        return null;
      }
    })();
    this.#pending = pending;
    // Cleared once settled, so the next scrape reads afresh; collectors of this scrape
    // have all been called by then (the registry starts them in one synchronous pass).
    void pending.finally(() => {
      if (this.#pending === pending) this.#pending = null;
    });
    return pending;
  }
}

/** A counter's children by one label value, looked up once each. */
function childCache(counter: Counter<string>): (value: string) => Counter.Internal {
  const children = new Map<string, Counter.Internal>();
  return (value) => {
    let child = children.get(value);
    if (child === undefined) {
      child = counter.labels(value);
      children.set(value, child);
    }
    return child;
  };
}

/**
 * The metrics of one app, in a registry of its own.
 *
 * Recording is cheap enough for the hot path: label children are looked up once per
 * label combination and cached, and the runs' counts are plain numbers until a scrape reads them.
 *
 * @example
 * ```ts
 * const metrics = new Metrics({ queueCounts: () => store.queues.counts(clock.now()) });
 * metrics.runStarted('send-receipt', 'queue');
 * metrics.runFinished('send-receipt', 'succeeded', 42);
 * reply.header('content-type', metrics.contentType).send(await metrics.metrics());
 * ```
 */
export class Metrics {
  readonly registry: Registry;
  readonly #started: Counter<'function' | 'trigger'>;
  readonly #finished: Counter<'function' | 'status'>;
  readonly #duration: RunDurations;
  readonly #lateness: Histogram<'schedule'>;
  readonly #deliveriesFailed: Counter<'kind' | 'target'>;
  readonly #shed: Counter<'reason'>;
  readonly #ticksFired: (schedule: string) => Counter.Internal;
  readonly #ticksMissed: (schedule: string) => Counter.Internal;
  readonly #ticksOverlapSkipped: (schedule: string) => Counter.Internal;
  readonly #tasksFired: (fn: string) => Counter.Internal;
  readonly #executionsStarted: (workflow: string) => Counter.Internal;
  readonly #executionsFinished: Counter<'workflow' | 'status'>;
  readonly #httpRequests: Counter<'method' | 'route' | 'status_code'>;
  readonly #httpDuration: Histogram<'method' | 'route'>;
  #httpInFlight: () => number = () => 0;
  #httpQueued: () => number = () => 0;
  readonly #startedTallies = new ByTwoLabels((fn, trigger) => new Tally(this.#started.labels(fn, trigger)));
  readonly #finishedTallies = new ByTwoLabels((fn, status) => new Tally(this.#finished.labels(fn, status)));
  readonly #latenessChildren = new Map<string, Histogram.Internal<string>>();
  readonly #httpChildren = new Map<string, FinishedChildren>();
  readonly #clock: Clock;
  readonly #defaultMetrics: boolean;
  #scrapeErrors: Counter | undefined;

  constructor(options: MetricsOptions = {}) {
    const prefix = options.prefix ?? 'mainspring_';
    this.registry = new Registry();
    this.#clock = options.clock ?? new RealClock();
    this.#defaultMetrics = options.defaultMetrics !== false;
    const registers = [this.registry];

    this.#started = new Counter({
      name: `${prefix}runs_started_total`,
      help: 'Runs started, by function and trigger kind.',
      labelNames: ['function', 'trigger'],
      registers,
      collect: () => {
        for (const t of this.#startedTallies.values()) t.publish();
      },
    });
    this.#finished = new Counter({
      name: `${prefix}runs_finished_total`,
      help: 'Runs that reached a final status, by function and status.',
      labelNames: ['function', 'status'],
      registers,
      collect: () => {
        for (const t of this.#finishedTallies.values()) t.publish();
      },
    });
    this.#duration = new RunDurations(
      `${prefix}run_duration_seconds`,
      'Duration of finished runs, by function and status.',
      RUN_DURATION_BUCKETS_S,
    );
    // A metric of the registry's own shape (see RunDurations), not a prom-client class.
    this.registry.registerMetric(this.#duration as unknown as Histogram);
    this.#lateness = new Histogram({
      name: `${prefix}schedule_lateness_seconds`,
      help: "How long after its due time a schedule tick's first attempt started, by schedule.",
      labelNames: ['schedule'],
      buckets: LATENESS_BUCKETS_S,
      registers,
    });
    this.#ticksFired = childCache(
      new Counter({
        name: `${prefix}schedule_ticks_fired_total`,
        help: 'Schedule ticks fired (their run or message created), catch-up ticks included, by schedule.',
        labelNames: ['schedule'],
        registers,
      }),
    );
    this.#ticksMissed = childCache(
      new Counter({
        name: `${prefix}schedule_ticks_missed_total`,
        help: 'Schedule ticks taken past the misfire grace that their misfire policy skipped or coalesced into one, by schedule.',
        labelNames: ['schedule'],
        registers,
      }),
    );
    this.#ticksOverlapSkipped = childCache(
      new Counter({
        name: `${prefix}schedule_ticks_overlap_skipped_total`,
        help: "Schedule ticks not fired because the previous tick's run was still going (overlap: skip), by schedule.",
        labelNames: ['schedule'],
        registers,
      }),
    );
    this.#tasksFired = childCache(
      new Counter({
        name: `${prefix}tasks_fired_total`,
        help: 'One-off tasks fired, by the function they invoke.',
        labelNames: ['function'],
        registers,
      }),
    );
    this.#executionsStarted = childCache(
      new Counter({
        name: `${prefix}workflow_executions_started_total`,
        help: 'Workflow executions a worker of this process began (its first session), by workflow.',
        labelNames: ['workflow'],
        registers,
      }),
    );
    this.#executionsFinished = new Counter({
      name: `${prefix}workflow_executions_finished_total`,
      help: 'Workflow executions that reached a final status in this process, by workflow and status.',
      labelNames: ['workflow', 'status'],
      registers,
    });
    this.#deliveriesFailed = new Counter({
      name: `${prefix}deliveries_failed_total`,
      help: 'Deliveries that failed for good after their retries, by kind and target.',
      labelNames: ['kind', 'target'],
      registers,
    });

    this.#httpRequests = new Counter({
      name: `${prefix}http_requests_total`,
      help: 'API requests answered, by method, route template and status code (those shed with 503 are in http_requests_shed_total).',
      labelNames: ['method', 'route', 'status_code'],
      registers,
    });
    this.#httpDuration = new Histogram({
      name: `${prefix}http_request_duration_seconds`,
      help: 'Time from an API request arriving to its response being sent, by method and route template.',
      labelNames: ['method', 'route'],
      buckets: HTTP_DURATION_BUCKETS_S,
      registers,
    });
    this.#shed = new Counter({
      name: `${prefix}http_requests_shed_total`,
      help: 'API requests refused with 503 before any work: over api.maxInFlight (overloaded) or while stopping (shutting_down).',
      labelNames: ['reason'],
      registers,
    });
    const inFlight: Gauge = new Gauge({
      name: `${prefix}http_requests_in_flight`,
      help: 'API requests being served now (those api.maxInFlight counts), at scrape time.',
      registers,
      collect: () => inFlight.set(this.#httpInFlight()),
    });
    const queued: Gauge = new Gauge({
      name: `${prefix}http_requests_queued`,
      help: 'API requests waiting for a slot (at most api.maxQueued), at scrape time.',
      registers,
      collect: () => queued.set(this.#httpQueued()),
    });

    const reads: ScrapeRead<unknown>[] = [];
    const failed = () => this.#scrapeErrors?.inc();
    if (options.queueCounts) {
      const counts = new ScrapeRead(options.queueCounts, failed);
      reads.push(counts);
      const queueMessages: Gauge<'queue' | 'state'> = new Gauge({
        name: `${prefix}queue_messages`,
        help: 'Messages per queue and state, read from the store at scrape time.',
        labelNames: ['queue', 'state'],
        registers,
        collect: async () => {
          const read = await counts.get();
          queueMessages.reset();
          for (const c of read ?? []) {
            queueMessages.labels(c.queue, 'visible').set(c.visible);
            queueMessages.labels(c.queue, 'in_flight').set(c.inFlight);
            queueMessages.labels(c.queue, 'delayed').set(c.delayed);
            queueMessages.labels(c.queue, 'dead').set(c.dead);
          }
        },
      });
      const held: Gauge<'queue' | 'reason'> = new Gauge({
        name: `${prefix}queue_messages_held`,
        help: "Messages a function's limits hold back per queue, read from the store at scrape time: reason concurrency (waiting for a slot of their key; counted in visible too) or rate_limit (counted in delayed too).",
        labelNames: ['queue', 'reason'],
        registers,
        collect: async () => {
          const read = await counts.get();
          held.reset();
          for (const c of read ?? []) {
            held.labels(c.queue, 'concurrency').set(c.waitingForSlot);
            held.labels(c.queue, 'rate_limit').set(c.rateLimited);
          }
        },
      });
      const oldestAge: Gauge<'queue'> = new Gauge({
        name: `${prefix}queue_oldest_message_age_seconds`,
        help: 'Age of the oldest message not yet acknowledged per queue (0 when empty), at scrape time.',
        labelNames: ['queue'],
        registers,
        collect: async () => {
          const read = await counts.get();
          oldestAge.reset();
          const now = this.#clock.now();
          for (const c of read ?? []) {
            const ageMs = c.oldestSentAtMs === null ? 0 : Math.max(0, now - c.oldestSentAtMs);
            oldestAge.labels(c.queue).set(ageMs / 1000);
          }
        },
      });
      const paused: Gauge<'queue'> = new Gauge({
        name: `${prefix}queue_paused`,
        help: 'Whether the queue is paused (1: no process receives from it), read from the store at scrape time.',
        labelNames: ['queue'],
        registers,
        collect: async () => {
          const read = await counts.get();
          paused.reset();
          for (const c of read ?? [])
            if (c.paused !== undefined) paused.labels(c.queue).set(c.paused ? 1 : 0);
        },
      });
    }
    if (options.workflowsWaiting) {
      const waitingCounts = new ScrapeRead(options.workflowsWaiting, failed);
      reads.push(waitingCounts);
      const waiting: Gauge<'workflow'> = new Gauge({
        name: `${prefix}workflow_executions_waiting`,
        help: 'Workflow executions waiting (on a timer, an event, a callback or a child) per workflow, read from the store at scrape time.',
        labelNames: ['workflow'],
        registers,
        collect: async () => {
          const read = await waitingCounts.get();
          waiting.reset();
          for (const w of read ?? []) waiting.labels(w.workflow).set(w.waiting);
        },
      });
    }
    if (reads.length > 0) {
      this.#scrapeErrors = new Counter({
        name: `${prefix}scrape_errors_total`,
        help: 'Reads from the store at scrape time (queue counts, waiting executions) that failed.',
        registers,
        // Awaits the reads so that a scrape already shows its own failures.
        collect: async () => {
          await Promise.all(reads.map((r) => r.get()));
        },
      });
    }
  }

  /** `text/plain; version=0.0.4; charset=utf-8`: the value for the scrape response's content-type. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * Counts a run that started.
   *
   * @example
   * ```ts
   * metrics.runStarted('send-receipt', 'queue');
   * ```
   */
  runStarted(fn: string, trigger: string): void {
    this.#startedTallies.get(fn, trigger).n++;
  }

  /**
   * Counts a run that reached `status` and records its duration.
   *
   * @example
   * ```ts
   * metrics.runFinished('send-receipt', 'failed', 1250);
   * ```
   */
  runFinished(fn: string, status: RunStatus, durationMs: number): void {
    this.#finishedTallies.get(fn, status).n++;
    this.#duration.observe(fn, status, Math.max(0, durationMs) / 1000);
  }

  /**
   * Records how late a schedule tick started relative to its due time.
   *
   * @example
   * ```ts
   * metrics.scheduleLateness('nightly-report', clock.now() - tick.dueAtMs);
   * ```
   */
  scheduleLateness(schedule: string, latenessMs: number): void {
    let child = this.#latenessChildren.get(schedule);
    if (child === undefined) {
      child = this.#lateness.labels(schedule);
      this.#latenessChildren.set(schedule, child);
    }
    child.observe(Math.max(0, latenessMs) / 1000);
  }

  /**
   * Counts what one committed scheduler pass did for one schedule: ticks fired, ticks its
   * misfire policy skipped or coalesced, ticks skipped because the last run was still going.
   *
   * @example
   * ```ts
   * metrics.scheduleTicks('nightly-report', { fired: 1, missed: 3, overlapSkipped: 0 });
   * ```
   */
  scheduleTicks(
    schedule: string,
    ticks: { readonly fired: number; readonly missed: number; readonly overlapSkipped: number },
  ): void {
    if (ticks.fired > 0) this.#ticksFired(schedule).inc(ticks.fired);
    if (ticks.missed > 0) this.#ticksMissed(schedule).inc(ticks.missed);
    if (ticks.overlapSkipped > 0) this.#ticksOverlapSkipped(schedule).inc(ticks.overlapSkipped);
  }

  /**
   * Counts a one-off task fired, by the function it invokes.
   *
   * @example
   * ```ts
   * metrics.taskFired('send-reminder');
   * ```
   */
  taskFired(fn: string): void {
    this.#tasksFired(fn).inc();
  }

  /**
   * Counts a workflow execution a worker began (its first session).
   *
   * @example
   * ```ts
   * metrics.executionStarted('onboard-user');
   * ```
   */
  executionStarted(workflow: string): void {
    this.#executionsStarted(workflow).inc();
  }

  /**
   * Counts a workflow execution that reached a final status.
   *
   * @example
   * ```ts
   * metrics.executionFinished('onboard-user', 'succeeded');
   * ```
   */
  executionFinished(workflow: string, status: ExecutionStatus): void {
    this.#executionsFinished.labels(workflow, status).inc();
  }

  /**
   * Counts an answered API request and records its duration. `route` is the matched route's
   * template (`/v1/queues/:name`), never the URL, or null when no route matched.
   *
   * @example
   * ```ts
   * metrics.httpRequest('GET', '/v1/queues/:name', 200, reply.elapsedTime);
   * ```
   */
  httpRequest(method: string, route: string | null, statusCode: number, durationMs: number): void {
    const r = route ?? UNMATCHED_ROUTE;
    const key = `${method} ${statusCode} ${r}`;
    let children = this.#httpChildren.get(key);
    if (children === undefined) {
      children = {
        count: this.#httpRequests.labels(method, r, String(statusCode)),
        duration: this.#httpDuration.labels(method, r),
      };
      this.#httpChildren.set(key, children);
    }
    children.count.inc();
    children.duration.observe(Math.max(0, durationMs) / 1000);
  }

  /**
   * Counts a delivery that failed for good. `target` must be safe to publish (no credentials)
   * and of bounded variety: a URL's origin, a queue name.
   *
   * @example
   * ```ts
   * metrics.deliveryFailed('alert-webhook', 'https://hooks.example.com');
   * ```
   */
  deliveryFailed(kind: string, target: string): void {
    this.#deliveriesFailed.labels(kind, target).inc();
  }

  /**
   * Counts an API request refused with 503 before any work was done.
   *
   * @example
   * ```ts
   * metrics.requestShed('overloaded');
   * ```
   */
  requestShed(reason: 'overloaded' | 'shutting_down'): void {
    this.#shed.labels(reason).inc();
  }

  /**
   * Where `http_requests_in_flight` reads its value at each scrape (the API server's count).
   *
   * @example
   * ```ts
   * metrics.readHttpInFlight(() => limiter.inFlight);
   * ```
   */
  readHttpInFlight(read: () => number, readQueued: () => number = () => 0): void {
    this.#httpInFlight = read;
    this.#httpQueued = readQueued;
  }

  /**
   * This app's registry, then the process metrics, in the Prometheus text exposition format.
   * Never rejects because the store could not be read: the gauges read from it are then left
   * empty and `scrape_errors_total` grows.
   *
   * @example
   * ```ts
   * const text = await metrics.metrics();
   * ```
   */
  async metrics(): Promise<string> {
    if (!this.#defaultMetrics) return this.registry.metrics();
    const [own, process] = await Promise.all([this.registry.metrics(), processMetrics().metrics()]);
    return `${own}\n${untypedTotals(process)}`;
  }
}
