// Plain-text output the CLI commands share: aligned tables and short durations.

export interface TableOptions {
  /** Terminal width to fit (default: the terminal's, or no limit when output is piped). */
  readonly width?: number | undefined;
}

/**
 * Prints rows as columns aligned on the widest cell, two spaces apart; the first row is the
 * header. On a terminal too narrow for them, the widest columns are cut (ending in "…") until
 * the table fits; piped output is never cut, so scripts see whole values.
 */
export function table(rows: string[][], options: TableOptions = {}): void {
  const limit = options.width ?? (process.stdout.isTTY ? process.stdout.columns : undefined);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  if (limit !== undefined && limit > 0) fitWidths(widths, rows[0]!, limit);
  for (const r of rows) {
    const line = r
      .map((c, i) => cut(c, widths[i]!).padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
    process.stdout.write(`${line}\n`);
  }
}

/** Narrows the widest column one character at a time, never below its header or 8 characters. */
function fitWidths(widths: number[], header: string[], limit: number): void {
  const total = () => widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1);
  while (total() > limit) {
    let widest = -1;
    for (let i = 0; i < widths.length; i++) {
      const floor = Math.max(8, header[i]!.length);
      if (widths[i]! > floor && (widest === -1 || widths[i]! > widths[widest]!)) widest = i;
    }
    if (widest === -1) return;
    widths[widest]!--;
  }
}

function cut(cell: string, width: number): string {
  return cell.length <= width ? cell : `${cell.slice(0, width - 1)}…`;
}

/** `850ms`, `12.5s`, `14m`, `3h`; `-` for none. */
export function shortDuration(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${ms}ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)}m`;
  return `${Math.round(ms / 3_600_000)}h`;
}
