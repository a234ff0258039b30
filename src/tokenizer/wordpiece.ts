// Greedy longest-match-first WordPiece over one normalised word.
import type { Vocab } from './vocab.js';

export interface WordPieceOptions {
  unkToken?: string;
  continuationPrefix?: string;
  /** Longer words (in code points) become a single unknown token. */
  maxInputChars?: number;
  /** Tries already built for this vocabulary and prefix (e.g. received from another thread). */
  trie?: PieceTrie;
  /** The unknown token's id, when known (spares a lookup in the vocabulary). */
  unkId?: number;
}

/** The arrays of a PieceTrie: plain or shared memory, postable to a worker thread as they are. */
export interface PieceTrieArrays {
  /**
   * Open-addressing table of edges, EDGE integers each: [parent + 1 (0: empty slot), UTF-16 unit,
   * child, vocabulary id of the piece ending at the child or -1]. Keeping the id with the edge makes
   * each step of a walk one memory access.
   */
  edges: Int32Array;
}

const EDGE = 4;

/**
 * The vocabulary as two tries over UTF-16 units in typed arrays: word-initial pieces from root
 * INITIAL, continuation pieces (prefix removed) from root CONTINUATION. The longest piece starting
 * at a position is found in one forward walk without cutting substrings; being flat arrays, the
 * tries can live in a SharedArrayBuffer that every worker thread reads instead of rebuilding.
 */
export class PieceTrie {
  static readonly INITIAL = 0;
  static readonly CONTINUATION = 1;
  readonly edges: Int32Array;
  /** Vocabulary id of the last piece found by longest(). */
  matchId = -1;
  private readonly mask: number;

  constructor(arrays: PieceTrieArrays) {
    const { edges } = arrays;
    const slots = edges instanceof Int32Array ? edges.length / EDGE : 0;
    if (!Number.isInteger(slots) || slots < 2 || (slots & (slots - 1)) !== 0) {
      throw new Error(`PieceTrie: edges must be an Int32Array of ${EDGE} x (a power of two) entries`);
    }
    this.edges = edges;
    this.mask = slots - 1;
  }

  /**
   * Builds the tries of a vocabulary: every non-empty token from INITIAL, every token starting with
   * `prefix` (and longer) without it from CONTINUATION. The table is allocated in shared memory, so
   * that other threads can use it as it is. A token listed twice keeps its first id; `onDuplicate`
   * (id, first id) is told of each repeat, in id order (the empty token included), which spares a
   * vocabulary an index of its own just to find them.
   */
  static build(tokens: readonly string[], prefix: string, onDuplicate?: (id: number, first: number) => void): PieceTrie {
    let keyUnits = 0;
    for (const t of tokens) keyUnits += t.length + (isContinuation(t, prefix) ? t.length - prefix.length : 0);
    const builder = new TrieBuilder(keyUnits);
    let firstEmpty = -1;
    for (let id = 0; id < tokens.length; id++) {
      const token = tokens[id]!;
      if (token !== '') {
        const first = builder.add(PieceTrie.INITIAL, token, 0, id);
        if (first >= 0) onDuplicate?.(id, first);
      } else if (firstEmpty < 0) {
        firstEmpty = id;
      } else {
        onDuplicate?.(id, firstEmpty);
      }
      if (isContinuation(token, prefix)) builder.add(PieceTrie.CONTINUATION, token, prefix.length, id);
    }
    return new PieceTrie({ edges: builder.edges });
  }

  /** The vocabulary id of exactly `key` from `root`, or -1. */
  idOf(root: number, key: string): number {
    return key !== '' && this.longest(root, key, 0, key.length, false) === key.length ? this.matchId : -1;
  }

  /** The arrays, to hand to `new PieceTrie(arrays)` in another thread. */
  arrays(): PieceTrieArrays {
    return { edges: this.edges };
  }

  /**
   * The end of the longest piece in text[start, end) that starts at `start`, walking from `root`;
   * -1 if none. Its id is left in matchId. `foldAscii` maps A-Z to a-z on the way (an ASCII word
   * under lower-casing, read straight from the original text).
   */
  longest(root: number, text: string, start: number, end: number, foldAscii: boolean): number {
    const edges = this.edges;
    const mask = this.mask;
    let node = root;
    let found = -1;
    for (let i = start; i < end; i++) {
      let unit = text.charCodeAt(i);
      if (foldAscii && unit >= 0x41 && unit <= 0x5a) unit |= 0x20;
      let at = EDGE * (edgeHash(node, unit) & mask);
      for (;;) {
        const k = edges[at]!;
        if (k === node + 1 && edges[at + 1] === unit) break;
        if (k === 0) return found;
        at = (at + EDGE) & (EDGE * mask + EDGE - 1);
      }
      node = edges[at + 2]!;
      const id = edges[at + 3]!;
      if (id >= 0) {
        found = i + 1;
        this.matchId = id;
      }
    }
    return found;
  }
}

function isContinuation(token: string, prefix: string): boolean {
  return prefix !== '' && token.length > prefix.length && token.startsWith(prefix);
}

/** Fills the edge table key by key (a class rather than a closure: compact code, compiled once). */
class TrieBuilder {
  edges: Int32Array;
  private mask: number;
  private count = 0;
  private nodes = 2; // the two roots

  /** `keyUnits`: the units of all keys, a bound on the edges. */
  constructor(keyUnits: number) {
    // Sized for a third of the bound (vocabularies share most prefixes; a compact table walks
    // faster), so that it rarely grows.
    this.mask = tableSlots(Math.ceil(keyUnits / 3)) - 1;
    this.edges = sharedInt32(EDGE * (this.mask + 1));
  }

  /** Adds key[from..] with `id`; returns the id it already had (a repeated key keeps it), else -1. */
  add(root: number, key: string, from: number, id: number): number {
    let node = root;
    let at = -1; // the edge into node
    for (let i = from; i < key.length; i++) {
      const unit = key.charCodeAt(i);
      const edges = this.edges;
      const mask = this.mask;
      at = EDGE * (edgeHash(node, unit) & mask);
      for (let k = edges[at]!; ; k = edges[at]!) {
        if (k === 0) {
          at = this.addEdge(at, node, unit);
          break;
        }
        if (k === node + 1 && edges[at + 1] === unit) break;
        at = (at + EDGE) & (EDGE * mask + EDGE - 1);
      }
      node = this.edges[at + 2]!;
    }
    if (at < 0) return -1;
    const had = this.edges[at + 3]!;
    if (had === -1) this.edges[at + 3] = id;
    return had;
  }

  /** A new node under `node` over `unit`, in the free slot at `at`; returns where its edge is then. */
  private addEdge(at: number, node: number, unit: number): number {
    const edges = this.edges;
    edges[at] = node + 1;
    edges[at + 1] = unit;
    edges[at + 2] = this.nodes++;
    edges[at + 3] = -1;
    // Keep the load under 70%.
    if (7 * (this.mask + 1) >= 10 * ++this.count) return at;
    this.mask = 2 * this.mask + 1;
    this.edges = rehash(edges, this.mask, sharedInt32(EDGE * (this.mask + 1)));
    return this.find(node, unit);
  }

  private find(node: number, unit: number): number {
    const edges = this.edges;
    let at = EDGE * (edgeHash(node, unit) & this.mask);
    while (!(edges[at] === node + 1 && edges[at + 1] === unit)) at = (at + EDGE) & (EDGE * this.mask + EDGE - 1);
    return at;
  }
}

/** Slots for `edges` edges at a load of at most 70% (short probe runs); a power of two. */
function tableSlots(edges: number): number {
  let slots = 2;
  while (7 * slots < 10 * edges) slots *= 2;
  return slots;
}

function sharedInt32(length: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * length));
}

/** The edges of `from` placed into `to`, a table with `mask + 1` slots. */
function rehash(from: Int32Array, mask: number, to: Int32Array): Int32Array {
  for (let s = 0; s < from.length; s += EDGE) {
    const key = from[s]!;
    if (key === 0) continue;
    let slot = edgeHash(key - 1, from[s + 1]!) & mask;
    while (to[EDGE * slot] !== 0) slot = (slot + 1) & mask;
    to.set(from.subarray(s, s + EDGE), EDGE * slot);
  }
  return to;
}

function edgeHash(node: number, unit: number): number {
  let h = Math.imul(node, 0x9e3779b1) ^ unit;
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  return h ^ (h >>> 13);
}

export class WordPiece {
  readonly unkId: number;
  readonly trie: PieceTrie;
  readonly maxInputChars: number;

  constructor(vocab: Vocab, opts: WordPieceOptions = {}) {
    const unkToken = opts.unkToken ?? '[UNK]';
    const prefix = opts.continuationPrefix ?? '##';
    const unkId = opts.unkId ?? vocab.idOf(unkToken);
    if (unkId === undefined) throw new Error(`the vocabulary has no unknown token ${unkToken}`);
    this.unkId = unkId;
    this.maxInputChars = opts.maxInputChars ?? 100;
    this.trie = opts.trie ?? PieceTrie.build(vocab.tokens, prefix);
  }

  /**
   * Splits `word` (non-empty) into pieces: pushes each piece's id, and its [start, end) in UTF-16
   * units of `word` into `bounds`. A word with no complete split is one unknown token.
   */
  split(word: string, ids: number[], bounds: number[]): void {
    const n = word.length;
    if (n > this.maxInputChars && codePointCount(word, 0, n, this.maxInputChars) > this.maxInputChars) {
      ids.push(this.unkId);
      bounds.push(0, n);
      return;
    }
    const firstPiece = ids.length;
    const firstBound = bounds.length;
    const trie = this.trie;
    for (let start = 0; start < n; ) {
      const end = trie.longest(start === 0 ? PieceTrie.INITIAL : PieceTrie.CONTINUATION, word, start, n, false);
      if (end < 0) {
        ids.length = firstPiece;
        bounds.length = firstBound;
        ids.push(this.unkId);
        bounds.push(0, n);
        return;
      }
      ids.push(trie.matchId);
      bounds.push(start, end);
      start = end;
    }
  }
}

/** Code points in s[start, end), counting no further than `limit + 1`. */
export function codePointCount(s: string, start: number, end: number, limit: number): number {
  let count = 0;
  for (let i = start; i < end && count <= limit; i++) {
    count++;
    if ((s.charCodeAt(i) & 0xfc00) === 0xd800 && i + 1 < end && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
  }
  return count;
}
