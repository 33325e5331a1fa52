// Values read statically from the parsed file: JSON-like literals, and consts bound to them.
// Anything computed is an Unknown that says why, for the report.

import type { Expression, Node, ObjectExpression, Program } from 'acorn';
import { describe, identifierName, walk } from './parse.ts';

/** Why a value could not be read statically. */
export class Unknown {
  readonly why: string;
  constructor(why: string) {
    this.why = why;
  }
}

/** The file's parsed program and its `const` bindings, so identifiers resolve to what they were given. */
export class Context {
  readonly consts = new Map<string, Expression>();
  /** Local names of `defineFunction` imported from '@aws-amplify/backend'. */
  readonly defineFunctionNames = new Set<string>(['defineFunction']);
  readonly secretNames = new Set<string>(['secret']);

  readonly file: string;
  readonly program: Program;

  constructor(file: string, program: Program) {
    this.file = file;
    this.program = program;
    walk(program, (node) => {
      if (node.type === 'VariableDeclaration') {
        const decl = node as unknown as {
          kind: string;
          declarations: { id: Node; init?: Expression | null }[];
        };
        if (decl.kind !== 'const') return;
        for (const d of decl.declarations) {
          if (d.id.type === 'Identifier' && d.init) this.consts.set(identifierName(d.id), d.init);
        }
      } else if (node.type === 'ImportDeclaration') {
        const imp = node as unknown as { source: { value: unknown }; specifiers: Node[] };
        if (imp.source.value !== '@aws-amplify/backend') return;
        for (const spec of imp.specifiers) {
          if (spec.type !== 'ImportSpecifier') continue;
          const s = spec as unknown as { imported: Node; local: Node };
          const imported = s.imported.type === 'Identifier' ? identifierName(s.imported) : '';
          if (imported === 'defineFunction') this.defineFunctionNames.add(identifierName(s.local));
          if (imported === 'secret') this.secretNames.add(identifierName(s.local));
        }
      }
    });
  }

  /** Follows identifiers through `const` bindings (a few hops, no cycles). */
  resolve(node: Expression): Expression {
    let current = node;
    for (let hops = 0; hops < 10 && current.type === 'Identifier'; hops++) {
      const bound = this.consts.get(current.name);
      if (!bound) break;
      current = bound;
    }
    return current;
  }

  /** A JSON-like literal value, or why it is not one. */
  literal(node: Expression, depth = 0): unknown {
    if (depth > 20) return new Unknown('nested too deeply');
    const n = this.resolve(node);
    switch (n.type) {
      case 'Literal':
        return n.value instanceof RegExp || typeof n.value === 'bigint' ? new Unknown(n.raw ?? '') : n.value;
      case 'TemplateLiteral':
        if (n.expressions.length === 0) return n.quasis.map((q) => q.value.cooked ?? '').join('');
        return new Unknown('a template string with values in it');
      case 'UnaryExpression':
        if (n.operator === '-') {
          const v = this.literal(n.argument, depth + 1);
          return typeof v === 'number' ? -v : new Unknown('a computed number');
        }
        return new Unknown(`a ${n.operator} expression`);
      case 'ArrayExpression': {
        const out: unknown[] = [];
        for (const el of n.elements) {
          if (!el || el.type === 'SpreadElement') return new Unknown('an array with a spread or hole');
          const v = this.literal(el, depth + 1);
          if (v instanceof Unknown) return v;
          out.push(v);
        }
        return out;
      }
      case 'ObjectExpression': {
        const out: Record<string, unknown> = {};
        for (const [key, value] of this.properties(n)) {
          if (value === undefined) return new Unknown('an object with a spread or computed key');
          const v = this.literal(value, depth + 1);
          if (v instanceof Unknown) return v;
          out[key] = v;
        }
        return out;
      }
      default:
        return new Unknown(describe(n));
    }
  }

  /** An object literal's properties by name; a spread or computed key is listed with no value. */
  properties(node: ObjectExpression): [string, Expression | undefined][] {
    const out: [string, Expression | undefined][] = [];
    for (const p of node.properties) {
      if (p.type !== 'Property' || p.computed || p.kind !== 'init') {
        out.push(['…', undefined]);
        continue;
      }
      const key =
        p.key.type === 'Identifier' ? p.key.name : p.key.type === 'Literal' ? String(p.key.value) : '…';
      out.push([key, p.value as Expression]);
    }
    return out;
  }

  object(node: Expression | undefined): ObjectExpression | undefined {
    if (!node) return undefined;
    const n = this.resolve(node);
    return n.type === 'ObjectExpression' ? n : undefined;
  }
}
