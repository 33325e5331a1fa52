// The schedule trigger users put on a function in the config. Checked when declared,
// so a bad expression fails at load time, naming the field, not at the first tick.

import type { CronObject } from '../expressions/index.ts';
import type { FunctionDefinition, ScheduleTrigger } from '../runtime/function.ts';
import type { DeclaredSchedule } from './schedules.ts';
import { checkScheduleName, resolveSpec, type ScheduleSettings } from './spec.ts';

/**
 * Runs the function on a schedule. The payload is its input.
 *
 * @example
 * ```ts
 * defineFunction({
 *   name: 'db-cleanup',
 *   triggers: [schedule('cron(0 2 * * ? *)', { timezone: 'Europe/Berlin', payload: { days: 30 } })],
 *   handler: async ({ days }) => cleanup(days),
 * });
 * ```
 */
export function schedule(
  expression: string | CronObject,
  settings: ScheduleSettings & { readonly name?: string } = {},
): ScheduleTrigger {
  const { name, ...rest } = settings;
  if (name !== undefined) checkScheduleName(name);
  resolveSpec({ ...rest, expression, target: { kind: 'function', function: 'check' } }, Date.now());
  return { kind: 'schedule', name: name ?? null, expression, settings: rest };
}

/** The schedules the functions' triggers declare, named. */
export function declaredSchedules(functions: readonly FunctionDefinition[]): DeclaredSchedule[] {
  const out: DeclaredSchedule[] = [];
  for (const fn of functions) {
    let n = 0;
    for (const t of fn.triggers) {
      if (t.kind !== 'schedule') continue;
      n++;
      out.push({
        name: t.name ?? (n === 1 ? fn.name : `${fn.name}/${n}`),
        input: { ...t.settings, expression: t.expression, target: { kind: 'function', function: fn.name } },
      });
    }
  }
  return out;
}
