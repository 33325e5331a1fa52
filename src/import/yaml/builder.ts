// Building one file's ImportPlan: names made unique per kind, queue references resolved against
// the queues the file defines, schedules checked with mainspring's parser, and one report line
// per source item.

import { dirname, join } from 'node:path';
import { parseSchedule } from '../../expressions/index.ts';
import type {
  ImportedFunction,
  ImportedRule,
  ImportedSchedule,
  ImportedTrigger,
  ImportPlan,
  Origin,
  Outcome,
} from '../model.ts';
import { safeName } from '../model.ts';
import type { Lines } from './document.ts';
import { type EnvEntry, isComputed, reference, splitEnv } from './refs.ts';
import { count, errorMessage, isRecord, show, unique } from './values.ts';

export const HTTP_NOTE =
  "HTTP events are not imported: mainspring's API or your own server sends to queues / invokes";
export const S3_NOTE = 'S3 events are not imported: defineFileTrigger is the mainspring counterpart';

/** One source item under construction: its notes decide between `imported` and `noted`. */
export class Item {
  readonly notes: string[] = [];
  readonly origin: Origin;
  constructor(origin: Origin) {
    this.origin = origin;
  }
  note(message: string): void {
    this.notes.push(message);
  }
}

/** What one function's events became. */
export interface Wiring {
  readonly item: Item;
  readonly functionKey: string;
  readonly functionName: string;
  readonly triggers: ImportedTrigger[];
  readonly rules: ImportedRule[];
  /** Triggers or rules dropped because they could not be read. */
  dropped: number;
  /** An event the user serves another way (HTTP, S3): the function stays, as a stub to port. */
  kept: boolean;
}

export function wiring(item: Item, functionKey: string, functionName: string): Wiring {
  return { item, functionKey, functionName, triggers: [], rules: [], dropped: 0, kept: false };
}

/** The queues a file defines, by the ids and AWS names its references use. */
interface QueueIndex {
  /** Resource key (Stacktape) or logical id (CloudFormation) → mainspring name. */
  readonly byId: Map<string, string>;
  /** Literal `QueueName` → mainspring name. */
  readonly byAwsName: Map<string, string>;
}

export class Builder {
  readonly plan: ImportPlan = { queues: [], functions: [], rules: [], report: [] };
  readonly queues: QueueIndex = { byId: new Map(), byAwsName: new Map() };
  private readonly queueNames = new Set<string>();
  private readonly functionNames = new Set<string>();
  private readonly ruleNames = new Set<string>();

  readonly file: string;
  readonly lines: Lines;
  constructor(file: string, lines: Lines) {
    this.file = file;
    this.lines = lines;
  }

  origin(container: object, key: string | number, item: string): Origin {
    return { file: this.file, line: this.lines.of(container, key), item };
  }

  queueName(name: string): string {
    return unique(safeName(name, 80), this.queueNames, 80);
  }

  functionName(name: string): string {
    return unique(safeName(name, 100), this.functionNames, 100);
  }

  ruleName(name: string): string {
    return unique(safeName(name, 40), this.ruleNames, 40);
  }

  /** Relative to the YAML file's folder, as the deploy tool reads it. */
  path(relative: string): string {
    return join(dirname(this.file), relative);
  }

  /** A map's variables, each with its value's text as written. */
  envEntries(map: Record<string, unknown>): EnvEntry[] {
    return Object.entries(map).map(([name, value]) => [name, value, this.lines.source(map, name)]);
  }

  line(origin: Origin, outcome: Outcome, message: string): void {
    this.plan.report.push({ origin, outcome, message });
  }

  finish(item: Item, summary: string): void {
    const outcome = item.notes.length > 0 ? 'noted' : 'imported';
    this.line(item.origin, outcome, item.notes.length > 0 ? `${summary}; ${item.notes.join('; ')}` : summary);
  }

  skip(origin: Origin, reason: string): void {
    this.line(origin, 'skipped', reason);
  }

  /**
   * The mainspring name of a referenced queue. A queue this file does not define is noted and,
   * when `defined` is asked for (a dead-letter queue must be in the plan), left out.
   */
  resolveQueue(value: unknown, item: Item, what: string, defined = false): string | undefined {
    const ref = reference(value);
    if (ref && 'resource' in ref) {
      const name = this.queues.byId.get(ref.resource);
      if (name) return name;
      item.note(`${what} ${ref.resource} is not a queue defined in this file; not imported`);
      return undefined;
    }
    if (ref && 'awsName' in ref) {
      const name = this.queues.byAwsName.get(ref.awsName) ?? this.queues.byId.get(ref.awsName);
      if (name) return name;
      const guessed = safeName(ref.awsName, 80);
      if (defined) {
        item.note(`${what} ${guessed} is not defined in this file; not imported`);
        return undefined;
      }
      item.note(`${what} ${guessed} is not defined in this file: define it or import the file that does`);
      return guessed;
    }
    item.note(`${what} ${show(value)} could not be resolved; not imported`);
    return undefined;
  }

  /** A schedule trigger, checked with mainspring's own parser; a bad one is dropped with the parser's words. */
  schedule(wiring: Wiring, expression: unknown, extra: Omit<ImportedSchedule, 'expression'> = {}): void {
    if (typeof expression !== 'string' || isComputed(expression)) {
      wiring.item.note(`schedule ${show(expression)} is computed by the deploy tool; not imported`);
      wiring.dropped++;
      return;
    }
    const text = expression.trim();
    try {
      parseSchedule(text, extra.timezone ? { timezone: extra.timezone } : {});
    } catch (error) {
      wiring.item.note(`schedule ${text} not imported: ${errorMessage(error)}`);
      wiring.dropped++;
      return;
    }
    const schedule: ImportedSchedule = { expression: text, ...extra };
    wiring.triggers.push({ kind: 'schedule', schedule });
  }

  rule(wiring: Wiring, origin: Origin, pattern: unknown, extra: Partial<ImportedRule> = {}): void {
    if (!isRecord(pattern)) {
      wiring.item.note(`event pattern ${show(pattern)} is not an object; not imported`);
      wiring.dropped++;
      return;
    }
    const rule: ImportedRule = {
      name: this.ruleName(wiring.functionKey),
      origin,
      pattern,
      targets: [{ kind: 'function', name: wiring.functionName }],
      ...extra,
    };
    wiring.rules.push(rule);
  }

  /** Adds a function with its rules, or skips it when all it had was triggers that failed. */
  addFunction(wiring: Wiring, fn: ImportedFunction, summary: string): void {
    const { item } = wiring;
    if (wiring.dropped > 0 && wiring.triggers.length === 0 && wiring.rules.length === 0 && !wiring.kept) {
      this.functionNames.delete(fn.name);
      this.skip(item.origin, `${summary}: nothing left to import; ${item.notes.join('; ')}`);
      return;
    }
    this.plan.functions.push(fn);
    this.plan.rules.push(...wiring.rules);
    const parts = [
      summary,
      ...fn.triggers.map(describeTrigger),
      ...wiring.rules.map((r) => `rule ${r.name}`),
    ];
    this.finish(item, parts.join(', '));
  }

  done(): ImportPlan {
    // Source order reads best; items were visited grouped by kind.
    this.plan.report.sort((a, b) => a.origin.line - b.origin.line);
    return this.plan;
  }
}

function describeTrigger(trigger: ImportedTrigger): string {
  if (trigger.kind === 'queue') return `queue ${trigger.queue}`;
  const { expression, enabled } = trigger.schedule;
  return `schedule ${expression}${enabled === false ? ' (disabled)' : ''}`;
}

export function timeout(value: unknown, item: Item): number | undefined {
  if (value === undefined) return undefined;
  const seconds = count(value);
  if (seconds === undefined) item.note(`timeout ${show(value)} is not a number; not imported`);
  return seconds;
}

/**
 * A function's environment split for its ImportedFunction: literal values in `env`, computed
 * ones in `envFromServer` with their expression, named in a short note since the server must set them.
 */
export function functionEnv(
  entries: readonly EnvEntry[],
  item: Item,
  tool: string,
): { env?: Record<string, string>; envFromServer?: Record<string, string> } {
  const { env, computed } = splitEnv(entries);
  const names = Object.keys(computed);
  if (names.length > 0) item.note(`environment ${names.join(', ')}: computed by ${tool}; set on the server`);
  return {
    env: Object.keys(env).length > 0 ? env : undefined,
    envFromServer: names.length > 0 ? computed : undefined,
  };
}
