// How ctx.map and ctx.parallel settle: the completion rules a batch's options give (how
// many run at once, how many must succeed, how many may fail) and the result handed back.

import type { OpRow } from '../store/workflow-row.ts';
import type { BatchItem, BatchItemStatus, BatchOptions, BatchResult, CompletionReason } from './define.ts';
import { invalid, parseResult, rebuild } from './journal-values.ts';

export interface BatchSummary {
  readonly reason: CompletionReason;
  readonly statuses: readonly BatchItemStatus[];
}

export function item<T>(
  index: number,
  name: string,
  status: BatchItemStatus,
  op: OpRow | undefined,
): BatchItem<T> {
  if (status === 'SUCCEEDED' && op) return { index, name, status, result: parseResult(op.result) as T };
  if (status === 'FAILED' && op) return { index, name, status, error: rebuild(op.error) };
  return { index, name, status };
}

export function batchResult<T>(all: BatchItem<T>[], reason: CompletionReason): BatchResult<T> {
  const succeeded = all.filter((i) => i.status === 'SUCCEEDED');
  const failed = all.filter((i) => i.status === 'FAILED');
  return {
    all,
    completionReason: reason,
    successCount: succeeded.length,
    failureCount: failed.length,
    startedCount: all.filter((i) => i.status === 'STARTED').length,
    totalCount: all.length,
    hasFailure: failed.length > 0,
    succeeded: () => [...succeeded],
    failed: () => [...failed],
    getResults: () => succeeded.map((i) => i.result as T),
    getErrors: () => failed.map((i) => i.error ?? new Error('branch failed')),
    throwIfError: () => {
      if (failed[0]) throw failed[0].error ?? new Error(`branch ${failed[0].name} failed`);
    },
  };
}

export interface Rules {
  readonly maxConcurrency: number;
  readonly minSuccessful: number | null;
  readonly toleratedFailures: number;
}

export function completionRules(type: string, options: BatchOptions, total: number): Rules {
  const o = { ...options.completionConfig, ...options };
  const count = (field: string, v: unknown, min: number): number | null => {
    if (v === undefined) return null;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      throw invalid(type, field, v, `give a whole number of at least ${min}`);
    }
    return v;
  };
  const maxConcurrency = count('maxConcurrency', o.maxConcurrency, 1) ?? Math.max(1, total);
  const minSuccessful = count('minSuccessful', o.minSuccessful, 1);
  const tolerated = count('toleratedFailureCount', o.toleratedFailureCount, 0);
  const pct = o.toleratedFailurePercentage;
  if (pct !== undefined && (typeof pct !== 'number' || !(pct >= 0 && pct <= 100))) {
    throw invalid(type, 'toleratedFailurePercentage', pct, 'give a number from 0 to 100');
  }
  const fromPct = pct === undefined ? null : Math.floor((pct / 100) * total);
  const toleratedFailures =
    tolerated === null && fromPct === null
      ? Number.POSITIVE_INFINITY
      : Math.min(tolerated ?? Infinity, fromPct ?? Infinity);
  return { maxConcurrency, minSuccessful, toleratedFailures };
}
