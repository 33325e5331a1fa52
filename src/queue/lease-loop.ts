// The receiving side of one queue trigger in one process: leases messages (up to its
// prefetch) and hands them to handlers (up to its concurrency and the process's limit).
// What becomes of each message afterwards is the handler side's business (settle.ts).
//
// The loop is in one of these states at a time:
//
//   claiming     the buffer has fallen to its low-water mark (half the prefetch) and a
//                handler slot is free: one claim fills it; a full claim claims again at once.
//                A prefetch the user did not set adapts: while claims come back full (a
//                backlog), it doubles toward what the handlers get through in HOLD_MS at
//                their measured pace, so a fast handler is not one claim round trip per
//                message and a slow one never holds more leased than it starts soon.
//   dispatching  after every claim and every handler that returns: buffered messages start
//                while slots are free; leased-ahead messages join the buffer when due.
//   idle         sleeping until the soonest of: the next message entering the lease-ahead
//                window, a leased-ahead message's due time, the poll interval, or a wake-up
//                (a send's LISTEN/NOTIFY or in-process event, a freed slot, stop()). With a
//                free slot after a claim that found the queue empty, a loop that takes one
//                message at a time offers itself for the queue's next send where the store
//                pushes (QueueStore.offer): the send leases the message to it and the
//                notification hands it over (`pushed`), one round trip instead of two.
//   backing off  a claim failed (a lost connection, a restarting server): a growing,
//                jittered wait that only stop() cuts short.
//   stopping     no more claims; unstarted messages go back to the queue; running handlers
//                get the grace period, then are aborted and their messages released; then
//                the outcomes still being written are waited for.
//
// Leases (the visibility timeout, extendVisibility), the stop grace and the poll are real
// time (`clock.real`): a scaled clock makes messages due sooner, never a handler's lease
// shorter. Retry backoff and delays are clock time: they say when a message is due.

import type { Logger } from 'pino';
import { Backoff, isTransient } from '../core/backoff.ts';
import type { Clock } from '../core/clock.ts';
import type { FlowLimits } from '../store/flow.ts';
import type { ClaimedMessage, PushOffer, QueueStore } from '../store/types.ts';
import type { WorkerEvents } from './consumer-events.ts';
import type { QueueSettings } from './define.ts';
import type { Limiter } from './limiter.ts';
import type { Settlement, SettlingCounter } from './settle.ts';

/** Messages handed to one handler call, and the call once it started (stopped at shutdown past the grace). */
export interface Lease {
  readonly messages: ClaimedMessage[];
  run: { stop(reason: 'shutdown'): void } | null;
}

export interface LeaseLoopDeps {
  readonly queue: string;
  readonly store: QueueStore;
  readonly clock: Clock;
  readonly settings: QueueSettings;
  /** Messages per handler call, handler calls at once, messages leased ahead. */
  readonly batchSize: number;
  readonly concurrency: number;
  readonly prefetch: number;
  /** Whether the prefetch adapts to the handlers' pace (see `claiming` above), from `prefetch` up. */
  readonly autoPrefetch: boolean;
  /** The process-wide limit on handler calls. */
  readonly limiter: Limiter;
  readonly settlement: Settlement;
  readonly events: WorkerEvents;
  readonly log: Logger;
  readonly pollIntervalMs: number;
  /** This loop among every process's consumers: the store pushes messages to it by this name. */
  readonly consumerId: string;
  /** The function the messages are for (named in logs). */
  readonly functionName: string;
  /** That function's invocation queue: pausing the function pauses this loop's claims too. */
  readonly functionQueue: string;
  /**
   * The function's limits across processes (store/flow.ts) and the key of a message under
   * them, or null. A limited loop leases only what it can start now, never ahead.
   */
  readonly flow: { readonly limits: FlowLimits; readonly keyOf: (m: ClaimedMessage) => string } | null;
  /**
   * Runs a handler on a lease; `done` frees its slot once the handler returned (settling the
   * messages may go on after, in the background: hand that to `track`).
   */
  readonly handle: (lease: Lease, done: () => void) => Promise<void>;
}

// Messages due within this window are leased ahead and started on a timer at their due
// time, so a delayed message starts within a timer tick of due rather than a claim later.
const LEASE_AHEAD_MS = 250;
// An adaptive prefetch leases what the handlers get through in this long at their measured pace
// (a message waits at most about this long in the buffer, far inside any visibility timeout),
// never more than AUTO_PREFETCH_MAX messages, nor more than AUTO_PREFETCH_BYTES of bodies at
// their measured size. Under load a claim of 1,000 took 15-30 ms on PostgreSQL, longer than the
// half-buffer it refills lasted at 40,000 messages a second; memory is what bounds the count.
const HOLD_MS = 100;
export const AUTO_PREFETCH_MAX = 4000;
export const AUTO_PREFETCH_BYTES = 16 * 1024 * 1024;
// How long an idle consumer's offer to take the next send stands (renewed at half of it while
// idle). A consumer that dies with its offer standing costs one message its visibility timeout:
// a send takes the offer, so it is never pushed to twice.
const OFFER_MS = 60_000;
// Handled messages that may wait for their acks before claims wait too (or twice the prefetch):
// one full ack statement's worth.
const SETTLING_MIN = 1000;
// Aborting with a plain reason: the default reason is a DOMException, costly at thousands of wakes per second.
const WOKEN = Symbol('woken');

export class LeaseLoop implements SettlingCounter {
  readonly #d: LeaseLoopDeps;
  #buffer: ClaimedMessage[] = [];
  /** Leased ahead of their due time, soonest first: each starts at its due time, not a poll later. */
  #scheduled: ClaimedMessage[] = [];
  readonly #running = new Set<Lease>();
  /** Outcomes (acks, retries, dead letters) still being written. */
  readonly #settling = new Set<Promise<void>>();
  #stopping = false;
  #loop: Promise<void> | null = null;
  #sleep: AbortController | null = null;
  /** Set while backing off after a failed claim: only stop() cuts it short, not a wake-up. */
  #backingOff: AbortController | null = null;
  /** Waits after failed claims (a lost connection, a restarting server): grows, with jitter. */
  readonly #backoff = new Backoff();
  #wakePending = false;
  /** When the function's rate limit next has a token for a message it held back (flow only). */
  #heldUntil: number | null = null;
  /** Set while stop() waits for running handlers: called when the last one returns. */
  #allDone: (() => void) | null = null;
  readonly #onLimiterFree = () => this.#dispatch(false);
  /** Messages whose handler returned and whose outcome (an ack, a retry) is still being written. */
  #settlingMessages = 0;
  /** Claims wait for settling to fall below #settlingMax (track wakes the loop then). */
  #settlingHeld = false;
  /** Messages leased ahead now: the prefetch, or what it adapted to. */
  #prefetch: number;
  /** Refill when the local buffer falls to this many messages (half the prefetch). */
  #lowWater: number;
  /** Handler calls' duration, ms: an exponentially weighted average (null before the first). */
  #handlerMs: number | null = null;
  /** Claimed bodies' length (characters, about bytes): an exponentially weighted average of claims. */
  #bodyChars = 0;
  /** When this loop's offer to take the next send runs out (0: none stands). */
  #offeredUntil = 0;
  /** Whether it ever offered (stop withdraws), and how often a push or a withdrawal ended an offer. */
  #offered = false;
  #offerEnds = 0;

  constructor(deps: LeaseLoopDeps) {
    this.#d = deps;
    this.#prefetch = deps.prefetch;
    this.#lowWater = Math.floor(deps.prefetch / 2);
  }

  get queue(): string {
    return this.#d.queue;
  }

  start(): void {
    this.#loop = this.#run();
  }

  /** Interrupts the current sleep (new messages, a free slot, or shutdown). */
  wake(): void {
    this.#wakePending = true;
    this.#sleep?.abort(WOKEN);
  }

  /**
   * Tracked so stop() waits for outcomes being written (but never for a handler that ignored its
   * abort), and so claims wait while too many handled messages are still being settled.
   */
  async track(settling: Promise<void>, messages: number): Promise<void> {
    this.#settling.add(settling);
    this.settling(messages);
    try {
      await settling;
    } finally {
      this.#settling.delete(settling);
      this.settled(messages);
    }
  }

  /**
   * Counts handled messages whose outcome is being written with no promise to track (a quiet
   * ack, Settlement.ackQuiet, which stop() waits for through the settlement's idle).
   */
  settling(messages: number): void {
    this.#settlingMessages += messages;
  }

  /** Their outcome is written (or failed): claims held back for them may go on. */
  settled(messages: number): void {
    this.#settlingMessages -= messages;
    if (this.#settlingHeld && this.#settlingMessages < this.#settlingMax()) {
      this.#settlingHeld = false;
      this.wake();
    } else if (this.#d.settings.fifo || this.#d.flow !== null) {
      // A FIFO group's next message becomes deliverable only once this one is gone; a limited
      // function's slot frees once its message is settled.
      this.wake();
    }
  }

  /**
   * How many handled messages may wait for their acks before claims stop: when the store writes
   * acks slower than handlers finish, claiming on would lease without bound, every lease would
   * run out unacknowledged, and every claim would scan past the leased rows (an endurance run
   * on PostgreSQL went from 1,000 to 44,000 leased messages and redelivered tens of thousands).
   */
  #settlingMax(): number {
    return Math.max(SETTLING_MIN, 2 * this.#prefetch);
  }

  /** Stops leasing, returns unstarted messages, and waits up to `graceMs` for running handlers. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    this.wake();
    this.#backingOff?.abort();
    await this.#loop;
    if (this.#offered) {
      this.#offeredUntil = 0;
      // Not withdrawn (the store is down), the offer runs out within OFFER_MS; a message pushed
      // meanwhile is handed back by the worker, or redelivered after its visibility timeout.
      await this.#d.store.withdraw?.(this.#d.queue, this.#d.consumerId).catch(() => {});
    }
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
        const released = await this.#release(left.flatMap((r) => r.messages));
        this.#d.log.warn(
          { queue: this.#d.queue, released },
          'handlers still running at shutdown; released their messages',
        );
      }
    }
    await Promise.all(this.#settling);
    await this.#d.settlement.idle();
    this.#d.limiter.forget(this.#onLimiterFree);
  }

  /** Moves a lease's visibility timeout to `seconds` from now (the handler's extendVisibility). */
  async extend(messages: readonly ClaimedMessage[], seconds: number): Promise<void> {
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

  /**
   * A message a send leased to this loop (push delivery): it starts like a claimed one. False
   * once stopping, or busy: the caller hands it back.
   */
  pushed(message: ClaimedMessage): boolean {
    this.#offeredUntil = 0;
    this.#offerEnds++;
    // Busy since it offered (a claim filled its slots before the withdrawal took effect): it
    // would wait here behind the running handlers while another consumer may be idle.
    const busy = this.#running.size >= this.#d.concurrency || this.#buffer.length > 0;
    if (this.#stopping || busy || this.#d.limiter.available === 0) return false;
    const accepted = this.#accept([message]);
    // Not woken to claim: nothing else is known to be due, and waking costs the handler's start
    // about 70 µs on an idle machine. The handler's return wakes it (and renews the offer).
    this.#dispatch(true);
    void accepted.catch((err: unknown) =>
      this.#d.log.error({ err, queue: this.#d.queue }, 'could not dead-letter a pushed message'),
    );
    return true;
  }

  async #run(): Promise<void> {
    const { settings, store, clock, queue } = this.#d;
    while (!this.#stopping) {
      this.#wakePending = false;
      let claimedAll = false;
      let drained = false;
      try {
        this.#dispatch(true);
        const room = this.#prefetch - this.#buffer.length - this.#scheduled.length - this.#runningMessages();
        // Claim in large batches: only once the buffer has drained to its low-water mark, and not
        // while the acks of handled messages lag behind.
        this.#settlingHeld = this.#settlingMessages >= this.#settlingMax();
        const worthIt = room > 0 && this.#buffer.length <= this.#lowWater && !this.#settlingHeld;
        if (worthIt && this.#d.limiter.available > 0) {
          const now = clock.now();
          const claimed = this.#d.flow
            ? await this.#claimLimited(room, now)
            : await store.claim(queue, {
                limit: room,
                nowMs: now,
                dueByMs: now + LEASE_AHEAD_MS,
                visibilityMs: clock.real(settings.visibilityTimeoutMs),
                fifo: settings.fifo,
                functionQueue: this.#d.functionQueue,
              });
          claimedAll = claimed.length === room;
          drained = claimed.length === 0;
          if (this.#d.autoPrefetch && claimed.length > 0) this.#measureBodies(claimed);
          // A backlog: due messages filled the claim (leased-ahead ones only say what comes next).
          if (claimedAll && claimed.every((m) => m.visibleAtMs <= now)) this.#adapt();
          await this.#accept(claimed);
          this.#dispatch(true);
          // Let timers and I/O run between claims. On an in-process store a claim never waits
          // for I/O, so handlers finishing on microtasks and this loop would otherwise starve
          // the batched acks (setImmediate): leased rows pile up and claims shrink.
          if (claimed.length > 0) await new Promise((r) => setImmediate(r));
        }
        this.#backoff.reset();
        if (claimedAll && !this.#stopping) continue;
        if (drained) await this.#offer();
        await this.#idle(worthIt);
      } catch (err) {
        if (this.#stopping) break;
        const retryInMs = this.#backoff.next();
        // A restart or a cut connection is expected weather: say so, and keep going.
        if (isTransient(err))
          this.#d.log.warn(
            { err, queue, retryInMs },
            'queue consumer lost its connection to the store; retrying',
          );
        else this.#d.log.error({ err, queue, retryInMs }, 'queue consumer failed; retrying');
        this.#d.events.emit('consumer:error', err as Error);
        await this.#backOff(clock.real(retryInMs));
      }
    }
  }

  /**
   * After a claim found nothing due, with a handler slot free: offers to take the queue's next
   * send (QueueStore.offer) for OFFER_MS, renewed while idle. Only a loop without flow limits,
   * FIFO order or batches: those choose what they lease, and a push leases one message.
   */
  async #offer(): Promise<void> {
    const { store, clock, settings, queue, batchSize, concurrency } = this.#d;
    if (!store.offer || this.#d.flow || settings.fifo || batchSize !== 1 || this.#stopping) return;
    if (this.#running.size >= concurrency || this.#buffer.length > 0) return;
    const now = clock.now();
    const offerMs = clock.real(OFFER_MS);
    if (this.#offeredUntil - now > offerMs / 2) return;
    const offer: PushOffer = {
      consumer: this.#d.consumerId,
      functionQueue: this.#d.functionQueue,
      visibilityMs: clock.real(settings.visibilityTimeoutMs),
      untilMs: now + offerMs,
    };
    this.#offered = true;
    const ends = this.#offerEnds;
    const made = await store.offer(queue, offer, now);
    // A push or a withdrawal meanwhile may have ended this offer: renew it on the next idle turn.
    if (made && this.#offerEnds === ends) this.#offeredUntil = offer.untilMs;
  }

  /** Busy now: a message pushed to it would wait behind its handlers, so the offer goes. */
  #withdraw(): void {
    this.#offeredUntil = 0;
    this.#offerEnds++;
    void this.#d.store.withdraw?.(this.#d.queue, this.#d.consumerId).catch((err: unknown) => {
      this.#d.log.warn({ err, queue: this.#d.queue }, 'could not withdraw an offer to take the next message');
    });
  }

  /** After a full claim: the adaptive prefetch moves toward HOLD_MS of work at the handlers' pace. */
  #adapt(): void {
    const { autoPrefetch, prefetch, concurrency, batchSize, settings } = this.#d;
    if (!autoPrefetch || this.#handlerMs === null) return;
    this.#prefetch = nextPrefetch(this.#prefetch, {
      floor: prefetch,
      slots: concurrency * batchSize,
      handlerMs: this.#handlerMs,
      visibilityMs: settings.visibilityTimeoutMs,
      bodyBytes: this.#bodyChars,
    });
    this.#lowWater = Math.floor(this.#prefetch / 2);
  }

  #measureBodies(claimed: readonly ClaimedMessage[]): void {
    let chars = 0;
    for (const m of claimed) chars += m.body.length;
    const mean = chars / claimed.length;
    this.#bodyChars = this.#bodyChars === 0 ? mean : this.#bodyChars * 0.7 + mean * 0.3;
  }

  /**
   * Leases what the function's limits admit, at most what has a free handler slot here: an
   * admitted message holds one of the limit's slots until it is settled.
   */
  async #claimLimited(room: number, now: number): Promise<ClaimedMessage[]> {
    const { flow, store, queue, clock, settings, batchSize, concurrency, functionQueue } = this.#d;
    const free = (concurrency - this.#running.size) * batchSize - this.#buffer.length;
    const limit = Math.min(room, free);
    if (limit <= 0) return [];
    const { claimed, retryAtMs } = await store.claimLimited(
      queue,
      {
        limit,
        nowMs: now,
        dueByMs: now,
        visibilityMs: clock.real(settings.visibilityTimeoutMs),
        fifo: false,
        functionQueue,
      },
      flow!.limits,
      flow!.keyOf,
    );
    this.#heldUntil = retryAtMs;
    return claimed;
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
        { err, queue: this.#d.queue, messages: messages.length },
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
    const over = this.#d.settlement.overReceived(claimed);
    this.#take(over.length === 0 ? claimed : claimed.filter((m) => !over.includes(m)));
    await this.#d.settlement.deadLetterUnhandled(over, this.#d.functionName);
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
    const { batchSize, concurrency, limiter } = this.#d;
    if (this.#scheduled.length > 0 && this.#scheduled[0]!.visibleAtMs <= this.#d.clock.now()) {
      const now = this.#d.clock.now();
      const due = this.#scheduled.findIndex((m) => m.visibleAtMs > now);
      this.#buffer.push(...this.#scheduled.splice(0, due === -1 ? this.#scheduled.length : due));
    }
    while (this.#buffer.length > 0 && this.#running.size < concurrency && !this.#stopping) {
      if (!limiter.tryAcquire()) {
        limiter.notifyOnRelease(this.#onLimiterFree);
        break;
      }
      // shift for one: 50-130 ns a message against 250-400 for splice on a buffer of 1,000-4,000.
      this.#start(
        this.#buffer.length <= batchSize
          ? this.#buffer.splice(0)
          : batchSize === 1
            ? [this.#buffer.shift()!]
            : this.#buffer.splice(0, batchSize),
      );
    }
    if (this.#offeredUntil > 0 && this.#running.size >= concurrency) this.#withdraw();
    if (!fromLoop && this.#buffer.length <= this.#lowWater) this.wake();
  }

  async #idle(couldClaim: boolean): Promise<void> {
    if (this.#stopping || this.#wakePending) return;
    const now = this.#d.clock.now();
    let wait = this.#d.clock.real(this.#d.pollIntervalMs);
    if (this.#scheduled.length > 0) wait = Math.min(wait, this.#scheduled[0]!.visibleAtMs - now);
    // A rate limit held messages back: look again when its next token frees.
    if (this.#heldUntil !== null) wait = Math.min(wait, this.#heldUntil - now);
    if (couldClaim) {
      // Everything due within the lease-ahead window is claimed; wake when the next one enters it.
      const next = await this.#d.store.nextVisibleAt(this.#d.queue, now + LEASE_AHEAD_MS);
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
    const lease: Lease = { messages, run: null };
    this.#running.add(lease);
    const startedAt = performance.now();
    // The slot frees when the handler returns; settling the outcome (a batched ack)
    // continues in the background, so a slow store never idles the handlers.
    void this.#d.handle(lease, () => {
      // Real time, whatever the clock: this is how fast the handler is, not business time.
      const ms = performance.now() - startedAt;
      this.#handlerMs = this.#handlerMs === null ? ms : this.#handlerMs * 0.9 + ms * 0.1;
      this.#running.delete(lease);
      this.#d.limiter.release();
      if (this.#running.size === 0) this.#allDone?.();
      this.#dispatch();
    });
  }
}

/**
 * An adaptive prefetch after a full claim: what `slots` handler places get through in HOLD_MS
 * (a tenth of the visibility timeout, if shorter) at `handlerMs` a call, between `floor` and
 * AUTO_PREFETCH_MAX, and no more bodies of `bodyBytes` each than AUTO_PREFETCH_BYTES hold. It
 * grows by doubling, so only a lasting backlog earns a large buffer, and drops at once when the
 * handlers slow down or the bodies grow.
 */
export function nextPrefetch(
  current: number,
  p: {
    readonly floor: number;
    readonly slots: number;
    readonly handlerMs: number;
    readonly visibilityMs: number;
    readonly bodyBytes: number;
  },
): number {
  const holdMs = Math.min(HOLD_MS, p.visibilityMs / 10);
  const target = Math.floor((holdMs * p.slots) / Math.max(p.handlerMs, 0.001));
  const byBytes = Math.floor(AUTO_PREFETCH_BYTES / Math.max(p.bodyBytes, 1));
  return Math.max(p.floor, Math.min(AUTO_PREFETCH_MAX, byBytes, target, current * 2));
}
