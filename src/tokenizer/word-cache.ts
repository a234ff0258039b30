// The tokenizer's cache of split words, keyed by a word's units without cutting it out of the text.

export const EMPTY_INT32 = new Int32Array(0);

// Fields of a WordCache entry in `meta`.
const HASH = 0;
const KEY_AT = 1;
const KEY_LENGTH = 2;
export const AT = 3;
export const COUNT = 4;
export const WORDS = 5;
const FIELDS = 8;

/**
 * Words already split, found by (hash, text region) with open addressing: no substring is cut out of
 * the text to look a word up, and no object is allocated per word. The table holds [hash, entry + 1]
 * pairs (0: empty); entry e is FIELDS integers at meta[e * FIELDS]. The words' units live in one
 * Uint16Array, their pieces (id, code-point offsets relative to the word, pre-token index within the
 * word) in four Int32Arrays. Growing the table moves only the pairs. Emptied when full, so memory
 * stays bounded on huge corpora.
 */
export class WordCache {
  private static readonly MAX_WORDS = 1 << 19;
  /** Longer words are split every time instead of cached (they are rare and would bloat the arenas). */
  private static readonly MAX_KEY = 256;
  // The arrays start empty and are allocated in the constructor: V8 assumes that a field keeps the
  // value it was first given and discards optimized code that relied on it once the field changes;
  // a second assignment from the start spares that when the arrays grow.
  private table = EMPTY_INT32;
  private mask = 0;
  private size = 0;
  meta = EMPTY_INT32;
  private keys = new Uint16Array(0);
  private keyTop = 0;
  ids = EMPTY_INT32;
  starts = EMPTY_INT32;
  ends = EMPTY_INT32;
  words = EMPTY_INT32;
  pieceTop = 0;
  /** Where the pieces of the word last committed are (an uncached word's until the next word). */
  lastAt = 0;
  lastCount = 0;
  lastWords = 0;

  constructor() {
    // Sized for some 30,000 words: a corpus of a few megabytes fills it without growing it.
    const slots = 1 << 16;
    this.table = new Int32Array(2 * slots);
    this.mask = slots - 1;
    this.meta = new Int32Array(FIELDS << 15);
    this.keys = new Uint16Array(1 << 18);
    const pieces = 1 << 16;
    this.ids = new Int32Array(pieces);
    this.starts = new Int32Array(pieces);
    this.ends = new Int32Array(pieces);
    this.words = new Int32Array(pieces);
  }

  /** The entry offset in meta of the word text[start, end), or ~slot of the free slot where it belongs. */
  find(text: string, start: number, end: number, hash: number): number {
    const length = end - start;
    const table = this.table;
    const meta = this.meta;
    const keys = this.keys;
    for (let slot = mix(hash) & this.mask; ; slot = (slot + 1) & this.mask) {
      const entry = table[2 * slot + 1]!;
      if (entry === 0) return ~slot;
      if (table[2 * slot] !== hash) continue;
      const m = (entry - 1) * FIELDS;
      if (meta[m + KEY_LENGTH] !== length) continue;
      const keyAt = meta[m + KEY_AT]!;
      let i = 0;
      while (i < length && keys[keyAt + i] === text.charCodeAt(start + i)) i++;
      if (i === length) return m;
    }
  }

  /**
   * Makes room for one more word before its pieces are written at pieceTop: empties the cache when
   * it is full, grows the table when half full. Returns the free slot to commit it to (-1 for a word
   * too long to cache).
   */
  prepareInsert(text: string, start: number, end: number, hash: number, slot: number): number {
    if (end - start > WordCache.MAX_KEY) return -1;
    if (this.size >= WordCache.MAX_WORDS) this.reset();
    else if (2 * (this.size + 1) <= this.mask + 1) return slot;
    else this.grow();
    return ~this.find(text, start, end, hash);
  }

  /** Ensures the piece arenas hold `count` more pieces from pieceTop. */
  reservePieces(count: number): void {
    const needed = this.pieceTop + count;
    if (needed <= this.ids.length) return;
    const size = grownSize(this.ids.length, needed);
    this.ids = copyInto(new Int32Array(size), this.ids, this.pieceTop);
    this.starts = copyInto(new Int32Array(size), this.starts, this.pieceTop);
    this.ends = copyInto(new Int32Array(size), this.ends, this.pieceTop);
    this.words = copyInto(new Int32Array(size), this.words, this.pieceTop);
  }

  /**
   * Records the word whose `count` pieces were just written at pieceTop in `slot` (from
   * prepareInsert; -1: not cached, its pieces are overwritten by the next word) and sets last*.
   */
  commit(slot: number, text: string, start: number, end: number, hash: number, count: number, wordCount: number): void {
    this.lastAt = this.pieceTop;
    this.lastCount = count;
    this.lastWords = wordCount;
    if (slot < 0) return;
    const length = end - start;
    if (this.keyTop + length > this.keys.length) {
      this.keys = copyInto(new Uint16Array(grownSize(this.keys.length, this.keyTop + length)), this.keys, this.keyTop);
    }
    const keys = this.keys;
    for (let i = 0; i < length; i++) keys[this.keyTop + i] = text.charCodeAt(start + i);
    const entry = this.size;
    if ((entry + 1) * FIELDS > this.meta.length) this.meta = copyInto(new Int32Array(2 * this.meta.length), this.meta, entry * FIELDS);
    const meta = this.meta;
    const m = entry * FIELDS;
    meta[m + HASH] = hash;
    meta[m + KEY_AT] = this.keyTop;
    meta[m + KEY_LENGTH] = length;
    meta[m + AT] = this.pieceTop;
    meta[m + COUNT] = count;
    meta[m + WORDS] = wordCount;
    this.table[2 * slot] = hash;
    this.table[2 * slot + 1] = entry + 1;
    this.keyTop += length;
    this.pieceTop += count;
    this.size++;
  }

  /** A table twice the size; only the (hash, entry) pairs move. */
  private grow(): void {
    const capacity = 2 * (this.mask + 1);
    const table = new Int32Array(2 * capacity);
    const mask = capacity - 1;
    const meta = this.meta;
    for (let e = 0; e < this.size; e++) {
      const hash = meta[e * FIELDS + HASH]!;
      let slot = mix(hash) & mask;
      while (table[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
      table[2 * slot] = hash;
      table[2 * slot + 1] = e + 1;
    }
    this.table = table;
    this.mask = mask;
  }

  /** Forgets every word (the arenas are kept and refilled). */
  private reset(): void {
    this.table.fill(0);
    this.size = 0;
    this.keyTop = 0;
    this.pieceTop = 0;
  }
}

/** Doubles `size` until it holds `needed`. */
function grownSize(size: number, needed: number): number {
  while (size < needed) size *= 2;
  return size;
}

/** Copies the first `count` elements of `from` into `to` (native copy) and returns `to`. */
function copyInto<T extends Int32Array | Uint16Array>(to: T, from: Int32Array | Uint16Array, count: number): T {
  to.set(from.subarray(0, count));
  return to;
}

/** Spreads a word hash over all bits (murmur3's finaliser): similar words must not share slots. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
