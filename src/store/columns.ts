// Rows of values handed to a writer thread by column. Cloning every value into a message
// costs the main thread about 0.9 µs a run record; by column, 0.3 µs on its own and 0.7 µs
// measured inside the W1 drain (its strings are built by concatenation and must be flattened).
// A column with one value for the whole batch (function, status, owner, the nulls) goes
// once; a numeric one as a Float64Array (NaN for null); a text one as one string joined by
// SEP, with NUL for null. A text value holding SEP makes the thread count too many and
// refuse the batch (E_ENCODING); it then gets the plain array.

export const SEP = '\u001f';
export const NUL = '\u0000';
export const E_ENCODING = 'E_ENCODING';

/** A value as a driver takes it; only text, numbers and null go by column. */
type Value = unknown;

export type Column =
  | { readonly same: Value }
  | { readonly numbers: Float64Array }
  | { readonly text: string };

/** What crosses to the thread: `rows` rows, by column or (when they cannot be) as they are. */
export type ColumnBatch =
  | { readonly rows: number; readonly columns: Column[] }
  | { readonly rows: number; readonly values: readonly Value[] };

/** `rows` rows of `width` values, by column; null when a value fits none of the forms. */
export function byColumn(
  values: readonly Value[],
  rows: number,
  width: number,
  numeric: readonly boolean[],
): Column[] | null {
  const columns = new Array<Column>(width);
  for (let c = 0; c < width; c++) {
    const first = values[c]!;
    let r = 1;
    while (r < rows && values[r * width + c] === first) r++;
    if (r === rows) {
      columns[c] = { same: first };
    } else if (numeric[c]) {
      const numbers = new Float64Array(rows);
      for (r = 0; r < rows; r++) {
        const v = values[r * width + c];
        if (v === null) numbers[r] = Number.NaN;
        else if (typeof v === 'number' && !Number.isNaN(v)) numbers[r] = v;
        else return null;
      }
      columns[c] = { numbers };
    } else {
      const text = new Array<string>(rows);
      for (r = 0; r < rows; r++) {
        const v = values[r * width + c];
        if (v === null) text[r] = NUL;
        else if (typeof v === 'string' && v !== NUL) text[r] = v;
        else return null;
      }
      columns[c] = { text: text.join(SEP) };
    }
  }
  return columns;
}

/** Which of `width` columns are numeric, from their indexes. */
export function numericFlags(width: number, numeric: readonly number[]): boolean[] {
  return Array.from({ length: width }, (_, i) => numeric.includes(i));
}

/** Sends rows by column, or as they are when they cannot be or the thread refused them. */
export async function sendByColumn(
  post: (batch: ColumnBatch) => Promise<void>,
  values: readonly Value[],
  width: number,
  numeric: readonly boolean[],
): Promise<void> {
  const rows = values.length / width;
  const columns = byColumn(values, rows, width, numeric);
  if (columns) {
    try {
      return await post({ rows, columns });
    } catch (err) {
      if ((err as { code?: unknown }).code !== E_ENCODING) throw err;
    }
  }
  await post({ rows, values });
}

/**
 * The thread's side: the flat values of a batch. Its source is copied into each thread's code
 * (`decodeColumns.toString()`), where SEP, NUL and E_ENCODING are defined too: it must use
 * nothing else from this module.
 */
export function decodeColumns(batch: ColumnBatch, width: number): Value[] {
  if (!('columns' in batch)) return batch.values as Value[];
  const rows = batch.rows;
  const values = new Array<Value>(rows * width);
  for (let c = 0; c < width; c++) {
    const col = batch.columns[c]!;
    if ('same' in col) {
      for (let r = 0; r < rows; r++) values[r * width + c] = col.same;
    } else if ('numbers' in col) {
      for (let r = 0; r < rows; r++) {
        const n = col.numbers[r]!;
        values[r * width + c] = Number.isNaN(n) ? null : n;
      }
    } else {
      const parts = col.text.split(SEP);
      if (parts.length !== rows) {
        throw Object.assign(new Error('a value holds the separator'), { code: E_ENCODING });
      }
      for (let r = 0; r < rows; r++) values[r * width + c] = parts[r] === NUL ? null : parts[r]!;
    }
  }
  return values;
}

/** The constants decodeColumns needs, as thread source. */
export const COLUMN_CONSTANTS = `const SEP = ${JSON.stringify(SEP)}, NUL = ${JSON.stringify(NUL)}, E_ENCODING = ${JSON.stringify(E_ENCODING)};`;
