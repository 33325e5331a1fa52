// An ImportPlan as a mainspring.config.ts a person reads and edits: one declaration per
// item in the order queues, functions, rules, each under a comment saying where it came
// from, and values written as a person would write them ('300s', not 300000).

import { dirname, isAbsolute, relative, sep } from 'node:path';
import type {
  ImportedCommand,
  ImportedFunction,
  ImportedHandler,
  ImportedQueue,
  ImportedRule,
  ImportedSchedule,
  ImportedSend,
  ImportPlan,
  Origin,
} from './model.ts';

export interface RenderOptions {
  /** Where the config will be written: handler paths are made relative to its folder. */
  readonly outFile: string;
  /** The files read, for the header. */
  readonly sources: readonly string[];
}

const INDENT = '  ';

export function renderConfig(plan: ImportPlan, options: RenderOptions): string {
  const vars = new VariableNames();
  const queueVar = new Map(plan.queues.map((q) => [q.name, vars.take(q.name)]));
  const fnVar = new Map(plan.functions.map((f) => [f.name, vars.take(f.name)]));
  const ruleVar = new Map(plan.rules.map((r) => [r.name, vars.take(`${r.name}-rule`)]));
  const ctx: Ctx = { outDir: dirname(options.outFile), queueVar, fnVar };

  const blocks: string[] = [];
  // A dead-letter queue is declared before the queue that names it.
  for (const q of orderQueues(plan.queues)) blocks.push(renderQueue(q, ctx));
  for (const f of plan.functions) blocks.push(renderFunction(f, ctx));
  for (const r of plan.rules) blocks.push(renderRule(r, ruleVar.get(r.name)!, ctx));

  const used = new Set<string>(['defineConfig']);
  const body = blocks.join('\n\n');
  for (const name of [
    'defineCommand',
    'defineFunction',
    'defineQueue',
    'defineRule',
    'fromQueue',
    'schedule',
  ])
    if (body.includes(`${name}(`)) used.add(name);
  if (body.includes('new NonRetryableError(')) used.add('NonRetryableError');

  const list = (label: string, names: readonly string[], disabled: ReadonlySet<string> = new Set()) => {
    if (names.length === 0) return '';
    const items = names.map((n) =>
      disabled.has(n) ? `${INDENT}${INDENT}// ${n}, (disabled in AWS)` : `${INDENT}${INDENT}${n},`,
    );
    return `${INDENT}${label}: [\n${items.join('\n')}\n${INDENT}],\n`;
  };
  const disabledRules = new Set(
    plan.rules.filter((r) => r.enabled === false).map((r) => ruleVar.get(r.name)!),
  );
  const header = [
    `// Made by \`mainspring import\` from ${options.sources.join(', ')}.`,
    '// Every declaration says where it came from; the import report lists what changed on the way.',
    '// Check it, then run `mainspring start`.',
  ].join('\n');
  const names = [...used].sort((a, b) => a.localeCompare(b, 'en'));
  const oneLine = `import { ${names.join(', ')} } from 'mainspringjs';`;
  const imports =
    oneLine.length <= WIDTH
      ? oneLine
      : `import {\n${names.map((n) => `${INDENT}${n},\n`).join('')}} from 'mainspringjs';`;
  const envLine = body.includes("env['") ? '\n\nconst env = process.env;' : '';
  const config =
    `export default defineConfig({\n` +
    list(
      'queues',
      plan.queues.map((q) => queueVar.get(q.name)!),
    ) +
    list(
      'functions',
      plan.functions.map((f) => fnVar.get(f.name)!),
    ) +
    list(
      'rules',
      plan.rules.map((r) => ruleVar.get(r.name)!),
      disabledRules,
    ) +
    '});\n';
  return `${header}\n\n${imports}${envLine}\n\n${body}${body ? '\n\n' : ''}${config}`;
}

interface Ctx {
  readonly outDir: string;
  readonly queueVar: ReadonlyMap<string, string>;
  readonly fnVar: ReadonlyMap<string, string>;
}

function orderQueues(queues: readonly ImportedQueue[]): ImportedQueue[] {
  const byName = new Map(queues.map((q) => [q.name, q]));
  const out: ImportedQueue[] = [];
  const seen = new Set<string>();
  const visit = (q: ImportedQueue, depth: number) => {
    if (seen.has(q.name) || depth > queues.length) return;
    const dlq = q.deadLetterQueue ? byName.get(q.deadLetterQueue) : undefined;
    if (dlq) visit(dlq, depth + 1);
    if (!seen.has(q.name)) {
      seen.add(q.name);
      out.push(q);
    }
  };
  for (const q of queues) visit(q, 0);
  return out;
}

function renderQueue(q: ImportedQueue, ctx: Ctx): string {
  const fields: string[] = [`name: ${str(q.name)}`];
  if (q.visibilityTimeoutSeconds !== undefined)
    fields.push(`visibilityTimeout: ${seconds(q.visibilityTimeoutSeconds)}`);
  if (q.maxReceiveCount !== undefined && q.deadLetterQueue !== undefined)
    fields.push(`maxReceiveCount: ${q.maxReceiveCount}`);
  if (q.deadLetterQueue !== undefined) {
    const dlq = ctx.queueVar.get(q.deadLetterQueue) ?? str(q.deadLetterQueue);
    fields.push(dlq === 'deadLetterQueue' ? dlq : `deadLetterQueue: ${dlq}`);
  }
  if (q.fifo) fields.push('fifo: true');
  const notes = [from(q.origin)];
  if (q.delaySeconds)
    notes.push(
      `SQS held each message ${q.delaySeconds} s after sending (delay_seconds): send with { delay: ${seconds(q.delaySeconds)} }.`,
    );
  return `${comment(notes)}const ${ctx.queueVar.get(q.name)} = defineQueue(${object(fields, 0)});`;
}

function renderFunction(f: ImportedFunction, ctx: Ctx): string {
  const notes = [from(f.origin)];
  if (f.description) notes.push(f.description);
  const fields: string[] = [`name: ${str(f.name)}`];
  if (f.kind === 'command') fields.push(...commandFields(f, notes));
  if (f.timeoutSeconds !== undefined) fields.push(`timeout: ${seconds(f.timeoutSeconds)}`);
  if (f.maxAttempts !== undefined) fields.push(`retry: { maxAttempts: ${f.maxAttempts} }`);
  if (f.kind === 'handler') {
    const env = envFields(f.env, f.envFromServer);
    if (env) fields.push(env);
  }
  const triggers = f.triggers.map((t) =>
    t.kind === 'schedule'
      ? renderSchedule(t.schedule)
      : `fromQueue(${ctx.queueVar.get(t.queue) ?? str(t.queue)}${t.batchSize !== undefined ? `, { batchSize: ${t.batchSize} }` : ''})`,
  );
  if (triggers.length > 0) fields.push(`triggers: [${triggers.join(', ')}]`);
  if (f.kind === 'handler') fields.push(handlerStub(f, ctx, notes));
  if (f.kind === 'send') fields.push(sendHandler(f, ctx));
  const define = f.kind === 'command' ? 'defineCommand' : 'defineFunction';
  return `${comment(notes)}const ${ctx.fnVar.get(f.name)} = ${define}(${object(fields, 0)});`;
}

function commandFields(f: ImportedCommand, notes: string[]): string[] {
  const fields = [`command: [${f.command.map(str).join(', ')}]`];
  if (f.cwd) fields.push(`cwd: ${str(f.cwd)}`);
  const env = envFields(f.env, f.envFromServer);
  if (env) fields.push(env);
  if (f.secrets && f.secrets.length > 0) {
    fields.push(`secrets: [${f.secrets.map(str).join(', ')}]`);
    notes.push(
      'Secrets by name only: each is read from the server environment or the config secretsFile, never from AWS.',
    );
  }
  return fields;
}

/** `env: { … }` with the literal values, then those the source computed, read from the server's environment now. */
function envFields(
  literal: Readonly<Record<string, string>> = {},
  fromServer: Readonly<Record<string, string>> = {},
): string | null {
  const env = Object.entries(literal).map(([k, v]) => `${key(k)}: ${str(v)}`);
  for (const [k, expression] of Object.entries(fromServer))
    env.push(`// was ${expression.replace(/\n/g, ' ')}\n${INDENT}${INDENT}${key(k)}: env[${str(k)}] ?? ''`);
  return env.length === 0
    ? null
    : `env: {\n${env.map((e) => `${INDENT}${INDENT}${e},`).join('\n')}\n${INDENT}}`;
}

function handlerStub(f: ImportedHandler, ctx: Ctx, notes: string[]): string {
  const file = f.handlerFile ? portable(relativeTo(ctx.outDir, f.handlerFile)) : undefined;
  const where = file ? `${file} (export ${f.handlerExport ?? 'handler'})` : 'its Lambda function';
  notes.push(
    `A stub: the Lambda handler was ${where}. Move its body here, or import it once it runs outside Lambda; until then each run fails, saying so, and is not retried.`,
  );
  const message = `${f.name} was imported from AWS as a stub: port the Lambda handler${file ? ` in ${file}` : ''}`;
  return `handler: async () => {\n${INDENT}${INDENT}throw new NonRetryableError(${str(message)});\n${INDENT}}`;
}

function sendHandler(f: ImportedSend, ctx: Ctx): string {
  const queue = ctx.queueVar.get(f.queue) ?? str(f.queue);
  return `handler: async (input: unknown, ctx) => {\n${INDENT}${INDENT}await ctx.queues.send(${queue}, input ?? {});\n${INDENT}}`;
}

function renderSchedule(s: ImportedSchedule): string {
  const o: string[] = [];
  if (s.timezone) o.push(`timezone: ${str(s.timezone)}`);
  if (s.enabled === false) o.push('enabled: false');
  if (s.start) o.push(`start: ${str(s.start)}`);
  if (s.end) o.push(`end: ${str(s.end)}`);
  if (s.flexibleWindowMinutes) o.push(`flexibleWindow: ${str(`${s.flexibleWindowMinutes}m`)}`);
  if (s.payload !== undefined) o.push(`payload: ${value(s.payload, 2)}`);
  const retry: string[] = [];
  if (s.maxAttempts !== undefined) retry.push(`maxAttempts: ${s.maxAttempts}`);
  if (s.maxEventAgeSeconds !== undefined) retry.push(`maxEventAge: ${seconds(s.maxEventAgeSeconds)}`);
  if (retry.length > 0) o.push(`retry: { ${retry.join(', ')} }`);
  if (s.description) o.push(`description: ${str(s.description)}`);
  if (o.length === 0) return `schedule(${str(s.expression)})`;
  const inline = `schedule(${str(s.expression)}, { ${o.join(', ')} })`;
  // `  triggers: [` + inline + `],` on one line when it fits; else one option a line.
  if (inline.length <= WIDTH - 16 && !inline.includes('\n')) return inline;
  const pad = INDENT.repeat(2);
  return `schedule(${str(s.expression)}, {\n${o.map((f) => `${pad}${f},\n`).join('')}${INDENT}})`;
}

function renderRule(r: ImportedRule, name: string, ctx: Ctx): string {
  const notes = [from(r.origin)];
  if (r.description) notes.push(r.description);
  if (r.enabled === false)
    notes.push('DISABLED in AWS: declared, but left out of the config rules until you add it.');
  const targets = r.targets.map((t) =>
    t.kind === 'queue' ? (ctx.queueVar.get(t.name) ?? str(t.name)) : (ctx.fnVar.get(t.name) ?? str(t.name)),
  );
  const fields = [
    `name: ${str(r.name)}`,
    `pattern: ${value(r.pattern, 1)}`,
    `targets: [${targets.join(', ')}]`,
  ];
  if (r.inputPath) fields.push(`input: ${str(r.inputPath)}`);
  return `${comment(notes)}const ${name} = defineRule(${object(fields, 0)});`;
}

function from(o: Origin): string {
  return `${portable(o.file)}${o.line > 0 ? `:${o.line}` : ''}: ${o.item}`;
}

const WIDTH = 100;

/** `// ` lines, each note wrapped at word boundaries to fit WIDTH (a long path stays whole). */
function comment(notes: readonly string[]): string {
  const out: string[] = [];
  for (const note of notes) {
    let line = '';
    for (const word of note.split(' ')) {
      if (line && line.length + 1 + word.length > WIDTH - 3) {
        out.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    out.push(line);
  }
  return out.map((l) => `// ${l}\n`).join('');
}

function object(fields: readonly string[], depth: number): string {
  const pad = INDENT.repeat(depth + 1);
  return `{\n${fields.map((f) => `${pad}${f},`).join('\n')}\n${INDENT.repeat(depth)}}`;
}

/** A JSON value as a TypeScript literal, objects over several lines. */
function value(v: unknown, depth: number): string {
  if (v === null || typeof v !== 'object') return typeof v === 'string' ? str(v) : JSON.stringify(v ?? null);
  if (Array.isArray(v)) return `[${v.map((x) => value(x, depth)).join(', ')}]`;
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length === 0) return '{}';
  return object(
    entries.map(([k, x]) => `${key(k)}: ${value(x, depth + 1)}`),
    depth,
  );
}

function seconds(s: number): string {
  return str(`${s}s`);
}

function str(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`;
}

function key(k: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(k) ? k : str(k);
}

function relativeTo(dir: string, file: string): string {
  const r = relative(dir, file);
  return r.startsWith('.') || isAbsolute(r) ? r : `./${r}`;
}

function portable(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}

const RESERVED = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false finally for ' +
    'function if import in instanceof new null return super switch this throw true try typeof var void while with ' +
    'yield let static implements interface package private protected public await env process schedule fromQueue ' +
    'defineConfig defineCommand defineFunction defineQueue defineRule NonRetryableError'
  ).split(' '),
);

/** Distinct camelCase variable names: `db-cleanup` → `dbCleanup`, a second one `dbCleanup2`. */
class VariableNames {
  readonly #taken = new Set<string>();
  take(name: string): string {
    let base = name.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''));
    base = base.charAt(0).toLowerCase() + base.slice(1);
    if (!/^[A-Za-z_]/.test(base)) base = `_${base}`;
    if (RESERVED.has(base)) base = `${base}Fn`;
    let v = base;
    for (let n = 2; this.#taken.has(v); n++) v = `${base}${n}`;
    this.#taken.add(v);
    return v;
  }
}
