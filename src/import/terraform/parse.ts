// HCL in, plain values out. @cdktf/hcl2json is HashiCorp's own parser compiled to wasm; it
// hands back JSON with every expression as a `${…}` string, so this file also reads the JSON
// that Terraform users write inside strings: `jsonencode(…)`, heredocs and `file("x.json")`.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImportError, lineOf } from '../model.ts';
import { escapeRegExp, isComputed, isObj, literalPath, type Obj, type Result, type Value } from './values.ts';

type Hcl2Json = { parse(fileName: string, text: string): Promise<Record<string, unknown>> };

let hcl2json: Promise<Hcl2Json> | undefined;

function parse(fileName: string, text: string): Promise<Record<string, unknown>> {
  // `as string`: TypeScript then does not read the package's types, which pull in the DOM
  // library (`/// <reference lib="dom" />`) whose stream types clash with Node's across the
  // whole program. Loaded on first use, so only an import of Terraform loads the wasm.
  hcl2json ??= import('@cdktf/hcl2json' as string) as Promise<Hcl2Json>;
  return hcl2json.then((m) => m.parse(fileName, text));
}

/** One .tf file as hcl2json reads it; a syntax error is an ImportError naming the file and line. */
export async function parseHcl(file: string, text: string): Promise<Obj> {
  let json: Record<string, unknown>;
  try {
    json = await parse(file, text);
  } catch (err) {
    throw hclError(file, err instanceof Error ? err.message : String(err));
  }
  return isObj(json as Value) ? (json as Obj) : {};
}

/** hcl2json reports `parse config: [FILE:LINE,COL-LINE,COL: Summary; Detail]`; keep the line and the words. */
function hclError(file: string, message: string): ImportError {
  const at = message.indexOf(`${file}:`);
  if (at >= 0) {
    const rest = message.slice(at + file.length + 1);
    const m = /^(\d+),\d+(?:-\d+(?:,\d+)?)?: ([\s\S]*?)\]?$/.exec(rest);
    if (m) return new ImportError(file, Number(m[1]), 'HCL', m[2]!.trim());
  }
  return new ImportError(file, 0, 'HCL', message.replace(/^parse config: /, ''));
}

/**
 * The line of `keyword "type" "name" {` in `text` (labels may be bare identifiers in HCL), or 0.
 * hcl2json keeps no positions, so the block is found again in the source.
 */
export function blockLine(text: string, keyword: string, type: string, name: string): number {
  const label = (s: string) => `(?:"${escapeRegExp(s)}"|${escapeRegExp(s)})\\s*`;
  // [ \t]*, not \s*: \s would run over blank lines before the block and land on the wrong line.
  const pattern = new RegExp(`^[ \\t]*${keyword}\\s+${type ? label(type) : ''}${label(name)}\\{`, 'm');
  return lineOf(text, pattern);
}

/**
 * A JSON value written as `jsonencode(<hcl>)`, a JSON string or heredoc, or `file("x.json")`
 * (relative to `dir`, the module's folder). jsonencode's argument is parsed as HCL again, so
 * nested references stay `${…}` strings.
 */
export async function decodeJson(value: Value | undefined, dir: string): Promise<Result<Value>> {
  if (value === undefined) return { ok: false, reason: 'is missing' };
  if (typeof value !== 'string') return { ok: true, value };
  const call = wholeCall(value);
  if (call?.name === 'jsonencode') {
    const inner = await hclValue(call.argument);
    return inner.ok ? inner : { ok: false, reason: `could not be read (${inner.reason})` };
  }
  if (call?.name === 'file') {
    const path = await hclValue(call.argument);
    const relative = path.ok && typeof path.value === 'string' ? literalPath(path.value) : undefined;
    if (relative === undefined) return { ok: false, reason: `names a computed file (${value})` };
    const full = join(dir, relative);
    if (!existsSync(full)) return { ok: false, reason: `reads ${full}, which does not exist` };
    return parseJson(readFileSync(full, 'utf8'), full);
  }
  // A whole `${…}` is computed; a JSON template with `${…}` inside strings still parses, keeping them as text.
  const parsed = parseJson(value, 'the string');
  if (!parsed.ok && isComputed(value)) return { ok: false, reason: `is computed (${value})` };
  return parsed;
}

/** `${fn(arg)}` as a whole value: the function's name and its argument's source text. */
function wholeCall(s: string): { name: string; argument: string } | undefined {
  if (!s.startsWith('${') || !s.endsWith(')}')) return undefined;
  const open = s.indexOf('(');
  if (open < 0) return undefined;
  const name = s.slice(2, open).trim();
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) return undefined;
  return { name, argument: s.slice(open + 1, -2) };
}

/** An HCL expression's value, parsed as the right side of an attribute. */
async function hclValue(source: string): Promise<Result<Value>> {
  try {
    const json = (await parse('x.tf', `value = ${source}\n`)) as Obj;
    const value = json['value'];
    return value === undefined ? { ok: false, reason: 'no value' } : { ok: true, value };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

function parseJson(text: string, what: string): Result<Value> {
  try {
    return { ok: true, value: JSON.parse(text) as Value };
  } catch (err) {
    return {
      ok: false,
      reason: `is not valid JSON in ${what}: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}
