// The import report: every source item on one line, with what became of it.

import type { ReportLine } from './model.ts';

const LABEL = { imported: 'imported', noted: 'noted   ', skipped: 'skipped ' } as const;

export function sortReport(lines: readonly ReportLine[]): ReportLine[] {
  return [...lines].sort(
    (a, b) => a.origin.file.localeCompare(b.origin.file, 'en') || a.origin.line - b.origin.line,
  );
}

export function formatReport(lines: readonly ReportLine[], files: readonly string[]): string {
  const sorted = sortReport(lines);
  const count = (o: ReportLine['outcome']) => sorted.filter((l) => l.outcome === o).length;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const head =
    `mainspring import: ${plural(sorted.length, 'item')} in ${plural(files.length, 'file')}: ` +
    `${count('imported')} imported, ${count('noted')} imported with a note, ${count('skipped')} not importable`;
  const where = sorted.map((l) => `${l.origin.file}${l.origin.line > 0 ? `:${l.origin.line}` : ''}`);
  const width = Math.max(0, ...where.map((w) => w.length));
  const body = sorted.map(
    (l, i) => `  ${LABEL[l.outcome]}  ${where[i]!.padEnd(width)}  ${l.origin.item}: ${l.message}`,
  );
  return `${[head, ...body].join('\n')}\n`;
}
