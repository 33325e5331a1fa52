// A crontab: each `m h dom mon dow command` line becomes a command function on that schedule.
// `NAME=value` lines apply to the lines after them, as cron reads them; CRON_TZ/TZ set the
// zone the fields are read in. /etc/crontab and /etc/cron.d files have a user field too.

import { basename } from 'node:path';
import { parseSchedule, ScheduleError } from '../expressions/index.ts';
import { emptyPlan, type ImportedSchedule, type ImportPlan, type Origin, safeName } from './model.ts';

const MACROS: Record<string, string> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
};

/** Characters that make a command a shell line, not an argv a split on spaces would give. */
const SHELL_SYNTAX = /[|&;<>()$`\\"'*?%~#[{]/;
const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;

export function readCrontab(file: string, text: string): ImportPlan {
  const plan = emptyPlan();
  // System crontabs name the user to run as between the schedule and the command.
  const system = file === '/etc/crontab' || /(^|\/)cron\.d\//.test(file);
  const env: Record<string, string> = {};
  let timezone: string | undefined;
  let shell: string | undefined;
  const used = new Map<string, number>();

  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const origin: Origin = { file, line, item: trimmed.length > 60 ? `${trimmed.slice(0, 59)}…` : trimmed };
    const report = (outcome: 'imported' | 'noted' | 'skipped', message: string) =>
      plan.report.push({ origin, outcome, message });

    const assignment = ASSIGNMENT.exec(trimmed);
    if (assignment && !/^[\d*@]/.test(trimmed)) {
      const name = assignment[1]!;
      const value = unquote(assignment[2]!.trim());
      if (name === 'CRON_TZ' || name === 'TZ') {
        timezone = value;
        if (name === 'TZ') env[name] = value;
        const problem = scheduleProblem('* * * * *', value);
        if (problem) report('skipped', `${problem} (the lines after it are skipped too)`);
        else report('noted', `the lines after run in time zone ${value}`);
      } else if (name === 'MAILTO') {
        report('noted', 'MAILTO left out: cron mailed output; use alerts for failed runs');
      } else if (name === 'SHELL') {
        shell = value;
        report('noted', `shell lines after this run with ${value} -c`);
      } else {
        env[name] = value;
        report(
          'noted',
          name === 'PATH'
            ? 'PATH is set for the commands after it; check it holds on the mainspring server'
            : `${name} is set for the commands after it`,
        );
      }
      continue;
    }

    const tokens = trimmed.split(/\s+/);
    const first = tokens[0]!;
    let fields: string[];
    let rest: string;
    let noteMacro: string | undefined;
    if (first.startsWith('@')) {
      if (first.toLowerCase() === '@reboot') {
        report('skipped', 'runs at boot, not on a schedule: not importable');
        continue;
      }
      const macro = MACROS[first.toLowerCase()];
      if (!macro) {
        report('skipped', `${first} is not a cron macro (@hourly, @daily, @weekly, @monthly, @yearly)`);
        continue;
      }
      fields = macro.split(' ');
      noteMacro = `${first} became "${macro}"`;
      rest = afterTokens(trimmed, 1);
    } else {
      fields = tokens.slice(0, 5);
      rest = afterTokens(trimmed, 5);
    }
    let user: string | undefined;
    if (system) {
      user = rest.split(/\s+/)[0];
      rest = afterTokens(rest, 1);
    }
    if (fields.length < 5 || rest === '') {
      report('skipped', `not a cron line: expected 5 time fields${system ? ', a user' : ''} and a command`);
      continue;
    }
    const expression = fields.join(' ');
    const problem = scheduleProblem(expression, timezone);
    if (problem) {
      report('skipped', problem);
      continue;
    }

    const notes: string[] = [];
    if (noteMacro) notes.push(noteMacro);
    if (user) notes.push(`ran as user ${user}: runs as the mainspring server's user`);
    let command: string[];
    const leadingAssignment = /^[A-Za-z_][A-Za-z0-9_]*=/.test(rest);
    if (SHELL_SYNTAX.test(rest) || leadingAssignment) {
      command = [shell ?? 'sh', '-c', rest];
      notes.push(`a shell line: runs as ${shell ?? 'sh'} -c`);
      if (/(^|[^\\])%/.test(rest)) {
        notes.push(
          'it has a %: cron made it a newline and sent the text after it to stdin; check the command',
        );
      }
    } else command = rest.split(/\s+/);

    const base = programName(rest) ?? `cron-${line}`;
    const count = (used.get(base) ?? 0) + 1;
    used.set(base, count);
    const name = count === 1 ? base : `${base}-${count}`;
    const schedule: ImportedSchedule = { expression, ...(timezone ? { timezone } : {}) };
    plan.functions.push({
      kind: 'command',
      name,
      origin,
      command,
      triggers: [{ kind: 'schedule', schedule }],
      ...(Object.keys(env).length > 0 ? { env: { ...env } } : {}),
    });
    report(
      notes.length > 0 ? 'noted' : 'imported',
      [`function ${name} on ${expression}`, ...notes].join('; '),
    );
  }
  return plan;
}

function scheduleProblem(expression: string, timezone: string | undefined): string | undefined {
  try {
    parseSchedule(expression, timezone ? { timezone } : {});
    return undefined;
  } catch (err) {
    if (err instanceof ScheduleError) return err.message;
    throw err;
  }
}

/** The text after the first `n` whitespace-separated tokens, as written (spacing inside kept). */
function afterTokens(text: string, n: number): string {
  let rest = text.trimStart();
  for (let k = 0; k < n; k++) rest = rest.replace(/^\S+\s*/, '');
  return rest.trim();
}

function unquote(value: string): string {
  const q = value[0];
  return (q === '"' || q === "'") && value.length >= 2 && value.endsWith(q) ? value.slice(1, -1) : value;
}

const PLAIN = /^[A-Za-z0-9_./-]+$/;
const INTERPRETERS = new Set([
  'node',
  'python',
  'python3',
  'ruby',
  'perl',
  'php',
  'bash',
  'sh',
  'deno',
  'bun',
  'tsx',
]);

/** The program's base name, without a `cd dir &&` or `VAR=x` in front or a script extension. */
function programName(command: string): string | undefined {
  let rest = command.replace(/^cd\s+\S+\s*&&\s*/, '');
  while (/^[A-Za-z_][A-Za-z0-9_]*=\S*\s+/.test(rest)) rest = rest.replace(/^\S+\s+/, '');
  const words = rest.split(/\s+/);
  // `node scripts/report.js`: the script names the job better than its interpreter.
  const script = INTERPRETERS.has(basename(words[0] ?? ''))
    ? words.slice(1).find((w) => !w.startsWith('-'))
    : undefined;
  const program = script && PLAIN.test(script) ? script : (words[0] ?? '');
  if (!PLAIN.test(program)) return undefined;
  const base = basename(program).replace(/\.(sh|bash|py|rb|pl|js|mjs|ts|php)$/, '');
  return base === '' ? undefined : safeName(base);
}
