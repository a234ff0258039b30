// Turns a stream of lines into fixed-length pre-training examples, drawing random numbers in exactly
// the order of build_pretraining_dataset.py's ExampleBuilder (see ELECTRA-SPEC.md, "Pre-training data").
import { PythonRandom } from './python-random.js';
import { isPythonSpace } from './text-lines.js';

/**
 * A tokenizer that writes the ids of text[start, end) into a buffer it owns (BertTokenizer): lines
 * are tokenized where they lie in a larger text, with no string or array made per line.
 */
export interface RangeEncoder {
  encodeIdsRange(text: string, start: number, end: number): number;
  readonly idBuffer: Int32Array;
}

/** Ids of one text, or a RangeEncoder. */
export type LineEncoder = ((text: string) => number[]) | RangeEncoder;

export interface ExampleBuilderOptions {
  maxSeqLength: number;
  clsId: number;
  sepId: number;
  random: PythonRandom;
}

/**
 * One example: `[CLS] A [SEP]` or `[CLS] A [SEP] B [SEP]` in ids[0, length), zeros after.
 * Segment ids are 0 before segmentBoundary and 1 from it up to length; segmentBoundary === length
 * when there is no second segment.
 */
export interface BuiltExample {
  ids: Int32Array;
  length: number;
  segmentBoundary: number;
}

export interface ExampleBuilderStats {
  examples: number;
  /** Examples where the 10% draw put every sentence into segment A. */
  singleSegmentDraws: number;
  /** Examples written without a second segment (the draw, one sentence, or B truncated away). */
  withoutSecondSegment: number;
  /** Examples built towards a random target shorter than maxSeqLength. */
  shortTargets: number;
  /** Tokens the tokenizer produced for the lines added. */
  inputTokens: number;
  /** Tokens placed into examples (specials excluded). */
  keptTokens: number;
  /** Tokens dropped by the truncation of A and B. */
  truncatedTokens: number;
}

/** Probability that an example has one segment only, as in classification tasks. */
const SINGLE_SEGMENT_PROB = 0.1;
/** Probability that the next example aims for a random length in [5, maxSeqLength]. */
const SHORT_TARGET_PROB = 0.05;
const MIN_SHORT_TARGET = 5;
/** The reference's "no limit" first-segment target for single-segment examples. */
const UNLIMITED_FIRST_SEGMENT = 100000;

export class ExampleBuilder {
  readonly maxSeqLength: number;
  private readonly clsId: number;
  private readonly sepId: number;
  private readonly random: PythonRandom;
  // The pending sentences' tokens, back to back; sentence s ends at sentenceEnds[s].
  private tokens = new Int32Array(1024);
  private sentenceEnds = new Int32Array(64);
  private sentenceCount = 0;
  private currentLength = 0;
  private targetLength: number;
  private inSecondSegment = new Uint8Array(64);
  private readonly example: BuiltExample;
  readonly stats: ExampleBuilderStats = {
    examples: 0, singleSegmentDraws: 0, withoutSecondSegment: 0, shortTargets: 0,
    inputTokens: 0, keptTokens: 0, truncatedTokens: 0,
  };

  /** `encoder`: null for a builder fed only through addTokens and endDocument. */
  constructor(
    private readonly encoder: LineEncoder | null,
    options: ExampleBuilderOptions,
  ) {
    const L = options.maxSeqLength;
    if (!Number.isInteger(L) || L < MIN_SHORT_TARGET) throw new RangeError(`maxSeqLength must be an integer >= ${MIN_SHORT_TARGET}, got ${L}`);
    this.maxSeqLength = L;
    this.targetLength = L;
    this.clsId = options.clsId;
    this.sepId = options.sepId;
    this.random = options.random;
    this.example = { ids: new Int32Array(L), length: 0, segmentBoundary: 0 };
  }

  /** Tokens waiting for the next example. */
  get pendingTokens(): number {
    return this.currentLength;
  }

  /**
   * Adds one line (add_line): a blank line ends the document and flushes what is pending; other lines
   * are tokenized and appended, flushing once the target length is reached. The returned example is
   * overwritten by the next call: copy it if you keep it.
   */
  addLine(line: string): BuiltExample | null {
    return this.addLineRange(line, 0, line.length);
  }

  /** addLine(text.slice(start, end)), without cutting the line out of text when the encoder is a RangeEncoder. */
  addLineRange(text: string, start: number, end: number): BuiltExample | null {
    // The reference strips each line (Python's str.strip()).
    while (start < end && isPythonSpace(text.charCodeAt(start))) start++;
    while (end > start && isPythonSpace(text.charCodeAt(end - 1))) end--;
    if (start === end) return this.endDocument();
    const encoder = this.encoder;
    if (encoder === null) throw new Error('ExampleBuilder: no tokenizer to encode lines with; use addTokens');
    if (typeof encoder === 'function') {
      const ids = encoder(start === 0 && end === text.length ? text : text.slice(start, end));
      return this.addTokens(ids, 0, ids.length);
    }
    return this.addTokens(encoder.idBuffer, 0, encoder.encodeIdsRange(text, start, end));
  }

  /** A blank line (the end of a document): flushes what is pending, if anything. */
  endDocument(): BuiltExample | null {
    return this.currentLength !== 0 ? this.createExample() : null;
  }

  /**
   * A non-blank line already tokenized (ids[from, from + count)), as addLineRange would add it: the
   * tokenizing can then happen elsewhere (in another thread).
   */
  addTokens(ids: ArrayLike<number>, from: number, count: number): BuiltExample | null {
    // The reference also appends empty token lists; they draw no random numbers and add nothing, so
    // dropping them keeps memory bounded on runs of blank or all-control-character lines.
    if (count > 0) this.append(ids, from, count);
    this.currentLength += count;
    this.stats.inputTokens += count;
    if (this.currentLength >= this.targetLength) return this.createExample();
    return null;
  }

  private append(ids: ArrayLike<number>, offset: number, count: number): void {
    const from = this.currentLength;
    if (from + count > this.tokens.length) {
      let size = 2 * this.tokens.length;
      while (size < from + count) size *= 2;
      const grown = new Int32Array(size);
      grown.set(this.tokens.subarray(0, from));
      this.tokens = grown;
    }
    const tokens = this.tokens;
    for (let k = 0; k < count; k++) tokens[from + k] = ids[offset + k]!;
    if (this.sentenceCount === this.sentenceEnds.length) {
      const grown = new Int32Array(2 * this.sentenceEnds.length);
      grown.set(this.sentenceEnds);
      this.sentenceEnds = grown;
    }
    this.sentenceEnds[this.sentenceCount++] = from + count;
  }

  private createExample(): BuiltExample {
    const random = this.random;
    const L = this.maxSeqLength;
    const firstTarget = random.random() < SINGLE_SEGMENT_PROB ? UNLIMITED_FIRST_SEGMENT : Math.floor((this.targetLength - 3) / 2);
    if (firstTarget === UNLIMITED_FIRST_SEGMENT) this.stats.singleSegmentDraws++;
    if (this.targetLength < L) this.stats.shortTargets++;

    const sentenceCount = this.sentenceCount;
    const ends = this.sentenceEnds;
    if (this.inSecondSegment.length < sentenceCount) this.inSecondSegment = new Uint8Array(sentenceCount * 2);
    const inB = this.inSecondSegment;
    let firstLength = 0;
    let secondLength = 0;
    for (let s = 0; s < sentenceCount; s++) {
      const n = ends[s]! - (s === 0 ? 0 : ends[s - 1]!);
      // Into A if A is empty, if it still fits under A's target, or on a coin flip while B is empty and A is under target.
      if (
        firstLength === 0 ||
        firstLength + n < firstTarget ||
        (secondLength === 0 && firstLength < firstTarget && random.random() < 0.5)
      ) {
        inB[s] = 0;
        firstLength += n;
      } else {
        inB[s] = 1;
        secondLength += n;
      }
    }

    // Truncate, leaving room for [CLS], [SEP] and (if B survives) the second [SEP].
    const keptFirst = Math.min(firstLength, L - 2);
    const keptSecond = Math.min(secondLength, Math.max(0, L - keptFirst - 3));
    const ex = this.example;
    const ids = ex.ids;
    ids[0] = this.clsId;
    let a = 1;
    const aEnd = 1 + keptFirst;
    let b = aEnd + 1;
    const bEnd = b + keptSecond;
    const tokens = this.tokens;
    for (let s = 0; s < sentenceCount; s++) {
      const end = ends[s]!;
      let t = s === 0 ? 0 : ends[s - 1]!;
      if (inB[s] === 0) {
        while (t < end && a < aEnd) ids[a++] = tokens[t++]!;
      } else {
        while (t < end && b < bEnd) ids[b++] = tokens[t++]!;
      }
    }
    ids[aEnd] = this.sepId;
    let length = aEnd + 1;
    ex.segmentBoundary = length;
    if (keptSecond > 0) {
      ids[bEnd] = this.sepId;
      length = bEnd + 1;
    } else {
      this.stats.withoutSecondSegment++;
    }
    ids.fill(0, length);
    ex.length = length;

    this.stats.examples++;
    this.stats.keptTokens += keptFirst + keptSecond;
    this.stats.truncatedTokens += firstLength - keptFirst + secondLength - keptSecond;

    this.sentenceCount = 0;
    this.currentLength = 0;
    this.targetLength = random.random() < SHORT_TARGET_PROB ? random.randint(MIN_SHORT_TARGET, L) : L;
    return ex;
  }
}
