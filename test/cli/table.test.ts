// Tables the CLI prints: aligned columns, cut to a terminal's width with "…", never cut
// when there is no width to fit (piped output keeps whole values for scripts).

import { afterEach, describe, expect, it, vi } from 'vitest';
import { shortDuration, table } from '../../src/cli/table.ts';

function printed(rows: string[][], width: number | undefined): string[] {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk).replace(/\n$/, ''));
    return true;
  });
  try {
    table(rows, { width });
  } finally {
    spy.mockRestore();
  }
  return lines;
}

const ROWS = [
  ['ID', 'FUNCTION', 'STATUS'],
  ['0mc1x2y3z4-abcdefghijkl-1', 'nightly-report-for-the-finance-team', 'succeeded'],
  ['0mc1x2y3z5-abcdefghijkl-1', 'echo', 'failed'],
];

afterEach(() => vi.restoreAllMocks());

describe('table', () => {
  it('aligns columns two spaces apart and keeps every value whole without a width', () => {
    const lines = printed(ROWS, undefined);
    expect(lines[0]).toBe(`ID${' '.repeat(25)}FUNCTION${' '.repeat(29)}STATUS`);
    expect(lines[1]).toBe('0mc1x2y3z4-abcdefghijkl-1  nightly-report-for-the-finance-team  succeeded');
    expect(lines[2]).toBe(`0mc1x2y3z5-abcdefghijkl-1  echo${' '.repeat(33)}failed`);
  });

  it('cuts the widest columns first to fit a narrow terminal, marking each cut value', () => {
    const lines = printed(ROWS, 60);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(60);
    expect(lines[1]).toBe('0mc1x2y3z4-abcdefghijk…  nightly-report-for-the-…  succeeded');
    // A value that fits its narrowed column is not marked.
    expect(lines[2]).toMatch(/^0mc1x2y3z5-abcdefghijk… {2}echo +failed$/);
  });

  it('never cuts a column below its header or 8 characters, even if the table then overflows', () => {
    const lines = printed(ROWS, 10);
    expect(lines[1]).toBe('0mc1x2y…  nightly…  succeed…');
    expect(lines[0]).toBe('ID        FUNCTION  STATUS');
  });

  it('writes durations short', () => {
    expect([null, 850, 12_500, 840_000, 10_800_000].map(shortDuration)).toEqual([
      '-',
      '850ms',
      '12.5s',
      '14m',
      '3h',
    ]);
  });
});
