// Case folding for `equals-ignore-case` and the ignore-case forms of `prefix`, `suffix`
// and `anything-but`: one function, so the single-pattern matcher and the many-rule index
// fold identically.

const CACHE_LIMIT = 4096;
const folded = new Map<string, string>();

/**
 * Folds `text` for caseless comparison: each code point is upper-cased and then lower-cased
 * on its own, twice (so "ß", "ẞ" and "SS" fold alike, and "Σ", "σ", "ς" too), with no
 * dependence on neighbouring characters. ASCII-only text takes a fast path.
 */
export function foldCase(text: string): string {
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return text.toLowerCase();
  let out = '';
  for (const ch of text) {
    let f = folded.get(ch);
    if (f === undefined) {
      // Twice, so that characters whose folding folds again agree: "ẞ" → "ß" → "ss".
      f = ch.toUpperCase().toLowerCase().toUpperCase().toLowerCase();
      if (folded.size < CACHE_LIMIT) folded.set(ch, f);
    }
    out += f;
  }
  return out;
}
