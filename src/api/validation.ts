// Request validation errors in the user's words. Ajv (through Fastify, with `verbose` so each
// issue carries its schema and the value) reports schema internals: a `pattern` regex, a
// keyword. Each issue is turned into "<field> must be <what is allowed>", the field named as
// the user wrote it (`query.limit`, `body.entries.0.time`), and `details` takes one shape:
//   { field, value?, message, issues? }
// `value` is the value given when it is short; `issues` lists every problem when there are
// several (the first is also the top-level `field`).

import { MainspringError } from '../core/errors.ts';

/** One Ajv error, as Fastify hands it over (`verbose: true` adds `parentSchema` and `data`). */
export interface AjvIssue {
  instancePath: string;
  schemaPath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
  parentSchema?: unknown;
  data?: unknown;
}

/** One problem of a request: its field, what is wrong, and the value when it is short. */
export interface ValidationDetail {
  field: string;
  value?: unknown;
  message: string;
}

type Schema = Record<string, unknown>;

/** Values longer than this (as JSON) are left out of messages and details. */
const SHORT_VALUE = 100;

/** Most problems one answer lists. */
const MAX_ISSUES = 20;

/** Fastify's names for the parts of a request, as a user writes them. */
const CONTEXTS: Readonly<Record<string, string>> = {
  querystring: 'query',
  body: 'body',
  params: 'params',
  headers: 'headers',
};

function isSchema(s: unknown): s is Schema {
  return typeof s === 'object' && s !== null && !Array.isArray(s);
}

function isShort(value: unknown): boolean {
  if (value === undefined) return false;
  // Walked with a budget, not stringified first: a hostile body may nest 100,000 deep.
  let budget = SHORT_VALUE;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') budget -= v.length + 2;
    else if (typeof v === 'object' && v !== null) {
      budget -= 2;
      for (const k in v) {
        budget -= (Array.isArray(v) ? 0 : k.length + 3) + 1;
        if (budget < 0) return false;
        stack.push((v as Record<string, unknown>)[k]);
      }
    } else if (typeof v === 'number' || typeof v === 'boolean' || v === null) budget -= String(v).length;
    else return false; // not JSON
    if (budget < 0) return false;
  }
  const json = JSON.stringify(value);
  return json !== undefined && json.length <= SHORT_VALUE;
}

const list = (values: readonly unknown[]) =>
  values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));

/** `a, b or c` */
function oneOf(values: readonly unknown[]): string {
  return `one of ${list(values).join(', ')}`;
}

/**
 * What a `pattern` accepts, in words: the API's patterns are integer ranges written as text
 * (query strings are not coerced) and comma-separated lists of names.
 */
function describePattern(pattern: string): string {
  const names = /^\^\(([\w|-]+)\)\(,\(\1\)\)\*\$$/.exec(pattern);
  if (names) return `one or more of ${names[1]!.split('|').join(', ')}, separated by commas`;
  let re: RegExp;
  try {
    re = new RegExp(pattern, 'u');
  } catch {
    return 'in the form /openapi.json documents';
  }
  // An integer range: the matching numbers up to 100,000 are one contiguous run.
  let low: number | undefined;
  let high: number | undefined;
  let contiguous = true;
  for (let n = 0; n <= 100_000; n++) {
    if (!re.test(String(n))) continue;
    if (low === undefined) low = n;
    else if (high !== n - 1) contiguous = false;
    high = n;
  }
  if (low === undefined || !contiguous) return 'in the form /openapi.json documents';
  if (high! < 100_000) return `an integer from ${low} to ${high}`;
  let digits = 6;
  while (re.test('9'.repeat(digits + 1))) digits++;
  return `a whole number of at least ${low}, at most ${digits} digits`;
}

function describeInteger(s: Schema, noun: string): string {
  const min = typeof s['minimum'] === 'number' ? s['minimum'] : undefined;
  const max = typeof s['maximum'] === 'number' ? s['maximum'] : undefined;
  if (min !== undefined && max !== undefined) return `${noun} from ${min} to ${max}`;
  if (min !== undefined) return `${noun} of at least ${min}`;
  if (max !== undefined) return `${noun} of at most ${max}`;
  return noun;
}

function describeString(s: Schema): string {
  if (s['format'] === 'date-time') return 'an ISO-8601 date-time with a zone, e.g. 2026-01-05T10:00:00Z';
  if (typeof s['pattern'] === 'string') return describePattern(s['pattern']);
  const min = typeof s['minLength'] === 'number' ? s['minLength'] : undefined;
  const max = typeof s['maxLength'] === 'number' ? s['maxLength'] : undefined;
  if (max !== undefined) return `${min ?? 0} to ${max} characters`;
  if (min !== undefined && min > 0) return `at least ${min} character${min === 1 ? '' : 's'}`;
  return typeof s['description'] === 'string' ? `a string: ${lowerFirst(s['description'])}` : 'a string';
}

function lowerFirst(text: string): string {
  return /^[A-Z][a-z]/.test(text) ? text[0]!.toLowerCase() + text.slice(1) : text;
}

/**
 * What `schema` allows, to follow "must be": `an integer from 1 to 500`, `one of a, b`;
 * undefined when it says nothing a person could use (no schema, or any value).
 */
export function describeAllowed(schema: unknown): string | undefined {
  if (!isSchema(schema)) return undefined;
  // A named component schema (`{ $ref: 'Duration' }`), as /openapi.json documents it.
  if (typeof schema['$ref'] === 'string')
    return `a ${schema['$ref'].replace(/^.*[/#]/, '').replace(/#$/, '')} (see /openapi.json)`;
  if ('const' in schema) return JSON.stringify(schema['const']);
  if (Array.isArray(schema['enum'])) return oneOf(schema['enum']);
  const alternatives = schema['anyOf'] ?? schema['oneOf'];
  if (Array.isArray(alternatives)) {
    const consts = alternatives.filter((a) => isSchema(a) && 'const' in a) as Schema[];
    if (consts.length === alternatives.length) return oneOf(consts.map((a) => a['const']));
    if (typeof schema['description'] === 'string') return lowerFirst(schema['description']);
    const each = alternatives.map(describeAllowed);
    return each.every((d) => d !== undefined) ? each.join(', or ') : undefined;
  }
  switch (schema['type']) {
    case 'integer':
      return describeInteger(schema, 'an integer');
    case 'number':
      return describeInteger(schema, 'a number');
    case 'string':
      return describeString(schema);
    case 'boolean':
      return 'true or false';
    case 'null':
      return 'null';
    case 'array': {
      const min = typeof schema['minItems'] === 'number' ? schema['minItems'] : undefined;
      const max = typeof schema['maxItems'] === 'number' ? schema['maxItems'] : undefined;
      if (min !== undefined && max !== undefined) return `a list of ${min} to ${max} items`;
      if (max !== undefined) return `a list of at most ${max} items`;
      if (min !== undefined && min > 0) return `a list of at least ${min} item${min === 1 ? '' : 's'}`;
      return 'a list';
    }
    case 'object':
      return 'a JSON object';
    default:
      return typeof schema['description'] === 'string' ? lowerFirst(schema['description']) : undefined;
  }
}

/** The dotted path of an issue's value: `body.entries.0.time`. */
function fieldOf(context: string, issue: AjvIssue, child?: string): string {
  const path = issue.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
  return [CONTEXTS[context] ?? context, ...path, ...(child === undefined ? [] : [child])].join('.');
}

function describeIssue(context: string, issue: AjvIssue): ValidationDetail {
  const parent = isSchema(issue.parentSchema) ? issue.parentSchema : {};
  const extra = issue.params?.['additionalProperty'];
  if (issue.keyword === 'additionalProperties' && typeof extra === 'string') {
    const known = isSchema(parent['properties']) ? Object.keys(parent['properties']) : [];
    const value = isSchema(issue.data) ? issue.data[extra] : undefined;
    return {
      field: fieldOf(context, issue, extra),
      ...(isShort(value) ? { value } : {}),
      message:
        known.length > 0
          ? `is not a known field; the known fields are ${known.join(', ')}`
          : 'is not a known field; this object takes no fields',
    };
  }
  const missing = issue.params?.['missingProperty'];
  if (issue.keyword === 'required' && typeof missing === 'string') {
    const wanted = isSchema(parent['properties']) ? parent['properties'][missing] : undefined;
    return {
      field: fieldOf(context, issue, missing),
      message: allowedOrNot('is required', describeAllowed(wanted), '; give '),
    };
  }
  const value = issue.data;
  return {
    field: fieldOf(context, issue),
    ...(isShort(value) ? { value } : {}),
    message:
      issue.keyword === 'minProperties'
        ? 'must have at least one field'
        : issue.keyword === 'uniqueItems'
          ? 'must not list an item twice'
          : allowedOrNot('is not valid', describeAllowed(parent), undefined),
  };
}

/** `must be <allowed>` (or `<base>; give <allowed>`), or `base` alone when nothing is known. */
function allowedOrNot(base: string, allowed: string | undefined, joiner: string | undefined): string {
  if (allowed === undefined) return base;
  return joiner === undefined ? `must be ${allowed}` : `${base}${joiner}${allowed}`;
}

/**
 * The issues worth telling: a union's branch failures are dropped for the union's own issue
 * (it says what every branch allows), and an issue repeated for one field is told once.
 */
function tellable(issues: readonly AjvIssue[]): AjvIssue[] {
  const unions = issues
    .filter((i) => i.keyword === 'anyOf' || i.keyword === 'oneOf')
    .map((i) => `${i.schemaPath ?? ''}/`);
  return issues.filter((i) => !unions.some((u) => (i.schemaPath ?? '').startsWith(u)));
}

/** Ajv's issues on one part of a request (`querystring`, `body`, …) as one E_VALIDATION error. */
export function validationError(context: string, issues: readonly AjvIssue[]): MainspringError {
  const seen = new Set<string>();
  const details: ValidationDetail[] = [];
  for (const issue of tellable(issues)) {
    const d = describeIssue(context, issue);
    const key = `${d.field} ${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    details.push(d);
  }
  if (details.length === 0) details.push({ field: CONTEXTS[context] ?? context, message: 'is not valid' });
  const sentence = (d: ValidationDetail) =>
    `${d.field} ${d.message}${'value' in d ? ` (got ${JSON.stringify(d.value)})` : ''}`;
  // A batch of 10,000 bad entries would otherwise answer 10,000 sentences.
  const told = details.slice(0, MAX_ISSUES);
  const more = details.length - told.length;
  const [first, ...rest] = told;
  return new MainspringError(
    'E_VALIDATION',
    told.map(sentence).join('; ') + (more > 0 ? `; and ${more} more like these` : ''),
    { details: rest.length === 0 ? first : { ...first, issues: told } },
  );
}

/**
 * One field's problem as an E_VALIDATION error of that shape, for checks a schema cannot make
 * (`instant(…)` on a filter, a NUL character).
 */
export function fieldError(message: string, detail: ValidationDetail, more: ValidationDetail[] = []) {
  return new MainspringError('E_VALIDATION', message, {
    details: more.length === 0 ? detail : { ...detail, issues: [detail, ...more] },
  });
}

/**
 * An E_VALIDATION error the engine raised for a value of the request (`parseDuration(ttl,
 * 'ttl')`), in the request's terms: its field as the user wrote it (`body.ttl`, found by its
 * first key in the body, query or path), and `message` for what follows the field. Others,
 * and errors already so named, are returned as they are.
 */
export function inRequestTerms(
  err: MainspringError,
  parts: Readonly<{ body: unknown; query: unknown; params: unknown }>,
): MainspringError {
  if (err.code !== 'E_VALIDATION' || !isSchema(err.details)) return err;
  const field = err.details['field'];
  if (typeof field !== 'string' || field === '') return err;
  const path = field.replace(/\[(\d+)\]/g, '.$1');
  const first = path.split('.')[0]!;
  if (Object.values(CONTEXTS).includes(first)) return err;
  const context = (['body', 'query', 'params'] as const).find((c) => {
    const part = parts[c];
    return isSchema(part) && Object.hasOwn(part, first);
  });
  if (context === undefined) return err;
  const named = `${context}.${path}`;
  const rest = err.message.startsWith(`${field} `) ? err.message.slice(field.length + 1) : undefined;
  const { value, ...others } = err.details;
  return new MainspringError('E_VALIDATION', rest === undefined ? err.message : `${named} ${rest}`, {
    cause: err,
    details: {
      ...others,
      field: named,
      ...(isShort(value) ? { value } : {}),
      ...(rest !== undefined && others['message'] === undefined ? { message: rest } : {}),
    },
  });
}
