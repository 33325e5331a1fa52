// YAML text → plain values plus the line of every key and list item. The document is converted
// by hand (not `toJS`) so that CloudFormation short tags keep their meaning
// (`!GetAtt Q.Arn` → `{ 'Fn::GetAtt': ['Q', 'Arn'] }`) and every key keeps its line and the
// source text of its value. Any YAML error becomes an ImportError with its line.

import {
  type CollectionTag,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type ScalarTag,
} from 'yaml';
import { ImportError } from '../model.ts';
import { isRecord } from './values.ts';

/** CloudFormation's short-form intrinsics; registered so they parse without warnings and keep their meaning. */
const INTRINSICS = [
  'And',
  'Base64',
  'Cidr',
  'Condition',
  'Equals',
  'FindInMap',
  'GetAtt',
  'GetAZs',
  'If',
  'ImportValue',
  'Join',
  'Length',
  'Not',
  'Or',
  'Ref',
  'Select',
  'Split',
  'Sub',
  'ToJsonString',
  'Transform',
];

const CFN_TAGS: (ScalarTag | CollectionTag)[] = INTRINSICS.flatMap((name): (ScalarTag | CollectionTag)[] => [
  { tag: `!${name}`, resolve: (value: string) => value },
  { tag: `!${name}`, collection: 'seq' },
  { tag: `!${name}`, collection: 'map' },
]);
const INTRINSIC_TAGS = new Set(INTRINSICS.map((name) => `!${name}`));

/** Guards against alias bombs: a real config has a few thousand nodes at most. */
const MAX_NODES = 200_000;

interface Position {
  readonly line: number;
  /** The value as written (tag included), for a computed value the user has to recreate. */
  readonly source?: string;
}

/** The 1-based line of each key of a converted map and each item of a converted list. */
export class Lines {
  private readonly byContainer = new WeakMap<object, Map<string | number, Position>>();

  set(container: object, key: string | number, position: Position): void {
    const keys = this.byContainer.get(container) ?? new Map<string | number, Position>();
    this.byContainer.set(container, keys);
    keys.set(key, position);
  }

  /** 0 when not known (a value that came from code rather than the file). */
  of(container: object, key: string | number): number {
    return this.byContainer.get(container)?.get(key)?.line ?? 0;
  }

  /** A map value's text as written, e.g. `!Ref Queue`; undefined when not known (merged in by `<<`). */
  source(container: object, key: string | number): string | undefined {
    return this.byContainer.get(container)?.get(key)?.source;
  }
}

export interface Loaded {
  readonly value: unknown;
  readonly lines: Lines;
}

export function load(file: string, text: string): Loaded {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, customTags: CFN_TAGS, prettyErrors: false });
  const error = doc.errors[0];
  if (error) {
    const line = lineCounter.linePos(error.pos[0]).line;
    throw new ImportError(file, line, 'YAML', error.message.split('\n')[0] ?? error.message);
  }
  const lines = new Lines();
  const lineAt = (node: Node | null | undefined): number =>
    node?.range ? lineCounter.linePos(node.range[0]).line : 0;
  // A node's range starts after its tag, so the tag is put back for `!Ref Queue`.
  const sourceOf = (node: Node | null | undefined): string | undefined => {
    if (!node?.range) return undefined;
    const written = text.slice(node.range[0], node.range[1]).trim();
    return node.tag && INTRINSIC_TAGS.has(node.tag) ? `${node.tag} ${written}` : written;
  };
  let visited = 0;
  const active = new Set<Node>();

  const convert = (node: unknown): unknown => {
    if (++visited > MAX_NODES)
      throw new ImportError(file, 0, 'YAML', 'too many nodes (aliases expand too far)');
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (!target) throw new ImportError(file, lineAt(node), 'YAML', `unknown alias *${node.source}`);
      if (active.has(target))
        throw new ImportError(file, lineAt(node), 'YAML', `alias *${node.source} contains itself`);
      active.add(target);
      try {
        return convert(target);
      } finally {
        active.delete(target);
      }
    }
    let value: unknown;
    if (isScalar(node)) {
      value = node.value;
    } else if (isSeq(node)) {
      const out: unknown[] = [];
      for (const item of node.items) {
        lines.set(out, out.length, { line: lineAt(item as Node) });
        out.push(convert(item));
      }
      value = out;
    } else if (isMap(node)) {
      const out: Record<string, unknown> = {};
      const merged: Record<string, unknown>[] = [];
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value ?? '') : String(convert(pair.key));
        const item = convert(pair.value);
        // YAML 1.1 merge keys (`<<: *defaults`), which Serverless users lean on: the map's own keys win, then the first source.
        if (key === '<<' && isScalar(pair.key) && pair.key.source === '<<') {
          for (const source of Array.isArray(item) ? item : [item]) if (isRecord(source)) merged.push(source);
          continue;
        }
        lines.set(out, key, { line: lineAt(pair.key as Node), source: sourceOf(pair.value as Node | null) });
        define(out, key, item);
      }
      for (const source of merged)
        for (const [k, v] of Object.entries(source)) if (!(k in out)) define(out, k, v);
      value = out;
    } else {
      return node ?? null;
    }
    const tag = (node as Node).tag;
    return tag && INTRINSIC_TAGS.has(tag) ? intrinsic(tag.slice(1), value) : value;
  };
  return { value: convert(doc.contents), lines };
}

/** Own property even for `__proto__`. */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The long form of a short-form intrinsic: `!Ref X` → `{ Ref: 'X' }`, `!GetAtt A.Arn` → `{ 'Fn::GetAtt': ['A', 'Arn'] }`. */
function intrinsic(name: string, value: unknown): unknown {
  if (name === 'Ref' || name === 'Condition') return { [name]: value };
  if (name === 'GetAtt' && typeof value === 'string') {
    const dot = value.indexOf('.');
    return { 'Fn::GetAtt': dot < 0 ? [value] : [value.slice(0, dot), value.slice(dot + 1)] };
  }
  return { [`Fn::${name}`]: value };
}
