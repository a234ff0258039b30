// Greedy longest-match-first WordPiece over one normalised word.
import type { Vocab } from './vocab.js';

export interface WordPieceOptions {
  unkToken?: string;
  continuationPrefix?: string;
  /** Longer words (in code points) become a single unknown token. */
  maxInputChars?: number;
}

export class WordPiece {
  readonly unkId: number;
  private readonly initial: Map<string, number>;
  /** Continuation pieces keyed without their prefix, so lookups need no concatenation. */
  private readonly continuation = new Map<string, number>();
  private readonly maxInitialLength: number;
  private readonly maxContinuationLength: number;
  private readonly maxInputChars: number;

  constructor(vocab: Vocab, opts: WordPieceOptions = {}) {
    const unkToken = opts.unkToken ?? '[UNK]';
    const prefix = opts.continuationPrefix ?? '##';
    const unkId = vocab.idOf(unkToken);
    if (unkId === undefined) throw new Error(`the vocabulary has no unknown token ${unkToken}`);
    this.unkId = unkId;
    this.maxInputChars = opts.maxInputChars ?? 100;
    this.initial = new Map();
    let maxInitial = 0;
    let maxContinuation = 0;
    vocab.tokens.forEach((token, id) => {
      this.initial.set(token, id);
      maxInitial = Math.max(maxInitial, token.length);
      if (prefix !== '' && token.startsWith(prefix)) {
        const rest = token.slice(prefix.length);
        this.continuation.set(rest, id);
        maxContinuation = Math.max(maxContinuation, rest.length);
      }
    });
    this.maxInitialLength = maxInitial;
    this.maxContinuationLength = maxContinuation;
  }

  /**
   * Splits `word` (non-empty) into pieces: pushes each piece's id, and its [start, end) in UTF-16
   * units of `word` into `bounds`. A word with no complete split is one unknown token.
   */
  split(word: string, ids: number[], bounds: number[]): void {
    const n = word.length;
    if (n > this.maxInputChars && codePointCount(word, this.maxInputChars) > this.maxInputChars) {
      ids.push(this.unkId);
      bounds.push(0, n);
      return;
    }
    const firstPiece = ids.length;
    const firstBound = bounds.length;
    let start = 0;
    while (start < n) {
      const table = start === 0 ? this.initial : this.continuation;
      let end = Math.min(n, start + (start === 0 ? this.maxInitialLength : this.maxContinuationLength));
      if (end < n && isLowSurrogate(word.charCodeAt(end))) end--;
      let id: number | undefined;
      while (end > start) {
        id = table.get(word.slice(start, end));
        if (id !== undefined) break;
        end--;
        if (end > start && isLowSurrogate(word.charCodeAt(end))) end--;
      }
      if (id === undefined) {
        ids.length = firstPiece;
        bounds.length = firstBound;
        ids.push(this.unkId);
        bounds.push(0, n);
        return;
      }
      ids.push(id);
      bounds.push(start, end);
      start = end;
    }
  }
}

function isLowSurrogate(unit: number): boolean {
  return (unit & 0xfc00) === 0xdc00;
}

/** Code points in s, counting no further than `limit + 1`. */
function codePointCount(s: string, limit: number): number {
  let count = 0;
  for (let i = 0; i < s.length && count <= limit; i++) {
    count++;
    if ((s.charCodeAt(i) & 0xfc00) === 0xd800 && isLowSurrogate(s.charCodeAt(i + 1))) i++;
  }
  return count;
}
