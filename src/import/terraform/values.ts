// Small helpers over hcl2json's output: expressions arrive as `${…}` strings, so "literal"
// here means a value with no interpolation in it, and a reference is read off its text.

import { parseSchedule, ScheduleError } from '../../expressions/index.ts';

export type Value = string | number | boolean | null | Value[] | { [key: string]: Value };
export type Obj = { [key: string]: Value };

export type Result<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: string };

export function isObj(v: Value | undefined): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A nested block (hcl2json gives blocks as arrays) or an object attribute. */
export function block(body: Obj, name: string): Obj | undefined {
  const v = body[name];
  if (Array.isArray(v)) return v.find(isObj);
  return isObj(v) ? v : undefined;
}

/** True when the string holds a `${…}` interpolation or `%{…}` directive (not the `$${` escape). */
export function isComputed(s: string): boolean {
  for (let i = 0; i < s.length - 1; i++) {
    if ((s[i] === '$' || s[i] === '%') && s[i + 1] === '{' && (i === 0 || s[i - 1] !== s[i])) return true;
  }
  return false;
}

export function unescapeLiteral(s: string): string {
  return s.replaceAll('$${', '${').replaceAll('%%{', '%{');
}

export function literalString(v: Value | undefined): string | undefined {
  return typeof v === 'string' && !isComputed(v) ? unescapeLiteral(v) : undefined;
}

export function scalar(v: Value | undefined): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

export function numberOf(v: Value | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(v)) return Number(v);
  return undefined;
}

export function stringList(v: Value | undefined): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out = v.map(scalar);
  return out.every((s) => s !== undefined) ? (out as string[]) : undefined;
}

const PATH_MODULE = `\${path.module}/`;

/** A path relative to the module's folder: `${path.module}/x` is `x`; anything else computed is unknown. */
export function literalPath(v: Value | undefined): string | undefined {
  if (typeof v !== 'string') return undefined;
  const rest = v.startsWith(PATH_MODULE) ? v.slice(PATH_MODULE.length) : v;
  return literalString(rest);
}

/**
 * The resource key a whole-value reference points at when it is of `type`:
 * `${aws_sqs_queue.dlq.arn}` → `aws_sqs_queue.dlq`, `${data.archive_file.x.output_path}` → `data.archive_file.x`.
 */
export function refTo(v: Value | undefined, type: string): string | undefined {
  if (typeof v !== 'string' || !v.startsWith('${') || !v.endsWith('}')) return undefined;
  const path = v.slice(2, -1).trim();
  if (!path.startsWith(`${type}.`)) return undefined;
  const rest = path.slice(type.length + 1);
  const name = /^[A-Za-z_][\w-]*/.exec(rest)?.[0];
  return name === undefined ? undefined : `${type}.${name}`;
}

/** A literal schedule expression that mainspring's parser accepts; the expression is never rewritten. */
export function scheduleExpression(
  value: Value | undefined,
  options: { timezone?: string; start?: string; end?: string },
): Result<string> {
  const expression = literalString(value);
  if (expression === undefined) {
    return { ok: false, reason: `schedule_expression is computed (${String(value)}): write it by hand` };
  }
  try {
    parseSchedule(expression, {
      timezone: options.timezone,
      start: options.start === undefined ? undefined : new Date(options.start),
      end: options.end === undefined ? undefined : new Date(options.end),
    });
  } catch (err) {
    if (err instanceof ScheduleError) return { ok: false, reason: `${expression}: ${err.message}` };
    throw err;
  }
  return { ok: true, value: expression };
}

/** `base`, or `base-2`, `base-3`… when another item already took it. */
export function claim(taken: Set<string>, base: string, max = 80): string {
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base.slice(0, max - String(n).length - 1)}-${n}`;
  taken.add(name);
  return name;
}

/** The object without its undefined properties, so a plan compares and prints cleanly. */
export function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
