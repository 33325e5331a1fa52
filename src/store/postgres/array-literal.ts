// PostgreSQL array literals for batch writes that pass one column per parameter
// (`unnest($1::text[], $2::bigint[], …)`): the server parses them in C for about half the CPU
// that jsonb_array_elements and a cast per value cost it. A JSON array is nearly such a literal
// — strings quoted, `"` and `\` escaped with a backslash, numbers bare, null as NULL — so
// JSON.stringify, in C++, builds it; node-postgres' own array encoding escapes in JavaScript.
// The one difference is control characters, which JSON writes as `\n` and PostgreSQL would read
// as `n`: so strings must have none, as ids, status names and JSON texts never do.

/** `{1,"a\"b",null}` from `[1, 'a"b', null]`: numbers, null, and strings without control characters. */
export function arrayLiteral(values: readonly (string | number | null)[]): string {
  const json = JSON.stringify(values);
  return `{${json.slice(1, -1)}}`;
}
