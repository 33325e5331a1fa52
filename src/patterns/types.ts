// The public shapes of the events module: what a pattern may contain (EventBridge's
// content-filtering language), a compiled pattern, and a set of rules compiled together.

/**
 * `{"equals-ignore-case": "..."}` as the operand of `prefix` or `suffix`.
 *
 * @example
 * ```ts
 * const op: PatternOperator = { prefix: { 'equals-ignore-case': 'EventB' } };
 * ```
 */
export interface IgnoreCaseOperand {
  readonly 'equals-ignore-case': string;
}

/**
 * The operand of `anything-but`: a value or a list of values to exclude (all strings or all
 * numbers), or one string operator whose matches are excluded.
 *
 * @example
 * ```ts
 * const operands: AnythingButOperand[] = ['stopped', [100, 200], { prefix: 'init' }, { wildcard: ['*.tmp', '*~'] }];
 * ```
 */
export type AnythingButOperand =
  | string
  | number
  | readonly string[]
  | readonly number[]
  | { readonly prefix: string | readonly string[] }
  | { readonly suffix: string | readonly string[] }
  | { readonly 'equals-ignore-case': string | readonly string[] }
  | { readonly wildcard: string | readonly string[] };

/**
 * One operator object inside a pattern's value list, e.g. `{ prefix: "us-" }`.
 *
 * @example
 * ```ts
 * const op: PatternOperator = { numeric: ['>', 0, '<=', 5] };
 * ```
 */
export type PatternOperator =
  | { readonly prefix: string | IgnoreCaseOperand }
  | { readonly suffix: string | IgnoreCaseOperand }
  | { readonly 'equals-ignore-case': string }
  | { readonly wildcard: string }
  | { readonly 'anything-but': AnythingButOperand }
  | { readonly numeric: readonly (string | number)[] }
  | { readonly exists: boolean }
  | { readonly cidr: string };

/**
 * One entry of a pattern's value list: an exact value or an operator.
 *
 * @example
 * ```ts
 * const values: PatternValue[] = ['running', 300, true, null, { prefix: 'stop' }];
 * ```
 */
export type PatternValue = string | number | boolean | null | PatternOperator;

/**
 * An EventBridge event pattern: field names map to a non-empty list of values (any of
 * which may match), to a nested pattern for a nested object, or, for the key `$or`, to
 * a list of at least two patterns of which one must match. See docs/events.md.
 *
 * @example
 * ```ts
 * const pattern: EventPattern = {
 *   source: ['app.orders'],
 *   'detail-type': ['Order Placed'],
 *   detail: { total: [{ numeric: ['>=', 100] }], country: [{ 'anything-but': ['XX'] }] },
 * };
 * ```
 */
export interface EventPattern {
  // `undefined` lets patterns built in variables (whose inferred types carry optional keys)
  // type-check; a key whose value is undefined counts as absent, as in JSON.
  readonly [field: string]: readonly PatternValue[] | EventPattern | readonly EventPattern[] | undefined;
}

/**
 * A pattern compiled once and matched against many events.
 *
 * @example
 * ```ts
 * const p = compilePattern({ source: ['app.orders'] });
 * p.matches({ source: 'app.orders', detailType: 'Order Placed', detail: {} }); // true
 * ```
 */
export interface CompiledPattern {
  /** True when `event` (a parsed JSON value) matches the pattern. Never throws. */
  matches(event: unknown): boolean;
  /** The pattern as given (parsed, when it was given as JSON text). */
  readonly pattern: EventPattern;
}

/**
 * One rule for {@link compileRules}: an id to report and its pattern (an object or JSON text).
 *
 * @example
 * ```ts
 * const rule: EventRule = { id: 'big-orders', pattern: { detail: { total: [{ numeric: ['>', 1000] }] } } };
 * ```
 */
export interface EventRule<Id extends string = string> {
  readonly id: Id;
  readonly pattern: EventPattern | string;
}

/**
 * Many rules compiled into one matcher: an event's cost grows with its own fields, not
 * with the number of rules.
 *
 * @example
 * ```ts
 * const m = compileRules([{ id: 'a', pattern: { source: ['x'] } }, { id: 'b', pattern: { source: [{ prefix: 'x' }] } }]);
 * m.match({ source: 'x' }); // ['a', 'b']
 * ```
 */
export interface RuleMatcher<Id extends string = string> {
  /** Ids of the rules whose pattern matches `event`, in the order the rules were given. Never throws. */
  match(event: unknown): Id[];
  /** Number of rules. */
  readonly size: number;
  /**
   * Ids of rules with no indexable constraint (every field they name could also match by its
   * absence, e.g. only `{"exists": false}`); these are checked against every event.
   */
  readonly unindexed: readonly Id[];
}
