// Rows as the drivers return them: node:sqlite gives integers as numbers, node-postgres
// gives bigint columns as strings. The row modules read both through these.

/** A stored millisecond time, or null. */
export const ms = (v: number | string | null): number | null => (v === null ? null : Number(v));
