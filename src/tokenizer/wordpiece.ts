// Greedy longest-match-first WordPiece over one normalised word.
import type { Vocab } from './vocab.js';

export interface WordPieceOptions {
  unkToken?: string;
  continuationPrefix?: string;
  /** Longer words (in code points) become a single unknown token. */
  maxInputChars?: number;
}

/**
 * The vocabulary as a trie over UTF-16 units: the longest piece starting at a position is found
 * in one forward walk, without cutting substrings out of the word. Edges live in one Map keyed by
 * (node, unit); each node knows the id of the piece ending there, if any.
 */
class PieceTrie {
  private readonly edges = new Map<number, number>();
  private ids = new Int32Array(1024).fill(-1);
  private nodes = 1; // node 0 is the root

  add(piece: string, id: number): void {
    let node = 0;
    for (let i = 0; i < piece.length; i++) {
      const key = node * 0x10000 + piece.charCodeAt(i);
      let child = this.edges.get(key);
      if (child === undefined) {
        child = this.nodes++;
        if (child >= this.ids.length) {
          const grown = new Int32Array(this.ids.length * 2).fill(-1);
          grown.set(this.ids);
          this.ids = grown;
        }
        this.edges.set(key, child);
      }
      node = child;
    }
    this.ids[node] = id;
  }

  /** The end of the longest piece in word[start, ...) and its id, written to out; false if none. */
  longest(word: string, start: number, out: { end: number; id: number }): boolean {
    const edges = this.edges;
    const ids = this.ids;
    let node = 0;
    let found = false;
    for (let i = start; i < word.length; i++) {
      const child = edges.get(node * 0x10000 + word.charCodeAt(i));
      if (child === undefined) break;
      node = child;
      const id = ids[node]!;
      if (id >= 0) {
        out.end = i + 1;
        out.id = id;
        found = true;
      }
    }
    return found;
  }
}

export class WordPiece {
  readonly unkId: number;
  private readonly initial = new PieceTrie();
  /** Continuation pieces without their prefix. */
  private readonly continuation = new PieceTrie();
  private readonly maxInputChars: number;
  private readonly match = { end: 0, id: 0 };

  constructor(vocab: Vocab, opts: WordPieceOptions = {}) {
    const unkToken = opts.unkToken ?? '[UNK]';
    const prefix = opts.continuationPrefix ?? '##';
    const unkId = vocab.idOf(unkToken);
    if (unkId === undefined) throw new Error(`the vocabulary has no unknown token ${unkToken}`);
    this.unkId = unkId;
    this.maxInputChars = opts.maxInputChars ?? 100;
    vocab.tokens.forEach((token, id) => {
      if (token !== '') this.initial.add(token, id);
      if (prefix !== '' && token.startsWith(prefix) && token.length > prefix.length) this.continuation.add(token.slice(prefix.length), id);
    });
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
    const match = this.match;
    for (let start = 0; start < n; start = match.end) {
      if (!(start === 0 ? this.initial : this.continuation).longest(word, start, match)) {
        ids.length = firstPiece;
        bounds.length = firstBound;
        ids.push(this.unkId);
        bounds.push(0, n);
        return;
      }
      ids.push(match.id);
      bounds.push(start, match.end);
    }
  }
}

/** Code points in s, counting no further than `limit + 1`. */
function codePointCount(s: string, limit: number): number {
  let count = 0;
  for (let i = 0; i < s.length && count <= limit; i++) {
    count++;
    if ((s.charCodeAt(i) & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
  }
  return count;
}
