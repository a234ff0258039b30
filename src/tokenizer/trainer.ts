// WordPiece vocabulary training in the manner of HF's WordPieceTrainer: count the normalised words
// of a corpus (streaming), start from special tokens and the alphabet (with ## continuation forms),
// then repeatedly merge the most frequent adjacent pair of symbols (BPE) until the vocabulary
// has the requested size. Ties go to the pair of smaller symbol ids, so runs are reproducible.
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { firstInvalidUtf8 } from '../util/text.js';
import { FormatError, UsageError } from '../errors.js';
import { BasicTokenizer } from './basic.js';
import { SPECIAL_TOKENS } from './vocab.js';

export interface TrainerOptions {
  /** Size of the vocabulary to produce, special tokens included. */
  vocabSize: number;
  lowerCase?: boolean;
  stripAccents?: boolean;
  /** Pairs seen fewer times than this are never merged. Default 2. */
  minFrequency?: number;
  /** Keep at most this many characters (the most frequent) in the alphabet. Default 1000. */
  limitAlphabet?: number;
  /** Default [PAD] [UNK] [CLS] [SEP] [MASK]; they come first, in this order. */
  specialTokens?: readonly string[];
  /** Words longer than this many code points are left out (WordPiece maps them to [UNK]). Default 100. */
  maxInputCharsPerWord?: number;
  /** Called now and then during merging with the vocabulary size reached so far. */
  onMerge?: (size: number) => void;
}

const PREFIX = '##';

/**
 * Counts normalised words, fed line by line. Words are first counted by their original spelling
 * (normalisation then runs once per spelling); that table is folded into the normalised counts
 * whenever it grows large. If the normalised table itself nears V8's Map limit (huge corpora),
 * words seen once so far are dropped from it (they could not be merged anyway below frequency 2).
 */
export class WordCounter {
  private static readonly FOLD_AT = 1 << 21;
  private static readonly PRUNE_AT = 12_000_000;
  private readonly basic: BasicTokenizer;
  private raw = new Map<string, number>();
  private readonly normalized = new Map<string, number>();

  constructor(opts: { lowerCase?: boolean; stripAccents?: boolean } = {}) {
    this.basic = new BasicTokenizer(opts);
  }

  add(text: string): void {
    const raw = this.raw;
    this.basic.forEachWord(text, (start, end) => {
      const word = text.slice(start, end);
      raw.set(word, (raw.get(word) ?? 0) + 1);
    });
    if (raw.size >= WordCounter.FOLD_AT) this.fold();
  }

  /** Normalised word -> count. */
  counts(): Map<string, number> {
    this.fold();
    return new Map(this.normalized);
  }

  private fold(): void {
    const out = this.normalized;
    for (const [original, count] of this.raw) {
      for (const part of this.basic.normalizeWord(original).parts) out.set(part, (out.get(part) ?? 0) + count);
    }
    this.raw = new Map();
    if (out.size >= WordCounter.PRUNE_AT) for (const [word, count] of out) if (count === 1) out.delete(word);
  }
}

/** Regular files under dir (recursively, hidden entries skipped), sorted by path. */
export function listCorpusFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (err) {
    throw new UsageError(`cannot read corpus directory ${dir}: ${(err as Error).message}`);
  }
  const files: string[] = [];
  for (const name of entries.sort()) {
    if (name.startsWith('.')) continue;
    const full = join(dir, name);
    const st = statSync(full);
    if (st.isDirectory()) files.push(...listCorpusFiles(full));
    else if (st.isFile()) files.push(full);
  }
  return files;
}

/**
 * Streams each file line by line into the counter; onBytes reports bytes read so far. Text must be
 * UTF-8: anything else is refused naming the file and the byte offset (a lenient decode would
 * count U+FFFD replacement characters into the vocabulary).
 */
export async function countFiles(files: readonly string[], counter: WordCounter, onBytes?: (bytes: number) => void): Promise<void> {
  let bytes = 0;
  for (const file of files) {
    const lines = createInterface({ input: Readable.from(strictUtf8Chunks(file, (n) => onBytes?.((bytes += n)))), crlfDelay: Infinity });
    for await (const line of lines) counter.add(line);
  }
}

/** The file's text, chunk by chunk, decoded as strict UTF-8 (a BOM is kept, as the lenient decoder did). */
async function* strictUtf8Chunks(file: string, onBytes: (bytes: number) => void): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let offset = 0;
  const invalid = (chunk: Uint8Array): FormatError => {
    // Skip the continuation bytes of a character the previous chunk began.
    let start = 0;
    while (start < 3 && start < chunk.length && (chunk[start]! & 0xc0) === 0x80) start++;
    const at = firstInvalidUtf8(chunk.subarray(start));
    const where = at >= 0 ? `at byte offset ${offset + start + at}` : `near byte offset ${offset}`;
    return new FormatError(file, `invalid UTF-8 ${where}; expected UTF-8 text`);
  };
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let text: string;
    try {
      text = decoder.decode(chunk, { stream: true });
    } catch {
      throw invalid(chunk);
    }
    offset += chunk.length;
    onBytes(chunk.length);
    yield text;
  }
  try {
    const tail = decoder.decode();
    if (tail) yield tail;
  } catch {
    throw invalid(new Uint8Array(0));
  }
}

/** Trains a vocabulary (token list, id order) from word counts. */
export function trainWordPiece(wordCounts: ReadonlyMap<string, number>, opts: TrainerOptions): string[] {
  const specials = opts.specialTokens ?? SPECIAL_TOKENS;
  const minFrequency = opts.minFrequency ?? 2;
  const limitAlphabet = opts.limitAlphabet ?? 1000;
  const maxChars = opts.maxInputCharsPerWord ?? 100;
  if (!Number.isInteger(opts.vocabSize) || opts.vocabSize < specials.length) {
    throw new Error(`vocab size must be an integer of at least ${specials.length} (the special tokens), got ${opts.vocabSize}`);
  }

  // Words in a fixed order so that symbol ids, and so tie-breaks, never depend on input order.
  const words = [...wordCounts.entries()]
    .map(([w, c]) => ({ chars: [...w], count: c }))
    .filter((w) => w.chars.length > 0 && w.chars.length <= maxChars)
    .sort((a, b) => compareStrings(a.chars.join(''), b.chars.join('')));

  // Alphabet: the most frequent characters (ties by code point).
  const charCounts = new Map<string, number>();
  for (const w of words) for (const ch of w.chars) charCounts.set(ch, (charCounts.get(ch) ?? 0) + w.count);
  const alphabet = [...charCounts.entries()]
    .sort((a, b) => b[1] - a[1] || compareStrings(a[0], b[0]))
    .slice(0, limitAlphabet)
    .map(([ch]) => ch)
    .sort(compareStrings);
  const inAlphabet = new Set(alphabet);

  const tokens: string[] = [];
  const idOf = new Map<string, number>();
  const addToken = (t: string): number => {
    let id = idOf.get(t);
    if (id === undefined) {
      id = tokens.length;
      tokens.push(t);
      idOf.set(t, id);
    }
    return id;
  };
  for (const t of specials) {
    if (idOf.has(t)) throw new Error(`special token ${t} given twice`);
    addToken(t);
  }
  for (const ch of alphabet) addToken(ch);
  const continuationChars = new Set<string>();
  const usable = words.filter((w) => w.chars.every((ch) => inAlphabet.has(ch)));
  for (const w of usable) for (let i = 1; i < w.chars.length; i++) continuationChars.add(w.chars[i]!);
  for (const ch of [...continuationChars].sort(compareStrings)) addToken(PREFIX + ch);

  const symbols: number[][] = usable.map((w) => w.chars.map((ch, i) => idOf.get(i === 0 ? ch : PREFIX + ch)!));
  const counts = usable.map((w) => w.count);

  // Pair statistics: count per pair and the words that (may) contain it.
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, number[]>();
  const heap = new PairHeap();
  symbols.forEach((s, w) => {
    for (let i = 0; i + 1 < s.length; i++) {
      const key = pairKey(s[i]!, s[i + 1]!);
      pairCount.set(key, (pairCount.get(key) ?? 0) + counts[w]!);
      let list = pairWords.get(key);
      if (!list) pairWords.set(key, (list = []));
      if (list[list.length - 1] !== w) list.push(w);
    }
  });
  for (const [key, count] of pairCount) heap.push(count, key);

  const visited = new Int32Array(symbols.length).fill(-1);
  let merge = 0;
  while (tokens.length < opts.vocabSize) {
    const top = heap.pop();
    if (!top) break;
    const [count, key] = top;
    if (pairCount.get(key) !== count) continue; // stale entry; the current count has its own
    if (count < minFrequency) break;
    const a = Math.floor(key / PAIR_BASE);
    const b = key % PAIR_BASE;
    const merged = addToken(tokens[a]! + tokens[b]!.slice(PREFIX.length));
    const delta = new Map<number, number>();
    const change = (k: number, d: number): void => {
      delta.set(k, (delta.get(k) ?? 0) + d);
    };
    for (const w of pairWords.get(key) ?? []) {
      if (visited[w] === merge) continue;
      visited[w] = merge;
      const s = symbols[w]!;
      const c = counts[w]!;
      let found = false;
      for (let i = 0; i + 1 < s.length; i++) if (s[i] === a && s[i + 1] === b) found = true;
      if (!found) continue;
      for (let i = 0; i + 1 < s.length; i++) change(pairKey(s[i]!, s[i + 1]!), -c);
      const next: number[] = [];
      for (let i = 0; i < s.length; ) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          next.push(merged);
          i += 2;
        } else next.push(s[i++]!);
      }
      for (let i = 0; i + 1 < next.length; i++) {
        const k = pairKey(next[i]!, next[i + 1]!);
        change(k, c);
        if (next[i] === merged || next[i + 1] === merged) {
          let list = pairWords.get(k);
          if (!list) pairWords.set(k, (list = []));
          if (list[list.length - 1] !== w) list.push(w);
        }
      }
      symbols[w] = next;
    }
    for (const [k, d] of delta) {
      if (d === 0) continue;
      const now = (pairCount.get(k) ?? 0) + d;
      if (now > 0) {
        pairCount.set(k, now);
        heap.push(now, k);
      } else {
        pairCount.delete(k);
        pairWords.delete(k);
      }
    }
    merge++;
    if ((merge & 255) === 0) opts.onMerge?.(tokens.length);
  }
  opts.onMerge?.(tokens.length);
  return tokens;
}

/** Lists the files of corpusDir, streams them through a word counter and trains a vocabulary. */
export async function trainVocabFromDirectory(
  corpusDir: string, opts: TrainerOptions, onBytes?: (bytes: number, total: number) => void,
): Promise<string[]> {
  const files = listCorpusFiles(corpusDir);
  if (files.length === 0) throw new UsageError(`no files in corpus directory ${corpusDir}`);
  const total = files.reduce((s, f) => s + statSync(f).size, 0);
  const counter = new WordCounter({ lowerCase: opts.lowerCase ?? true, stripAccents: opts.stripAccents });
  await countFiles(files, counter, onBytes ? (bytes) => onBytes(bytes, total) : undefined);
  return trainWordPiece(counter.counts(), opts);
}

const PAIR_BASE = 2 ** 22;
function pairKey(a: number, b: number): number {
  return a * PAIR_BASE + b;
}

/** Code-point order (not UTF-16 order), so astral characters sort where they belong. */
function compareStrings(x: string, y: string): number {
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const cx = x.codePointAt(i)!;
    const cy = y.codePointAt(i)!;
    if (cx !== cy) return cx - cy;
    if (cx > 0xffff) i++;
  }
  return x.length - y.length;
}

/** Max-heap of (count, pair key): highest count first, then smallest key (smaller symbol ids). */
class PairHeap {
  private readonly counts: number[] = [];
  private readonly keys: number[] = [];

  push(count: number, key: number): void {
    const c = this.counts;
    const k = this.keys;
    let i = c.length;
    c.push(count);
    k.push(key);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(count, key, c[parent]!, k[parent]!)) break;
      c[i] = c[parent]!;
      k[i] = k[parent]!;
      i = parent;
    }
    c[i] = count;
    k[i] = key;
  }

  pop(): [number, number] | undefined {
    const c = this.counts;
    const k = this.keys;
    if (c.length === 0) return undefined;
    const top: [number, number] = [c[0]!, k[0]!];
    const lastCount = c.pop()!;
    const lastKey = k.pop()!;
    const n = c.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const child = r < n && this.before(c[r]!, k[r]!, c[l]!, k[l]!) ? r : l;
        if (!this.before(c[child]!, k[child]!, lastCount, lastKey)) break;
        c[i] = c[child]!;
        k[i] = k[child]!;
        i = child;
      }
      c[i] = lastCount;
      k[i] = lastKey;
    }
    return top;
  }

  private before(c1: number, k1: number, c2: number, k2: number): boolean {
    return c1 > c2 || (c1 === c2 && k1 < k2);
  }
}
