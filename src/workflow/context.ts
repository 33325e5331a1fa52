// The WorkflowContext a handler (or a child context) is given: each method is one
// operation family's function (ops/), bound to the session and the scope.

import type {
  BatchOptions,
  Branch,
  CallbackOptions,
  WaitDuration,
  WorkflowContext,
  WorkflowDefinition,
} from './define.ts';
import { invalid, isDefinition } from './journal-values.ts';
import { createCallback, waitForCallback, waitForCondition } from './ops/callback.ts';
import { invoke } from './ops/invoke.ts';
import { batch, childContext } from './ops/scopes.ts';
import { step } from './ops/step.ts';
import { wait, waitForEvent, waitUntil } from './ops/wait.ts';
import type { Replay, Scope } from './replay.ts';

type MapFn<I, T> = (ctx: WorkflowContext, item: I, index: number, items: readonly I[]) => Promise<T>;

export function buildContext(r: Replay, scope: Scope): WorkflowContext {
  const info = {
    id: r.row.id,
    workflow: r.row.workflow,
    version: r.row.version,
    replay: r.row.replays,
  };
  const ctx: WorkflowContext = {
    execution: info,
    log: r.log,
    step: (name, fn, options) => step(r, scope, name, fn, options),
    wait: (a: string | WaitDuration, b?: WaitDuration) =>
      typeof a === 'string' && b !== undefined ? wait(r, scope, a, b) : wait(r, scope, null, a),
    waitUntil: (date, name) => waitUntil(r, scope, name ?? null, date),
    createCallback: <T>(name?: string, options?: CallbackOptions) =>
      createCallback<T>(r, scope, name ?? null, options ?? {}),
    waitForCallback: (name, submitter, options) => waitForCallback(r, scope, name, submitter, options ?? {}),
    waitForCondition: (name, check, options) => waitForCondition(r, scope, name, check, options),
    parallel: <T>(
      a: string | readonly Branch<T>[],
      b?: readonly Branch<T>[] | BatchOptions,
      c?: BatchOptions,
    ) =>
      typeof a === 'string'
        ? batch<T>(r, scope, 'parallel', a, b as readonly Branch<T>[], c ?? {})
        : batch<T>(r, scope, 'parallel', null, a, (b as BatchOptions | undefined) ?? {}),
    map: <I, T>(
      a: string | readonly I[],
      b: readonly I[] | MapFn<I, T>,
      c?: MapFn<I, T> | BatchOptions,
      d?: BatchOptions,
    ) => {
      const [name, items, fn, options] =
        typeof a === 'string'
          ? [a, b as readonly I[], c as MapFn<I, T>, d ?? {}]
          : [null, a, b as MapFn<I, T>, (c as BatchOptions | undefined) ?? {}];
      if (!Array.isArray(items)) return Promise.reject(invalid('map', 'items', items, 'give an array'));
      if (typeof fn !== 'function') return Promise.reject(invalid('map', 'fn', fn, 'give a function'));
      const branches = items.map((item, i) => ({
        name: `item-${i}`,
        func: (child: WorkflowContext) => fn(child, item, i, items),
      }));
      return batch<T>(r, scope, 'map', name, branches, options);
    },
    invoke: <I, O>(a: string | WorkflowDefinition<I, O>, b: unknown, c?: I) =>
      c !== undefined || (typeof a === 'string' && (typeof b === 'string' || isDefinition(b)))
        ? invoke<O>(r, scope, a as string, b as WorkflowDefinition | string, c)
        : invoke<O>(r, scope, null, a as WorkflowDefinition | string, b),
    runInChildContext: (name, fn) => childContext(r, scope, 'context', name, fn),
    waitForEvent: (name, pattern, options) => waitForEvent(r, scope, name, pattern, options?.timeout),
    progress: (value) => r.progress(value),
  } as WorkflowContext;
  return ctx;
}
