// Prometheus metrics for one app: run counts and durations, schedule lateness,
// failed deliveries, and queue depth read from the store at scrape time. Each
// Metrics owns its own prom-client Registry (never the global one), so two apps
// in one process keep separate values and never clash over metric names.

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { type Clock, RealClock } from '../core/clock.ts';
import type { RunStatus } from '../store/run-row.ts';
import type { QueueCounts } from '../store/types.ts';

export interface MetricsOptions {
  /** Read at every scrape, so queue depth is fresh and covers every process sharing the store. */
  readonly queueCounts?: () => Promise<readonly QueueCounts[]>;
  /** Prepended to every metric name, default processes' included. Default `'mainspring_'`. */
  readonly prefix?: string;
  /** Source of "now" for the age of the oldest message. Default: wall-clock time. */
  readonly clock?: Clock;
  /** Also collect prom-client's default process metrics (CPU, memory, event loop lag). Default true. */
  readonly defaultMetrics?: boolean;
}

// 1 ms … 1 h: handlers range from sub-millisecond queue consumers to hour-long batch jobs.
const RUN_DURATION_BUCKETS_S = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600,
];
// 1 ms … 60 s: a tick later than a minute is an outage, not lateness worth resolving finely.
const LATENESS_BUCKETS_S = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

interface FinishedChildren {
  readonly count: Counter.Internal;
  readonly duration: Histogram.Internal<string>;
}

/**
 * The metrics of one app, in a registry of its own.
 *
 * Recording is cheap enough for the hot path: label children are looked up once per
 * label combination and cached, so a call is two Map lookups and an increment.
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
  readonly #duration: Histogram<'function' | 'status'>;
  readonly #lateness: Histogram<'schedule'>;
  readonly #deliveriesFailed: Counter<'kind' | 'target'>;
  readonly #shed: Counter<'reason'>;
  #httpInFlight: () => number = () => 0;
  #httpQueued: () => number = () => 0;
  readonly #startedChildren = new Map<string, Map<string, Counter.Internal>>();
  readonly #finishedChildren = new Map<string, Map<string, FinishedChildren>>();
  readonly #latenessChildren = new Map<string, Histogram.Internal<string>>();
  readonly #queueCounts: (() => Promise<readonly QueueCounts[]>) | undefined;
  readonly #clock: Clock;
  #scrapeErrors: Counter | undefined;
  // One queueCounts() call serves every collector of the same scrape (they run concurrently).
  #pendingCounts: Promise<readonly QueueCounts[] | null> | null = null;

  constructor(options: MetricsOptions = {}) {
    const prefix = options.prefix ?? 'mainspring_';
    this.registry = new Registry();
    this.#queueCounts = options.queueCounts;
    this.#clock = options.clock ?? new RealClock();
    const registers = [this.registry];

    this.#started = new Counter({
      name: `${prefix}runs_started_total`,
      help: 'Runs started, by function and trigger kind.',
      labelNames: ['function', 'trigger'],
      registers,
    });
    this.#finished = new Counter({
      name: `${prefix}runs_finished_total`,
      help: 'Runs that reached a final status, by function and status.',
      labelNames: ['function', 'status'],
      registers,
    });
    this.#duration = new Histogram({
      name: `${prefix}run_duration_seconds`,
      help: 'Duration of finished runs, by function and status.',
      labelNames: ['function', 'status'],
      buckets: RUN_DURATION_BUCKETS_S,
      registers,
    });
    this.#lateness = new Histogram({
      name: `${prefix}schedule_lateness_seconds`,
      help: 'How long after its due time a schedule tick started, by schedule.',
      labelNames: ['schedule'],
      buckets: LATENESS_BUCKETS_S,
      registers,
    });
    this.#deliveriesFailed = new Counter({
      name: `${prefix}deliveries_failed_total`,
      help: 'Deliveries that failed for good after their retries, by kind and target.',
      labelNames: ['kind', 'target'],
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

    if (this.#queueCounts) {
      const queueMessages: Gauge<'queue' | 'state'> = new Gauge({
        name: `${prefix}queue_messages`,
        help: 'Messages per queue and state, read from the store at scrape time.',
        labelNames: ['queue', 'state'],
        registers,
        collect: async () => {
          const counts = await this.#countsForScrape();
          queueMessages.reset();
          for (const c of counts ?? []) {
            queueMessages.labels(c.queue, 'visible').set(c.visible);
            queueMessages.labels(c.queue, 'in_flight').set(c.inFlight);
            queueMessages.labels(c.queue, 'delayed').set(c.delayed);
            queueMessages.labels(c.queue, 'dead').set(c.dead);
          }
        },
      });
      const oldestAge: Gauge<'queue'> = new Gauge({
        name: `${prefix}queue_oldest_message_age_seconds`,
        help: 'Age of the oldest message not yet acknowledged per queue (0 when empty), at scrape time.',
        labelNames: ['queue'],
        registers,
        collect: async () => {
          const counts = await this.#countsForScrape();
          oldestAge.reset();
          const now = this.#clock.now();
          for (const c of counts ?? []) {
            const ageMs = c.oldestSentAtMs === null ? 0 : Math.max(0, now - c.oldestSentAtMs);
            oldestAge.labels(c.queue).set(ageMs / 1000);
          }
        },
      });
      this.#scrapeErrors = new Counter({
        name: `${prefix}scrape_errors_total`,
        help: 'Scrapes whose queue counts could not be read from the store.',
        registers,
        // Awaits the read so that a scrape already shows its own failure.
        collect: async () => {
          await this.#countsForScrape();
        },
      });
    }

    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix });
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
    let byTrigger = this.#startedChildren.get(fn);
    if (byTrigger === undefined) {
      byTrigger = new Map();
      this.#startedChildren.set(fn, byTrigger);
    }
    let child = byTrigger.get(trigger);
    if (child === undefined) {
      child = this.#started.labels(fn, trigger);
      byTrigger.set(trigger, child);
    }
    child.inc();
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
    let byStatus = this.#finishedChildren.get(fn);
    if (byStatus === undefined) {
      byStatus = new Map();
      this.#finishedChildren.set(fn, byStatus);
    }
    let children = byStatus.get(status);
    if (children === undefined) {
      children = { count: this.#finished.labels(fn, status), duration: this.#duration.labels(fn, status) };
      byStatus.set(status, children);
    }
    children.count.inc();
    children.duration.observe(Math.max(0, durationMs) / 1000);
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
   * The registry in the Prometheus text exposition format. Never rejects because the
   * store could not be read: queue gauges are then left empty and `scrape_errors_total` grows.
   *
   * @example
   * ```ts
   * const text = await metrics.metrics();
   * ```
   */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  #countsForScrape(): Promise<readonly QueueCounts[] | null> {
    if (this.#pendingCounts) return this.#pendingCounts;
    const read = this.#queueCounts!;
    const pending = (async () => {
      try {
        return await read();
      } catch {
        this.#scrapeErrors?.inc();
        return null;
      }
    })();
    this.#pendingCounts = pending;
    // Cleared once settled, so the next scrape reads afresh; collectors of this scrape
    // have all been called by then (the registry starts them in one synchronous pass).
    void pending.finally(() => {
      if (this.#pendingCounts === pending) this.#pendingCounts = null;
    });
    return pending;
  }
}
