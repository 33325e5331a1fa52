// File-arrival triggers as users declare them: a folder, an optional key prefix and
// suffix, and the targets that receive each arrival as an S3-style "Object Created"
// event. Delivery reuses the bus: a trigger is an implicit rule on its own events.

import { MainspringError } from '../../core/errors.ts';
import { NAME_LIMITS } from '../../core/names.ts';
import { defineRule, type RuleDefinition, type RuleRetryOptions, type RuleTarget } from '../rules-define.ts';

/** The source of every file-arrival event. */
export const FILES_SOURCE = 'mainspring.files';
export const OBJECT_CREATED = 'Object Created';

export interface FileTriggerOptions {
  /** Letters, digits, `-`, `_`, `.`; at most 30 characters. The events' `bucket.name`. */
  readonly name: string;
  /** The folder to watch (with its subfolders); a relative path resolves against the config file's folder (the app's `appDir`, else the working directory). */
  readonly dir: string;
  /** Only keys (paths relative to `dir`, with `/`) starting with this. */
  readonly prefix?: string;
  /** Only keys ending with this, e.g. `.csv`. */
  readonly suffix?: string;
  /** Functions and queues that receive each arrival. */
  readonly targets: readonly RuleTarget[];
  /** How long a file's size must stay unchanged before it counts as complete (default 2000 ms). */
  readonly stabilityMs?: number;
  readonly retry?: RuleRetryOptions;
}

export interface FileTriggerDefinition {
  readonly kind: 'file-trigger';
  readonly name: string;
  readonly dir: string;
  readonly prefix: string;
  readonly suffix: string;
  readonly stabilityMs: number;
  /** The implicit rule `files.<name>` that routes this trigger's events to its targets. */
  readonly rule: RuleDefinition;
}

/** The detail of an "Object Created" event, shaped like an S3 notification's. */
export interface ObjectCreatedDetail {
  readonly bucket: { readonly name: string };
  readonly object: { readonly key: string; readonly size: number; readonly etag: string };
}

const NAME = new RegExp(`^[A-Za-z0-9_.-]{1,${NAME_LIMITS.fileTrigger}}$`);

function invalid(trigger: string, field: string, message: string, value: unknown): MainspringError {
  return new MainspringError('E_FILE_TRIGGER_INVALID', `file trigger "${trigger}": ${field} ${message}`, {
    details: { trigger, field, value },
  });
}

/**
 * Declares a file-arrival trigger: each complete file under `dir` whose key matches
 * `prefix`/`suffix` is announced once, as an `Object Created` event (source
 * `mainspring.files`), to every target — also files that arrived while mainspring was down.
 *
 * @example
 * ```ts
 * const invoices = defineFileTrigger({
 *   name: 'invoices',
 *   dir: './inbox',
 *   suffix: '.pdf',
 *   targets: [parseInvoice], // parseInvoice gets { id, source, detailType, detail: { bucket, object: { key, size, etag } }, time }
 * });
 * export default defineConfig({ functions: [parseInvoice], fileTriggers: [invoices] });
 * ```
 */
export function defineFileTrigger(options: FileTriggerOptions): FileTriggerDefinition {
  const name = options?.name;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new MainspringError(
      'E_FILE_TRIGGER_INVALID',
      `file trigger name ${JSON.stringify(name)} is invalid; use 1–30 letters, digits, "-", "_" or "."`,
      { details: { field: 'name', value: name } },
    );
  }
  if (typeof options.dir !== 'string' || options.dir === '') {
    throw invalid(name, 'dir', `is ${JSON.stringify(options.dir)}; name the folder to watch`, options.dir);
  }
  for (const field of ['prefix', 'suffix'] as const) {
    const v = options[field];
    if (v !== undefined && typeof v !== 'string') throw invalid(name, field, 'must be a string', v);
  }
  const stabilityMs = options.stabilityMs ?? 2000;
  if (!Number.isInteger(stabilityMs) || stabilityMs < 10 || stabilityMs > 600_000) {
    throw invalid(name, 'stabilityMs', `is ${JSON.stringify(stabilityMs)}; use 10 to 600000 ms`, stabilityMs);
  }
  const rule = defineRule({
    name: `files.${name}`,
    pattern: { source: [FILES_SOURCE], detail: { bucket: { name: [name] } } },
    targets: options.targets,
    ...(options.retry ? { retry: options.retry } : {}),
  });
  return {
    kind: 'file-trigger',
    name,
    dir: options.dir,
    prefix: options.prefix ?? '',
    suffix: options.suffix ?? '',
    stabilityMs,
    rule,
  };
}

export function isFileTriggerDefinition(value: unknown): value is FileTriggerDefinition {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'file-trigger';
}
