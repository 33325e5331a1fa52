// The layering docs/architecture.md draws, checked against the code: every import of src/
// is read (as text: biome keeps one import form, and no TypeScript API is needed), and the
// folder edges are compared with the "Allowed imports" table of that document.

import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');

// `import … from 'x'`, `export … from 'x'`, `import 'x'` (type-only ones too: a type cycle is
// still a cycle for a reader), and `import('x')`.
const STATIC_IMPORT = /\b(?:import|export)\s(?:[^'";]*?\sfrom\s)?\s*['"]([^'"]+)['"]/g;
// `import('pkg' as string)` loads a package without TypeScript reading its types (see import/terraform/parse.ts).
const DYNAMIC_IMPORT = /\bimport\(\s*['"]([^'"]+)['"](?:\s+as\s+string)?\s*\)/g;
const SQL = /\b(?:SELECT\s+[\w*(]|INSERT\s+INTO|DELETE\s+FROM|UPDATE\s+\w+\s+SET|CREATE\s+(?:TABLE|INDEX))/;
const DRIVERS = new Set(['pg', 'node:sqlite', 'postgres']);
/** Folders of pure logic: no I/O, no imports from outside themselves but each other. */
const PURE = new Set(['core', 'expressions', 'patterns']);

interface Source {
  /** Path under src/, with forward slashes. */
  readonly path: string;
  readonly text: string;
  /** Files of src/ it imports (paths under src/). */
  readonly local: string[];
  /** Packages and built-ins it imports. */
  readonly bare: string[];
}

function sourcesIn(root: string): Source[] {
  const out: Source[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.tsx?$/.test(entry.name)) out.push(read(root, full));
    }
  };
  walk(root);
  return out;
}

function read(root: string, file: string): Source {
  const text = readFileSync(file, 'utf8');
  // Comments may quote imports; strings may not, but none of ours does.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const local: string[] = [];
  const bare: string[] = [];
  for (const re of [STATIC_IMPORT, DYNAMIC_IMPORT]) {
    for (const [, spec] of code.matchAll(re)) {
      if (spec!.startsWith('.')) local.push(toPosix(relative(root, resolve(dirname(file), spec!))));
      else bare.push(spec!);
    }
  }
  return { path: toPosix(relative(root, file)), text, local, bare };
}

const toPosix = (p: string) => p.split('\\').join('/');
/** The folder of src/ a file belongs to, or the file itself at the top (app.ts). */
const unitOf = (path: string) => path.split('/')[0]!;

/** The "Allowed imports" table of docs/architecture.md: unit → units it may import. */
function allowedEdges(): Map<string, Set<string>> {
  const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
  const section = doc.slice(doc.indexOf('### Allowed imports'));
  const table = section.slice(0, section.indexOf('\n\n', section.indexOf('| from')));
  const edges = new Map<string, Set<string>>();
  for (const line of table.split('\n')) {
    const row = /^\|\s*`([^`]+)`\s*\|(.*)\|\s*$/.exec(line);
    if (!row) continue;
    const targets = row[2]!
      .replace(/\*\(back\)\*|\(nothing\)/g, '')
      .split(/[,;]/)
      .map((t) => t.trim())
      .filter(Boolean);
    edges.set(row[1]!, new Set(targets));
  }
  return edges;
}

/** Sets of files that import each other, directly or around a loop (Tarjan's algorithm). */
function cycles(sources: readonly Source[]): string[][] {
  const graph = new Map(sources.map((s) => [s.path, s.local]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** Every import that breaks a rule, one line each: what the test reports. */
function violations(sources: readonly Source[], allowed: Map<string, Set<string>>): string[] {
  const out: string[] = [];
  const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
  for (const s of sources) {
    const from = unitOf(s.path);
    // The browser half of the dashboard is bundled on its own and talks to the API only.
    const browser = s.path.startsWith('dashboard/app/');
    const may = allowed.get(from);
    if (!may && !browser && from !== 'index.ts')
      out.push(`${s.path}: ${from} has no row in docs/architecture.md's "Allowed imports"`);
    for (const target of s.local) {
      const to = unitOf(target);
      if (browser && !target.startsWith('dashboard/app/'))
        out.push(`${s.path} imports ${target}: the dashboard's browser code imports only its own files`);
      if (to === from || from === 'index.ts' || browser) continue;
      if (may && !may.has(to)) out.push(`${s.path} imports ${target}: ${from} may not import ${to}`);
      if (PURE.has(from) && !PURE.has(to)) out.push(`${s.path} imports ${target}: ${from} is pure`);
    }
    for (const spec of s.bare) {
      if (DRIVERS.has(spec) && from !== 'store')
        out.push(`${s.path} imports ${spec}: drivers only in store/`);
      if (PURE.has(from)) out.push(`${s.path} imports ${spec}: ${from} is pure and imports no package`);
      else if (!browser && !builtins.has(spec) && !runtimePackage(spec))
        out.push(`${s.path} imports ${spec}, which is not in package.json's dependencies`);
    }
    if (from !== 'store' && !browser && SQL.test(s.text)) out.push(`${s.path} holds SQL: only store/ may`);
  }
  return out;
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};
const packageOf = (spec: string) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');
const runtimePackage = (spec: string) => Object.hasOwn(pkg.dependencies, packageOf(spec));

describe('the layers of src/', () => {
  const sources = sourcesIn(SRC);

  it('reads every file and every import it makes', () => {
    expect(sources.length).toBeGreaterThan(150);
    const paths = new Set(sources.map((s) => s.path));
    // An import the reader resolved wrongly would hide an edge: each must name a file.
    const unresolved = sources.flatMap((s) =>
      s.local.filter((t) => !paths.has(t) && !t.endsWith('.css')).map((t) => `${s.path} -> ${t}`),
    );
    expect(unresolved).toEqual([]);
  });

  it('keeps to the allowed imports, with SQL and drivers only in store/ and pure folders pure', () => {
    expect(violations(sources, allowedEdges())).toEqual([]);
  });

  it('has no import cycle between files', () => {
    expect(cycles(sources)).toEqual([]);
  });

  it("names every folder and file at the top of src/ in the README's Layout, and nothing gone", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf('```', readme.indexOf('## Layout'));
    const layout = readme.slice(start, readme.indexOf('```', start + 3));
    const listed = [...layout.matchAll(/^ {2}(\S+?)\/?\s/gm)].map((m) => m[1]!);
    const tree = readdirSync(SRC).filter((f) => f !== 'version.ts');
    expect(tree.filter((f) => !listed.includes(f))).toEqual([]);
    expect(listed.filter((f) => !tree.includes(f))).toEqual([]);
  });

  it('uses every runtime dependency in src/ (a test-only package belongs in devDependencies)', () => {
    const used = new Set(sources.flatMap((s) => s.bare.map(packageOf)));
    expect(Object.keys(pkg.dependencies).filter((d) => !used.has(d))).toEqual([]);
  });

  it('fails on a forbidden import, a cycle, SQL outside store/ and a package that is not a dependency', () => {
    const bad: Source[] = [
      { path: 'core/x.ts', text: '', local: ['store/types.ts'], bare: ['node:fs'] },
      { path: 'store/types.ts', text: '', local: ['runtime/function.ts'], bare: [] },
      { path: 'queue/y.ts', text: "const q = 'DELETE FROM messages'", local: [], bare: ['pg', 'vitest'] },
      { path: 'a/one.ts', text: '', local: ['a/two.ts'], bare: [] },
      { path: 'a/two.ts', text: '', local: ['a/one.ts'], bare: [] },
    ];
    expect(violations(bad, allowedEdges())).toEqual([
      'core/x.ts imports store/types.ts: core may not import store',
      'core/x.ts imports store/types.ts: core is pure',
      'core/x.ts imports node:fs: core is pure and imports no package',
      'store/types.ts imports runtime/function.ts: store may not import runtime',
      'queue/y.ts imports pg: drivers only in store/',
      "queue/y.ts imports vitest, which is not in package.json's dependencies",
      'queue/y.ts holds SQL: only store/ may',
      'a/one.ts: a has no row in docs/architecture.md\'s "Allowed imports"',
      'a/two.ts: a has no row in docs/architecture.md\'s "Allowed imports"',
    ]);
    expect(cycles(bad)).toEqual([['a/one.ts', 'a/two.ts']]);
  });
});
