import { type BatchSummary, batchResult, completionRules, item } from '../batch-rules.ts';
import type {
  BatchItem,
  BatchItemStatus,
  BatchOptions,
  BatchResult,
  Branch,
  CompletionReason,
  WorkflowContext,
} from '../define.ts';
import { encode, invalid, parseResult, rebuild } from '../journal-values.ts';
import { type Begun, NEVER, type Replay, Scope } from '../replay.ts';

export async function childContext<T>(
  r: Replay,
  scope: Scope,
  type: string,
  name: string,
  fn: (ctx: WorkflowContext) => Promise<T>,
): Promise<T> {
  if (typeof name !== 'string') throw invalid(type, 'name', name, 'give it a name');
  if (typeof fn !== 'function') throw invalid(type, 'fn', fn, 'give an async function (ctx) => …');
  const b = r.begin(scope, type, name);
  if (b === null) return NEVER;
  return runContext(r, scope, b, type, fn);
}

export async function runContext<T>(
  r: Replay,
  scope: Scope,
  b: Begun,
  type: string,
  fn: (ctx: WorkflowContext) => Promise<T>,
  child = new Scope(scope, b.id),
): Promise<T> {
  const e = b.entry;
  if (e?.status === 'succeeded') return parseResult(e.result) as T;
  if (e?.status === 'failed') throw rebuild(e.error);
  let value: unknown;
  try {
    value = await fn(r.context(child));
  } catch (err) {
    if (!r.live || child.cutOff) return NEVER;
    return r.failOp(scope, b, type, err);
  }
  if (!r.live || child.cutOff) return NEVER;
  const text = encode(value, `${type} "${b.name}" result`);
  if (typeof text !== 'string' && text !== null) return r.failOp(scope, b, type, text);
  await r.write(r.op(scope, b, type, { status: 'succeeded', result: text, finishedAtMs: r.now() }));
  return parseResult(text) as T;
}

export async function batch<T>(
  r: Replay,
  scope: Scope,
  type: 'parallel' | 'map',
  name: string | null,
  branches: readonly Branch<T>[],
  options: BatchOptions,
): Promise<BatchResult<T>> {
  if (!Array.isArray(branches)) throw invalid(type, 'branches', branches, 'give an array of functions');
  const named = branches.map((br, i) => {
    if (typeof br === 'function') return { name: `branch-${i}`, func: br };
    if (br && typeof br === 'object' && typeof br.func === 'function' && typeof br.name === 'string')
      return br;
    throw invalid(type, `branches[${i}]`, br, 'give a function (ctx) => … or { name, func }');
  });
  const seen = new Set<string>();
  for (const br of named) {
    if (seen.has(br.name)) throw invalid(type, 'branch name', br.name, 'give each branch its own name');
    seen.add(br.name);
  }
  const rules = completionRules(type, options, named.length);
  const b = r.begin(scope, type, name);
  if (b === null) return NEVER;
  const inner = new Scope(scope, b.id);
  const e = b.entry;
  if (e?.status === 'succeeded') {
    const summary = JSON.parse(e.result ?? '{}') as BatchSummary;
    return batchResult(
      named.map((br, i) => {
        const status = summary.statuses[i] ?? 'NOT_STARTED';
        const op = r.entries.get(`${inner.prefix}${i + 1}`);
        return item<T>(i, br.name, status, op);
      }),
      summary.reason,
    );
  }
  const statuses: BatchItemStatus[] = named.map(() => 'NOT_STARTED');
  const results: (BatchItem<T> | undefined)[] = named.map(() => undefined);
  const scopes: Scope[] = [];
  let succeeded = 0;
  let failed = 0;
  let next = 0;
  let running = 0;
  let reason: CompletionReason | null = null;
  return new Promise<BatchResult<T>>((resolve, reject) => {
    const launch = () => {
      while (reason === null && next < named.length && running < rules.maxConcurrency) {
        const i = next++;
        const br = named[i]!;
        // Each branch is a child context at a fixed position, whatever order branches start in.
        inner.counter = i;
        const branch = r.begin(inner, 'branch', br.name);
        if (branch === null) return;
        const child = new Scope(inner, branch.id);
        scopes[i] = child;
        statuses[i] = 'STARTED';
        running++;
        runContext(r, inner, branch, 'branch', br.func, child).then(
          (value) => settle(i, { index: i, name: br.name, status: 'SUCCEEDED', result: value as T }),
          (err: unknown) =>
            settle(i, {
              index: i,
              name: br.name,
              status: 'FAILED',
              error: err instanceof Error ? err : new Error(String(err)),
            }),
        );
      }
      if (reason === null && next >= named.length && running === 0) done('ALL_COMPLETED');
    };
    const settle = (i: number, result: BatchItem<T>) => {
      if (reason !== null) return;
      running--;
      statuses[i] = result.status;
      results[i] = result;
      if (result.status === 'SUCCEEDED') succeeded++;
      else failed++;
      if (rules.minSuccessful !== null && succeeded >= rules.minSuccessful) done('MIN_SUCCESSFUL_REACHED');
      else if (failed > rules.toleratedFailures) done('FAILURE_TOLERANCE_EXCEEDED');
      else launch();
    };
    const done = (why: CompletionReason) => {
      reason = why;
      for (let i = 0; i < named.length; i++) {
        if (statuses[i] === 'STARTED') scopes[i]!.abandoned = true;
      }
      const summary: BatchSummary = { reason: why, statuses };
      r.write(
        r.op(scope, b, type, {
          status: 'succeeded',
          result: JSON.stringify(summary),
          finishedAtMs: r.now(),
        }),
      ).then(
        () =>
          resolve(
            batchResult(
              named.map(
                (br, i) => results[i] ?? { index: i, name: br.name, status: statuses[i] ?? 'NOT_STARTED' },
              ),
              why,
            ),
          ),
        reject,
      );
    };
    launch();
  });
}
