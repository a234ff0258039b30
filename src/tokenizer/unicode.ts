// Character classes and per-character normalisation of BERT's BasicTokenizer, as the HF
// reference implements them (tables in unicode-data.ts are derived from it).
import { removeRuns, whitespaceRuns, punctuationRuns, chineseRuns, markRuns, decomposedRuns } from './unicode-data.js';

/** A sorted set of code points stored as [start, end) pairs. */
class CodePointSet {
  private readonly bounds: Uint32Array;

  constructor(runs: string) {
    const parts = runs === '' ? [] : runs.split(',');
    this.bounds = new Uint32Array(parts.length * 2);
    let prevEnd = 0;
    parts.forEach((part, i) => {
      const plus = part.indexOf('+');
      const start = prevEnd + parseInt(part.slice(0, plus), 16);
      const end = start + parseInt(part.slice(plus + 1), 16);
      this.bounds[2 * i] = start;
      this.bounds[2 * i + 1] = end;
      prevEnd = end;
    });
  }

  has(cp: number): boolean {
    // Binary search for the last start <= cp.
    const b = this.bounds;
    let lo = 0;
    let hi = (b.length >> 1) - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (b[2 * mid]! <= cp) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi >= 0 && cp < b[2 * hi + 1]!;
  }
}

const removeSet = new CodePointSet(removeRuns);
const whitespaceSet = new CodePointSet(whitespaceRuns);
const punctuationSet = new CodePointSet(punctuationRuns);
const chineseSet = new CodePointSet(chineseRuns);
const markSet = new CodePointSet(markRuns);
const decomposedSet = new CodePointSet(decomposedRuns);

/** Dropped by clean_text. Lone surrogates count too: the reference receives them as U+FFFD. */
export function isRemoved(cp: number): boolean {
  return (cp >= 0xd800 && cp <= 0xdfff) || removeSet.has(cp);
}
export function isWhitespace(cp: number): boolean {
  return whitespaceSet.has(cp);
}
export function isPunctuation(cp: number): boolean {
  return punctuationSet.has(cp);
}
export function isChinese(cp: number): boolean {
  return chineseSet.has(cp);
}
/** A combining mark that strip_accents removes. */
export function isStrippedMark(cp: number): boolean {
  return markSet.has(cp);
}

/**
 * What one (kept, non-whitespace) code point becomes under the given options.
 * Known divergence: the reference runs NFD over whole strings, so it also reorders runs of
 * combining marks by combining class. Character by character we cannot; the result differs only
 * when two marks that strip_accents keeps (83 rare ones, e.g. U+08D4-U+08E1, U+302E, U+1E000-
 * U+1E02A) follow one another out of canonical order, and ids/offsets only if the vocabulary
 * holds such marks.
 */
export function normalizeCodePoint(cp: number, lowerCase: boolean, stripAccents: boolean): string {
  let s = String.fromCodePoint(cp);
  // The reference strips accents first, then lower-cases one character at a time.
  if (stripAccents) {
    if (markSet.has(cp)) return '';
    if (decomposedSet.has(cp)) {
      let kept = '';
      for (const c of s.normalize('NFD')) if (!markSet.has(c.codePointAt(0)!)) kept += c;
      s = kept;
    }
  }
  if (lowerCase) {
    let lowered = '';
    // Per character: no final-sigma context rule (String#toLowerCase applies one to whole strings).
    for (const c of s) lowered += c.toLowerCase();
    s = lowered;
  }
  return s;
}

/**
 * The whole normalised text as the reference BertNormalizer produces it (clean_text, spaces around
 * CJK ideographs, strip_accents, lowercase), character by character.
 */
export function normalizeText(text: string, lowerCase: boolean, stripAccents: boolean): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (isRemoved(cp)) continue;
    if (isWhitespace(cp)) out += ' ';
    else if (isChinese(cp)) out += ' ' + normalizeCodePoint(cp, lowerCase, stripAccents) + ' ';
    else out += normalizeCodePoint(cp, lowerCase, stripAccents);
  }
  return out;
}
