// One queue trigger of one function in one process: leases messages (up to its
// prefetch), runs the handler on them (up to its concurrency and the process's
// limit), then acks, retries with backoff, or dead-letters each one.
//
// It sleeps on the clock until the next message becomes visible, a send wakes
// it (LISTEN/NOTIFY or in-process), a handler slot frees up, or the poll
// interval passes — whichever comes first.
//
// Leases (the visibility timeout, extendVisibility), the stop grace and the poll are
// real time (`clock.real`): a scaled clock makes messages due sooner, never a handler's
// lease shorter. Retry backoff and delays are clock time: they say when a message is due.

import type { Logger } from 'pino';
import { Backoff, isTransient } from '../core/backoff.ts';
import type { Clock } from '../core/clock.ts';
import type { ResolvedAlertSettings } from '../observability/alerts.ts';
import { backoffMs, type QueueSettings } from '../queue/define.ts';
import { type RunStatus, type RunWrite, runIdPrefix } from '../store/run-row.ts';
import type { ClaimedMessage, QueueStore, Receipt } from '../store/types.ts';
import { type ActiveRun, type AttemptOutcome, type RunStart, type Runtime, runAttempt } from './attempt.ts';
import type { Batcher } from './batcher.ts';
import type { Deadline, DeadlineTarget } from './deadlines.ts';
import { isNonRetryable, retryAfterOf, toErrorRecord } from './errors.ts';
import { type AfterFailure, logFailedAttempt } from './failure-log.ts';
import type {
  BatchResult,
  FunctionDefinition,
  QueueBatch,
  QueueRecord,
  QueueTrigger,
  RunInfo,
  TriggerInfo,
} from './function.ts';
import type { Limiter } from './limiter.ts';
import { attemptRunId, type InvocationMessage } from './runs.ts';
import type { WorkerEvents } from './worker-events.ts';

export interface ConsumerDeps {
  readonly store: QueueStore;
  readonly clock: Clock;
  readonly fn: FunctionDefinition;
  readonly trigger: QueueTrigger;
  readonly settings: QueueSettings;
  readonly limiter: Limiter;
  readonly acks: Batcher<Receipt>;
  readonly events: WorkerEvents;
  readonly log: Logger;
  readonly pollIntervalMs: number;
  readonly runtime: Runtime;
  /** The function's own invocation queue (manual calls, retries) rather than a queue trigger. */
  readonly invocations: boolean;
  /** For a rule's delivery queue: the rule's name (runs are triggered by an event). */
  readonly ruleName: string | null;
}

/** A run being made: what its records are built from. */
class Begun implements DeadlineTarget {
  readonly rt: Runtime;
  readonly fn: FunctionDefinition;
  readonly info: RunInfo;
  /** The handler's input, or NO_INPUT to use the message body. */
  readonly input: unknown;
  readonly inputJson: string | null;
  readonly startedAtMs: number;
  /** Whether the run gets a record. */
  readonly recorded: boolean;
  /**
   * The receive count in the message's current queue, which the limits (maxReceiveCount, an
   * invocation's attempts) and the backoff go by. `info.attempt` counts on across dead-lettering
   * and redrive, naming a new run each time; this starts again, as SQS's does on a redrive.
   */
  readonly receives: number;
  /** When a queue-triggered run's `running` row is due to be written. */
  deadline: Deadline | null = null;
  /** Whether the `running` row was queued for writing. */
  runningWritten = false;
  triggerJson: string | null = null;
  /** An invocation's own attempt limit (a schedule's retry policy), over the queue's. */
  maxAttempts: number | null = null;
  /** No retry of this invocation starts after this instant (a schedule's maximum event age). */
  expiresAtMs: number | null = null;

  constructor(
    rt: Runtime,
    fn: FunctionDefinition,
    info: RunInfo,
    input: unknown,
    inputJson: string | null,
    recorded: boolean,
    receives: number,
  ) {
    this.rt = rt;
    this.fn = fn;
    this.info = info;
    this.input = input;
    this.inputJson = inputJson;
    this.startedAtMs = rt.clock.now();
    this.recorded = recorded;
    this.receives = receives;
  }

  /** Still running a moment after it started: write the row, so the run shows while it lasts. */
  onDeadline(): void {
    this.deadline = null;
    this.runningWritten = true;
    this.rt.recorder.write(runRow(this.fn, this, 'running', this.rt.owner)).catch(() => {});
  }

  settle(): void {
    if (this.deadline === null) return;
    this.rt.recorder.runningWrites.disarm(this.deadline);
    this.deadline = null;
  }
}

/** What a run row is built from. */
interface RowSource {
  readonly info: RunInfo;
  readonly inputJson: string | null;
  readonly startedAtMs: number;
  /** The trigger as JSON when already known (queue runs build it from a per-queue template). */
  readonly triggerJson?: string | null;
}

const NO_INPUT = Symbol('no input');
const LOST_MESSAGE =
  'the process running this attempt stopped before it finished (crash or lost lease); a later attempt took over';
const LOST_ERROR = JSON.stringify({ name: 'MainspringError', code: 'E_RUN_LOST', message: LOST_MESSAGE });

function runRow(fn: FunctionDefinition, b: RowSource, status: RunStatus, owner: string | null): RunWrite {
  return {
    id: b.info.id,
    functionName: fn.name,
    invocationId: b.info.invocationId,
    attempt: b.info.attempt,
    status,
    triggerKind: b.info.trigger.kind,
    trigger: b.triggerJson ?? JSON.stringify(b.info.trigger),
    input: b.inputJson,
    scheduledForMs: b.info.scheduledFor?.getTime() ?? null,
    createdAtMs: b.startedAtMs,
    startedAtMs: b.startedAtMs,
    finishedAtMs: null,
    result: null,
    error: null,
    owner,
    logCount: 0,
  };
}

// Built field by field, not by spreading runRow: this runs once per message.
function finishedRow(fn: FunctionDefinition, b: RowSource, o: AttemptOutcome, owner: string): RunWrite {
  return {
    id: b.info.id,
    functionName: fn.name,
    invocationId: b.info.invocationId,
    attempt: b.info.attempt,
    status: o.status,
    triggerKind: b.info.trigger.kind,
    trigger: b.triggerJson ?? JSON.stringify(b.info.trigger),
    input: b.inputJson,
    scheduledForMs: b.info.scheduledFor?.getTime() ?? null,
    createdAtMs: b.startedAtMs,
    startedAtMs: o.startedAtMs,
    finishedAtMs: o.finishedAtMs,
    result: o.resultJson,
    error: o.error === null ? null : JSON.stringify(o.error),
    owner,
    logCount: o.logLines,
  };
}

interface Running {
  readonly messages: ClaimedMessage[];
  /** Set once the attempt started: stops it (at shutdown, past the grace period). */
  run: ActiveRun | null;
}

// Messages due within this window are leased ahead and started on a timer at their due
// time, so a delayed message starts within a timer tick of due rather than a claim later.
const LEASE_AHEAD_MS = 250;
// Aborting with a plain reason: the default reason is a DOMException, costly at thousands of wakes per second.
const WOKEN = Symbol('woken');

export class QueueConsumer {
  readonly #d: ConsumerDeps;
  readonly #queue: string;
  #buffer: ClaimedMessage[] = [];
  /** Leased ahead of their due time, soonest first: each starts at its due time, not a poll later. */
  #scheduled: ClaimedMessage[] = [];
  readonly #running = new Set<Running>();
  /** Outcomes (acks, retries, dead letters) still being written. */
  readonly #recording = new Set<Promise<void>>();
  #stopping = false;
  #loop: Promise<void> | null = null;
  #sleep: AbortController | null = null;
  /** Set while backing off after a failed claim: only stop() cuts it short, not a wake-up. */
  #backingOff: AbortController | null = null;
  /** Waits after failed claims (a lost connection, a restarting server): grows, with jitter. */
  readonly #backoff = new Backoff();
  #wakePending = false;
  /** Set while stop() waits for running handlers: called when the last one returns. */
  #allDone: (() => void) | null = null;
  readonly #onLimiterFree = () => this.#dispatch(false);
  /** Refill when the local buffer falls to this many messages (half the prefetch). */
  readonly #lowWater: number;
  /** A one-message run's trigger as JSON, up to its message id. */
  readonly #triggerJsonHead: string;

  constructor(deps: ConsumerDeps) {
    this.#d = deps;
    this.#queue = deps.trigger.queue;
    this.#lowWater = Math.floor(deps.trigger.prefetch / 2);
    const head = JSON.stringify(
      deps.ruleName === null
        ? { kind: 'queue', queue: deps.trigger.queue, messageIds: [] }
        : { kind: 'event', rule: deps.ruleName, queue: deps.trigger.queue, messageIds: [] },
    );
    this.#triggerJsonHead = head.slice(0, -2);
  }

  get queue(): string {
    return this.#queue;
  }

  start(): void {
    this.#loop = this.#run();
  }

  /** Interrupts the current sleep (new messages, a free slot, or shutdown). */
  wake(): void {
    this.#wakePending = true;
    this.#sleep?.abort(WOKEN);
  }

  /** Stops leasing, returns unstarted messages, and waits up to `graceMs` for running handlers. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    this.wake();
    this.#backingOff?.abort();
    await this.#loop;
    const unstarted = [...this.#buffer.splice(0), ...this.#scheduled.splice(0)];
    if (unstarted.length > 0) await this.#release(unstarted);
    if (this.#running.size > 0) {
      const all = new Promise<void>((resolve) => {
        this.#allDone = resolve;
      });
      const timer = new AbortController();
      const timedOut = await Promise.race([
        all.then(() => false),
        this.#d.clock.sleep(this.#d.clock.real(graceMs), timer.signal).then(
          () => true,
          () => false,
        ),
      ]);
      timer.abort();
      if (timedOut) {
        // Past the grace period: abort the handlers and hand their messages back at once.
        const left = [...this.#running];
        for (const r of left) r.run?.stop('shutdown');
        const receipts = left.flatMap((r) => r.messages);
        const released = await this.#release(receipts);
        this.#d.log.warn(
          { queue: this.#queue, released },
          'handlers still running at shutdown; released their messages',
        );
      }
    }
    await Promise.all(this.#recording);
    await this.#d.acks.idle();
    this.#d.limiter.forget(this.#onLimiterFree);
  }

  async #run(): Promise<void> {
    const { trigger, settings, store, clock } = this.#d;
    while (!this.#stopping) {
      this.#wakePending = false;
      let claimedAll = false;
      try {
        this.#dispatch(true);
        const room =
          trigger.prefetch - this.#buffer.length - this.#scheduled.length - this.#runningMessages();
        // Claim in large batches: only once the buffer has drained to its low-water mark.
        const worthIt = room > 0 && this.#buffer.length <= this.#lowWater;
        if (worthIt && this.#d.limiter.available > 0) {
          const now = clock.now();
          const claimed = await store.claim(this.#queue, {
            limit: room,
            nowMs: now,
            dueByMs: now + LEASE_AHEAD_MS,
            visibilityMs: clock.real(settings.visibilityTimeoutMs),
            fifo: settings.fifo,
          });
          claimedAll = claimed.length === room;
          await this.#accept(claimed);
          this.#dispatch(true);
          // Let timers and I/O run between claims. On an in-process store a claim never waits
          // for I/O, so handlers finishing on microtasks and this loop would otherwise starve
          // the batched acks (setImmediate): leased rows pile up and claims shrink.
          if (claimed.length > 0) await new Promise((r) => setImmediate(r));
        }
        this.#backoff.reset();
        if (claimedAll && !this.#stopping) continue;
        await this.#idle(worthIt);
      } catch (err) {
        if (this.#stopping) break;
        const retryInMs = this.#backoff.next();
        // A restart or a cut connection is expected weather: say so, and keep going.
        if (isTransient(err))
          this.#d.log.warn(
            { err, queue: this.#queue, retryInMs },
            'queue consumer lost its connection to the store; retrying',
          );
        else this.#d.log.error({ err, queue: this.#queue, retryInMs }, 'queue consumer failed; retrying');
        this.#d.events.emit('consumer:error', err as Error);
        await this.#backOff(clock.real(retryInMs));
      }
    }
  }

  async #backOff(ms: number): Promise<void> {
    const ac = new AbortController();
    this.#backingOff = ac;
    await this.#d.clock.sleep(ms, ac.signal).catch(() => {});
    this.#backingOff = null;
  }

  /** Hands messages back at shutdown; if the store is unreachable their leases simply run out. */
  async #release(messages: readonly ClaimedMessage[]): Promise<number> {
    try {
      return await this.#d.store.release(messages, this.#d.clock.now());
    } catch (err) {
      this.#d.log.warn(
        { err, queue: this.#queue, messages: messages.length },
        'could not release messages at shutdown; they are redelivered when their visibility timeout ends',
      );
      return 0;
    }
  }

  #runningMessages(): number {
    let n = 0;
    for (const r of this.#running) n += r.messages.length;
    return n;
  }

  /** Messages received more often than maxReceiveCount (their leases kept expiring) go to the DLQ unhandled. */
  async #accept(claimed: ClaimedMessage[]): Promise<void> {
    const { maxReceiveCount, deadLetterQueue } = this.#d.settings;
    if (maxReceiveCount === null || deadLetterQueue === null) {
      this.#take(claimed);
      return;
    }
    const over = claimed.filter((m) => m.receiveCount > maxReceiveCount);
    this.#take(claimed.filter((m) => m.receiveCount <= maxReceiveCount));
    if (over.length === 0) return;
    const error = {
      name: 'MaxReceiveCountExceeded',
      message: `received ${maxReceiveCount + 1} times without being acknowledged (visibility timeout expired)`,
      at: new Date(this.#d.clock.now()).toISOString(),
    };
    await this.#d.store.deadLetter(
      over.map((m) => ({ ...m, error })),
      deadLetterQueue,
      this.#d.clock.now(),
    );
    for (const m of over)
      this.#d.events.emit('message:dead', { queue: this.#queue, id: String(m.id), deadLetterQueue });
    // No attempt of these ran to an outcome, so no run's failure line covers them.
    this.#d.log.error(
      {
        function: this.#d.fn.name,
        queue: this.#queue,
        messageIds: over.map((m) => String(m.id)),
        err: error.message,
      },
      `dead-lettered to ${deadLetterQueue} unhandled: no attempt finished before its lease ran out`,
    );
  }

  /** Due messages join the buffer; those leased ahead wait in `#scheduled` for their due time. */
  #take(claimed: readonly ClaimedMessage[]): void {
    const now = this.#d.clock.now();
    let added = false;
    for (const m of claimed) {
      if (m.visibleAtMs <= now) this.#buffer.push(m);
      else {
        this.#scheduled.push(m);
        added = true;
      }
    }
    if (added) this.#scheduled.sort((a, b) => a.visibleAtMs - b.visibleAtMs);
  }

  /**
   * Starts handlers on buffered messages while slots are free. Called from outside
   * the claim loop (a handler finished, the limiter freed up), it also wakes the
   * loop when the buffer runs low.
   */
  #dispatch(fromLoop = false): void {
    const { trigger, limiter } = this.#d;
    if (this.#scheduled.length > 0 && this.#scheduled[0]!.visibleAtMs <= this.#d.clock.now()) {
      const now = this.#d.clock.now();
      const due = this.#scheduled.findIndex((m) => m.visibleAtMs > now);
      this.#buffer.push(...this.#scheduled.splice(0, due === -1 ? this.#scheduled.length : due));
    }
    while (this.#buffer.length > 0 && this.#running.size < trigger.concurrency && !this.#stopping) {
      if (!limiter.tryAcquire()) {
        limiter.notifyOnRelease(this.#onLimiterFree);
        break;
      }
      this.#start(
        this.#buffer.length <= trigger.batchSize
          ? this.#buffer.splice(0)
          : this.#buffer.splice(0, trigger.batchSize),
      );
    }
    if (!fromLoop && this.#buffer.length <= this.#lowWater) this.wake();
  }

  async #idle(couldClaim: boolean): Promise<void> {
    if (this.#stopping || this.#wakePending) return;
    const now = this.#d.clock.now();
    let wait = this.#d.clock.real(this.#d.pollIntervalMs);
    if (this.#scheduled.length > 0) wait = Math.min(wait, this.#scheduled[0]!.visibleAtMs - now);
    if (couldClaim) {
      // Everything due within the lease-ahead window is claimed; wake when the next one enters it.
      const next = await this.#d.store.nextVisibleAt(this.#queue, now + LEASE_AHEAD_MS);
      if (next !== null) wait = Math.min(wait, next - LEASE_AHEAD_MS - now);
    }
    await this.#pause(Math.max(0, wait));
  }

  async #pause(ms: number): Promise<void> {
    if (this.#stopping || this.#wakePending) return;
    const ac = new AbortController();
    this.#sleep = ac;
    try {
      await this.#d.clock.sleep(ms, ac.signal);
    } catch {
      // woken
    } finally {
      this.#sleep = null;
    }
  }

  #start(messages: ClaimedMessage[]): void {
    const entry: Running = { messages, run: null };
    this.#running.add(entry);
    // The slot frees when the handler returns; recording the outcome (a batched ack)
    // continues in the background, so a slow store never idles the handlers.
    void this.#handle(entry, () => {
      this.#running.delete(entry);
      this.#d.limiter.release();
      if (this.#running.size === 0) this.#allDone?.();
      this.#dispatch();
    });
  }

  async #handle(entry: Running, handlerDone: () => void): Promise<void> {
    const { messages } = entry;
    const { fn, trigger, events, runtime } = this.#d;
    const single = trigger.batchSize === 1;
    const records = messages.map(toRecord);
    if (events.listenerCount('message:started') > 0) {
      for (const r of records)
        events.emit('message:started', { queue: this.#queue, id: r.id, receiveCount: r.receiveCount });
    }
    let begun: Begun | null;
    try {
      begun = this.#d.invocations
        ? await this.#beginInvocation(messages[0]!, records[0]!)
        : this.#beginQueueRun(messages, records);
    } catch (err) {
      // The run could not be started (the store failed): the message comes back after its lease.
      this.#d.log.error(
        { err, queue: this.#queue },
        'could not start a run; its message will be redelivered',
      );
      handlerDone();
      return;
    }
    if (begun === null) {
      handlerDone();
      await this.#track(this.#ackAll(messages));
      return;
    }
    runtime.metrics?.runStarted(fn.name, begun.info.trigger.kind);
    const outcome = await runAttempt(runtime, fn, {
      info: begun.info,
      triggerKind: begun.info.trigger.kind,
      input:
        begun.input !== NO_INPUT
          ? begun.input
          : single
            ? records[0]!.body
            : ({ records } satisfies QueueBatch),
      onStart: (run) => {
        entry.run = run;
      },
      message: single && !this.#d.invocations ? records[0] : undefined,
      extendVisibility: (seconds) => this.#extend(messages, seconds),
    });
    begun.settle();
    handlerDone();
    await this.#track(this.#record(messages, begun, outcome));
  }

  /** Tracked so shutdown waits for outcomes being written (but never for a handler that ignored its abort). */
  async #track(recording: Promise<void>): Promise<void> {
    this.#recording.add(recording);
    await recording;
    this.#recording.delete(recording);
  }

  /** A run of a message (or batch) of a user's queue or a rule's delivery queue: no store round trip to start. */
  #beginQueueRun(messages: ClaimedMessage[], records: QueueRecord[]): Begun {
    const { runtime, fn } = this.#d;
    const first = messages[0]!;
    const invocationId = `${runIdPrefix(first.sentAtMs)}m${first.id.toString(36)}`;
    let attempt = 0;
    let receives = 0;
    for (const m of messages) {
      attempt = Math.max(attempt, attemptOf(m));
      receives = Math.max(receives, m.receiveCount);
    }
    const messageIds = records.map((r) => r.id);
    const rule = this.#d.ruleName;
    const triggerInfo: TriggerInfo =
      rule === null
        ? { kind: 'queue', queue: this.#queue, messageIds }
        : { kind: 'event', rule, queue: this.#queue, messageIds };
    const info: RunInfo = {
      id: attemptRunId(invocationId, attempt),
      invocationId,
      attempt,
      trigger: triggerInfo,
      scheduledFor: null,
    };
    const begun = new Begun(runtime, fn, info, NO_INPUT, null, runtime.recordRuns, receives);
    if (!runtime.recordRuns) return begun;
    if (messages.length === 1) begun.triggerJson = `${this.#triggerJsonHead}"${messageIds[0]}"]}`;
    if (attempt > 1) {
      void runtime.store.runs
        .failAbandoned(invocationId, attempt, LOST_ERROR, runtime.clock.now())
        .catch((err: unknown) => this.#d.log.warn({ err }, 'could not close abandoned attempts'));
    }
    // Short runs are written once, when they finish; a run still going after a moment is written as running.
    begun.deadline = runtime.recorder.runningWrites.arm(begun);
    return begun;
  }

  /** An invocation (manual call, retry): its queued row becomes running, unless it was cancelled or already ran. */
  async #beginInvocation(message: ClaimedMessage, record: QueueRecord): Promise<Begun | null> {
    const { runtime, fn } = this.#d;
    const body = record.body as Partial<InvocationMessage> | null;
    if (typeof body?.invocationId !== 'string' || typeof body.trigger !== 'object' || body.trigger === null) {
      this.#d.log.error({ queue: this.#queue, id: record.id }, 'not an invocation message; dropped');
      return null;
    }
    const attempt = attemptOf(message);
    const receives = message.receiveCount;
    const invocationId = body.invocationId;
    const id = attemptRunId(invocationId, attempt);
    const now = runtime.clock.now();
    const begun = new Begun(
      runtime,
      fn,
      {
        id,
        invocationId,
        attempt,
        trigger: body.trigger,
        scheduledFor: body.scheduledForMs == null ? null : new Date(body.scheduledForMs),
      },
      body.input ?? null,
      body.input === undefined ? null : JSON.stringify(body.input),
      true,
      receives,
    );
    const maxAttempts = body.retry?.maxAttempts ?? fn.retry.maxAttempts;
    begun.maxAttempts = maxAttempts;
    if (body.retry?.maxEventAgeMs != null) {
      begun.expiresAtMs = (body.scheduledForMs ?? message.sentAtMs) + body.retry.maxEventAgeMs;
    }
    if (attempt === 1 && body.trigger.kind === 'schedule' && body.scheduledForMs != null) {
      runtime.metrics?.scheduleLateness(body.trigger.schedule, now - body.scheduledForMs);
    }
    if (receives > maxAttempts) {
      // Redelivered past its attempts (its workers kept dying): give up, on the record.
      await runtime.recorder.write(
        { ...runRow(fn, begun, 'failed', runtime.owner), finishedAtMs: now, error: LOST_ERROR },
        true,
      );
      await runtime.store.runs.failAbandoned(invocationId, attempt, LOST_ERROR, now);
      logFailedAttempt(
        this.#d.log,
        { function: fn.name, info: begun.info, timedOut: false, message: LOST_MESSAGE },
        {
          fate: `no attempts left (${maxAttempts}): the processes running it kept stopping before it finished`,
        },
      );
      return null;
    }
    const start: RunStart = { id, row: null };
    await runtime.starts.add(start);
    const row = start.row;
    if (row === null) {
      const existing = await runtime.store.runs.get(id);
      // Cancelled while queued, or finished already: nothing to run.
      if (existing !== null) return null;
      if (attempt > 1) {
        const previous = await runtime.store.runs.get(attemptRunId(invocationId, attempt - 1));
        if (previous?.status === 'succeeded' || previous?.status === 'cancelled') return null;
      }
      // The previous attempt's process died before it could queue this one.
      await runtime.recorder.write(runRow(fn, begun, 'running', runtime.owner), true);
    } else if (row.scheduledForMs !== null) {
      (begun.info as { scheduledFor: Date | null }).scheduledFor = new Date(row.scheduledForMs);
    }
    if (attempt > 1) await runtime.store.runs.failAbandoned(invocationId, attempt, LOST_ERROR, now);
    return begun;
  }

  async #extend(messages: readonly ClaimedMessage[], seconds: number): Promise<void> {
    if (!Number.isFinite(seconds) || seconds < 0 || seconds > 43_200) {
      throw new RangeError(`extendVisibility(${seconds}): give seconds from 0 to 43200 (12 hours)`);
    }
    const { clock, store } = this.#d;
    const now = clock.now();
    const until = now + clock.real(seconds * 1000);
    const held = await Promise.all(messages.map((m) => store.extend(m, until, now)));
    if (held.includes(false)) {
      throw new Error(
        `extendVisibility: the lease on message ${messages.map((m) => m.id).join(', ')} was already lost to another consumer`,
      );
    }
  }

  async #ackAll(messages: ClaimedMessage[]): Promise<void> {
    try {
      await Promise.all(messages.map((m) => this.#ack(m)));
    } catch (err) {
      this.#d.log.error(
        { err, queue: this.#queue },
        'could not acknowledge; the messages will be redelivered',
      );
    }
  }

  async #record(messages: ClaimedMessage[], begun: Begun, outcome: AttemptOutcome): Promise<void> {
    const { runtime, fn, settings } = this.#d;
    const { status } = outcome;
    runtime.metrics?.runFinished(fn.name, status, outcome.finishedAtMs - outcome.startedAtMs);
    const writes: Promise<void>[] = [];
    const maxAttempts = begun.maxAttempts ?? settings.maxReceiveCount;
    const failed = (status === 'failed' || status === 'timed_out') && !outcome.released;
    let retryAtMs: number | null = failed
      ? outcome.finishedAtMs + (retryAfterOf(outcome.thrown) ?? backoffMs(settings.retry, begun.receives))
      : null;
    const nonRetryable = failed && isNonRetryable(outcome.thrown);
    const exhausted = maxAttempts !== null && begun.receives >= maxAttempts;
    const expired = begun.expiresAtMs !== null && retryAtMs !== null && retryAtMs > begun.expiresAtMs;
    const final = failed && (nonRetryable || exhausted || expired);
    if (final) retryAtMs = null;
    if (failed) {
      const after: AfterFailure =
        retryAtMs !== null
          ? { retryInMs: retryAtMs - outcome.finishedAtMs }
          : { fate: this.#fate(nonRetryable, exhausted, begun.receives, maxAttempts) };
      logFailedAttempt(
        this.#d.log,
        {
          function: fn.name,
          info: begun.info,
          timedOut: status === 'timed_out',
          message: outcome.error?.message ?? 'failed',
          ...(this.#d.invocations
            ? {}
            : { queue: { name: this.#queue, messageIds: messages.map((m) => String(m.id)) } }),
        },
        after,
      );
    }
    if (begun.recorded) {
      const row = finishedRow(fn, begun, outcome, runtime.owner);
      if (this.#d.invocations) writes.push(runtime.recorder.write(row, true));
      // A queue-triggered run whose running row never went out is written once: it is new.
      else runtime.recorder.writeLater(row, !begun.runningWritten);
      if (this.#d.invocations && retryAtMs !== null) {
        // Queued in the same batch as the failure, so a waiter never sees a gap between attempts.
        const next: RowSource = {
          ...begun,
          info: {
            ...begun.info,
            id: attemptRunId(begun.info.invocationId, begun.info.attempt + 1),
            attempt: begun.info.attempt + 1,
          },
        };
        writes.push(
          runtime.recorder.write(
            { ...runRow(fn, next, 'queued', null), startedAtMs: null, scheduledForMs: retryAtMs },
            true,
          ),
        );
      }
    }
    if (status === 'timed_out' || final) void this.#alert(begun, outcome);
    try {
      // An invocation's record is stored before its message goes: a crash in between re-runs
      // it rather than losing its outcome. A queue message's record is written alongside.
      if (this.#d.invocations) await Promise.all(writes);
      else for (const w of writes) w.catch(() => {});
      if (outcome.released) return;
      if (status === 'succeeded' && !(this.#d.trigger.batchSize > 1)) {
        await (messages.length === 1
          ? this.#ack(messages[0]!)
          : Promise.all(messages.map((m) => this.#ack(m))));
      } else if (status === 'succeeded') {
        const failed = failedIds(outcome.value, messages);
        await Promise.all([
          ...messages.filter((m) => !failed.has(m.id)).map((m) => this.#ack(m)),
          this.#fail(
            messages.filter((m) => failed.has(m.id)),
            new Error('reported in batchItemFailures'),
            null,
          ),
        ]);
      } else if (status === 'cancelled' || (this.#d.invocations && final)) {
        // Nothing left to try: an invocation's record holds its failure (invocations have no DLQ).
        await Promise.all(messages.map((m) => this.#ack(m)));
      } else {
        await this.#fail(messages, outcome.thrown, retryAtMs);
      }
    } catch (err) {
      this.#d.log.error(
        { err, queue: this.#queue, ids: begun.info.trigger },
        'could not record the outcome; the messages will be redelivered',
      );
    }
    // A FIFO group's next message becomes deliverable only once this one is gone.
    if (this.#d.settings.fifo) this.wake();
  }

  /** What became of an invocation or message whose attempt failed for good (see #fail), for the log. */
  #fate(nonRetryable: boolean, exhausted: boolean, receives: number, maxAttempts: number | null): string {
    if (this.#d.invocations) {
      if (nonRetryable) return 'not retryable';
      return exhausted ? `no attempts left (${receives} of ${maxAttempts})` : 'past its maximum event age';
    }
    const dlq = this.#d.settings.deadLetterQueue;
    // maxReceiveCount needs a dead-letter queue: without one, only a NonRetryableError ends a queue run.
    if (dlq === null) return 'not retryable; message dropped (the queue has no dead-letter queue)';
    return `${nonRetryable ? 'not retryable; ' : ''}dead-lettered to ${dlq}`;
  }

  async #alert(begun: Begun, outcome: AttemptOutcome): Promise<void> {
    const { runtime, fn } = this.#d;
    if (!runtime.alerter) return;
    const targets = [runtime.alerts, runtime.functionAlerts.get(fn.name) ?? null].filter(
      (a): a is ResolvedAlertSettings => a !== null,
    );
    if (targets.length === 0) return;
    const error = outcome.error ?? { name: 'Error', message: 'failed' };
    await runtime.alerter.send(
      {
        function: fn.name,
        runId: begun.info.id,
        invocationId: begun.info.invocationId,
        attempt: begun.info.attempt,
        status: outcome.status === 'timed_out' ? 'timed_out' : 'failed',
        error: {
          name: error.name,
          message: error.message,
          ...(error.code !== undefined ? { code: error.code } : {}),
          ...(error.exitCode !== undefined ? { exitCode: error.exitCode } : {}),
        },
        trigger: begun.info.trigger,
        startedAt: new Date(outcome.startedAtMs).toISOString(),
        finishedAt: new Date(outcome.finishedAtMs).toISOString(),
        link: `${runtime.baseUrl}/v1/runs/${encodeURIComponent(begun.info.id)}`,
      },
      targets,
    );
  }

  async #ack(m: ClaimedMessage): Promise<void> {
    const deleted = await this.#d.acks.add({ id: m.id, receiveCount: m.receiveCount });
    const id = String(m.id);
    if (deleted) this.#d.events.emit('message:acked', { queue: this.#queue, id });
    else {
      this.#d.log.warn(
        { queue: this.#queue, id },
        'handler finished after its lease was lost; the message was redelivered',
      );
      this.#d.events.emit('message:lease-lost', { queue: this.#queue, id });
    }
  }

  async #fail(messages: ClaimedMessage[], error: unknown, retryAtMs: number | null): Promise<void> {
    if (messages.length === 0) return;
    const { settings, store, clock, events } = this.#d;
    const metrics = this.#d.runtime.metrics;
    if (metrics) for (let i = 0; i < messages.length; i++) metrics.deliveryFailed('queue', this.#queue);
    const now = clock.now();
    const record = { ...toErrorRecord(error), at: new Date(now).toISOString() };
    const permanent = isNonRetryable(error);
    // An invocation only gets here with a retry due: its attempt limit was checked in #record.
    const dead = this.#d.invocations
      ? []
      : messages.filter(
          (m) =>
            permanent || (settings.maxReceiveCount !== null && m.receiveCount >= settings.maxReceiveCount),
        );
    const retry = messages.filter((m) => !dead.includes(m));
    if (dead.length > 0) {
      if (settings.deadLetterQueue) {
        await store.deadLetter(
          dead.map((m) => ({
            id: m.id,
            receiveCount: m.receiveCount,
            error: { ...record, receiveCount: m.receiveCount },
          })),
          settings.deadLetterQueue,
          now,
        );
        for (const m of dead) {
          events.emit('message:dead', {
            queue: this.#queue,
            id: String(m.id),
            deadLetterQueue: settings.deadLetterQueue,
          });
        }
      } else {
        // The run's failure line (#record) says the message was dropped.
        await store.ack(dead);
        for (const m of dead) events.emit('message:dropped', { queue: this.#queue, id: String(m.id) });
      }
    }
    if (retry.length > 0) {
      const after = retryAfterOf(error);
      const receipts = retry.map((m) => ({
        id: m.id,
        receiveCount: m.receiveCount,
        visibleAtMs: retryAtMs ?? now + (after ?? backoffMs(settings.retry, m.receiveCount)),
        error: { ...record, receiveCount: m.receiveCount },
      }));
      await store.fail(receipts, now);
      for (const r of receipts) {
        events.emit('message:failed', {
          queue: this.#queue,
          id: String(r.id),
          error: record,
          retryAt: new Date(r.visibleAtMs),
        });
      }
    }
  }
}

/** The attempt a receive of `m` is: it counts every receive the message ever had, so its run id is new. */
function attemptOf(m: ClaimedMessage): number {
  return m.priorReceives + m.receiveCount;
}

function toRecord(m: ClaimedMessage): QueueRecord {
  return {
    id: String(m.id),
    body: JSON.parse(m.body) as unknown,
    receiveCount: m.receiveCount,
    sentAt: new Date(m.sentAtMs),
    groupId: m.groupId,
  };
}

function failedIds(result: unknown, messages: readonly ClaimedMessage[]): Set<number> {
  const failures = (result as Partial<BatchResult> | undefined)?.batchItemFailures;
  if (!Array.isArray(failures)) return new Set();
  const known = new Map(messages.map((m) => [String(m.id), m.id]));
  const out = new Set<number>();
  for (const f of failures) {
    const id = known.get(String((f as { itemIdentifier?: unknown })?.itemIdentifier));
    if (id !== undefined) out.add(id);
  }
  return out;
}
