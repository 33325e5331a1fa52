// PatternError: the one error the events module throws on purpose. Its message names
// the place in the pattern (a JSON path such as `detail.price`) and the problem.

import { MainspringError } from '../core/errors.ts';

/**
 * Details carried by a {@link PatternError} (also serialised by `toJSON()`).
 *
 * @example
 * ```ts
 * const details: PatternErrorDetails = { path: 'detail.price', ruleId: 'big-orders' };
 * ```
 */
export interface PatternErrorDetails {
  /** Where in the pattern the problem is, e.g. `detail.price` or `$or[1].source`; `""` for the whole pattern. */
  path: string;
  /** The id of the rule whose pattern is at fault, when the error comes from `compileRules`. */
  ruleId?: string;
}

/**
 * An invalid event pattern. Code `E_PATTERN_INVALID` (HTTP 400).
 *
 * @example
 * ```ts
 * try {
 *   compilePattern({ detail: { price: [{ numeric: ['>', '10'] }] } });
 * } catch (err) {
 *   if (err instanceof PatternError) console.error(err.path, err.message);
 *   // detail.price  pattern at detail.price: numeric operator ">" needs a number, got "10"
 * }
 * ```
 */
export class PatternError extends MainspringError {
  /** Where in the pattern the problem is, e.g. `detail.price`; `""` for the whole pattern. */
  readonly path: string;
  /** The problem alone, without the path and rule id, e.g. `numeric operator ">" needs a number, got "10"`. */
  readonly problem: string;
  /** The rule whose pattern is at fault, when raised by `compileRules`. */
  readonly ruleId: string | undefined;

  constructor(path: string, problem: string, options: { ruleId?: string; cause?: unknown } = {}) {
    const where = path === '' ? 'pattern' : `pattern at ${path}`;
    const rule = options.ruleId === undefined ? '' : `rule ${JSON.stringify(options.ruleId)}: `;
    const details: PatternErrorDetails =
      options.ruleId === undefined ? { path } : { path, ruleId: options.ruleId };
    super('E_PATTERN_INVALID', `${rule}${where}: ${problem}`, { details, cause: options.cause });
    this.name = 'PatternError';
    this.path = path;
    this.problem = problem;
    this.ruleId = options.ruleId;
  }
}

/** A problem found while compiling, before the path is known to the caller. Internal. */
export function patternError(path: string, problem: string): PatternError {
  return new PatternError(path, problem);
}

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/;

/** Appends a field name to a display path: `detail` + `price` → `detail.price`; odd keys are quoted. */
export function childPath(path: string, key: string): string {
  if (!PLAIN_KEY.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** Renders a value from a pattern for an error message, kept short. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
