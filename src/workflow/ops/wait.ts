// ctx.wait, ctx.waitUntil, ctx.waitForEvent: operations that end at a time or when an event matches.

import { MainspringError } from '../../core/errors.ts';
import { readInstant } from '../../core/instant.ts';
import { compilePattern } from '../../patterns/matcher.ts';
import type { EventPattern } from '../../patterns/types.ts';
import { type WaitDuration, waitMs } from '../define.ts';
import { invalid, parseResult, rebuild } from '../journal-values.ts';
import { type Begun, NEVER, type Replay, type Scope } from '../replay.ts';

export async function wait(
  r: Replay,
  scope: Scope,
  name: string | null,
  duration: WaitDuration,
): Promise<void> {
  const ms = waitMs(duration, name === null ? 'wait duration' : `wait "${name}" duration`);
  const b = r.begin(scope, 'wait', name);
  if (b === null) return NEVER;
  return waitOp(r, scope, b, r.now() + ms);
}

export async function waitUntil(
  r: Replay,
  scope: Scope,
  name: string | null,
  date: Date | string | number,
): Promise<void> {
  // Strings and Dates through core/instant.ts: on the calendar, with a zone, years 0000–9999.
  const read = typeof date === 'number' ? date : readInstant(date);
  const at = typeof read === 'number' ? read : Number.NaN;
  if (!Number.isFinite(at)) {
    throw invalid(
      'waitUntil',
      'date',
      date,
      'give a Date, epoch milliseconds, or an ISO-8601 instant with a zone',
    );
  }
  waitMs(Math.max(0, at - r.now()), 'waitUntil date');
  const b = r.begin(scope, 'wait', name);
  if (b === null) return NEVER;
  return waitOp(r, scope, b, at);
}

export async function waitOp(r: Replay, scope: Scope, b: Begun, wakeAtMs: number): Promise<void> {
  const e = b.entry;
  if (e?.status === 'succeeded') return;
  const until = e?.wakeAtMs ?? wakeAtMs;
  if (r.now() >= until) {
    await r.write(r.op(scope, b, 'wait', { status: 'succeeded', wakeAtMs: until, finishedAtMs: r.now() }));
    return;
  }
  if (e === undefined) await r.write(r.op(scope, b, 'wait', { status: 'waiting', wakeAtMs: until }));
  return r.block(b.id, until, { kind: 'wait', name: b.name });
}

export async function waitForEvent<T>(
  r: Replay,
  scope: Scope,
  name: string,
  pattern: EventPattern,
  timeout: WaitDuration | undefined,
): Promise<T> {
  if (typeof name !== 'string') throw invalid('waitForEvent', 'name', name, 'give it a name');
  let compiled: string;
  try {
    compiled = JSON.stringify(compilePattern(pattern).pattern);
  } catch (err) {
    throw new MainspringError('E_PATTERN_INVALID', `waitForEvent "${name}": ${(err as Error).message}`, {
      cause: err,
      details: { field: 'pattern' },
    });
  }
  const timeoutMs = timeout === undefined ? null : waitMs(timeout, `waitForEvent "${name}" timeout`);
  const b = r.begin(scope, 'event', name);
  if (b === null) return NEVER;
  let e = b.entry;
  if (e?.status === 'succeeded') return parseResult(e.result) as T;
  if (e?.status === 'failed') throw rebuild(e.error);
  if (e === undefined) {
    e = r.op(scope, b, 'event', {
      status: 'waiting',
      wakeAtMs: timeoutMs === null ? null : r.now() + timeoutMs,
      detail: JSON.stringify({ pattern: JSON.parse(compiled) as unknown }),
    });
    await r.write(e);
  }
  if (e.wakeAtMs !== null && r.now() >= e.wakeAtMs) {
    return r.failOp(
      scope,
      b,
      'event',
      new MainspringError(
        'E_EVENT_WAIT_TIMED_OUT',
        `waitForEvent "${b.name}": no matching event within its timeout`,
      ),
    );
  }
  return r.block(b.id, e.wakeAtMs, { kind: 'event', name: b.name });
}
