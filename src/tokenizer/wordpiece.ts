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
  /** Open-addressing table of edges, triples [parent + 1 (0: empty slot), UTF-16 unit, child]. */
  edges: Int32Array;
  /** Vocabulary id of the piece ending at each node, -1 if none. */
  pieceIds: Int32Array;
}

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
  readonly pieceIds: Int32Array;
  /** Vocabulary id of the last piece found by longest(). */
  matchId = -1;
  private readonly mask: number;

  constructor(arrays: PieceTrieArrays) {
    const { edges, pieceIds } = arrays;
    const slots = edges.length / 3;
    if (!(edges instanceof Int32Array) || !(pieceIds instanceof Int32Array) || !Number.isInteger(slots) || slots < 2 || (slots & (slots - 1)) !== 0) {
      throw new Error('PieceTrie: edges must be an Int32Array of 3 x (a power of two) entries, pieceIds an Int32Array');
    }
    if (pieceIds.length < 2) throw new Error('PieceTrie: pieceIds must hold at least the two roots');
    this.edges = edges;
    this.pieceIds = pieceIds;
    this.mask = slots - 1;
  }

  /**
   * Builds the tries of a vocabulary: every non-empty token from INITIAL, every token starting with
   * `prefix` (and longer) without it from CONTINUATION. `idOf` finds a token's id (default: a Map of
   * `tokens`); `shared`: allocate in SharedArrayBuffers.
   */
  static build(tokens: readonly string[], prefix: string, shared = false, idOf?: (token: string) => number | undefined): PieceTrie {
    if (!idOf) {
      const ids = new Map<string, number>();
      tokens.forEach((t, i) => {
        if (!ids.has(t)) ids.set(t, i);
      });
      idOf = (t) => ids.get(t);
    }
    // Sorted keys (String#sort orders by UTF-16 units, the trie's alphabet) number the nodes in
    // depth-first order: a key's new nodes are those past its common prefix with the previous key.
    // Each node's parent and unit are recorded, then all edges go into the hash table in one pass.
    const initial = tokens.filter((t) => t !== '').sort();
    const continuation: string[] = [];
    if (prefix !== '') for (const t of initial) if (t.length > prefix.length && t.startsWith(prefix)) continuation.push(t.slice(prefix.length));
    let units = 0;
    let longest = 0;
    for (const t of initial) {
      units += t.length;
      longest = Math.max(longest, t.length);
    }
    for (const t of continuation) units += t.length;
    const parent = new Int32Array(units + 2);
    const unitOf = new Uint16Array(units + 2);
    const pieceIds = new Int32Array(units + 2).fill(-1);
    const path = new Int32Array(longest + 1);
    let nodes = 2;
    const addSorted = (root: number, keys: string[], keyPrefix: string): void => {
      let prev = '';
      path[0] = root;
      for (const key of keys) {
        let common = 0;
        const limit = Math.min(key.length, prev.length);
        while (common < limit && key.charCodeAt(common) === prev.charCodeAt(common)) common++;
        for (let i = common; i < key.length; i++) {
          parent[nodes] = path[i]!;
          unitOf[nodes] = key.charCodeAt(i);
          path[i + 1] = nodes++;
        }
        const id = idOf(keyPrefix + key);
        if (id === undefined) throw new Error(`PieceTrie.build: no id for token ${JSON.stringify(keyPrefix + key)}`);
        pieceIds[path[key.length]!] = id;
        prev = key;
      }
    };
    addSorted(PieceTrie.INITIAL, initial, '');
    // The prefixed tokens were in sorted order, and so are their suffixes.
    addSorted(PieceTrie.CONTINUATION, continuation, prefix);
    const slots = tableSlots(nodes - 2);
    const alloc = (n: number): Int32Array => (shared ? new Int32Array(new SharedArrayBuffer(4 * n)) : new Int32Array(n));
    const trie = new PieceTrie({ edges: alloc(3 * slots), pieceIds: alloc(nodes) });
    trie.pieceIds.set(pieceIds.subarray(0, nodes));
    for (let node = 2; node < nodes; node++) trie.insert(parent[node]!, unitOf[node]!, node);
    return trie;
  }

  /** The arrays, to hand to `new PieceTrie(arrays)` in another thread. */
  arrays(): PieceTrieArrays {
    return { edges: this.edges, pieceIds: this.pieceIds };
  }

  /** The arrays in shared memory (copied there unless already), so that postMessage does not copy them. */
  sharedArrays(): PieceTrieArrays {
    const share = (a: Int32Array): Int32Array => {
      if (a.buffer instanceof SharedArrayBuffer) return a;
      const copy = new Int32Array(new SharedArrayBuffer(a.byteLength));
      copy.set(a);
      return copy;
    };
    return { edges: share(this.edges), pieceIds: share(this.pieceIds) };
  }

  /** The node reached from `node` over `unit`, or -1. */
  child(node: number, unit: number): number {
    const edges = this.edges;
    const mask = this.mask;
    const key = node + 1;
    for (let slot = edgeHash(node, unit) & mask; ; slot = (slot + 1) & mask) {
      const at = 3 * slot;
      const k = edges[at]!;
      if (k === key && edges[at + 1] === unit) return edges[at + 2]!;
      if (k === 0) return -1;
    }
  }

  private insert(node: number, unit: number, child: number): void {
    const edges = this.edges;
    const mask = this.mask;
    let slot = edgeHash(node, unit) & mask;
    while (edges[3 * slot] !== 0) slot = (slot + 1) & mask;
    edges[3 * slot] = node + 1;
    edges[3 * slot + 1] = unit;
    edges[3 * slot + 2] = child;
  }

  /**
   * The end of the longest piece in text[start, end) that starts at `start`, walking from `root`;
   * -1 if none. Its id is left in matchId. `foldAscii` maps A-Z to a-z on the way (an ASCII word
   * under lower-casing, read straight from the original text).
   */
  longest(root: number, text: string, start: number, end: number, foldAscii: boolean): number {
    const pieceIds = this.pieceIds;
    let node = root;
    let found = -1;
    for (let i = start; i < end; i++) {
      let unit = text.charCodeAt(i);
      if (foldAscii && unit >= 0x41 && unit <= 0x5a) unit |= 0x20;
      node = this.child(node, unit);
      if (node < 0) break;
      const id = pieceIds[node]!;
      if (id >= 0) {
        found = i + 1;
        this.matchId = id;
      }
    }
    return found;
  }
}

/** Slots for `edges` edges at a load of at most 70% (short probe runs, a compact table). */
function tableSlots(edges: number): number {
  let slots = 2;
  while (7 * slots < 10 * edges) slots *= 2;
  return slots;
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
    this.trie = opts.trie ?? PieceTrie.build(vocab.tokens, prefix, false, (t) => vocab.idOf(t));
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
