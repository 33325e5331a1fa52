// What a rule target receives: the whole event, a part picked by a JSON path
// (`$.detail.order`), or a template whose `"<$.path>"` strings are filled from the
// event, as EventBridge's InputPath and InputTransformer. Pure: no I/O.

import { MainspringError } from '../core/errors.ts';

/** A JSON path (`$`, `$.detail`, `$.detail.items[0].sku`) or a template object/array. */
export type RuleInput = string | { readonly [key: string]: unknown } | readonly unknown[];

type Step = string | number;
export type InputTransform = (event: unknown) => unknown;

const SEGMENT = /^(?:\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\['([^']*)'\])/;
const PLACEHOLDER = /<(\$[^<>]*)>/g;

function invalid(rule: string, field: string, message: string, value: unknown): MainspringError {
  return new MainspringError('E_RULE_INVALID', `rule "${rule}": ${field} ${message}`, {
    details: { rule, field, value },
  });
}

/** Parses `$.a.b[0]['c d']` into steps; throws naming the rule and the path. */
export function parseJsonPath(path: string, rule: string, field: string): Step[] {
  if (!path.startsWith('$')) {
    throw invalid(
      rule,
      field,
      `is ${JSON.stringify(path)}; a JSON path starts with "$", e.g. "$.detail"`,
      path,
    );
  }
  const steps: Step[] = [];
  let rest = path.slice(1);
  while (rest.length > 0) {
    const m = SEGMENT.exec(rest);
    if (!m) {
      throw invalid(
        rule,
        field,
        `has a JSON path ${JSON.stringify(path)} that cannot be read at ${JSON.stringify(rest)}; use .name, [index] or ['name']`,
        path,
      );
    }
    steps.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : m[3]!));
    rest = rest.slice(m[0].length);
  }
  return steps;
}

function pick(value: unknown, steps: readonly Step[]): unknown {
  let at: unknown = value;
  for (const s of steps) {
    if (typeof at !== 'object' || at === null) return undefined;
    if (typeof s === 'number') {
      if (!Array.isArray(at)) return undefined;
      at = at[s];
    } else {
      if (Array.isArray(at) || !Object.hasOwn(at, s)) return undefined;
      at = (at as Record<string, unknown>)[s];
    }
  }
  return at;
}

function compileTemplate(node: unknown, rule: string, field: string): InputTransform {
  if (typeof node === 'string') {
    const whole = /^<(\$[^<>]*)>$/.exec(node);
    if (whole) {
      const steps = parseJsonPath(whole[1]!, rule, field);
      // A missing value becomes null so the field is still present, as EventBridge does.
      return (event) => pick(event, steps) ?? null;
    }
    const parts = [...node.matchAll(PLACEHOLDER)].map((m) => ({
      text: m[0],
      steps: parseJsonPath(m[1]!, rule, field),
    }));
    if (parts.length === 0) return () => node;
    return (event) => {
      let out = node;
      for (const p of parts) {
        const v = pick(event, p.steps);
        out = out.replace(p.text, v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));
      }
      return out;
    };
  }
  if (Array.isArray(node)) {
    const items = node.map((n, i) => compileTemplate(n, rule, `${field}[${i}]`));
    return (event) => items.map((f) => f(event));
  }
  if (typeof node === 'object' && node !== null) {
    const entries = Object.entries(node).map(
      ([k, v]) => [k, compileTemplate(v, rule, `${field}.${k}`)] as const,
    );
    return (event) => Object.fromEntries(entries.map(([k, f]) => [k, f(event)]));
  }
  return () => node;
}

/**
 * Compiles a rule's `input` into a function from the event to what targets receive.
 * Undefined gives the whole event; a string is a JSON path; an object or array is a
 * template whose `"<$.path>"` leaves take the value there (inside longer strings, its text).
 */
export function compileInput(input: RuleInput | undefined, rule: string): InputTransform {
  if (input === undefined) return (event) => event;
  if (typeof input === 'string') {
    const steps = parseJsonPath(input, rule, 'input');
    return (event) => pick(event, steps) ?? null;
  }
  if (typeof input === 'object' && input !== null) return compileTemplate(input, rule, 'input');
  throw invalid(
    rule,
    'input',
    `is ${JSON.stringify(input)}; use a JSON path such as "$.detail" or a template object`,
    input,
  );
}
