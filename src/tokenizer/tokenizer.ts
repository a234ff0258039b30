// BERT's tokenizer (BasicTokenizer + WordPiece), identical in ids and offsets to HF `tokenizers`
// configured as BertTokenizer (BertNormalizer, BertPreTokenizer, WordPiece, BertProcessing).
import { Vocab } from './vocab.js';
import { WordPiece } from './wordpiece.js';
import { isChinese, isPunctuation, isRemoved, isWhitespace, normalizeCodePoint } from './unicode.js';

export interface BertTokenizerOptions {
  /** Lower-case the text (uncased models). Default true. */
  lowerCase?: boolean;
  /** Strip accents (NFD, drop combining marks). Default: follows lowerCase, as in BERT and HF. */
  stripAccents?: boolean;
  /** Words longer than this (in code points, after normalisation) become [UNK]. Default 100. */
  maxInputCharsPerWord?: number;
}

/**
 * 'longest_first': ELECTRA/BERT's _truncate_seq_pair, one token at a time from the longer side
 * (the second on ties). 'hf_longest_first': HF tokenizers' rule (shorter side kept whole if it fits,
 * else both cut to about half). 'only_first' / 'only_second': cut just that side, error if too short.
 */
export type TruncationStrategy = 'longest_first' | 'hf_longest_first' | 'only_first' | 'only_second';

export interface EncodeOptions {
  /** Add [CLS] ... [SEP] (... [SEP]). Default true. */
  addSpecialTokens?: boolean;
  /** Total length, special tokens included, to truncate to. Default: no truncation. */
  maxLength?: number;
  truncation?: TruncationStrategy;
  /** Offsets in code points (default, as HF and Python count characters) or UTF-16 units (for String#slice). */
  offsetUnit?: 'codepoint' | 'utf16';
}

export interface Encoding {
  ids: number[];
  tokens: string[];
  /** [start, end) of each token in its original text; [0, 0] for special tokens. */
  offsets: [number, number][];
  /** Token type ids: 0 for [CLS], A and its [SEP]; 1 for B and its [SEP]. */
  segmentIds: number[];
  /** Index of the pre-tokenized word within its sequence; null for special tokens. */
  wordIds: (number | null)[];
  /** 0 for tokens of A, 1 for tokens of B, null for special tokens. */
  sequenceIds: (number | null)[];
  /** 1 for [CLS]/[SEP], else 0. */
  specialTokensMask: number[];
}

/** The tokens of one text before special tokens: ids, code-point offsets, word index. */
export interface Pieces {
  ids: number[];
  starts: number[];
  ends: number[];
  words: number[];
}

/** One cached word (original text between separators): its pieces, offsets relative to its start. */
interface WordEntry {
  ids: number[];
  starts: number[];
  ends: number[];
  /** Pre-token index within the word per piece; null when the word is one pre-token (the usual case). */
  words: number[] | null;
  wordCount: number;
}

// Scanner classes of an original code point, given the normalisation options.
const UNKNOWN = 0;
const WORD = 1;
const SPACE = 2;
const PUNCT = 3;
const CJK = 4;
const REMOVE = 5;

const MAX_CACHED_WORDS = 1 << 20;

export class BertTokenizer {
  readonly vocab: Vocab;
  readonly lowerCase: boolean;
  readonly stripAccents: boolean;
  readonly padId: number;
  readonly unkId: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly maskId: number;
  private readonly wordPiece: WordPiece;
  private readonly bmpClass = new Uint8Array(0x10000);
  private readonly astralClass = new Map<number, number>();
  private readonly cache = new Map<string, WordEntry>();

  constructor(vocab: Vocab, opts: BertTokenizerOptions = {}) {
    this.vocab = vocab;
    this.lowerCase = opts.lowerCase ?? true;
    this.stripAccents = opts.stripAccents ?? this.lowerCase;
    this.wordPiece = new WordPiece(vocab, { maxInputChars: opts.maxInputCharsPerWord ?? 100 });
    const special = (t: string): number => vocab.idOf(t)!; // Vocab guarantees these exist.
    this.padId = special('[PAD]');
    this.unkId = special('[UNK]');
    this.clsId = special('[CLS]');
    this.sepId = special('[SEP]');
    this.maskId = special('[MASK]');
  }

  static fromVocabFile(path: string, opts?: BertTokenizerOptions): BertTokenizer {
    return new BertTokenizer(Vocab.fromFile(path), opts);
  }

  static fromVocab(tokens: readonly string[], opts?: BertTokenizerOptions): BertTokenizer {
    return new BertTokenizer(new Vocab(tokens), opts);
  }

  /** WordPiece ids of text, without special tokens. */
  encodeIds(text: string): number[] {
    const ids: number[] = [];
    this.scan(text, ids, null);
    return ids;
  }

  /** WordPiece tokens of text, without special tokens. */
  tokenize(text: string): string[] {
    return this.encodeIds(text).map((id) => this.vocab.tokens[id]!);
  }

  /** Ids, code-point offsets and word indices of text, without special tokens. */
  pieces(text: string): Pieces {
    const p: Pieces = { ids: [], starts: [], ends: [], words: [] };
    this.scan(text, p.ids, p);
    return p;
  }

  /** `[CLS] text [SEP]`, or `[CLS] text [SEP] pair [SEP]`, with offsets into each original text. */
  encode(text: string, pair?: string | null, opts: EncodeOptions = {}): Encoding {
    const a = this.pieces(text);
    const b = pair === undefined || pair === null ? null : this.pieces(pair);
    const addSpecial = opts.addSpecialTokens ?? true;
    if (opts.maxLength !== undefined) {
      const specials = addSpecial ? (b ? 3 : 2) : 0;
      truncatePair(a, b, opts.maxLength - specials, opts.truncation ?? 'longest_first');
    }
    if (opts.offsetUnit === 'utf16') {
      toUtf16Offsets(text, a);
      if (b && pair) toUtf16Offsets(pair, b);
    }
    return this.assemble(a, b, addSpecial);
  }

  /** Builds an Encoding from pieces (already truncated). */
  assemble(a: Pieces, b: Pieces | null, addSpecialTokens = true): Encoding {
    const enc: Encoding = { ids: [], tokens: [], offsets: [], segmentIds: [], wordIds: [], sequenceIds: [], specialTokensMask: [] };
    const special = (id: number, segment: number): void => {
      enc.ids.push(id);
      enc.tokens.push(this.vocab.tokens[id]!);
      enc.offsets.push([0, 0]);
      enc.segmentIds.push(segment);
      enc.wordIds.push(null);
      enc.sequenceIds.push(null);
      enc.specialTokensMask.push(1);
    };
    const sequence = (p: Pieces, seq: number): void => {
      const tokens = this.vocab.tokens;
      for (let i = 0; i < p.ids.length; i++) {
        const id = p.ids[i]!;
        enc.ids.push(id);
        enc.tokens.push(tokens[id]!);
        enc.offsets.push([p.starts[i]!, p.ends[i]!]);
        enc.segmentIds.push(seq);
        enc.wordIds.push(p.words[i]!);
        enc.sequenceIds.push(seq);
        enc.specialTokensMask.push(0);
      }
    };
    if (addSpecialTokens) special(this.clsId, 0);
    sequence(a, 0);
    if (addSpecialTokens) special(this.sepId, 0);
    if (b) {
      sequence(b, 1);
      if (addSpecialTokens) special(this.sepId, 1);
    }
    return enc;
  }

  /**
   * Splits text into words at whitespace, punctuation and CJK ideographs (after normalisation, as
   * the reference), looks each word up in the cache, and appends its pieces. Offsets are in code
   * points; `detail` null means ids only.
   */
  private scan(text: string, ids: number[], detail: Pieces | null): void {
    const n = text.length;
    const bmpClass = this.bmpClass;
    let surrogatePairs = 0; // before position i, to turn UTF-16 positions into code-point positions
    let wordStart = -1;
    let wordEnd = -1;
    let wordStartCp = 0;
    let wordIndex = 0;
    const flush = (): void => {
      const entry = this.lookup(text.slice(wordStart, wordEnd));
      const count = entry.ids.length;
      for (let k = 0; k < count; k++) ids.push(entry.ids[k]!);
      if (detail) {
        const words = entry.words;
        for (let k = 0; k < count; k++) {
          detail.starts.push(wordStartCp + entry.starts[k]!);
          detail.ends.push(wordStartCp + entry.ends[k]!);
          detail.words.push(words ? wordIndex + words[k]! : wordIndex);
        }
      }
      wordIndex += entry.wordCount;
      wordStart = -1;
    };
    for (let i = 0; i < n; ) {
      const unit = text.charCodeAt(i);
      let width = 1;
      let cls: number;
      if ((unit & 0xfc00) === 0xd800 && i + 1 < n && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        width = 2;
        cls = this.astralClassOf(((unit - 0xd800) << 10) + (text.charCodeAt(i + 1) - 0xdc00) + 0x10000);
      } else {
        cls = bmpClass[unit]!;
        if (cls === UNKNOWN) cls = bmpClass[unit] = this.classify(unit);
      }
      if (cls === WORD) {
        if (wordStart < 0) {
          wordStart = i;
          wordStartCp = i - surrogatePairs;
        }
        wordEnd = i + width;
      } else if (cls !== REMOVE) {
        // SPACE, PUNCT, CJK all end the current word; PUNCT and CJK are words of their own.
        if (wordStart >= 0) flush();
        if (cls !== SPACE) {
          wordStart = i;
          wordEnd = i + width;
          wordStartCp = i - surrogatePairs;
          flush();
        }
      }
      if (width === 2) surrogatePairs++;
      i += width;
    }
    if (wordStart >= 0) flush();
  }

  private astralClassOf(cp: number): number {
    let cls = this.astralClass.get(cp);
    if (cls === undefined) {
      cls = this.classify(cp);
      this.astralClass.set(cp, cls);
    }
    return cls;
  }

  /** The scanner class of an original code point, judged on what normalisation makes of it. */
  private classify(cp: number): number {
    if (isRemoved(cp)) return REMOVE;
    if (isWhitespace(cp)) return SPACE;
    if (isChinese(cp)) return CJK;
    const normalized = normalizeCodePoint(cp, this.lowerCase, this.stripAccents);
    if (normalized === '') return REMOVE;
    const first = normalized.codePointAt(0)!;
    if (normalized.length === (first > 0xffff ? 2 : 1)) {
      if (isPunctuation(first)) return PUNCT;
      if (isWhitespace(first)) return SPACE;
    }
    // Anything else, including rare expansions that mix letters and punctuation, is handled in word().
    return WORD;
  }

  private lookup(original: string): WordEntry {
    let entry = this.cache.get(original);
    if (entry === undefined) {
      entry = this.word(original);
      if (this.cache.size >= MAX_CACHED_WORDS) this.cache.clear();
      this.cache.set(original, entry);
    }
    return entry;
  }

  /**
   * Normalises one word of original text character by character (remembering which original code
   * point each normalised unit came from), splits it where normalisation produced whitespace or
   * punctuation, and runs WordPiece on each part.
   */
  private word(original: string): WordEntry {
    const entry: WordEntry = { ids: [], starts: [], ends: [], words: null, wordCount: 0 };
    const bounds: number[] = [];
    const wordIndices: number[] = [];
    let part = '';
    let origin: number[] = []; // original code-point index (relative) of each UTF-16 unit of `part`
    const finishPart = (): void => {
      if (part === '') return;
      const first = entry.ids.length;
      bounds.length = 0;
      this.wordPiece.split(part, entry.ids, bounds);
      for (let k = 0; k < entry.ids.length - first; k++) {
        entry.starts.push(origin[bounds[2 * k]!]!);
        entry.ends.push(origin[bounds[2 * k + 1]! - 1]! + 1);
        wordIndices.push(entry.wordCount);
      }
      entry.wordCount++;
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
      if (isWhitespace(cp)) finishPart();
      else if (!isRemoved(cp)) {
        const alone = isChinese(cp); // a CJK ideograph is a word of its own
        if (alone) finishPart();
        for (const c of normalizeCodePoint(cp, this.lowerCase, this.stripAccents)) {
          const ncp = c.codePointAt(0)!;
          if (isWhitespace(ncp)) finishPart();
          else if (isPunctuation(ncp)) {
            finishPart();
            add(c, rel);
            finishPart();
          } else add(c, rel);
        }
        if (alone) finishPart();
      }
      rel++;
    }
    finishPart();
    if (entry.wordCount > 1) entry.words = wordIndices;
    return entry;
  }
}

/** Cuts a and b in place so that together they have at most `budget` tokens. */
export function truncatePair(a: Pieces, b: Pieces | null, budget: number, strategy: TruncationStrategy): void {
  if (budget < 0) throw new Error(`maxLength is too small to hold the special tokens`);
  const na = a.ids.length;
  const nb = b ? b.ids.length : 0;
  if (na + nb <= budget) return;
  let keepA = na;
  let keepB = nb;
  if (!b) {
    if (strategy === 'only_second') throw new Error(`truncation 'only_second' needs a second sequence`);
    keepA = budget;
  } else if (strategy === 'longest_first') {
    // Closed form of BERT's loop "while a + b > budget: pop from the longer (b on ties)".
    const excess = na + nb - budget;
    const gap = Math.abs(na - nb);
    const fromLonger = Math.min(excess, gap);
    if (na > nb) keepA -= fromLonger;
    else keepB -= fromLonger;
    const rest = excess - fromLonger; // now equal lengths: b loses first, then they alternate
    keepB -= Math.ceil(rest / 2);
    keepA -= Math.floor(rest / 2);
  } else if (strategy === 'hf_longest_first') {
    let short = Math.min(na, nb);
    let long = short > budget ? short : Math.max(short, budget - short);
    if (short + long > budget) {
      short = Math.floor(budget / 2);
      long = short + (budget % 2);
    }
    if (na > nb) [keepA, keepB] = [long, short];
    else [keepA, keepB] = [short, long];
  } else {
    const cutA = strategy === 'only_first';
    const excess = na + nb - budget;
    const have = cutA ? na : nb;
    if (have <= excess) {
      throw new Error(`truncation '${strategy}': the ${cutA ? 'first' : 'second'} sequence (${have} tokens) is too short to remove ${excess}`);
    }
    if (cutA) keepA -= excess;
    else keepB -= excess;
  }
  cut(a, keepA);
  if (b) cut(b, keepB);
}

function cut(p: Pieces, keep: number): void {
  p.ids.length = Math.min(p.ids.length, keep);
  p.starts.length = Math.min(p.starts.length, keep);
  p.ends.length = Math.min(p.ends.length, keep);
  p.words.length = Math.min(p.words.length, keep);
}

/** Rewrites code-point offsets as UTF-16 positions in text. */
function toUtf16Offsets(text: string, p: Pieces): void {
  if (!/[\ud800-\udfff]/.test(text)) return;
  const unitOf: number[] = [];
  for (let i = 0; i < text.length; i++) {
    unitOf.push(i);
    if ((text.charCodeAt(i) & 0xfc00) === 0xd800 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
  }
  unitOf.push(text.length);
  for (let k = 0; k < p.starts.length; k++) {
    p.starts[k] = unitOf[p.starts[k]!]!;
    p.ends[k] = unitOf[p.ends[k]!]!;
  }
}
