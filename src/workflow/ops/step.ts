// ctx.step: a step runs once per attempt and its outcome is journaled; retries wait durably.

import { MainspringError } from '../../core/errors.ts';
import { toErrorRecord } from '../../functions/errors.ts';
import { runIn } from '../../observability/tracing.ts';
import { type StepContext, type StepOptions, StepSemantics } from '../define.ts';
import { encode, invalid, parseResult, rebuild } from '../journal-values.ts';
import { type Begun, NEVER, type Replay, type Scope } from '../replay.ts';
import { NO_RETRY, type ResolvedRetry, resolveRetry, retryDelay } from '../step-retry.ts';

export async function step<T>(
  r: Replay,
  scope: Scope,
  name: string,
  fn: (step: StepContext) => Promise<T> | T,
  options: StepOptions = {},
): Promise<T> {
  if (typeof name !== 'string')
    throw invalid('step', 'name', name, 'give the step a name: ctx.step(name, fn)');
  if (typeof fn !== 'function')
    throw invalid('step', 'fn', fn, 'give a function: ctx.step(name, async () => …)');
  const retry = resolveRetry(options.retry, `step "${name}" retry`);
  const semantics = options.semantics ?? StepSemantics.AtLeastOncePerRetry;
  const b = r.begin(scope, 'step', name);
  if (b === null) return NEVER;
  let attempt = 1;
  const e = b.entry;
  if (e !== undefined) {
    if (e.status === 'succeeded') return parseResult(e.result) as T;
    if (e.status === 'failed') throw rebuild(e.error);
    if (e.status === 'retrying') {
      if (e.wakeAtMs !== null && r.now() < e.wakeAtMs) {
        return r.block(b.id, e.wakeAtMs, { kind: 'retry', name: b.name });
      }
      attempt = e.attempt + 1;
    } else if (e.status === 'started') {
      // At most once per retry: the attempt a worker died in is not run again.
      const err = new MainspringError(
        'E_STEP_INTERRUPTED',
        `step "${b.name}" attempt ${e.attempt} was interrupted (its worker stopped) and runs at most once`,
      );
      await stepFailed(r, scope, b, e.attempt, err, retry);
      return NEVER;
    }
  }
  for (;;) {
    if (semantics === StepSemantics.AtMostOncePerRetry) {
      await r.write(r.op(scope, b, 'step', { status: 'started', attempt, error: null, wakeAtMs: null }));
    }
    r.busy++;
    let value: unknown;
    let thrown: unknown;
    let ok = false;
    try {
      // The step's span is active while it runs: what it sends or starts joins the trace.
      value = await runIn(r.traceContext(b.id), () =>
        fn({
          signal: r.signal,
          attempt,
          log: r.log.child({ step: b.name, attempt }),
        }),
      );
      ok = true;
    } catch (err) {
      thrown = err;
    } finally {
      r.busy--;
    }
    if (!r.live) return NEVER;
    if (r.stopping) {
      r.idle();
      return NEVER;
    }
    if (ok) {
      const text = encode(value, `step "${b.name}" result`);
      if (typeof text === 'string' || text === null) {
        await r.write(
          r.op(scope, b, 'step', {
            status: 'succeeded',
            attempt,
            result: text,
            error: null,
            wakeAtMs: null,
            finishedAtMs: r.now(),
          }),
        );
        return parseResult(text) as T;
      }
      // Not storable: retrying would produce the same value.
      await stepFailed(r, scope, b, attempt, text, NO_RETRY);
      return NEVER;
    }
    // Throws on the final failure, blocks on a durable retry wait, or says try at once.
    await stepFailed(r, scope, b, attempt, thrown, retry, true);
    attempt++;
  }
}

/** Records a failed attempt: a retry (a durable wait, or `again` for no delay) or the final failure. */
export async function stepFailed(
  r: Replay,
  scope: Scope,
  b: Begun,
  attempt: number,
  thrown: unknown,
  retry: Required<ResolvedRetry>,
  inline = false,
): Promise<'again'> {
  const record = toErrorRecord(thrown);
  const delay = retryDelay(retry, attempt, thrown);
  if (delay === null) return r.failOp(scope, b, 'step', thrown, { attempt, wakeAtMs: null });
  const wakeAtMs = r.now() + delay;
  await r.write(
    r.op(scope, b, 'step', { status: 'retrying', attempt, error: JSON.stringify(record), wakeAtMs }),
  );
  if (delay === 0 && inline) return 'again';
  return r.block(b.id, wakeAtMs, { kind: 'retry', name: b.name });
}
