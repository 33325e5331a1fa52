// What a schedule is, as users declare it and as it is stored: checked once here
// (every field a user can get wrong gets an error naming it), then kept as JSON.

import { type Duration, parseDuration } from '../core/duration.ts';
import { type ErrorCode, isMainspringError, MainspringError } from '../core/errors.ts';
import { readInstant } from '../core/instant.ts';
import { NAME_LIMITS } from '../core/names.ts';
import type { CronObject, Schedule } from '../expressions/index.ts';
import { parseSchedule } from '../expressions/index.ts';

export type MisfirePolicy = 'skip' | 'once' | 'all';
export type OverlapPolicy = 'allow' | 'skip' | 'queue';
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Where a tick goes. */
export type ScheduleTarget =
  /** Invokes the function with the payload as its input (a run per tick, retried per the schedule). */
  | { readonly kind: 'function'; readonly function: string }
  /** Sends the payload as a message to the queue. */
  | { readonly kind: 'queue'; readonly queue: string }
  /** Starts an execution of the workflow with the payload as its input, one per tick (id `<schedule>:<tick ISO>`). */
  | { readonly kind: 'workflow'; readonly workflow: string }
  /** Sends an HTTP request (host must be on the app's allow-list); a 2xx answer is success. */
  | {
      readonly kind: 'http';
      readonly url: string;
      /** Default POST. */
      readonly method?: HttpMethod;
      readonly headers?: Readonly<Record<string, string>>;
      /** Sent as JSON; default: the schedule's payload. */
      readonly body?: unknown;
      /** Default 30 s. */
      readonly timeout?: Duration;
    };

export interface ScheduleRetryOptions {
  /** Attempts per tick, the first included (default: the target function's `retry.maxAttempts`). */
  readonly maxAttempts?: number;
  /** No attempt starts later than this after its tick (as EventBridge's maximum event age). */
  readonly maxEventAge?: Duration;
}

/** The settings a schedule has besides its name, expression and target. */
export interface ScheduleSettings {
  /** IANA time zone the expression's wall-clock times are read in (default UTC). */
  readonly timezone?: string;
  /** No tick before this instant. */
  readonly start?: Date | string;
  /** No tick after this instant. */
  readonly end?: Date | string;
  /** Default true. */
  readonly enabled?: boolean;
  /** The target function's input, the queue message's body, or the HTTP body (JSON, at most 256 KiB). */
  readonly payload?: unknown;
  readonly retry?: ScheduleRetryOptions;
  /** Fire at a uniformly random instant up to this long after each tick (EventBridge's flexible time window). */
  readonly flexibleWindow?: Duration | null;
  /**
   * Ticks missed while no scheduler ran (more than the scheduler's misfire grace late):
   * `skip` them (default), fire `once` for the latest, or fire `all` of them, oldest first, up to `misfireLimit`.
   */
  readonly misfire?: MisfirePolicy;
  /** Most missed ticks `misfire: 'all'` fires (default 100). */
  readonly misfireLimit?: number;
  /**
   * While the previous tick's run is queued or running: `allow` another (default), `skip`
   * this tick, or `queue` it until that run ends. Function and HTTP targets only.
   */
  readonly overlap?: OverlapPolicy;
  readonly description?: string;
}

export interface CreateScheduleInput extends ScheduleSettings {
  /** Letters, digits, `-`, `_`, `.`, `:`, `/`; at most 200 characters. */
  readonly name: string;
  /** `cron(…)`, `rate(…)`, `at(…)`, 5/6-field Unix cron, or a cron object. */
  readonly expression: string | CronObject;
  readonly target: ScheduleTarget;
}

/** Fields an update changes; the rest stay. `null` clears an optional field. */
export type UpdateScheduleInput = Partial<
  Omit<CreateScheduleInput, 'name' | 'start' | 'end' | 'flexibleWindow'>
> & {
  readonly start?: Date | string | null;
  readonly end?: Date | string | null;
  readonly flexibleWindow?: Duration | null;
};

/** A target as stored: HTTP fields resolved. */
export type StoredTarget =
  | { readonly kind: 'function'; readonly function: string }
  | { readonly kind: 'queue'; readonly queue: string }
  | { readonly kind: 'workflow'; readonly workflow: string }
  | {
      readonly kind: 'http';
      readonly url: string;
      readonly method: HttpMethod;
      readonly headers: Readonly<Record<string, string>>;
      /** Absent: send the payload. */
      readonly body?: unknown;
      readonly timeoutMs: number;
    };

/** A schedule's declaration as stored (the row's `spec`). */
export interface ScheduleSpec {
  readonly expression: string;
  readonly timezone: string;
  readonly startMs: number | null;
  readonly endMs: number | null;
  readonly target: StoredTarget;
  readonly payload: unknown;
  readonly retry: { readonly maxAttempts: number | null; readonly maxEventAgeMs: number | null };
  readonly flexibleWindowMs: number;
  readonly misfire: MisfirePolicy;
  readonly misfireLimit: number;
  readonly overlap: OverlapPolicy;
  readonly description: string | null;
  /** When the schedule was created: rate() without a start counts periods from it. */
  readonly createdAtMs: number;
}

export const MAX_PAYLOAD_BYTES = 256 * 1024;
export const DEFAULT_MISFIRE_LIMIT = 100;
const MAX_MISFIRE_LIMIT = 10_000;
const MAX_FLEXIBLE_WINDOW_MS = 24 * 3_600_000;
const DEFAULT_HTTP_TIMEOUT_MS = 30_000;
const MAX_HTTP_TIMEOUT_MS = 15 * 60_000;
const HTTP_METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const NAME = new RegExp(`^[A-Za-z0-9_.:/-]{1,${NAME_LIMITS.schedule}}$`);

export function scheduleInvalid(field: string, message: string, value?: unknown): MainspringError {
  return invalidField('E_SCHEDULE_INVALID', field, message, value);
}

export function invalidField(
  code: ErrorCode,
  field: string,
  message: string,
  value?: unknown,
): MainspringError {
  return new MainspringError(code, `${field}: ${message}`, {
    details: { field, ...(value === undefined ? {} : { value }) },
  });
}

export function checkScheduleName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw scheduleInvalid(
      'name',
      `${JSON.stringify(name)} is not a schedule name; use 1–${NAME_LIMITS.schedule} letters, digits, "-", "_", ".", ":" or "/"`,
      name,
    );
  }
  return name;
}

/** An instant from a Date or an ISO-8601 string (core/instant.ts), or a clear error naming the field. */
export function instantMs(value: unknown, field: string, code: ErrorCode = 'E_SCHEDULE_INVALID'): number {
  const ms = readInstant(value);
  if (typeof ms !== 'number') throw invalidField(code, field, ms.why, value);
  return ms;
}

/** JSON text of a payload, or a clear error when it is not JSON or too large. */
export function payloadJson(value: unknown, field: string, code: ErrorCode = 'E_SCHEDULE_INVALID'): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value === undefined ? null : value);
  } catch (err) {
    throw invalidField(code, field, `is not JSON-serialisable (${(err as Error).message})`);
  }
  if (text === undefined) throw invalidField(code, field, 'is not JSON-serialisable (a function or symbol)');
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw invalidField(
      code,
      field,
      `is ${bytes} bytes of JSON; the limit is ${MAX_PAYLOAD_BYTES} (256 KiB) — store large data elsewhere and pass a reference`,
    );
  }
  return text;
}

function duration(value: Duration, field: string): number {
  try {
    return parseDuration(value, field);
  } catch (err) {
    throw scheduleInvalid(field, (err as Error).message.replace(`${field}: `, ''), value);
  }
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], fallback: T, field: string): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    throw scheduleInvalid(field, `${JSON.stringify(value)} is not one of ${allowed.join(', ')}`, value);
  }
  return value as T;
}

const TARGET_FIELDS: Readonly<Record<string, readonly string[]>> = {
  function: ['kind', 'function'],
  queue: ['kind', 'queue'],
  workflow: ['kind', 'workflow'],
  http: ['kind', 'url', 'method', 'headers', 'body', 'timeout'],
};

function checkTarget(target: unknown): StoredTarget {
  if (typeof target !== 'object' || target === null) {
    throw scheduleInvalid(
      'target',
      'is missing; give { kind: "function", function: "name" }, { kind: "queue", queue: "name" } or { kind: "http", url: "https://…" }',
    );
  }
  const t = target as Record<string, unknown>;
  // A field of another kind (a url on a function target) would be dropped without a word.
  const fields = Object.hasOwn(TARGET_FIELDS, String(t['kind']))
    ? TARGET_FIELDS[String(t['kind'])]
    : undefined;
  const stray = fields && Object.keys(t).find((k) => !fields.includes(k));
  if (fields && stray !== undefined) {
    throw scheduleInvalid(
      `target.${stray}`,
      `is not a field of a ${String(t['kind'])} target; give only ${fields.join(', ')}`,
    );
  }
  switch (t['kind']) {
    case 'function':
      if (typeof t['function'] !== 'string' || t['function'] === '') {
        throw scheduleInvalid('target.function', 'give the name of the function to invoke', t['function']);
      }
      return { kind: 'function', function: t['function'] };
    case 'queue':
      if (typeof t['queue'] !== 'string' || t['queue'] === '') {
        throw scheduleInvalid('target.queue', 'give the name of the queue to send to', t['queue']);
      }
      return { kind: 'queue', queue: t['queue'] };
    case 'http': {
      const url = t['url'];
      let parsed: URL | null = null;
      try {
        parsed = typeof url === 'string' ? new URL(url) : null;
      } catch {
        parsed = null;
      }
      if (parsed === null || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
        throw scheduleInvalid('target.url', `${JSON.stringify(url)} is not an http(s) URL`, url);
      }
      const method = oneOf(t['method'], HTTP_METHODS, 'POST', 'target.method');
      const headers = t['headers'] ?? {};
      if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
        throw scheduleInvalid('target.headers', 'must be an object of header names to string values');
      }
      for (const [k, v] of Object.entries(headers)) {
        if (typeof v !== 'string') throw scheduleInvalid(`target.headers.${k}`, 'must be a string', v);
      }
      const timeoutMs =
        t['timeout'] === undefined
          ? DEFAULT_HTTP_TIMEOUT_MS
          : duration(t['timeout'] as Duration, 'target.timeout');
      if (timeoutMs < 1 || timeoutMs > MAX_HTTP_TIMEOUT_MS) {
        throw scheduleInvalid('target.timeout', 'must be from 1 ms to 15 minutes', t['timeout']);
      }
      if (t['body'] !== undefined) payloadJson(t['body'], 'target.body');
      return {
        kind: 'http',
        url: parsed.href,
        method,
        headers: { ...(headers as Record<string, string>) },
        ...(t['body'] !== undefined ? { body: t['body'] } : {}),
        timeoutMs,
      };
    }
    case 'workflow': {
      if (typeof t['workflow'] !== 'string' || t['workflow'] === '') {
        throw scheduleInvalid('target.workflow', 'must name a workflow of the app', t['workflow']);
      }
      return { kind: 'workflow', workflow: t['workflow'] };
    }
    default:
      throw scheduleInvalid(
        'target.kind',
        `${JSON.stringify(t['kind'])} is not a target kind; use "function", "queue", "workflow" or "http"`,
        t['kind'],
      );
  }
}

/** Parses the expression with the spec's zone and bounds (errors name the field at fault). */
export function scheduleOf(spec: ScheduleSpec): Schedule {
  return parseSchedule(spec.expression, {
    timezone: spec.timezone,
    ...(spec.startMs !== null ? { start: new Date(spec.startMs) } : {}),
    ...(spec.endMs !== null ? { end: new Date(spec.endMs) } : {}),
    createdAt: new Date(spec.createdAtMs),
  });
}

/**
 * Checks a declaration and resolves it into the stored spec. `createdAtMs` anchors rate()
 * schedules without a start.
 */
export function resolveSpec(
  input: Omit<CreateScheduleInput, 'name' | 'enabled'> & { readonly enabled?: boolean },
  createdAtMs: number,
): { spec: ScheduleSpec; schedule: Schedule } {
  if (typeof input !== 'object' || input === null) throw scheduleInvalid('schedule', 'must be an object');
  const startMs = input.start === undefined || input.start === null ? null : instantMs(input.start, 'start');
  const endMs = input.end === undefined || input.end === null ? null : instantMs(input.end, 'end');
  if (startMs !== null && endMs !== null && endMs < startMs) {
    throw scheduleInvalid(
      'end',
      `${new Date(endMs).toISOString()} is before start ${new Date(startMs).toISOString()}; end must not be before start`,
    );
  }
  if (input.timezone !== undefined && typeof input.timezone !== 'string') {
    throw scheduleInvalid('timezone', 'must be an IANA zone name such as Europe/Berlin', input.timezone);
  }
  let parsed: Schedule;
  try {
    parsed = parseSchedule(input.expression, {
      ...(input.timezone !== undefined ? { timezone: input.timezone } : {}),
      ...(startMs !== null ? { start: new Date(startMs) } : {}),
      ...(endMs !== null ? { end: new Date(endMs) } : {}),
      createdAt: new Date(createdAtMs),
    });
  } catch (err) {
    // The schedule module's error already names its field (expression, timezone, day-of-week…).
    if (isMainspringError(err)) throw err;
    throw scheduleInvalid('expression', (err as Error).message);
  }
  const target = checkTarget(input.target);
  if (input.payload !== undefined) payloadJson(input.payload, 'payload');
  const retry = input.retry ?? {};
  if (typeof retry !== 'object' || retry === null) throw scheduleInvalid('retry', 'must be an object');
  let maxAttempts: number | null = null;
  if (retry.maxAttempts !== undefined) {
    if (!Number.isInteger(retry.maxAttempts) || retry.maxAttempts < 1 || retry.maxAttempts > 1000) {
      throw scheduleInvalid('retry.maxAttempts', 'must be a whole number from 1 to 1000', retry.maxAttempts);
    }
    maxAttempts = retry.maxAttempts;
  }
  let maxEventAgeMs: number | null = null;
  if (retry.maxEventAge !== undefined) {
    maxEventAgeMs = duration(retry.maxEventAge, 'retry.maxEventAge');
    if (maxEventAgeMs < 1000)
      throw scheduleInvalid('retry.maxEventAge', 'must be at least 1 second', retry.maxEventAge);
  }
  let flexibleWindowMs = 0;
  if (input.flexibleWindow !== undefined && input.flexibleWindow !== null) {
    flexibleWindowMs = duration(input.flexibleWindow, 'flexibleWindow');
    if (flexibleWindowMs > MAX_FLEXIBLE_WINDOW_MS) {
      throw scheduleInvalid('flexibleWindow', 'must be at most 24 hours', input.flexibleWindow);
    }
  }
  const misfireLimit = input.misfireLimit ?? DEFAULT_MISFIRE_LIMIT;
  if (!Number.isInteger(misfireLimit) || misfireLimit < 1 || misfireLimit > MAX_MISFIRE_LIMIT) {
    throw scheduleInvalid(
      'misfireLimit',
      `must be a whole number from 1 to ${MAX_MISFIRE_LIMIT}`,
      misfireLimit,
    );
  }
  const overlap = oneOf(input.overlap, ['allow', 'skip', 'queue'], 'allow', 'overlap');
  if (overlap !== 'allow' && target.kind === 'queue') {
    throw scheduleInvalid(
      'overlap',
      `"${overlap}" needs a run to watch; a queue target sends messages without runs, so use "allow"`,
    );
  }
  if (input.enabled !== undefined && typeof input.enabled !== 'boolean') {
    throw scheduleInvalid('enabled', 'must be true or false', input.enabled);
  }
  if (input.description !== undefined && typeof input.description !== 'string') {
    throw scheduleInvalid('description', 'must be a string', input.description);
  }
  const spec: ScheduleSpec = {
    expression: parsed.expression,
    timezone: parsed.timezone,
    startMs,
    endMs,
    target,
    payload: input.payload ?? null,
    retry: { maxAttempts, maxEventAgeMs },
    flexibleWindowMs,
    misfire: oneOf(input.misfire, ['skip', 'once', 'all'], 'skip', 'misfire'),
    misfireLimit,
    overlap,
    description: input.description ?? null,
    createdAtMs,
  };
  return { spec, schedule: parsed };
}

/** The declaration a spec came from, as the client returns it. */
export function specToInput(spec: ScheduleSpec): Omit<CreateScheduleInput, 'name'> {
  const t = spec.target;
  return {
    expression: spec.expression,
    timezone: spec.timezone,
    ...(spec.startMs !== null ? { start: new Date(spec.startMs).toISOString() } : {}),
    ...(spec.endMs !== null ? { end: new Date(spec.endMs).toISOString() } : {}),
    target:
      t.kind === 'http'
        ? {
            kind: 'http',
            url: t.url,
            method: t.method,
            headers: t.headers,
            ...(t.body !== undefined ? { body: t.body } : {}),
            timeout: t.timeoutMs,
          }
        : t,
    ...(spec.payload !== null ? { payload: spec.payload } : {}),
    retry: {
      ...(spec.retry.maxAttempts !== null ? { maxAttempts: spec.retry.maxAttempts } : {}),
      ...(spec.retry.maxEventAgeMs !== null ? { maxEventAge: spec.retry.maxEventAgeMs } : {}),
    },
    flexibleWindow: spec.flexibleWindowMs === 0 ? null : spec.flexibleWindowMs,
    misfire: spec.misfire,
    misfireLimit: spec.misfireLimit,
    overlap: spec.overlap,
    ...(spec.description !== null ? { description: spec.description } : {}),
  };
}
