// One Terraform module (the .tf files of one folder) as the reader sees it: every resource
// and data source by its `type.name` key, whichever file it is in, and the state the readers
// of queues, rules, schedules and targets share while they build one ImportPlan.

import { dirname } from 'node:path';
import {
  emptyPlan,
  ImportError,
  type ImportedFunction,
  type ImportedTrigger,
  type ImportPlan,
  type Origin,
} from '../model.ts';
import { Ledger } from './ledger.ts';
import { blockLine, decodeJson } from './parse.ts';
import { isObj, literalString, numberOf, type Obj, type Result, type Value } from './values.ts';

export interface Resource {
  readonly type: string;
  readonly name: string;
  /** `type.name`, as Terraform references it. */
  readonly key: string;
  readonly body: Obj;
  /** Its own file and line, even when another file references it. */
  readonly origin: Origin;
}

/** A function being built; `triggers` is the same array as `fn.triggers`, so rules can add to it. */
export interface Draft {
  readonly fn: ImportedFunction;
  readonly triggers: ImportedTrigger[];
}

/** One parsed .tf file. */
export interface ParsedFile {
  readonly file: string;
  readonly text: string;
  readonly json: Obj;
}

export class TerraformModule {
  readonly plan: ImportPlan = emptyPlan();
  readonly ledger: Ledger;
  /** Resources of every file, file by file in the order given, then by line. */
  readonly resources: Resource[] = [];
  readonly byKey = new Map<string, Resource>();
  /** The folder that `${path.module}` and `file()` paths are relative to. */
  readonly dir: string;
  /** How messages name where a reference was looked for: one file, or the module's files. */
  readonly here: string;
  /** Mainspring names of this module's queues, by resource key. */
  readonly queueNames = new Map<string, string>();
  /** Functions being built, by the resource (or `send:` owner) they come from. */
  readonly drafts = new Map<string, Draft>();
  readonly commandResults = new Map<string, Result<Draft>>();
  readonly functionNames = new Set<string>();
  readonly ruleNames = new Set<string>();

  constructor(files: readonly ParsedFile[]) {
    this.ledger = new Ledger(files.map((f) => f.file));
    this.dir = files.length > 0 ? dirname(files[0]!.file) : '.';
    this.here = files.length === 1 ? 'this file' : 'this module';
    const data: Resource[] = [];
    for (const f of files) {
      this.resources.push(...blocks(f, f.json['resource'], 'resource', ''));
      data.push(...blocks(f, f.json['data'], 'data', 'data.'));
    }
    for (const r of [...this.resources, ...data]) {
      const first = this.byKey.get(r.key);
      // Terraform refuses a module that declares one address twice; guessing which one is meant would be worse.
      if (first) {
        const at = `${first.origin.file}${first.origin.line > 0 ? `:${first.origin.line}` : ''}`;
        throw new ImportError(r.origin.file, r.origin.line, r.key, `declared again (first at ${at})`);
      }
      this.byKey.set(r.key, r);
    }
    for (const r of this.resources) this.ledger.open(r.key, r.origin);
    // Module blocks name other folders: say so rather than pass over them in silence.
    for (const f of files) {
      const modules = f.json['module'];
      if (!isObj(modules)) continue;
      for (const name of Object.keys(modules)) {
        const item = `module.${name}`;
        this.ledger.open(item, { file: f.file, line: blockLine(f.text, 'module', '', name), item });
        this.ledger.skip(item, 'modules are not followed: import the module’s own .tf files');
      }
    }
  }

  ofType(type: string): Resource[] {
    return this.resources.filter((r) => r.type === type);
  }

  /** A JSON value as written in the module (see `decodeJson`). */
  decode(value: Value | undefined): Promise<Result<Value>> {
    return decodeJson(value, this.dir);
  }

  /** A literal string attribute, or undefined with a note when it is computed. */
  optionalLiteral(key: string, body: Obj, attribute: string): string | undefined {
    const value = body[attribute];
    if (value === undefined) return undefined;
    const literal = literalString(value);
    if (literal === undefined) this.ledger.note(key, `${attribute} is computed (${String(value)}): left out`);
    return literal;
  }

  /** A literal number attribute, or undefined with a note when it is computed. */
  number(key: string, body: Obj, attribute: string): number | undefined {
    const value = body[attribute];
    if (value === undefined) return undefined;
    const n = numberOf(value);
    if (n === undefined) this.ledger.note(key, `${attribute} is computed (${String(value)}): left out`);
    return n;
  }
}

/** The `keyword "type" "name" { … }` blocks of one file's section, in line order. */
function blocks(f: ParsedFile, section: Value | undefined, keyword: string, prefix: string): Resource[] {
  const out: Resource[] = [];
  if (!isObj(section)) return out;
  for (const [type, names] of Object.entries(section)) {
    if (!isObj(names)) continue;
    for (const [name, bodies] of Object.entries(names)) {
      const body = Array.isArray(bodies) ? bodies.find(isObj) : isObj(bodies) ? bodies : undefined;
      const key = `${prefix}${type}.${name}`;
      const origin = { file: f.file, line: blockLine(f.text, keyword, type, name), item: key };
      out.push({ type, name, key, body: body ?? {}, origin });
    }
  }
  return out.sort((a, b) => a.origin.line - b.origin.line);
}
