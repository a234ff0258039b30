// BERT's tokenizer (BasicTokenizer + WordPiece), identical in ids and offsets to HF `tokenizers`
// configured as BertTokenizer (BertNormalizer, BertPreTokenizer, WordPiece, BertProcessing).
import { Vocab, duplicateEntryError, missingSpecialsError, readVocabFile } from './vocab.js';
import { PieceTrie, WordPiece, type PieceTrieArrays } from './wordpiece.js';
import { BasicTokenizer, type WordSink } from './basic.js';
import { EMPTY_INT32, WordCache, AT, COUNT, WORDS } from './word-cache.js';

export interface BertTokenizerOptions {
  /** Lower-case the text (uncased models). Default true. */
  lowerCase?: boolean;
  /** Strip accents (NFD, drop combining marks). Default: follows lowerCase, as in BERT and HF. */
  stripAccents?: boolean;
  /** Words longer than this (in code points, after normalisation) become [UNK]. Default 100. */
  maxInputCharsPerWord?: number;
  /** WordPiece tries already built for this vocabulary (e.g. shared by another thread): skips building them. */
  trie?: PieceTrie;
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

/**
 * Everything a tokenizer is made of, in a form postMessage passes to a worker thread cheaply (the
 * tries in shared memory are not even copied): BertTokenizer.fromData rebuilds it without parsing
 * the vocabulary or building the tries again.
 */
export interface BertTokenizerData {
  tokens: readonly string[];
  /** Ids of [PAD], [UNK], [CLS], [SEP], [MASK]. */
  specialIds: readonly number[];
  trie: PieceTrieArrays;
  lowerCase: boolean;
  stripAccents: boolean;
  maxInputCharsPerWord: number;
}

const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

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
  /** Ids of the text being scanned. */
  private idBuf = EMPTY_INT32; // allocated in the constructor (see WordCache's fields)
  private idLen = 0;
  // Scratch of the word-splitting slow path.
  private readonly scratchIds: number[] = [];
  private readonly scratchBounds: number[] = [];
  // State of the scan in progress, read by `sink` for each word.
  private scanText = '';
  private scanDetail: Pieces | null = null;
  private scanWordIndex = 0;
  private readonly sink: WordSink = {
    word: (start, end, startCp, hash) => {
      this.scanWordIndex = this.emit(this.scanText, start, end, hash, startCp, this.scanWordIndex, this.scanDetail);
    },
  };

  /** `specialIds`: the ids of [PAD] [UNK] [CLS] [SEP] [MASK] when known (spares indexing the vocabulary). */
  constructor(vocab: Vocab, opts: BertTokenizerOptions = {}, specialIds?: readonly number[]) {
    this.vocab = vocab;
    this.idBuf = new Int32Array(1024);
    this.basic = new BasicTokenizer(opts);
    this.lowerCase = this.basic.lowerCase;
    this.stripAccents = this.basic.stripAccents;
    // Vocab guarantees the special tokens exist.
    const [pad, unk, cls, sep, mask] = specialIds ?? SPECIALS.map((t) => vocab.idOf(t)!);
    this.wordPiece = new WordPiece(vocab, { maxInputChars: opts.maxInputCharsPerWord ?? 100, trie: opts.trie, unkId: unk });
    this.padId = pad!;
    this.unkId = unk!;
    this.clsId = cls!;
    this.sepId = sep!;
    this.maskId = mask!;
  }

  /** This tokenizer as data for BertTokenizer.fromData (in another thread); the tries are in shared memory. */
  toData(): BertTokenizerData {
    return {
      tokens: this.vocab.tokens,
      specialIds: [this.padId, this.unkId, this.clsId, this.sepId, this.maskId],
      trie: this.wordPiece.trie.arrays(),
      lowerCase: this.lowerCase,
      stripAccents: this.stripAccents,
      maxInputCharsPerWord: this.wordPiece.maxInputChars,
    };
  }

  /** The tokenizer that `toData` described (its vocabulary was validated when that one was made). */
  static fromData(data: BertTokenizerData): BertTokenizer {
    const { tokens, specialIds } = data;
    if (!Array.isArray(tokens) || !Array.isArray(specialIds) || specialIds.length !== SPECIALS.length) {
      throw new Error('BertTokenizer.fromData: expected the object made by BertTokenizer#toData');
    }
    SPECIALS.forEach((t, k) => {
      if (tokens[specialIds[k]!] !== t) throw new Error(`BertTokenizer.fromData: special token ${t} is not at id ${specialIds[k]}`);
    });
    const opts = { lowerCase: data.lowerCase, stripAccents: data.stripAccents, maxInputCharsPerWord: data.maxInputCharsPerWord };
    return new BertTokenizer(Vocab.trusted(tokens), { ...opts, trie: new PieceTrie(data.trie) }, specialIds);
  }

  static fromVocabFile(path: string, opts?: BertTokenizerOptions): BertTokenizer {
    return BertTokenizer.fromCheckedTokens(readVocabFile(path), path, opts);
  }

  static fromVocab(tokens: readonly string[], opts?: BertTokenizerOptions): BertTokenizer {
    return BertTokenizer.fromCheckedTokens(tokens, 'vocabulary', opts);
  }

  /**
   * Checks the tokens as Vocab does (no repeats, the special tokens present, same errors) with the
   * tries being built anyway, instead of indexing 30,000 strings in a Map first.
   */
  private static fromCheckedTokens(tokens: readonly string[], source: string, opts: BertTokenizerOptions = {}): BertTokenizer {
    if (opts.trie) return new BertTokenizer(new Vocab(tokens, source), opts);
    const trie = PieceTrie.build(tokens, '##', (id, first) => {
      throw duplicateEntryError(source, tokens[id]!, id, first);
    });
    const specialIds = SPECIALS.map((t) => trie.idOf(PieceTrie.INITIAL, t));
    const missing = SPECIALS.filter((_, k) => specialIds[k]! < 0);
    if (missing.length > 0) throw missingSpecialsError(source, missing);
    return new BertTokenizer(Vocab.trusted(tokens), { ...opts, trie }, specialIds);
  }

  /** WordPiece ids of text, without special tokens. */
  encodeIds(text: string): number[] {
    const n = this.scan(text, 0, text.length, null);
    const buf = this.idBuf;
    const ids = new Array<number>(n);
    for (let k = 0; k < n; k++) ids[k] = buf[k]!;
    return ids;
  }

  /** Appends the WordPiece ids of text to `ids` (no special tokens); avoids an array per text. */
  encodeIdsInto(text: string, ids: number[]): void {
    const n = this.scan(text, 0, text.length, null);
    const buf = this.idBuf;
    for (let k = 0; k < n; k++) ids.push(buf[k]!);
  }

  /**
   * The WordPiece ids of text[start, end) (no special tokens), as encodeIds(text.slice(start, end))
   * gives them, written to `idBuffer` from index 0: returns their count. Nothing is allocated, and
   * a long text (a whole file) can be tokenized line by line without cutting lines out of it.
   */
  encodeIdsRange(text: string, start: number, end: number): number {
    if (!(start >= 0 && start <= end && end <= text.length)) throw new RangeError(`range [${start}, ${end}) is outside a text of length ${text.length}`);
    return this.scan(text, start, end, null);
  }

  /** The ids written by the last encodeIdsRange (valid until the tokenizer's next call). */
  get idBuffer(): Int32Array {
    return this.idBuf;
  }

  /** The WordPiece tries (to hand to another thread's tokenizer through the `trie` option). */
  get trie(): PieceTrie {
    return this.wordPiece.trie;
  }

  /** WordPiece tokens of text, without special tokens. */
  tokenize(text: string): string[] {
    return this.encodeIds(text).map((id) => this.vocab.tokens[id]!);
  }

  /** Ids, code-point offsets and word indices of text, without special tokens. */
  pieces(text: string): Pieces {
    const p: Pieces = { ids: [], starts: [], ends: [], words: [] };
    const n = this.scan(text, 0, text.length, p);
    const buf = this.idBuf;
    const ids = p.ids;
    for (let k = 0; k < n; k++) ids.push(buf[k]!);
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
   * Puts the ids of the words of text[from, n) into idBuf and returns their count; with `detail`, also appends
   * each piece's code-point offsets and word index to it. Words come from BasicTokenizer.scanWords
   * with their hashes, so that cached words are found without cutting a string out of text.
   */
  private scan(text: string, from: number, n: number, detail: Pieces | null): number {
    this.idLen = 0;
    this.scanText = text;
    this.scanDetail = detail;
    this.scanWordIndex = 0;
    this.basic.scanWords(text, from, n, this.sink);
    this.scanText = '';
    this.scanDetail = null;
    return this.idLen;
  }

  /** Appends the pieces of the word text[start, end) and returns the next word index. */
  private emit(text: string, start: number, end: number, hash: number, startCp: number, wordIndex: number, detail: Pieces | null): number {
    const cache = this.cache;
    const slot = cache.find(text, start, end, hash);
    let at: number;
    let count: number;
    let wordCount: number;
    if (slot >= 0) {
      const meta = cache.meta; // slot is an entry's offset in it
      at = meta[slot + AT]!;
      count = meta[slot + COUNT]!;
      wordCount = meta[slot + WORDS]!;
    } else {
      this.addWord(text, start, end, hash, ~slot);
      at = cache.lastAt;
      count = cache.lastCount;
      wordCount = cache.lastWords;
    }
    let idLen = this.idLen;
    if (idLen + count > this.idBuf.length) this.growIds(idLen + count);
    const buf = this.idBuf;
    const pieceIds = cache.ids;
    for (let k = 0; k < count; k++) buf[idLen++] = pieceIds[at + k]!;
    this.idLen = idLen;
    if (detail) {
      const words = cache.words;
      for (let k = at; k < at + count; k++) {
        detail.starts.push(startCp + cache.starts[k]!);
        detail.ends.push(startCp + cache.ends[k]!);
        detail.words.push(wordIndex + words[k]!);
      }
    }
    return wordIndex + wordCount;
  }

  private growIds(needed: number): void {
    let size = this.idBuf.length * 2;
    while (size < needed) size *= 2;
    const grown = new Int32Array(size);
    grown.set(this.idBuf.subarray(0, this.idLen));
    this.idBuf = grown;
  }

  /**
   * Splits the word text[start, end) into the cache's piece arena and records it in `slot` (the
   * free slot find() returned); the cache's last* fields then locate its pieces.
   */
  private addWord(text: string, start: number, end: number, hash: number, slot: number): void {
    const cache = this.cache;
    slot = cache.prepareInsert(text, start, end, hash, slot);
    const at = cache.pieceTop;
    let count: number;
    let wordCount = 1;
    if (isAsciiAlphanumeric(text, start, end)) count = this.splitAsciiWord(text, start, end);
    else {
      // Rare: accents, other scripts, dropped characters inside the word. Normalise, then split each part.
      const original = text.slice(start, end);
      const { parts, origins } = this.basic.normalizeWord(original);
      wordCount = parts.length;
      const ids = this.scratchIds;
      const bounds = this.scratchBounds;
      count = 0;
      for (let p = 0; p < parts.length; p++) {
        const origin = origins[p] ?? null; // null: unit i is code point i
        ids.length = 0;
        bounds.length = 0;
        this.wordPiece.split(parts[p]!, ids, bounds);
        cache.reservePieces(count + ids.length);
        for (let k = 0; k < ids.length; k++, count++) {
          cache.ids[at + count] = ids[k]!;
          cache.starts[at + count] = origin ? origin[bounds[2 * k]!]! : bounds[2 * k]!;
          cache.ends[at + count] = origin ? origin[bounds[2 * k + 1]! - 1]! + 1 : bounds[2 * k + 1]!;
          cache.words[at + count] = p;
        }
      }
    }
    cache.commit(slot, text, start, end, hash, count, wordCount);
  }

  /**
   * WordPiece over a word of ASCII letters and digits, read straight from text (its normalised form
   * is itself, lower-cased), into the piece arena. Returns the piece count.
   */
  private splitAsciiWord(text: string, start: number, end: number): number {
    const cache = this.cache;
    const n = end - start;
    cache.reservePieces(n); // a piece has at least one unit
    const at = cache.pieceTop;
    const { ids, starts, ends, words } = cache;
    const wordPiece = this.wordPiece;
    let count = 0;
    if (n <= wordPiece.maxInputChars) {
      const trie = wordPiece.trie;
      const fold = this.lowerCase;
      for (let s = start; s < end; count++) {
        const e = trie.longest(s === start ? PieceTrie.INITIAL : PieceTrie.CONTINUATION, text, s, end, fold);
        if (e < 0) {
          count = 0;
          break;
        }
        ids[at + count] = trie.matchId;
        starts[at + count] = s - start;
        ends[at + count] = e - start;
        words[at + count] = 0;
        s = e;
      }
    }
    if (count === 0) {
      // Too long, or no complete split: one unknown token.
      ids[at] = wordPiece.unkId;
      starts[at] = 0;
      ends[at] = n;
      words[at] = 0;
      count = 1;
    }
    return count;
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

/** Only [0-9A-Za-z] in text[start, end): such a word normalises to itself (lower-cased) with no splits. */
function isAsciiAlphanumeric(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i) | 0x20; // folds upper case onto lower case; digits stay digits
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39))) return false;
  }
  return true;
}
