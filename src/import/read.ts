// Which reader takes which file. A file the user names must be one the importer knows, or
// the import stops naming it; inside a folder the user names, only files that look like
// an AWS setup are read (a folder holds package.json, tsconfig.json, CI YAML …).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, sep } from 'node:path';
import { parseDocument } from 'yaml';
import { readAmplify } from './amplify/index.ts';
import { readAwsJson } from './aws-json.ts';
import { readCrontab } from './crontab.ts';
import { mergePlans } from './merge.ts';
import { ImportError, type ImportPlan } from './model.ts';
import { readTerraformModule } from './terraform/index.ts';
import { looksLikeServerless, looksLikeStacktape, readServerless, readStacktape } from './yaml/index.ts';

type Kind = 'terraform' | 'yaml' | 'amplify' | 'json' | 'crontab';

/** Folders that hold tools' state or dependencies, never the user's setup. */
const SKIP_DIRS = new Set([
  'node_modules',
  '.git',
  '.terraform',
  'dist',
  'cdk.out',
  '.amplify',
  '.serverless',
  '.mainspring',
]);

export interface ReadResult {
  readonly plan: ImportPlan;
  /** The files read, in order. */
  readonly files: readonly string[];
}

/** Reads every path (files, and folders walked for what looks like AWS setup) into one plan. */
export async function readSources(paths: readonly string[]): Promise<ReadResult> {
  const files: { file: string; kind: Kind }[] = [];
  for (const p of paths) {
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(p);
    } catch {
      throw new ImportError(p, 0, 'path', 'no such file or folder');
    }
    if (stat.isDirectory()) files.push(...walk(p));
    else {
      const kind = kindOfNamed(p);
      if (!kind)
        throw new ImportError(
          p,
          0,
          'file',
          'not a format mainspring import reads: .tf (Terraform), .yml/.yaml (Serverless, Stacktape), .json (AWS CLI output), .ts (Amplify Gen 2), or a crontab (crontab, *.cron, *.crontab)',
        );
      files.push({ file: p, kind });
    }
  }
  if (files.length === 0)
    throw new ImportError(
      paths.join(', '),
      0,
      'folder',
      'no Terraform, Serverless, Stacktape, Amplify, AWS CLI JSON or crontab file found',
    );
  const plans: ImportPlan[] = [];
  // The .tf files of one folder are one Terraform module: a rule in events.tf runs a task
  // defined in ecs.tf. They are read together, where the folder's first one comes.
  const modules = new Map<string, { file: string; text: string }[]>();
  for (const { file, kind } of files) {
    if (kind !== 'terraform') continue;
    const folder = dirname(file);
    if (!modules.has(folder)) modules.set(folder, []);
    modules.get(folder)!.push({ file, text: readText(file) });
  }
  for (const { file, kind } of files) {
    if (kind !== 'terraform') plans.push(await readOne(file, kind, readText(file)));
    else {
      const module = modules.get(dirname(file));
      if (module?.[0]?.file === file) plans.push(await readTerraformModule(module));
    }
  }
  return { plan: mergePlans(plans), files: files.map((f) => f.file) };
}

async function readOne(file: string, kind: Kind, text: string): Promise<ImportPlan> {
  switch (kind) {
    case 'terraform':
      return readTerraformModule([{ file, text }]);
    case 'amplify':
      return readAmplify(file, text);
    case 'json':
      return readAwsJson(file, text);
    case 'crontab':
      return readCrontab(file, text);
    case 'yaml': {
      const doc = yamlDoc(text);
      if (looksLikeServerless(doc)) return readServerless(file, text);
      if (looksLikeStacktape(doc)) return readStacktape(file, text);
      // readStacktape names what it expected, or the syntax error's line.
      return readStacktape(file, text);
    }
  }
}

function kindOfNamed(file: string): Kind | null {
  const name = basename(file);
  const ext = extname(name).toLowerCase();
  if (ext === '.tf') return 'terraform';
  if (ext === '.yml' || ext === '.yaml') return 'yaml';
  if (ext === '.json') return 'json';
  if (ext === '.ts' || ext === '.mts') return 'amplify';
  if (isCrontabName(name)) return 'crontab';
  return null;
}

function isCrontabName(name: string): boolean {
  return name === 'crontab' || name.endsWith('.cron') || name.endsWith('.crontab');
}

function walk(dir: string): { file: string; kind: Kind }[] {
  const out: { file: string; kind: Kind }[] = [];
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name, 'en'),
  );
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) out.push(...walk(path));
      continue;
    }
    if (!e.isFile()) continue;
    const kind = kindInFolder(path);
    if (kind) out.push({ file: path, kind });
  }
  return out;
}

/** Inside a folder, only what is recognisably an AWS setup. */
function kindInFolder(file: string): Kind | null {
  const kind = kindOfNamed(file);
  if (kind === 'terraform' || kind === 'crontab') return kind;
  if (kind === 'amplify') {
    // Amplify Gen 2 keeps resources in amplify/…/resource.ts and the backend in amplify/backend.ts.
    const inAmplify = file.split(sep).includes('amplify');
    const name = basename(file);
    return inAmplify && (name === 'resource.ts' || name === 'backend.ts') ? 'amplify' : null;
  }
  if (kind === 'yaml') {
    const doc = safeYamlDoc(readText(file));
    return doc !== undefined && (looksLikeServerless(doc) || looksLikeStacktape(doc)) ? 'yaml' : null;
  }
  if (kind === 'json') {
    try {
      return looksLikeAwsJson(JSON.parse(readText(file))) ? 'json' : null;
    } catch {
      return null;
    }
  }
  return null;
}

const AWS_KEYS = ['ScheduleExpression', 'EventPattern', 'Rules', 'Targets'];

function looksLikeAwsJson(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0 && v.every(looksLikeAwsJson);
  return typeof v === 'object' && v !== null && AWS_KEYS.some((k) => Object.hasOwn(v, k));
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ImportError(
      file,
      0,
      'file',
      `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }
}

function yamlDoc(text: string): unknown {
  return safeYamlDoc(text) ?? null;
}

function safeYamlDoc(text: string): unknown {
  // CloudFormation's short tags (!Ref, !GetAtt, …) only warn here; the readers resolve them.
  const doc = parseDocument(text, { logLevel: 'silent' });
  return doc.errors.length > 0 ? undefined : doc.toJS();
}
