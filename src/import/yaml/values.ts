// Small helpers for the plain values a YAML document becomes: narrowing, numbers and flags as
// CloudFormation writes them, and how a value reads in a report.

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function record(value: unknown): Record<string, unknown> | undefined {
  return isRecord(value) ? value : undefined;
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A count or seconds: a number, or digits in a string (CloudFormation takes both). */
export function count(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^\d+$/.test(value.trim())) return Number(value);
  return undefined;
}

export function flag(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  return undefined;
}

/** How a value reads in a message. */
export function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A name not yet in `taken`, cut to `max` characters: `name`, `name-2`, `name-3`… */
export function unique(name: string, taken: Set<string>, max: number): string {
  let candidate = name;
  for (let n = 2; taken.has(candidate); n++) candidate = `${name.slice(0, max - String(n).length - 1)}-${n}`;
  taken.add(candidate);
  return candidate;
}

/** Constant input as EventBridge receives it: a JSON string is parsed, anything else kept. */
export function payload(input: unknown): unknown {
  if (typeof input !== 'string') return input;
  try {
    return JSON.parse(input);
  } catch {
    return input;
  }
}

/** Drops `undefined` fields, so a plan compares and prints cleanly. */
export function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
