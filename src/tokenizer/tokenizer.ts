// BERT's tokenizer (BasicTokenizer + WordPiece), identical in ids and offsets to HF `tokenizers`
// configured as BertTokenizer (BertNormalizer, BertPreTokenizer, WordPiece, BertProcessing).
import { Vocab } from './vocab.js';
import { WordPiece } from './wordpiece.js';
import { BasicTokenizer } from './basic.js';

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
  private readonly basic: BasicTokenizer;
  private readonly cache = new Map<string, WordEntry>();

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

  /** Appends the pieces of text's words (offsets in code points; `detail` null means ids only). */
  private scan(text: string, ids: number[], detail: Pieces | null): void {
    let wordIndex = 0;
    this.basic.forEachWord(text, (start, end, startCp) => {
      const original = text.slice(start, end);
      let entry = this.cache.get(original);
      if (entry === undefined) {
        entry = this.wordEntry(original);
        if (this.cache.size >= MAX_CACHED_WORDS) this.cache.clear();
        this.cache.set(original, entry);
      }
      const count = entry.ids.length;
      for (let k = 0; k < count; k++) ids.push(entry.ids[k]!);
      if (detail) {
        const words = entry.words;
        for (let k = 0; k < count; k++) {
          detail.starts.push(startCp + entry.starts[k]!);
          detail.ends.push(startCp + entry.ends[k]!);
          detail.words.push(words ? wordIndex + words[k]! : wordIndex);
        }
      }
      wordIndex += entry.wordCount;
    });
  }

  /** WordPiece over one word's normalised parts, offsets mapped back to the original word. */
  private wordEntry(original: string): WordEntry {
    const { parts, origins } = this.basic.normalizeWord(original);
    const entry: WordEntry = { ids: [], starts: [], ends: [], words: null, wordCount: parts.length };
    const wordIndices: number[] = [];
    const bounds: number[] = [];
    parts.forEach((part, p) => {
      const origin = origins[p]!;
      const first = entry.ids.length;
      bounds.length = 0;
      this.wordPiece.split(part, entry.ids, bounds);
      for (let k = 0; k < entry.ids.length - first; k++) {
        entry.starts.push(origin[bounds[2 * k]!]!);
        entry.ends.push(origin[bounds[2 * k + 1]! - 1]! + 1);
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
