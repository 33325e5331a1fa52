// EventBridge Scheduler schedules: each becomes a schedule trigger on what its target runs,
// with the options Scheduler has beside a rule's (time zone, start/end, flexible window).

import type { ImportedSchedule } from '../model.ts';
import type { TerraformModule } from './module.ts';
import { ECS_INPUT, noteDeadLetter, readRetry, readTarget, sendDraft } from './targets.ts';
import { block, literalString, scheduleExpression } from './values.ts';

export async function readSchedulerSchedules(m: TerraformModule): Promise<void> {
  for (const s of m.ofType('aws_scheduler_schedule')) {
    const body = s.body;
    const timezone = m.optionalLiteral(s.key, body, 'schedule_expression_timezone');
    const start = m.optionalLiteral(s.key, body, 'start_date');
    const end = m.optionalLiteral(s.key, body, 'end_date');
    const checked = scheduleExpression(body['schedule_expression'], { timezone, start, end });
    if (!checked.ok) {
      m.ledger.skip(s.key, checked.reason);
      continue;
    }
    const t = block(body, 'target');
    if (!t) {
      m.ledger.skip(s.key, 'aws_scheduler_schedule without a target block');
      continue;
    }
    const target = await readTarget(m, block(t, 'ecs_parameters'), t['arn'], s.key);
    if (!target.ok) {
      m.ledger.skip(s.key, target.reason);
      continue;
    }
    const schedule: { -readonly [K in keyof ImportedSchedule]: ImportedSchedule[K] } = {
      expression: checked.value,
    };
    if (timezone !== undefined) schedule.timezone = timezone;
    if (body['state'] === 'DISABLED') schedule.enabled = false;
    if (start !== undefined) schedule.start = start;
    if (end !== undefined) schedule.end = end;
    const window = block(body, 'flexible_time_window');
    if (window && window['mode'] === 'FLEXIBLE') {
      const minutes = m.number(s.key, window, 'maximum_window_in_minutes');
      if (minutes !== undefined) schedule.flexibleWindowMinutes = minutes;
    }
    const runsCommand = target.value.kind === 'function' && target.value.draft.fn.kind === 'command';
    if (t['input'] !== undefined && runsCommand) m.ledger.note(s.key, ECS_INPUT);
    else if (t['input'] !== undefined) {
      const input = await m.decode(t['input']);
      if (input.ok) schedule.payload = input.value;
      else m.ledger.note(s.key, `input ${input.reason}: left out`);
    }
    // Copy only what is written: Scheduler's unwritten default (185 retries over 24 h) is not mainspring's.
    const retry = readRetry(m, s.key, t);
    if (retry.maxAttempts !== undefined) schedule.maxAttempts = retry.maxAttempts;
    if (retry.maxEventAgeSeconds !== undefined) schedule.maxEventAgeSeconds = retry.maxEventAgeSeconds;
    if (!block(t, 'retry_policy')) {
      m.ledger.note(s.key, 'no retry_policy: Scheduler’s default (185 retries over 24 hours) is not copied');
    }
    noteDeadLetter(m, s.key, t);
    const description = literalString(body['description']);
    if (description !== undefined) schedule.description = description;
    const draft = target.value.kind === 'function' ? target.value.draft : sendDraft(m, s, target.value.queue);
    draft.triggers.push({ kind: 'schedule', schedule });
    const off = schedule.enabled === false ? ' (disabled)' : '';
    m.ledger.did(s.key, `schedule ${checked.value}${off} on ${draft.fn.name}`);
  }
}
