// Parsing an Amplify file: its TypeScript stripped of types and parsed by acorn, never run;
// errors become ImportError with the user's line. Also the small AST walker and helpers
// the readers share.

import { stripTypeScriptTypes } from 'node:module';
import {
  type CallExpression,
  type Expression,
  type NewExpression,
  type Node,
  type Program,
  parse,
} from 'acorn';
import { ImportError } from '../model.ts';

/**
 * Runs `fn` without Node's one-time "stripTypeScriptTypes is an experimental feature" warning:
 * the stripping is the one Node runs .ts files with, and the import's output is the user's.
 */
function quietly<T>(fn: () => T): T {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: never[]) => {
    if (String(warning).includes('stripTypeScriptTypes')) return;
    emit.call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return fn();
  } finally {
    process.emitWarning = emit;
  }
}

export function parseTypeScript(file: string, text: string): Program {
  let js: string;
  try {
    // 'strip' replaces types with blanks, so lines and columns stay those of the user's file.
    js = quietly(() => stripTypeScriptTypes(text, { mode: 'strip' }));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // Node reports no position for these; the stack's first line is `<source>:<line>`.
    const stack = err instanceof Error ? (err.stack ?? '') : '';
    const line = Number(/^[^\n]*?:(\d+)\n/.exec(stack)?.[1] ?? 0);
    throw new ImportError(file, line, 'TypeScript', message);
  }
  try {
    return parse(js, { ecmaVersion: 'latest', sourceType: 'module', locations: true });
  } catch (err) {
    const loc = (err as { loc?: { line: number } }).loc;
    const message = err instanceof Error ? err.message.replace(/\s*\(\d+:\d+\)$/, '') : String(err);
    throw new ImportError(file, loc?.line ?? 0, 'TypeScript', message);
  }
}

function isNode(value: unknown): value is Node {
  return (
    typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string'
  );
}

/** Every node under `root`, depth first, parents before children. */
export function walk(root: Node, visit: (node: Node) => void): void {
  visit(root);
  for (const value of Object.values(root as unknown as Record<string, unknown>)) {
    if (Array.isArray(value)) {
      for (const item of value) if (isNode(item)) walk(item, visit);
    } else if (isNode(value)) walk(value, visit);
  }
}

export function lineOfNode(node: Node): number {
  return node.loc?.start.line ?? 0;
}

export function identifierName(node: Node): string {
  return node.type === 'Identifier' ? (node as unknown as { name: string }).name : '';
}

/** Short words for a construct that is not a literal, for report lines. */
export function describe(node: Expression): string {
  if (node.type === 'Identifier') return node.name;
  if (node.type === 'CallExpression' || node.type === 'NewExpression') return `a call of ${calleeName(node)}`;
  if (node.type === 'MemberExpression') return memberPath(node).join('.') || 'a property read';
  return `a ${node.type}`;
}

/** `a.b.c` as ['a', 'b', 'c']; [] when any part is computed or not a name. */
export function memberPath(node: Node): string[] {
  if (node.type === 'Identifier') return [identifierName(node)];
  if (node.type === 'ChainExpression')
    return memberPath((node as unknown as { expression: Node }).expression);
  if (node.type !== 'MemberExpression') return [];
  const m = node as unknown as { object: Node; property: Node; computed: boolean };
  if (m.computed || m.property.type !== 'Identifier') return [];
  const head = memberPath(m.object);
  return head.length === 0 ? [] : [...head, identifierName(m.property)];
}

/** The last name of a callee: `events.Schedule.cron` → `cron`, `new Rule(…).addTarget` → `addTarget`. */
export function calleeName(node: CallExpression | NewExpression): string {
  return lastName(node.callee as Node);
}

/** The callee's name before its last: `events.Schedule.cron` → `Schedule`. */
export function calleeOwner(node: CallExpression | NewExpression): string {
  const callee = node.callee as Node;
  return callee.type === 'MemberExpression' ? lastName((callee as unknown as { object: Node }).object) : '';
}

function lastName(node: Node): string {
  if (node.type === 'Identifier') return identifierName(node);
  if (node.type !== 'MemberExpression') return '';
  const m = node as unknown as { property: Node; computed: boolean };
  return m.computed ? '' : identifierName(m.property);
}

export function arg(node: CallExpression | NewExpression, i: number): Expression | undefined {
  const a = node.arguments[i];
  return a && a.type !== 'SpreadElement' ? a : undefined;
}
