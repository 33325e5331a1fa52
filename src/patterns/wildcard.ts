// The `wildcard` operator: parses a pattern where `*` matches any run of characters
// (`\*` is a literal star, `\\` a literal backslash) and matches strings against it
// without regular expressions, so no pattern can backtrack exponentially.

/** A parsed wildcard: the literal pieces between the stars. One piece means no star at all. */
export interface Wildcard {
  /** Literal text between stars; `pieces.length - 1` is the number of stars. */
  readonly pieces: readonly string[];
}

/**
 * Parses a wildcard pattern; returns the problem as a string when it is malformed
 * (consecutive unescaped stars, or a backslash that escapes neither `*` nor `\`).
 */
export function parseWildcard(text: string): Wildcard | string {
  const pieces: string[] = [];
  let current = '';
  let lastWasStar = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\') {
      const next = text[i + 1];
      if (next !== '*' && next !== '\\') {
        return next === undefined
          ? `wildcard ${JSON.stringify(text)} ends with a lone backslash; write \\\\ for a literal backslash`
          : `wildcard ${JSON.stringify(text)} escapes ${JSON.stringify(next)}; a backslash may only escape * or \\`;
      }
      current += next;
      i++;
      lastWasStar = false;
    } else if (ch === '*') {
      if (lastWasStar) {
        return `wildcard ${JSON.stringify(text)} has consecutive wildcard characters "**"; one * already matches any run of characters`;
      }
      pieces.push(current);
      current = '';
      lastWasStar = true;
    } else {
      current += ch;
      lastWasStar = false;
    }
  }
  pieces.push(current);
  return { pieces };
}

/** True when `value` matches the wildcard: the pieces appear in order, anchored at both ends. */
export function matchWildcard(w: Wildcard, value: string): boolean {
  const pieces = w.pieces;
  const n = pieces.length;
  const first = pieces[0]!;
  if (n === 1) return value === first;
  const last = pieces[n - 1]!;
  if (value.length < first.length + last.length) return false;
  if (!value.startsWith(first) || !value.endsWith(last)) return false;
  const end = value.length - last.length;
  let pos = first.length;
  // Leftmost placement of each middle piece is optimal when `*` is the only metacharacter.
  for (let i = 1; i < n - 1; i++) {
    const piece = pieces[i]!;
    const at = value.indexOf(piece, pos);
    if (at < 0 || at + piece.length > end) return false;
    pos = at + piece.length;
  }
  return true;
}
