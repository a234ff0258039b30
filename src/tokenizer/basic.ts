// BERT's BasicTokenizer as HF implements it (BertNormalizer + BertPreTokenizer): finds the words
// of a text without copying it, and normalises one word at a time keeping each unit's origin.
import { isChinese, isPunctuation, isRemoved, isWhitespace, normalizeCodePoint } from './unicode.js';

export interface BasicTokenizerOptions {
  lowerCase?: boolean;
  /** Default: follows lowerCase. */
  stripAccents?: boolean;
}

/** A word of original text after normalisation: the pre-tokens it splits into. */
export interface NormalizedWord {
  parts: string[];
  /**
   * Per part, per UTF-16 unit: the code-point index (relative to the word) it came from; null
   * when unit i came from code point i (plain ASCII words, the usual case).
   */
  origins: (number[] | null)[];
}

/** Called with a word's [start, end) in UTF-16 units and its start in code points. */
export type WordVisitor = (start: number, end: number, startCodePoint: number) => void;

/** Receives the words of BasicTokenizer.scanWords: a WordVisitor that also gets the word's hash. */
export interface WordSink {
  word(start: number, end: number, startCodePoint: number, hash: number): void;
}

/** The hash scanWords gives the word text[start, end): h = h * 31 + unit over its UTF-16 units, in int32. */
export function wordHash(text: string, start: number, end: number): number {
  let h = 0;
  for (let i = start; i < end; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  return h;
}

// Scanner classes of an original code point under the normalisation options.
const UNKNOWN = 0;
const WORD = 1;
const SPACE = 2;
const PUNCT = 3;
const CJK = 4;
const REMOVE = 5;

export class BasicTokenizer {
  readonly lowerCase: boolean;
  readonly stripAccents: boolean;
  /** Class of each BMP code unit, filled in on first sight (UNKNOWN until then). */
  private readonly bmpClass = new Uint8Array(0x10000);
  /** The same for the supplementary planes, allocated when the first such character shows up. */
  private astralClass: Uint8Array | null = null;
  private readonly normalizedBmp = new Array<string | undefined>(0x10000);

  constructor(opts: BasicTokenizerOptions = {}) {
    this.lowerCase = opts.lowerCase ?? true;
    this.stripAccents = opts.stripAccents ?? this.lowerCase;
  }

  /**
   * Visits the words of text: runs between whitespace, with each punctuation character and CJK
   * ideograph a word of its own, judged after normalisation as the reference does. Dropped
   * characters (controls; marks when stripping accents) inside a word stay in its span, at its
   * ends they are left out. A word may still split further in normalizeWord (rare expansions).
   */
  forEachWord(text: string, visit: WordVisitor): void {
    this.scanWords(text, 0, text.length, { word: visit });
  }

  /**
   * The one word scanner (forEachWord and BertTokenizer's cached path both use it): visits the
   * words of text[from, n) with their code-point starts counted from `from`, and each word's
   * wordHash, computed on the way so that a cache can find the word without cutting it out.
   * A lone surrogate is dropped (as HF, which sees it as U+FFFD and drops that).
   */
  scanWords(text: string, from: number, n: number, sink: WordSink): void {
    const bmpClass = this.bmpClass;
    let surrogatePairs = from; // before position i: turns UTF-16 positions into code-point positions
    let wordStart = -1;
    let wordEnd = -1;
    let wordStartCp = 0;
    let hash = 0; // running hash of the current word's units
    let wordHash = 0; // hash up to wordEnd (trailing dropped characters excluded)
    for (let i = from; i < n; ) {
      const unit = text.charCodeAt(i);
      let width = 1;
      let cls: number;
      if (unit < 0xd800 || unit > 0xdfff) {
        cls = bmpClass[unit]!;
        if (cls === UNKNOWN) cls = bmpClass[unit] = this.classify(unit);
      } else if (unit < 0xdc00 && i + 1 < n && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        width = 2;
        cls = this.astralClassOf(((unit - 0xd800) << 10) + (text.charCodeAt(i + 1) - 0xdc00) + 0x10000);
      } else cls = REMOVE; // lone surrogate
      if (cls === WORD) {
        if (wordStart < 0) {
          wordStart = i;
          wordStartCp = i - surrogatePairs;
          hash = 0;
        }
        hash = (Math.imul(hash, 31) + unit) | 0;
        if (width === 2) hash = (Math.imul(hash, 31) + text.charCodeAt(i + 1)) | 0;
        wordHash = hash;
        wordEnd = i + width;
      } else if (cls === REMOVE) {
        if (wordStart >= 0) {
          hash = (Math.imul(hash, 31) + unit) | 0;
          if (width === 2) hash = (Math.imul(hash, 31) + text.charCodeAt(i + 1)) | 0;
        }
      } else {
        if (wordStart >= 0) {
          sink.word(wordStart, wordEnd, wordStartCp, wordHash);
          wordStart = -1;
        }
        if (cls !== SPACE) {
          // PUNCT or CJK: a word of its own
          let h = unit;
          if (width === 2) h = (Math.imul(h, 31) + text.charCodeAt(i + 1)) | 0;
          sink.word(i, i + width, i - surrogatePairs, h);
        }
      }
      if (width === 2) surrogatePairs++;
      i += width;
    }
    if (wordStart >= 0) sink.word(wordStart, wordEnd, wordStartCp, wordHash);
  }

  /** Normalises one word found by forEachWord, splitting it where normalisation made separators. */
  normalizeWord(original: string): NormalizedWord {
    if (isAsciiAlphanumeric(original)) return { parts: [this.lowerCase ? original.toLowerCase() : original], origins: [null] };
    const parts: string[] = [];
    const origins: (number[] | null)[] = [];
    let part = '';
    let origin: number[] = [];
    const finish = (): void => {
      if (part === '') return;
      parts.push(part);
      origins.push(origin);
      part = '';
      origin = [];
    };
    const add = (c: string, rel: number): void => {
      part += c;
      origin.push(rel);
      if (c.length === 2) origin.push(rel);
    };
    let rel = 0;
    for (const ch of original) {
      const cp = ch.codePointAt(0)!;
      if (isWhitespace(cp)) finish();
      else if (!isRemoved(cp)) {
        const alone = isChinese(cp); // a CJK ideograph is a word of its own
        if (alone) finish();
        for (const c of this.normalized(cp)) {
          const ncp = c.codePointAt(0)!;
          if (isWhitespace(ncp)) finish();
          else if (isPunctuation(ncp)) {
            finish();
            add(c, rel);
            finish();
          } else add(c, rel);
        }
        if (alone) finish();
      }
      rel++;
    }
    finish();
    return { parts, origins };
  }

  /** The normalised pre-tokens of text (what WordPiece sees). */
  preTokenize(text: string): string[] {
    const out: string[] = [];
    this.forEachWord(text, (start, end) => {
      for (const part of this.normalizeWord(text.slice(start, end)).parts) out.push(part);
    });
    return out;
  }

  /** normalizeCodePoint under this tokenizer's options, remembered for BMP characters. */
  private normalized(cp: number): string {
    if (cp > 0xffff) return normalizeCodePoint(cp, this.lowerCase, this.stripAccents);
    let s = this.normalizedBmp[cp];
    if (s === undefined) s = this.normalizedBmp[cp] = normalizeCodePoint(cp, this.lowerCase, this.stripAccents);
    return s;
  }

  /** Class of a supplementary-plane code point. */
  private astralClassOf(cp: number): number {
    const table = (this.astralClass ??= new Uint8Array(0x110000 - 0x10000));
    let cls = table[cp - 0x10000]!;
    if (cls === UNKNOWN) cls = table[cp - 0x10000] = this.classify(cp);
    return cls;
  }

  /** The scanner class of an original code point, judged on what normalisation makes of it. */
  private classify(cp: number): number {
    if (isRemoved(cp)) return REMOVE;
    if (isWhitespace(cp)) return SPACE;
    if (isChinese(cp)) return CJK;
    const normalized = this.normalized(cp);
    if (normalized === '') return REMOVE;
    const first = normalized.codePointAt(0)!;
    if (normalized.length === (first > 0xffff ? 2 : 1)) {
      if (isPunctuation(first)) return PUNCT;
      if (isWhitespace(first)) return SPACE;
    }
    // Anything else, including rare expansions mixing letters and punctuation, is a word;
    // normalizeWord splits it where needed.
    return WORD;
  }
}

/** Only [0-9A-Za-z]: such a word normalises to itself (lower-cased) with no splits. */
function isAsciiAlphanumeric(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) | 0x20; // folds upper case onto lower case; digits stay digits
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39))) return false;
  }
  return true;
}
