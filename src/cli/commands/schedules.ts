// `mainspring schedules list|get|create|update|enable|disable|next|delete`: the stored
// schedules (those the config declares and those created through the API, client or CLI),
// operated through the API: over HTTP with --url, or in this process over the store.
// Not to be confused with `mainspring schedule next '<expression>'`, which explains an
// expression without any store.

import type { Command } from 'commander';
import { isMainspringError, MainspringError } from '../../core/errors.ts';
import type { ScheduleInfo } from '../../scheduler/schedules.ts';
import { addClientOptions, type ClientFlags, out, withClient } from '../connect.ts';
import { flagDuration, flagInt, parseInput } from '../flags.ts';
import { table } from '../table.ts';

function usage(flag: string, message: string, value?: unknown): MainspringError {
  return new MainspringError('E_VALIDATION', `${flag} ${message}`, {
    details: { field: flag.replace(/^--/, ''), ...(value !== undefined ? { value } : {}) },
  });
}

/** A whole number from 1 to `max`, or a usage error naming the flag. */
export function wholeNumber(text: string, flag: string, max: number): number {
  return flagInt(text, flag, 1, max);
}

const enc = encodeURIComponent;

function target(s: ScheduleInfo): string {
  const t = s.target;
  if (t.kind === 'function') return `function ${t.function}`;
  if (t.kind === 'queue') return `queue ${t.queue}`;
  if (t.kind === 'workflow') return `workflow ${t.workflow}`;
  return `http ${t.method ?? 'POST'} ${t.url}`;
}

function printSchedules(schedules: readonly ScheduleInfo[], nextCursor: string | null): void {
  if (schedules.length === 0) out('no schedules');
  else
    table([
      ['NAME', 'EXPRESSION', 'TIMEZONE', 'ENABLED', 'SOURCE', 'TARGET', 'NEXT TICK', 'LAST RUN'],
      ...schedules.map((s) => [
        s.name,
        s.expression,
        s.timezone,
        s.enabled ? 'yes' : 'no',
        s.source,
        target(s),
        s.state.nextTick ?? (s.state.ended ? 'ended' : '-'),
        s.state.lastRun ? `${s.state.lastRun.status} ${s.state.lastRun.id}` : '-',
      ]),
    ]);
  if (nextCursor !== null) out(`next page: --cursor ${nextCursor}`);
}

function printSchedule(s: ScheduleInfo): void {
  const rows: [string, string][] = [
    ['name', s.name],
    ['expression', s.expression],
    ['summary', s.summary],
    ['timezone', s.timezone],
    ['enabled', s.enabled ? 'yes' : 'no'],
    ['source', s.source === 'config' ? 'config (change it in the config)' : 'api'],
    ['target', target(s)],
    ['payload', JSON.stringify(s.payload)],
    ['start', s.start ?? '-'],
    ['end', s.end ?? '-'],
    ['misfire', s.misfire === 'all' ? `all (at most ${s.misfireLimit})` : s.misfire],
    ['overlap', s.overlap],
    ['next tick', s.state.nextTick ?? (s.state.ended ? 'none (ended)' : '-')],
    ['next fire at', s.state.nextFireAt ?? '-'],
    ['last tick', s.state.lastTick ?? '-'],
    ['last fired at', s.state.lastFiredAt ?? '-'],
    ['last run', s.state.lastRun ? `${s.state.lastRun.id} ${s.state.lastRun.status}` : '-'],
    ['created', s.createdAt],
    ['updated', s.updatedAt],
  ];
  if (s.flexibleWindowMs > 0) rows.push(['flexible window', `${s.flexibleWindowMs} ms`]);
  if (s.retry.maxAttempts !== null) rows.push(['max attempts', String(s.retry.maxAttempts)]);
  if (s.retry.maxEventAgeMs !== null) rows.push(['max event age', `${s.retry.maxEventAgeMs} ms`]);
  if (s.description !== null) rows.push(['description', s.description]);
  const width = Math.max(...rows.map(([k]) => k.length)) + 1;
  for (const [k, v] of rows) out(`${`${k}:`.padEnd(width)} ${v}`);
}

/** What a created or changed schedule does next, for the one-line answer. */
function nextText(s: ScheduleInfo): string {
  return s.enabled ? `next tick ${s.state.nextTick ?? 'none (ended)'}` : 'disabled';
}

// The API names a schedule's fields (`misfireLimit`, `target.function`); on the command
// line they are flags. Any other plain field the schedule module names (rate, minute,
// day-of-week, at…) is a part of the expression.
const FLAG_OF: Record<string, string> = {
  name: '<name>',
  expression: '--expression',
  timezone: '--timezone',
  start: '--start',
  end: '--end',
  payload: '--payload',
  target: '--function, --queue, --workflow or --http',
  'target.kind': '--function, --queue, --workflow or --http',
  'target.function': '--function',
  'target.queue': '--queue',
  'target.workflow': '--workflow',
  'target.url': '--http',
  'target.method': '--http-method',
  'target.headers': '--http-header',
  'target.timeout': '--http-timeout',
  misfire: '--misfire',
  misfireLimit: '--misfire-limit',
  overlap: '--overlap',
  flexibleWindow: '--flexible-window',
  'retry.maxAttempts': '--max-attempts',
  'retry.maxEventAge': '--max-event-age',
  description: '--description',
  enabled: '--enabled',
  source: '--source',
  limit: '--limit',
  cursor: '--cursor',
  count: '--count',
};
const NOT_EXPRESSION = new Set(['schedule', 'retry', 'after', 'createdAt']);

function flagOf(field: string): string | undefined {
  if (field.startsWith('target.headers.')) return '--http-header';
  if (FLAG_OF[field] !== undefined) return FLAG_OF[field];
  return NOT_EXPRESSION.has(field) || field.includes('.') ? undefined : '--expression';
}

/** `field: message` or `field message` with the field as its flag; else the flag, a colon, the message. */
function renamed(message: string, field: string, flag: string): string {
  if (message.startsWith(`${field}: `) || message.startsWith(`${field} `))
    return `${flag}${message.slice(field.length)}`;
  return `${flag}: ${message}`;
}

/**
 * An API error as the command line says it: the field the API names becomes its flag, and
 * a config schedule's read-only answer says what to do instead.
 */
function asFlagError(e: unknown, verb: string): unknown {
  if (!isMainspringError(e)) return e;
  if (e.code === 'E_SCHEDULE_READ_ONLY') {
    const name = (e.details as { value?: unknown } | undefined)?.value;
    const where = verb === 'delete' ? 'remove it from the config' : 'change it in the config';
    return new MainspringError(
      e.code,
      `schedule ${JSON.stringify(name)} is declared in the config, so it is read-only here: ${where} (mainspring schedules enable and disable do work on it)`,
      { details: e.details, cause: e },
    );
  }
  if (e.code === 'E_SCHEDULE_INVALID') {
    const field = (e.details as { field?: unknown } | undefined)?.field;
    const flag = typeof field === 'string' ? flagOf(field) : undefined;
    if (flag === undefined) return e;
    return new MainspringError(e.code, renamed(e.message, field as string, flag), {
      details: e.details,
      cause: e,
    });
  }
  // The API's schema check of a request (a value too long, say): one issue names its field.
  const issue = e.details as
    | { field?: unknown; message?: unknown; value?: unknown; issues?: unknown }
    | undefined;
  if (e.code === 'E_VALIDATION' && issue !== undefined && issue.issues === undefined) {
    const field = typeof issue.field === 'string' ? issue.field.replace(/^(body|query|params)\./, '') : '';
    const flag = FLAG_OF[field];
    if (flag === undefined || typeof issue.message !== 'string') return e;
    const got = 'value' in issue ? ` (got ${JSON.stringify(issue.value)})` : '';
    return new MainspringError(e.code, `${flag} ${issue.message}${got}`, { details: e.details, cause: e });
  }
  return e;
}

function rethrowAs(verb: string): (e: unknown) => never {
  return (e) => {
    throw asFlagError(e, verb);
  };
}

/** The flags of `create` and `update`, as Commander parses them. */
interface WriteFlags extends ClientFlags {
  expression?: string;
  timezone?: string;
  function?: string;
  queue?: string;
  workflow?: string;
  http?: string;
  httpMethod?: string;
  httpHeader?: string[];
  httpTimeout?: string;
  payload?: string;
  /** `false`: --no-start (update). */
  start?: string | false;
  end?: string | false;
  flexibleWindow?: string | false;
  misfire?: string;
  misfireLimit?: string;
  overlap?: string;
  maxAttempts?: string;
  maxEventAge?: string;
  description?: string;
  enabled?: boolean;
  disabled?: boolean;
}

const MISFIRE = ['skip', 'once', 'all'];
const OVERLAP = ['allow', 'skip', 'queue'];
const TARGET_FLAGS = ['--function', '--queue', '--workflow', '--http'] as const;

function oneOf(text: string, allowed: readonly string[], flag: string): string {
  if (!allowed.includes(text)) {
    throw usage(
      flag,
      `is ${JSON.stringify(text)}; use ${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1)}`,
      text,
    );
  }
  return text;
}

/** A CDK cron object may be given as JSON, e.g. '{"minute":"0","hour":"9","weekDay":"MON-FRI"}'. */
function readExpression(text: string): string | Record<string, string> {
  if (text.trim() === '') {
    throw usage(
      '--expression',
      'is empty; give e.g. "cron(0 9 ? * MON-FRI *)", "rate(5 minutes)" or "0 9 * * 1-5"',
    );
  }
  if (!text.trim().startsWith('{')) return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw usage(
      '--expression',
      `starts like a JSON cron object but is not valid JSON (${(e as Error).message}); write e.g. '{"minute":"0","hour":"9"}'`,
      text,
    );
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    Array.isArray(parsed) ||
    !Object.values(parsed).every((v) => typeof v === 'string')
  ) {
    throw usage(
      '--expression',
      `is ${text}; a cron object maps fields to strings, e.g. '{"minute":"0","hour":"9"}'`,
      text,
    );
  }
  return parsed as Record<string, string>;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The target the flags name, or undefined when they name none. */
function targetOf(flags: WriteFlags): Record<string, unknown> | undefined {
  const given = TARGET_FLAGS.filter(
    (f) => flags[f.slice(2) as 'function' | 'queue' | 'workflow' | 'http'] !== undefined,
  );
  if (given.length > 1) throw usage(given[0]!, `and ${given[1]} both given; a schedule has one target`);
  const httpOnly = [
    ['--http-method', flags.httpMethod],
    ['--http-header', flags.httpHeader],
    ['--http-timeout', flags.httpTimeout],
  ] as const;
  for (const [flag, value] of httpOnly) {
    if (value !== undefined && flags.http === undefined) {
      throw usage(flag, 'goes with --http <url>; give the URL too (the whole target is replaced)');
    }
  }
  if (flags.function !== undefined) return { kind: 'function', function: flags.function };
  if (flags.queue !== undefined) return { kind: 'queue', queue: flags.queue };
  if (flags.workflow !== undefined) return { kind: 'workflow', workflow: flags.workflow };
  if (flags.http === undefined) return undefined;
  const headers: Record<string, string> = {};
  for (const h of flags.httpHeader ?? []) {
    const colon = h.indexOf(':');
    if (colon < 1) throw usage('--http-header', `is ${JSON.stringify(h)}; use "Name: value"`, h);
    headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
  }
  return {
    kind: 'http',
    url: flags.http,
    ...(flags.httpMethod !== undefined ? { method: flags.httpMethod.toUpperCase() } : {}),
    ...(flags.httpHeader !== undefined ? { headers } : {}),
    ...(flags.httpTimeout !== undefined
      ? { timeout: flagDuration(flags.httpTimeout, '--http-timeout') }
      : {}),
  };
}

/**
 * The request body the flags make, every value checked that can be checked here; `current`
 * (update) keeps the retry setting a flag does not change, since the API replaces it whole.
 */
function bodyOf(flags: WriteFlags, current: ScheduleInfo | null): Record<string, unknown> {
  if (flags.enabled && flags.disabled)
    throw usage('--enabled', 'and --disabled exclude each other; give one');
  const body: Record<string, unknown> = {};
  if (flags.expression !== undefined) body['expression'] = readExpression(flags.expression);
  if (flags.timezone !== undefined) body['timezone'] = flags.timezone;
  const t = targetOf(flags);
  if (t !== undefined) body['target'] = t;
  if (flags.payload !== undefined) body['payload'] = parseInput(flags.payload, '--payload');
  if (flags.start !== undefined) body['start'] = flags.start === false ? null : flags.start;
  if (flags.end !== undefined) body['end'] = flags.end === false ? null : flags.end;
  if (flags.flexibleWindow !== undefined) {
    body['flexibleWindow'] =
      flags.flexibleWindow === false ? null : flagDuration(flags.flexibleWindow, '--flexible-window');
  }
  if (flags.misfire !== undefined) body['misfire'] = oneOf(flags.misfire, MISFIRE, '--misfire');
  if (flags.misfireLimit !== undefined) {
    body['misfireLimit'] = flagInt(flags.misfireLimit, '--misfire-limit', 1, 10_000);
  }
  if (flags.overlap !== undefined) body['overlap'] = oneOf(flags.overlap, OVERLAP, '--overlap');
  if (flags.maxAttempts !== undefined || flags.maxEventAge !== undefined) {
    const maxAttempts =
      flags.maxAttempts !== undefined
        ? flagInt(flags.maxAttempts, '--max-attempts', 1, 1000)
        : (current?.retry.maxAttempts ?? undefined);
    const maxEventAge =
      flags.maxEventAge !== undefined
        ? flagDuration(flags.maxEventAge, '--max-event-age')
        : (current?.retry.maxEventAgeMs ?? undefined);
    body['retry'] = {
      ...(maxAttempts !== undefined ? { maxAttempts } : {}),
      ...(maxEventAge !== undefined ? { maxEventAge } : {}),
    };
  }
  if (flags.description !== undefined) body['description'] = flags.description;
  if (flags.enabled) body['enabled'] = true;
  if (flags.disabled) body['enabled'] = false;
  return body;
}

/** The options `create` and `update` share. */
function addSettingOptions(cmd: Command): Command {
  return cmd
    .option('--timezone <zone>', 'IANA time zone the expression is read in (default UTC)')
    .option('--function <name>', 'target: invoke this function with the payload as its input')
    .option('--queue <name>', 'target: send the payload to this queue')
    .option('--workflow <name>', 'target: start an execution of this workflow, the payload as its input')
    .option('--http <url>', "target: call this URL (its host on the server's scheduler.httpAllowList)")
    .option('--http-method <method>', 'with --http: GET, POST (default), PUT, PATCH or DELETE')
    .option('--http-header <header>', 'with --http: a header "Name: value" (repeatable)', collect)
    .option('--http-timeout <duration>', 'with --http: give up after this long (default 30s)')
    .option('--payload <json>', 'the input of each tick, as JSON (default: null)')
    .option('--start <iso>', 'no tick before this instant, e.g. 2027-01-01T00:00:00Z')
    .option('--end <iso>', 'no tick after this instant')
    .option('--flexible-window <duration>', 'fire at a random moment up to this long after each tick (≤ 24h)')
    .option('--misfire <policy>', 'ticks missed while no scheduler ran: skip (default), once or all')
    .option('--misfire-limit <n>', 'with --misfire all: fire at most this many (1 to 10000, default 100)')
    .option(
      '--overlap <policy>',
      "while the previous tick's run is queued or running: allow (default), skip or queue",
    )
    .option('--max-attempts <n>', "attempts per tick (1 to 1000; default: the function's retry)")
    .option('--max-event-age <duration>', 'start no attempt later than this after its tick (≥ 1s)')
    .option('--description <text>', 'a note shown by schedules get');
}

const WRITE_NOTE =
  'A scheduler must run against the same store (mainspring start or mainspring scheduler) for the schedule to fire.';

export function registerSchedulesCommand(program: Command): void {
  const schedules = program
    .command('schedules')
    .description('stored schedules: list, get, create, update, enable, disable, next, delete')
    .addHelpText(
      'after',
      "\nThe config's schedules are stored when a scheduler starts (mainspring start, mainspring run-due); until then only those created through the API, client or CLI are listed. Those of the config are read-only here but for enable and disable.",
    );
  const sub = (name: string, description: string) =>
    addClientOptions(schedules.command(name).description(description));

  sub('list', 'schedules, by name')
    .option('--source <source>', 'only those declared in the config (config) or created at run time (api)')
    .option('--enabled', 'only enabled ones')
    .option('--disabled', 'only disabled ones')
    .option('--limit <n>', 'at most this many (1 to 500)', '50')
    .option('--cursor <cursor>', 'the next page: the cursor the previous page printed')
    .action(
      (
        flags: ClientFlags & {
          source?: string;
          enabled?: boolean;
          disabled?: boolean;
          limit: string;
          cursor?: string;
        },
      ) => {
        if (flags.source !== undefined && flags.source !== 'config' && flags.source !== 'api') {
          throw usage('--source', `is ${JSON.stringify(flags.source)}; use config or api`, flags.source);
        }
        if (flags.enabled && flags.disabled)
          throw usage('--enabled', 'and --disabled exclude each other; give one');
        const limit = wholeNumber(flags.limit, '--limit', 500);
        return withClient(flags, 'read', async (client) => {
          const page = await client
            .get<{ schedules: ScheduleInfo[]; nextCursor: string | null }>('/v1/schedules', {
              limit,
              source: flags.source,
              enabled: flags.enabled ? 'true' : flags.disabled ? 'false' : undefined,
              cursor: flags.cursor,
            })
            .catch(rethrowAs('list'));
          if (flags.json) out(JSON.stringify(page, null, 2));
          else printSchedules(page.schedules, page.nextCursor);
        });
      },
    );

  sub('get', 'one schedule in detail, with its next and last tick')
    .argument('<name>', 'the schedule name')
    .action((name: string, flags: ClientFlags) =>
      withClient(flags, 'read', async (client) => {
        const s = await client.get<ScheduleInfo>(`/v1/schedules/${enc(name)}`);
        if (flags.json) out(JSON.stringify(s, null, 2));
        else printSchedule(s);
      }),
    );

  addSettingOptions(
    sub('create', 'create a schedule; it fires from its first tick after now')
      .argument('<name>', 'the schedule name: letters, digits, "-", "_", ".", ":", "/"')
      .requiredOption(
        '--expression <expr>',
        "when it fires: cron(…), rate(…), at(…), a Unix cron line, or a cron object as JSON (try: mainspring schedule next '<expr>')",
      ),
  )
    .option('--disabled', 'create it disabled: it fires nothing until enabled')
    .addHelpText(
      'after',
      `\nGive one target: --function, --queue, --workflow or --http.\n\n${WRITE_NOTE}\n\nExamples:\n  mainspring schedules create nightly-report --expression 'cron(0 2 * * ? *)' --timezone Europe/Berlin --function report --payload '{"kind": "nightly"}'\n  mainspring schedules create ping --expression 'rate(5 minutes)' --http https://status.example.com/ping --http-method GET --url https://jobs.example.com --token "$TOKEN"`,
    )
    .action((name: string, flags: WriteFlags) => {
      const body = bodyOf(flags, null);
      if (body['target'] === undefined) {
        throw usage(
          '--function',
          '(or --queue, --workflow, --http) is missing; give the target each tick goes to',
        );
      }
      return withClient(flags, 'write', async (client) => {
        const s = await client
          .post<ScheduleInfo>('/v1/schedules', { name, ...body })
          .catch(rethrowAs('create'));
        if (flags.json) out(JSON.stringify(s, null, 2));
        else out(`${s.name} created; ${nextText(s)}`);
      });
    });

  addSettingOptions(
    sub('update', 'change a schedule created at run time: the given settings, the rest stay')
      .argument('<name>', 'the schedule name')
      .option('--expression <expr>', 'when it fires (a change takes effect from now)'),
  )
    .option('--no-start', 'remove the start bound')
    .option('--no-end', 'remove the end bound')
    .option('--no-flexible-window', 'fire each tick on time')
    .option('--enabled', 'enable it')
    .option('--disabled', 'disable it')
    .addHelpText(
      'after',
      `\nA target flag replaces the whole target. A schedule the config declares is read-only here: change the config (schedules enable and disable do work on it).\n\nExample:\n  mainspring schedules update nightly-report --expression 'cron(30 2 * * ? *)' --payload '{"kind": "nightly", "v": 2}'`,
    )
    .action((name: string, flags: WriteFlags) => {
      const retryFlag = flags.maxAttempts !== undefined || flags.maxEventAge !== undefined;
      // Checked before any request: a bad flag is a usage error even when the server is away.
      if (Object.keys(bodyOf(flags, null)).length === 0) {
        throw usage(
          '<name>',
          'needs a change; give at least one setting (--expression, --timezone, --payload, a target…; see --help)',
        );
      }
      return withClient(flags, 'write', async (client) => {
        const current = retryFlag ? await client.get<ScheduleInfo>(`/v1/schedules/${enc(name)}`) : null;
        const s = await client
          .patch<ScheduleInfo>(`/v1/schedules/${enc(name)}`, bodyOf(flags, current))
          .catch(rethrowAs('update'));
        if (flags.json) out(JSON.stringify(s, null, 2));
        else out(`${s.name} updated; ${nextText(s)}`);
      });
    });

  sub('enable', 'fire the schedule again, from its next tick after now')
    .argument('<name>', 'the schedule name')
    .action((name: string, flags: ClientFlags) =>
      withClient(flags, 'write', async (client) => {
        const s = await client.post<ScheduleInfo>(`/v1/schedules/${enc(name)}/enable`);
        if (flags.json) out(JSON.stringify(s, null, 2));
        else out(`${s.name} enabled; next tick ${s.state.nextTick ?? 'none (ended)'}`);
      }),
    );

  sub('disable', 'stop firing the schedule until enabled again (config schedules too)')
    .argument('<name>', 'the schedule name')
    .action((name: string, flags: ClientFlags) =>
      withClient(flags, 'write', async (client) => {
        const s = await client.post<ScheduleInfo>(`/v1/schedules/${enc(name)}/disable`);
        if (flags.json) out(JSON.stringify(s, null, 2));
        else out(`${s.name} disabled`);
      }),
    );

  sub('next', 'the next ticks of a schedule, enabled or not')
    .argument('<name>', 'the schedule name')
    .option('-n, --count <n>', 'how many (1 to 1000)', '5')
    .action((name: string, flags: ClientFlags & { count: string }) => {
      const count = wholeNumber(flags.count, '--count', 1000);
      return withClient(flags, 'read', async (client) => {
        const { next } = await client.get<{ next: string[] }>(`/v1/schedules/${enc(name)}/next`, {
          count,
        });
        if (flags.json) out(JSON.stringify({ next }, null, 2));
        else if (next.length === 0) out(`${name} has no tick left`);
        else for (const t of next) out(t);
      });
    });

  sub('delete', 'delete a schedule created at run time (config schedules: remove them from the config)')
    .argument('<name>', 'the schedule name')
    .action((name: string, flags: ClientFlags) =>
      withClient(flags, 'write', async (client) => {
        const s = await client.delete<ScheduleInfo>(`/v1/schedules/${enc(name)}`).catch(rethrowAs('delete'));
        if (flags.json) out(JSON.stringify(s, null, 2));
        else out(`${s.name} deleted`);
      }),
    );
}
