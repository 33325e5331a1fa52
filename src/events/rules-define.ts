// Event rules as users declare them: a pattern, targets (functions and queues) and
// what the targets receive. Checked once at config load: a bad pattern is a
// PatternError naming the rule, a bad target or input an E_RULE_INVALID.

import type { Duration } from '../core/duration.ts';
import { MainspringError } from '../core/errors.ts';
import { NAME_LIMITS } from '../core/names.ts';
import { PatternError } from '../patterns/errors.ts';
import { compilePattern } from '../patterns/matcher.ts';
import type { EventPattern } from '../patterns/types.ts';
import { defineQueue, isQueueDefinition, type QueueDefinition } from '../queue/define.ts';
import { type FunctionDefinition, fromQueue, isFunctionDefinition } from '../runtime/function.ts';
import { compileInput, type InputTransform, type RuleInput } from './bus-input.ts';

/** Retries of a function target: how often, and how far apart, before the event is dead-lettered. */
export interface RuleRetryOptions {
  /** Deliveries before the event moves to the target's dead-letter queue (default 3). */
  readonly maxReceiveCount?: number;
  /** How long one delivery may run before it is retried (default 30 s). */
  readonly visibilityTimeout?: Duration;
  /** Wait before a retry (default: the visibility timeout). */
  readonly backoff?: 'fixed' | 'exponential';
  readonly base?: Duration;
  readonly max?: Duration;
  /** Spread retries randomly over [wait/2, wait] (default true). */
  readonly jitter?: boolean;
}

export type RuleTarget = FunctionDefinition | QueueDefinition;

export interface RuleOptions {
  /** Letters, digits, `-`, `_`, `.`; at most 40 characters. */
  readonly name: string;
  /** An EventBridge event pattern (object or JSON text). */
  readonly pattern: EventPattern | string;
  /** Functions and queues that receive each matching event. Workflows are not supported yet. */
  readonly targets: readonly RuleTarget[];
  /** What targets receive: a JSON path (`"$.detail"`) or a template (`{ id: "<$.detail.id>" }`). Default: the event. */
  readonly input?: RuleInput;
  /** Retry policy of the rule's function targets. */
  readonly retry?: RuleRetryOptions;
}

/** A resolved delivery: where one rule sends its matches for one target. */
export interface ResolvedRuleTarget {
  readonly kind: 'function' | 'queue';
  /** The function or queue name as the user gave it. */
  readonly name: string;
  /** The queue messages are sent to: the user's queue, or the rule's internal queue for a function. */
  readonly queue: string;
  /** Part of dedup keys: `fn:<name>` or `queue:<name>`. */
  readonly key: string;
}

export interface RuleDefinition {
  readonly kind: 'rule';
  readonly name: string;
  readonly pattern: EventPattern;
  readonly targets: readonly ResolvedRuleTarget[];
  /** What targets receive, as declared (stored with the rule); null: the whole event. */
  readonly input: RuleInput | null;
  readonly transform: InputTransform;
  /** Internal queues (delivery + dead-letter) for the function targets. */
  readonly queues: readonly QueueDefinition[];
  /** The function targets, each with a trigger on its internal queue added. */
  readonly functions: readonly FunctionDefinition[];
}

const NAME = new RegExp(`^[A-Za-z0-9_.-]{1,${NAME_LIMITS.eventRule}}$`);
/** Internal delivery queues keep dedup keys a day, so a fan-out retried after a crash never delivers twice. */
const RULE_DEDUP_WINDOW = '1d';

function invalid(rule: string, field: string, message: string, value: unknown): MainspringError {
  return new MainspringError('E_RULE_INVALID', `rule "${rule}": ${field} ${message}`, {
    details: { rule, field, value },
  });
}

/** The internal queue a rule delivers to a function target through. */
export function ruleQueueName(rule: string, fn: string): string {
  return `rule.${rule}.${fn.replaceAll(':', '_')}`;
}

/**
 * Declares an event rule: every event matching `pattern` is delivered exactly once to
 * each target. A function target gets its own internal queue (`rule.<rule>.<function>`)
 * with retries and a dead-letter queue (`….dlq`); a queue target gets a message.
 *
 * @example
 * ```ts
 * const bigOrders = defineRule({
 *   name: 'big-orders',
 *   pattern: { source: ['shop'], 'detail-type': ['Order Placed'], detail: { total: [{ numeric: ['>=', 100] }] } },
 *   targets: [notifySales, auditQueue],
 *   input: { orderId: '<$.detail.id>', total: '<$.detail.total>' },
 *   retry: { maxReceiveCount: 5 },
 * });
 * export default defineConfig({ functions: [notifySales], queues: [auditQueue], rules: [bigOrders] });
 * ```
 */
export function defineRule(options: RuleOptions): RuleDefinition {
  const name = options?.name;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new MainspringError(
      'E_RULE_INVALID',
      `rule name ${JSON.stringify(name)} is invalid; use 1–40 letters, digits, "-", "_" or "."`,
      { details: { field: 'name', value: name } },
    );
  }
  let pattern: EventPattern;
  try {
    pattern = compilePattern(options.pattern).pattern;
  } catch (err) {
    if (err instanceof PatternError) {
      throw new PatternError(err.path, err.problem, { ruleId: name, cause: err });
    }
    throw err;
  }
  if (!Array.isArray(options.targets) || options.targets.length === 0) {
    throw invalid(
      name,
      'targets',
      'is empty; list the functions or queues that receive the events',
      options.targets,
    );
  }
  const targets: ResolvedRuleTarget[] = [];
  const queues: QueueDefinition[] = [];
  const functions: FunctionDefinition[] = [];
  options.targets.forEach((t, i) => {
    if (isFunctionDefinition(t)) {
      const queue = ruleQueueName(name, t.name);
      if (queue.length > 76) {
        throw invalid(
          name,
          `targets[${i}]`,
          `gives the delivery queue name "${queue}", over 76 characters; shorten the rule or function name`,
          t.name,
        );
      }
      const dlq = defineQueue({ name: `${queue}.dlq` });
      queues.push(
        defineQueue({
          name: queue,
          maxReceiveCount: options.retry?.maxReceiveCount ?? 3,
          deadLetterQueue: dlq,
          dedupWindow: RULE_DEDUP_WINDOW,
          ...(options.retry?.visibilityTimeout !== undefined
            ? { visibilityTimeout: options.retry.visibilityTimeout }
            : {}),
          retry: {
            ...(options.retry?.backoff ? { backoff: options.retry.backoff } : {}),
            ...(options.retry?.base !== undefined ? { base: options.retry.base } : {}),
            ...(options.retry?.max !== undefined ? { max: options.retry.max } : {}),
            ...(options.retry?.jitter !== undefined ? { jitter: options.retry.jitter } : {}),
          },
        }),
        dlq,
      );
      functions.push({ ...t, triggers: [fromQueue(queue)] });
      targets.push({ kind: 'function', name: t.name, queue, key: `fn:${t.name}` });
    } else if (isQueueDefinition(t)) {
      targets.push({ kind: 'queue', name: t.name, queue: t.name, key: `queue:${t.name}` });
    } else {
      throw invalid(
        name,
        `targets[${i}]`,
        'is not a function or a queue; pass a defineFunction(…) or defineQueue(…) result (workflow targets are not supported yet)',
        typeof t,
      );
    }
  });
  const seen = new Set<string>();
  for (const t of targets) {
    if (seen.has(t.key))
      throw invalid(name, 'targets', `lists ${t.kind} "${t.name}" twice; list each target once`, t.name);
    seen.add(t.key);
  }
  return {
    kind: 'rule',
    name,
    pattern,
    targets,
    input: options.input ?? null,
    transform: compileInput(options.input, name),
    queues,
    functions,
  };
}

export function isRuleDefinition(value: unknown): value is RuleDefinition {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'rule';
}
