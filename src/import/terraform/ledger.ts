// The import report, one line per source block: skipped when nothing came of it, noted when
// something changed or was left behind, imported when it came over as it was.

import type { Origin, ReportLine } from '../model.ts';

interface Entry {
  readonly origin: Origin;
  readonly done: string[];
  readonly notes: string[];
  skip?: string;
}

export class Ledger {
  private readonly entries = new Map<string, Entry>();
  /** Position of each file in the module, so lines come out file by file, then by line. */
  private readonly fileOrder: ReadonlyMap<string, number>;

  constructor(files: readonly string[]) {
    this.fileOrder = new Map(files.map((f, i) => [f, i]));
  }

  open(key: string, origin: Origin): void {
    this.entries.set(key, { origin, done: [], notes: [] });
  }

  did(key: string, message: string): void {
    const e = this.entries.get(key);
    if (e && !e.done.includes(message)) e.done.push(message);
  }

  note(key: string, message: string): void {
    const e = this.entries.get(key);
    if (e && !e.notes.includes(message)) e.notes.push(message);
  }

  /** The first reason given wins: it is the one closest to the cause. */
  skip(key: string, message: string): void {
    const e = this.entries.get(key);
    if (e && e.skip === undefined) e.skip = message;
  }

  hasDone(key: string): boolean {
    return (this.entries.get(key)?.done.length ?? 0) > 0;
  }

  touched(key: string): boolean {
    const e = this.entries.get(key);
    return e !== undefined && (e.done.length > 0 || e.skip !== undefined);
  }

  /** Sorts origins file by file (in the module's order), then by line. */
  compare(a: Origin, b: Origin): number {
    return (this.fileOrder.get(a.file) ?? 0) - (this.fileOrder.get(b.file) ?? 0) || a.line - b.line;
  }

  lines(): ReportLine[] {
    const out: ReportLine[] = [];
    for (const e of this.entries.values()) {
      if (e.done.length === 0) {
        out.push({ origin: e.origin, outcome: 'skipped', message: e.skip ?? 'nothing to import: left out' });
        continue;
      }
      const notes = e.skip === undefined ? e.notes : [...e.notes, e.skip];
      const message = [...e.done, ...notes].join('; ');
      out.push({ origin: e.origin, outcome: notes.length > 0 ? 'noted' : 'imported', message });
    }
    return out.sort((a, b) => this.compare(a.origin, b.origin));
  }
}
