// ctx.createCallback, ctx.waitForCallback, ctx.waitForCondition: completed from outside, or polled.

import { randomUUID } from 'node:crypto';
import { MainspringError } from '../../core/errors.ts';
import type { OpRow } from '../../store/workflow-row.ts';
import {
  type CallbackOptions,
  type StepContext,
  type WaitForCallbackOptions,
  type WaitForConditionOptions,
  waitMs,
} from '../define.ts';
import { invalid, parseResult, rebuild } from '../journal-values.ts';
import { type Begun, NEVER, noop, type Replay, type Scope } from '../replay.ts';
import { childContext } from './scopes.ts';

export async function createCallback<T>(
  r: Replay,
  scope: Scope,
  name: string | null,
  options: CallbackOptions,
): Promise<[Promise<T>, string]> {
  const label = name === null ? 'callback' : `callback "${name}"`;
  const timeoutMs = options.timeout === undefined ? null : waitMs(options.timeout, `${label} timeout`);
  const heartbeatMs =
    options.heartbeatTimeout === undefined
      ? null
      : waitMs(options.heartbeatTimeout, `${label} heartbeatTimeout`);
  const b = r.begin(scope, 'callback', name);
  if (b === null) return NEVER;
  let e = b.entry;
  if (e === undefined) {
    const now = r.now();
    e = r.op(scope, b, 'callback', {
      status: 'waiting',
      callbackId: randomUUID(),
      wakeAtMs: timeoutMs === null ? null : now + timeoutMs,
      detail: JSON.stringify({ timeoutMs, heartbeatTimeoutMs: heartbeatMs }),
    });
    await r.write(e);
  }
  const promise = awaitCallback<T>(r, scope, b, e);
  promise.catch(noop);
  return [promise, e.callbackId ?? ''];
}

export async function awaitCallback<T>(r: Replay, scope: Scope, b: Begun, e: OpRow): Promise<T> {
  if (e.status === 'succeeded') return parseResult(e.result) as T;
  if (e.status === 'failed') throw rebuild(e.error);
  const detail = (e.detail ? JSON.parse(e.detail) : {}) as { heartbeatTimeoutMs?: number | null };
  const hb = detail.heartbeatTimeoutMs ?? null;
  // Heartbeats come from another process at real speed: the timeout is real time (Clock.real).
  const heartbeatBy = hb === null ? null : (e.heartbeatAtMs ?? e.startedAtMs) + r.deps.clock.real(hb);
  const now = r.now();
  const late =
    e.wakeAtMs !== null && now >= e.wakeAtMs
      ? 'timeout'
      : heartbeatBy !== null && now >= heartbeatBy
        ? 'heartbeat'
        : null;
  if (late !== null) {
    return r.failOp(
      scope,
      b,
      'callback',
      new MainspringError(
        'E_CALLBACK_TIMED_OUT',
        late === 'timeout'
          ? `callback "${b.name}" (${e.callbackId}) was not completed within its timeout`
          : `callback "${b.name}" (${e.callbackId}) got no heartbeat within its heartbeatTimeout of ${hb} ms`,
      ),
    );
  }
  const deadlines = [e.wakeAtMs, heartbeatBy].filter((x): x is number => x !== null);
  return r.block(b.id, deadlines.length ? Math.min(...deadlines) : null, {
    kind: 'callback',
    name: b.name,
    callbackId: e.callbackId ?? '',
  });
}

export function waitForCallback<T>(
  r: Replay,
  scope: Scope,
  name: string,
  submitter: (callbackId: string, step: StepContext) => Promise<void> | void,
  options: WaitForCallbackOptions,
): Promise<T> {
  if (typeof submitter !== 'function') {
    return Promise.reject(
      invalid('waitForCallback', 'submitter', submitter, 'give a function (callbackId) => …'),
    );
  }
  return childContext(r, scope, 'callback-context', name, async (child) => {
    // Named as the whole operation, so the execution's `wait` shows what it waits for.
    const [result, callbackId] = await child.createCallback<T>(name, options);
    await child.step('submit', (step) => submitter(callbackId, step), {
      ...(options.retry === undefined ? {} : { retry: options.retry }),
    });
    return result;
  });
}

export function waitForCondition<S>(
  r: Replay,
  scope: Scope,
  name: string,
  check: (state: S, step: StepContext) => Promise<S> | S,
  options: WaitForConditionOptions<S>,
): Promise<S> {
  if (typeof check !== 'function') {
    return Promise.reject(invalid('waitForCondition', 'check', check, 'give a function (state) => newState'));
  }
  if (typeof options?.waitStrategy !== 'function') {
    return Promise.reject(
      invalid(
        'waitForCondition',
        'waitStrategy',
        options?.waitStrategy,
        'give (state, attempt) => ({ shouldContinue: false }) or ({ shouldContinue: true, delay: "5m" })',
      ),
    );
  }
  return childContext(r, scope, 'condition', name, async (child) => {
    let state = options.initialState;
    for (let attempt = 1; ; attempt++) {
      state = await child.step(`check-${attempt}`, (step) => check(state, step));
      const decision = options.waitStrategy(state, attempt);
      if (!decision.shouldContinue) return state;
      await child.wait(`delay-${attempt}`, decision.delay);
    }
  });
}
