// BERT's tokenizer (BasicTokenizer + WordPiece), identical in ids and offsets to HF `tokenizers`
// configured as BertTokenizer (BertNormalizer, BertPreTokenizer, WordPiece, BertProcessing).
import { Vocab } from './vocab.js';
import { WordPiece } from './wordpiece.js';
import { BasicTokenizer, REMOVE, SPACE, UNKNOWN, WORD } from './basic.js';

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
 * (the second on ties); HF's LongestFirst splits differently and is not offered.
 * 'only_first' / 'only_second': cut just that side (as HF does), error if it is too short.
 */
export type TruncationStrategy = 'longest_first' | 'only_first' | 'only_second';

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
  private readonly basic: BasicTokenizer;
  private readonly cache = new WordCache();

  constructor(vocab: Vocab, opts: BertTokenizerOptions = {}) {
    this.vocab = vocab;
    this.basic = new BasicTokenizer(opts);
    this.lowerCase = this.basic.lowerCase;
    this.stripAccents = this.basic.stripAccents;
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

  /** Appends the WordPiece ids of text to `ids` (no special tokens); avoids an array per text. */
  encodeIdsInto(text: string, ids: number[]): void {
    this.scan(text, ids, null);
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
      if (b) toUtf16Offsets(pair!, b);
    }
    return this.assemble(a, b, addSpecial);
  }

  /** Builds an Encoding from pieces (already truncated). */
  assemble(a: Pieces, b: Pieces | null, addSpecialTokens = true): Encoding {
    const total = a.ids.length + (b ? b.ids.length : 0) + (addSpecialTokens ? (b ? 3 : 2) : 0);
    // Arrays of the final size, filled by index: much cheaper than growing seven arrays.
    const ids = new Array<number>(total);
    const tokens = new Array<string>(total);
    const offsets = new Array<[number, number]>(total);
    const segmentIds = new Array<number>(total);
    const wordIds = new Array<number | null>(total);
    const sequenceIds = new Array<number | null>(total);
    const specialTokensMask = new Array<number>(total);
    const vocabTokens = this.vocab.tokens;
    let at = 0;
    const special = (id: number, segment: number): void => {
      ids[at] = id;
      tokens[at] = vocabTokens[id]!;
      offsets[at] = [0, 0];
      segmentIds[at] = segment;
      wordIds[at] = null;
      sequenceIds[at] = null;
      specialTokensMask[at] = 1;
      at++;
    };
    const sequence = (p: Pieces, seq: number): void => {
      const pIds = p.ids;
      for (let i = 0; i < pIds.length; i++, at++) {
        const id = pIds[i]!;
        ids[at] = id;
        tokens[at] = vocabTokens[id]!;
        offsets[at] = [p.starts[i]!, p.ends[i]!];
        segmentIds[at] = seq;
        wordIds[at] = p.words[i]!;
        sequenceIds[at] = seq;
        specialTokensMask[at] = 0;
      }
    };
    if (addSpecialTokens) special(this.clsId, 0);
    sequence(a, 0);
    if (addSpecialTokens) special(this.sepId, 0);
    if (b) {
      sequence(b, 1);
      if (addSpecialTokens) special(this.sepId, 1);
    }
    return { ids, tokens, offsets, segmentIds, wordIds, sequenceIds, specialTokensMask };
  }

  /**
   * Appends the pieces of text's words (offsets in code points; `detail` null means ids only).
   * The word scan of BasicTokenizer.forEachWord, fused with a hash of each word computed on the
   * way, so that cached words are found without cutting a string out of text.
   */
  private scan(text: string, ids: number[], detail: Pieces | null): void {
    const n = text.length;
    const basic = this.basic;
    const bmpClass = basic.bmpClass;
    let surrogatePairs = 0;
    let wordStart = -1;
    let wordEnd = -1;
    let wordStartCp = 0;
    let wordIndex = 0;
    let hash = 0; // running hash of the current word's units
    let wordHash = 0; // hash up to wordEnd (trailing dropped characters excluded)
    for (let i = 0; i < n; ) {
      const unit = text.charCodeAt(i);
      let width = 1;
      let cls: number;
      if (unit < 0xd800 || unit > 0xdfff) {
        cls = bmpClass[unit]!;
        if (cls === UNKNOWN) cls = basic.classOfUnit(unit);
      } else if (unit < 0xdc00 && i + 1 < n && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        width = 2;
        cls = basic.astralClassOf(((unit - 0xd800) << 10) + (text.charCodeAt(i + 1) - 0xdc00) + 0x10000);
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
          wordIndex = this.emit(text, wordStart, wordEnd, wordHash, wordStartCp, wordIndex, ids, detail);
          wordStart = -1;
        }
        if (cls !== SPACE) {
          // PUNCT or CJK: a word of its own
          let h = unit;
          if (width === 2) h = (Math.imul(h, 31) + text.charCodeAt(i + 1)) | 0;
          wordIndex = this.emit(text, i, i + width, h, i - surrogatePairs, wordIndex, ids, detail);
        }
      }
      if (width === 2) surrogatePairs++;
      i += width;
    }
    if (wordStart >= 0) this.emit(text, wordStart, wordEnd, wordHash, wordStartCp, wordIndex, ids, detail);
  }

  /** Appends the pieces of the word text[start, end) and returns the next word index. */
  private emit(
    text: string, start: number, end: number, hash: number, startCp: number, wordIndex: number, ids: number[], detail: Pieces | null,
  ): number {
    let entry = this.cache.lookup(text, start, end, hash);
    if (entry === undefined) {
      const word = text.slice(start, end);
      entry = this.cache.insert(word, hash, this.wordEntry(word));
    }
    const entryIds = entry.ids;
    const count = entryIds.length;
    for (let k = 0; k < count; k++) ids.push(entryIds[k]!);
    if (detail) {
      const words = entry.words;
      for (let k = 0; k < count; k++) {
        detail.starts.push(startCp + entry.starts[k]!);
        detail.ends.push(startCp + entry.ends[k]!);
        detail.words.push(words ? wordIndex + words[k]! : wordIndex);
      }
    }
    return wordIndex + entry.wordCount;
  }

  /** WordPiece over one word's normalised parts, offsets mapped back to the original word. */
  private wordEntry(original: string): WordEntry {
    const { parts, origins } = this.basic.normalizeWord(original);
    const entry: WordEntry = { ids: [], starts: [], ends: [], words: null, wordCount: parts.length };
    const wordIndices: number[] = [];
    const bounds: number[] = [];
    parts.forEach((part, p) => {
      const origin = origins[p] ?? null; // null: unit i is code point i
      const first = entry.ids.length;
      bounds.length = 0;
      this.wordPiece.split(part, entry.ids, bounds);
      for (let k = 0; k < entry.ids.length - first; k++) {
        entry.starts.push(origin ? origin[bounds[2 * k]!]! : bounds[2 * k]!);
        entry.ends.push(origin ? origin[bounds[2 * k + 1]! - 1]! + 1 : bounds[2 * k + 1]!);
        wordIndices.push(p);
      }
    });
    if (parts.length > 1) entry.words = wordIndices;
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

/**
 * Words already split, found by (hash, text region) with open addressing: no substring is cut
 * out of the text to look a word up. Emptied when full, so memory stays bounded on huge corpora.
 */
class WordCache {
  private static readonly MAX_WORDS = 1 << 19;
  private mask = (1 << 12) - 1;
  private keys: (string | undefined)[] = new Array<string | undefined>(this.mask + 1);
  private hashes = new Int32Array(this.mask + 1);
  private entries: (WordEntry | undefined)[] = new Array<WordEntry | undefined>(this.mask + 1);
  private size = 0;

  lookup(text: string, start: number, end: number, hash: number): WordEntry | undefined {
    const length = end - start;
    for (let slot = mix(hash) & this.mask; ; slot = (slot + 1) & this.mask) {
      const key = this.keys[slot];
      if (key === undefined) return undefined;
      if (this.hashes[slot] === hash && key.length === length && text.startsWith(key, start)) return this.entries[slot];
    }
  }

  insert(key: string, hash: number, entry: WordEntry): WordEntry {
    if (this.size >= WordCache.MAX_WORDS) this.reset(this.mask + 1);
    else if (2 * (this.size + 1) > this.mask + 1) this.grow();
    this.place(key, hash, entry);
    this.size++;
    return entry;
  }

  private place(key: string, hash: number, entry: WordEntry): void {
    let slot = mix(hash) & this.mask;
    while (this.keys[slot] !== undefined) slot = (slot + 1) & this.mask;
    this.keys[slot] = key;
    this.hashes[slot] = hash;
    this.entries[slot] = entry;
  }

  private grow(): void {
    const { keys, hashes, entries, size } = this;
    this.reset(2 * (this.mask + 1));
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (key !== undefined) this.place(key, hashes[i]!, entries[i]!);
    }
    this.size = size;
  }

  private reset(capacity: number): void {
    this.mask = capacity - 1;
    this.keys = new Array<string | undefined>(capacity);
    this.hashes = new Int32Array(capacity);
    this.entries = new Array<WordEntry | undefined>(capacity);
    this.size = 0;
  }
}

/** Spreads a word hash over all bits (murmur3's finaliser): similar words must not share slots. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
