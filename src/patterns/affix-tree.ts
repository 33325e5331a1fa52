// A radix tree of the prefixes (or suffixes) the rules name at one path. Walking a value visits
// every stored prefix of it with one native startsWith/endsWith per edge, without slicing or
// hashing new strings, so shared starts such as "com.acme." cost one step, not one per character.

/** A test guarded by an index entry: run only when the entry is reached. */
export interface Guarded<T> {
  readonly id: number;
  readonly test: (v: T) => boolean;
}

/** Where a walk reports what it reached. */
export interface AtomSink {
  hit(atom: number): void;
  runTests(tests: readonly Guarded<string>[], value: string): void;
}

interface Edge {
  /** The characters this edge consumes, in the string's own order. */
  label: string;
  node: AffixTree;
}

/** Prefixes (backwards = false) or suffixes (backwards = true) of one path. */
export class AffixTree {
  private readonly backwards: boolean;
  /** First code unit of each edge (scanned linearly: nodes have few edges). */
  private codes: number[] = [];
  private edges: Edge[] = [];
  private atom = -1;
  /** Wildcards whose literal start ends here, tested against the whole value. */
  private tests: Guarded<string>[] | null = null;

  constructor(backwards: boolean) {
    this.backwards = backwards;
  }

  /** The code unit `pos` steps into `text`, from its start or its end. */
  private codeAt(text: string, pos: number): number {
    return this.backwards ? text.charCodeAt(text.length - 1 - pos) : text.charCodeAt(pos);
  }

  /** The part of `text` not yet consumed after `pos` steps. */
  private rest(text: string, pos: number): string {
    return this.backwards ? text.slice(0, text.length - pos) : text.slice(pos);
  }

  private edge(code: number): Edge | undefined {
    const i = this.codes.indexOf(code);
    return i < 0 ? undefined : this.edges[i];
  }

  /** Stores `text` with its atom id, or, with `test`, a test to run on values it starts (ends). */
  add(text: string, atom: number, test?: (s: string) => boolean): void {
    let node: AffixTree = this;
    let pos = 0;
    while (pos < text.length) {
      const code = this.codeAt(text, pos);
      const edge = node.edge(code);
      if (edge === undefined) {
        const leaf = new AffixTree(this.backwards);
        node.codes.push(code);
        node.edges.push({ label: this.rest(text, pos), node: leaf });
        node = leaf;
        break;
      }
      const label = edge.label;
      let k = 1;
      while (
        k < label.length &&
        pos + k < text.length &&
        this.codeAt(label, k) === this.codeAt(text, pos + k)
      )
        k++;
      if (k < label.length) {
        // Split the edge after its first k characters.
        const mid = new AffixTree(this.backwards);
        const tail = this.rest(label, k);
        mid.codes.push(this.codeAt(tail, 0));
        mid.edges.push({ label: tail, node: edge.node });
        edge.label = this.backwards ? label.slice(label.length - k) : label.slice(0, k);
        edge.node = mid;
      }
      node = edge.node;
      pos += k;
    }
    if (test === undefined) node.atom = atom;
    else {
      node.tests ??= [];
      node.tests.push({ id: atom, test });
    }
  }

  /** Reports every stored prefix (suffix) of `value` to `sink`. */
  walk(value: string, sink: AtomSink): void {
    let node: AffixTree = this;
    let pos = 0;
    const n = value.length;
    const backwards = this.backwards;
    for (;;) {
      if (node.atom >= 0) sink.hit(node.atom);
      if (node.tests !== null) sink.runTests(node.tests, value);
      if (pos === n || node.codes.length === 0) return;
      const i = node.codes.indexOf(backwards ? value.charCodeAt(n - 1 - pos) : value.charCodeAt(pos));
      if (i < 0) return;
      const edge = node.edges[i]!;
      const label = edge.label;
      if (backwards ? !value.endsWith(label, n - pos) : !value.startsWith(label, pos)) return;
      pos += label.length;
      node = edge.node;
    }
  }
}
