// What `mainspring import` reads out of a user's AWS setup, before any of it becomes code.
// Each source reader (Terraform, Stacktape/Serverless YAML, Amplify, AWS CLI JSON, crontab)
// turns one file into an ImportPlan; plans merge; the writer turns the merged plan into a
// mainspring.config.ts. Nothing here knows a source's format or TypeScript's syntax.

import { MainspringError } from '../core/errors.ts';

/** Where an item came from: the file as the user named it, its 1-based line (0: not known), and what it is there. */
export interface Origin {
  readonly file: string;
  readonly line: number;
  /** The construct as the source names it, e.g. `aws_cloudwatch_event_rule.db_cleanup_schedule` or `resources.jobQueue`. */
  readonly item: string;
}

/**
 * How each source item fared: `imported` as it was; `noted`: imported, but something changed
 * or was left behind (the message says what); `skipped`: not importable (the message says why).
 */
export type Outcome = 'imported' | 'noted' | 'skipped';

export interface ReportLine {
  readonly origin: Origin;
  readonly outcome: Outcome;
  /** Plain words: what it became, what changed, or why it was not imported. */
  readonly message: string;
  /**
   * The function this line warns is only a name here (an Amplify backend.ts target): the line
   * is dropped when another file read in the same import supplies that function's handler.
   */
  readonly whileStub?: string;
}

export interface ImportedQueue {
  /** A mainspring queue name: letters, digits, `-`, `_`, `.` (see `safeName`). */
  readonly name: string;
  readonly origin: Origin;
  readonly visibilityTimeoutSeconds?: number;
  /** SQS's `delay_seconds`: mainspring has no per-queue delay, so the writer notes it on senders. */
  readonly delaySeconds?: number;
  readonly maxReceiveCount?: number;
  /** The dead-letter queue's mainspring name; it is in the plan's queues too. */
  readonly deadLetterQueue?: string;
  readonly fifo?: boolean;
}

export interface ImportedSchedule {
  /** Copied verbatim: AWS `cron(…)`/`rate(…)`/`at(…)` stay as they were, a crontab line's 5 fields too. */
  readonly expression: string;
  /** IANA zone (Scheduler's `schedule_expression_timezone`, crontab's `CRON_TZ=`); absent: UTC. */
  readonly timezone?: string;
  /** false: imported disabled (a rule's `state = "DISABLED"`). */
  readonly enabled?: boolean;
  /** ISO 8601 instants with a zone (Scheduler's start/end dates). */
  readonly start?: string;
  readonly end?: string;
  /** Scheduler's flexible time window (`maximum_window_in_minutes`). */
  readonly flexibleWindowMinutes?: number;
  /** What the target receives each tick (a rule target's constant `input`, a Scheduler target's `input`). */
  readonly payload?: unknown;
  readonly maxAttempts?: number;
  readonly maxEventAgeSeconds?: number;
  readonly description?: string;
}

export type ImportedTrigger =
  | { readonly kind: 'schedule'; readonly schedule: ImportedSchedule }
  | { readonly kind: 'queue'; readonly queue: string; readonly batchSize?: number };

interface FunctionBase {
  /** A mainspring function name (see `safeName`). */
  readonly name: string;
  readonly origin: Origin;
  readonly timeoutSeconds?: number;
  /** Attempts per run, the first included (a one-shot ECS task is 1). */
  readonly maxAttempts?: number;
  readonly description?: string;
  readonly triggers: readonly ImportedTrigger[];
}

/** A child process: an ECS task's container command, a crontab line's command. */
export interface ImportedCommand extends FunctionBase {
  readonly kind: 'command';
  readonly command: readonly string[];
  /** Literal values; a value the source computes (`${var.env}`) is in `envFromServer` instead. */
  readonly env?: Readonly<Record<string, string>>;
  /** Variables whose source value was an expression: read from the server's environment, with that expression for the reader. */
  readonly envFromServer?: Readonly<Record<string, string>>;
  /** Secret names only; values never leave AWS. */
  readonly secrets?: readonly string[];
  /** Working folder, relative to the config's folder. */
  readonly cwd?: string;
}

/** Code that ran in Lambda: a stub that says where its handler is, for the user to port. */
export interface ImportedHandler extends FunctionBase {
  readonly kind: 'handler';
  /** The handler's file as the source gave it, relative to the config's folder when it could be resolved. */
  readonly handlerFile?: string;
  /** The export the source named (Lambda's `file.export`), default `handler`. */
  readonly handlerExport?: string;
  readonly env?: Readonly<Record<string, string>>;
  /** As a command's: variables the source computed, read from the server's environment. */
  readonly envFromServer?: Readonly<Record<string, string>>;
}

/** A schedule whose target was a queue: a function that sends each tick's payload there. */
export interface ImportedSend extends FunctionBase {
  readonly kind: 'send';
  readonly queue: string;
}

export type ImportedFunction = ImportedCommand | ImportedHandler | ImportedSend;

/** An EventBridge rule with an event pattern (a schedule rule becomes a function's trigger instead). */
export interface ImportedRule {
  /** A mainspring rule name (at most 40 characters, see `safeName`). */
  readonly name: string;
  readonly origin: Origin;
  readonly pattern: Readonly<Record<string, unknown>>;
  readonly targets: readonly { readonly kind: 'function' | 'queue'; readonly name: string }[];
  /** A JSON path such as `$.detail` (a target's `input_path`). */
  readonly inputPath?: string;
  readonly enabled?: boolean;
  readonly description?: string;
}

export interface ImportPlan {
  readonly queues: ImportedQueue[];
  readonly functions: ImportedFunction[];
  readonly rules: ImportedRule[];
  readonly report: ReportLine[];
}

export function emptyPlan(): ImportPlan {
  return { queues: [], functions: [], rules: [], report: [] };
}

/**
 * Input the importer cannot read at all: the file, the line (0: not known), the construct and
 * what is wrong. Nothing is written when one is thrown.
 */
export class ImportError extends MainspringError {
  readonly file: string;
  readonly line: number;
  readonly construct: string;
  constructor(file: string, line: number, construct: string, message: string) {
    super('E_IMPORT_INVALID', `${file}${line > 0 ? `:${line}` : ''}: ${construct}: ${message}`, {
      details: { file, line, construct },
    });
    this.file = file;
    this.line = line;
    this.construct = construct;
  }
}

/**
 * A name mainspring accepts, from a source's name: camelCase and snake_case become kebab-case,
 * anything else outside letters, digits, `-`, `_`, `.` becomes `-`, cut to `max` characters.
 * `dailyReport` → `daily-report`, `db_cleanup_job` → `db-cleanup-job`.
 */
export function safeName(name: string, max = 80): string {
  const kebab = name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/_/g, '-')
    .replace(/[^A-Za-z0-9.-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '')
    .toLowerCase();
  return (kebab || 'imported').slice(0, max).replace(/-$/, '');
}

/** The 1-based line of the first match of `pattern` in `text`, or 0. */
export function lineOf(text: string, pattern: string | RegExp): number {
  const i = typeof pattern === 'string' ? text.indexOf(pattern) : text.search(pattern);
  if (i < 0) return 0;
  let line = 1;
  for (let k = 0; k < i; k++) if (text.charCodeAt(k) === 10) line++;
  return line;
}
