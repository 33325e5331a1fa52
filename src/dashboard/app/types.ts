// The API's answers as the pages read them (see /openapi.json for the full schemas).

export interface RunError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly stack?: string;
  readonly exitCode?: number | null;
}

export interface Run {
  readonly id: string;
  readonly function: string;
  readonly invocationId: string;
  readonly attempt: number;
  readonly status: string;
  readonly trigger: { readonly kind: string; readonly [key: string]: unknown };
  readonly input: unknown;
  readonly scheduledFor: string | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  readonly result?: unknown;
  readonly error: RunError | null;
  readonly cancelRequestedAt: string | null;
  readonly owner: string | null;
  readonly logCount: number;
}

export interface LogLine {
  readonly seq: number;
  readonly time: string;
  readonly level: number;
  readonly msg: string;
  readonly fields: Record<string, unknown> | null;
}

export interface QueueCounts {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
  readonly dead: number;
  readonly oldestAgeMs: number | null;
}

export interface Queue {
  readonly name: string;
  readonly settings: {
    readonly visibilityTimeoutMs: number;
    readonly maxReceiveCount: number | null;
    readonly deadLetterQueue: string | null;
    readonly fifo: boolean;
    readonly retry: { readonly backoff: string; readonly baseMs: number; readonly maxMs: number };
  };
  readonly counts: QueueCounts;
  /** No process receives from it until it is resumed. */
  readonly paused: boolean;
  readonly pausedAt: string | null;
}

export interface Message {
  readonly id: string;
  readonly queue: string;
  readonly body: unknown;
  readonly receiveCount: number;
  readonly sentAt: string;
  readonly errors: unknown[];
  readonly sourceQueue: string | null;
  readonly deadAt: string | null;
}

export interface Schedule {
  readonly name: string;
  readonly expression: string;
  readonly timezone: string;
  readonly summary: string;
  readonly enabled: boolean;
  readonly source: 'config' | 'api';
  readonly description: string | null;
  readonly target: { readonly kind: string; readonly [key: string]: unknown };
  readonly state: {
    readonly nextTick: string | null;
    readonly lastTick: string | null;
    readonly lastFiredAt: string | null;
    readonly lastRun: { readonly id: string; readonly status: string } | null;
    readonly ended: boolean;
  };
}

export interface Task {
  readonly id: string;
  readonly action: string;
  readonly payload: unknown;
  readonly due: string;
  readonly status: 'pending' | 'fired';
  readonly firedAt: string | null;
  readonly runId: string | null;
}

export interface Execution {
  readonly id: string;
  readonly workflow: string;
  readonly status: string;
  readonly input: unknown;
  readonly output?: unknown;
  readonly error?: { readonly name: string; readonly message: string; readonly code?: string };
  readonly progress: unknown;
  readonly wait: {
    readonly kind: string;
    readonly name: string;
    readonly operation: string;
    readonly until: string | null;
    readonly callbackId?: string;
  } | null;
  readonly operations: number;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly updatedAt: string;
  readonly finishedAt: string | null;
}

export interface Operation {
  readonly id: string;
  readonly parentId: string | null;
  readonly type: string;
  readonly name: string;
  readonly status: string;
  readonly attempts: number;
  readonly result?: unknown;
  readonly error?: { readonly name: string; readonly message: string };
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly wakeAt: string | null;
  readonly callbackId?: string;
  readonly childId?: string;
}

export interface BusEvent {
  readonly id: string;
  readonly source: string;
  readonly detailType: string;
  readonly detail: unknown;
  readonly time: string;
  readonly routedAt: string | null;
  readonly rules: readonly { readonly name: string; readonly queues: readonly string[] }[];
}

/** A progress value as a fraction, from the shapes workflows report (see docs/workflows.md). */
export function progressOf(progress: unknown): { value: number | null; label: string | undefined } {
  if (progress === null || progress === undefined) return { value: null, label: undefined };
  if (typeof progress === 'number')
    return { value: progress > 1 ? progress / 100 : progress, label: undefined };
  if (typeof progress === 'object') {
    const p = progress as Record<string, unknown>;
    const label =
      typeof p['message'] === 'string'
        ? p['message']
        : typeof p['status'] === 'string'
          ? p['status']
          : undefined;
    for (const [done, total] of [
      ['completed', 'total'],
      ['completedDays', 'totalDays'],
      ['current', 'total'],
      ['done', 'total'],
    ] as const) {
      if (typeof p[done] === 'number' && typeof p[total] === 'number' && (p[total] as number) > 0) {
        return { value: (p[done] as number) / (p[total] as number), label };
      }
    }
    for (const key of ['percent', 'percentage', 'progress']) {
      if (typeof p[key] === 'number') {
        const v = p[key] as number;
        return { value: v > 1 ? v / 100 : v, label };
      }
    }
    return { value: null, label };
  }
  return { value: null, label: String(progress) };
}
