// The tokenizer's flat structures: the tries against a brute-force longest match, a tokenizer rebuilt
// from its data (also in a worker thread, through postMessage), tokenizing ranges of a long text,
// and the word cache past its limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { BertTokenizer, PieceTrie, Vocab, WordPiece, bertUncasedVocab, type BertTokenizerData } from '../../src/tokenizer/index.js';
import { adversarialStrings, corpusLines } from './reference.js';

/** Longest key of `pieces` that text[start, end) starts with, by trying every length. */
function bruteLongest(pieces: Map<string, number>, text: string, start: number, end: number): { end: number; id: number } {
  for (let e = end; e > start; e--) {
    const id = pieces.get(text.slice(start, e));
    if (id !== undefined) return { end: e, id };
  }
  return { end: -1, id: -1 };
}

test('PieceTrie: longest piece from either root equals a brute-force search; a repeated token keeps its first id', () => {
  const tokens = ['[UNK]', 'a', 'ab', 'abc', '##b', '##bc', '##c', 'b', '\u{1F600}', '##\u{1F600}x', 'é', 'ab', '##', 'x'];
  const trie = PieceTrie.build(tokens, '##');
  assert.ok(trie.edges.buffer instanceof SharedArrayBuffer);
  const initial = new Map<string, number>();
  const continuation = new Map<string, number>();
  tokens.forEach((t, id) => {
    if (t !== '' && !initial.has(t)) initial.set(t, id);
    if (t.startsWith('##') && t.length > 2 && !continuation.has(t.slice(2))) continuation.set(t.slice(2), id);
  });
  const alphabet = ['a', 'b', 'c', 'x', 'é', '\u{1F600}', '#', 'A'];
  let seed = 7;
  const next = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  for (let k = 0; k < 2000; k++) {
    let text = '';
    for (let i = next(8); i >= 0; i--) text += alphabet[next(alphabet.length)];
    const start = next(text.length);
    for (const [root, pieces] of [[PieceTrie.INITIAL, initial], [PieceTrie.CONTINUATION, continuation]] as const) {
      const expected = bruteLongest(pieces, text, start, text.length);
      const end = trie.longest(root, text, start, text.length, false);
      assert.equal(end, expected.end, `${JSON.stringify(text)} from ${start}`);
      if (end >= 0) assert.equal(trie.matchId, expected.id);
    }
    // foldAscii reads A-Z as a-z.
    const folded = trie.longest(PieceTrie.INITIAL, text, start, text.length, true);
    assert.equal(folded, bruteLongest(initial, text.replace(/[A-Z]/g, (c) => c.toLowerCase()), start, text.length).end);
  }
  assert.equal(trie.longest(PieceTrie.INITIAL, 'ab', 0, 2, false), 2);
  assert.equal(trie.matchId, 2, "'ab' is listed twice: the first id wins");
  assert.throws(() => new PieceTrie({ edges: new Int32Array(12) }), /power of two/);
});

test('a tokenizer rebuilt from toData() tokenizes as the original, here and in a worker thread', async () => {
  const vocab = bertUncasedVocab();
  for (const opts of [{}, { lowerCase: false }, { lowerCase: true, stripAccents: false, maxInputCharsPerWord: 20 }]) {
    const original = BertTokenizer.fromVocab(vocab, opts);
    const data = original.toData();
    const copy = BertTokenizer.fromData(data);
    assert.deepEqual([copy.lowerCase, copy.stripAccents], [original.lowerCase, original.stripAccents]);
    assert.deepEqual([copy.padId, copy.unkId, copy.clsId, copy.sepId, copy.maskId], [0, 100, 101, 102, 103]);
    const texts = [...adversarialStrings, ...corpusLines().slice(0, 200), 'a'.repeat(30)];
    for (const text of texts) {
      assert.deepEqual(copy.encodeIds(text), original.encodeIds(text), JSON.stringify(text));
      assert.deepEqual(copy.pieces(text), original.pieces(text));
    }
    assert.equal(copy.vocab.idOf('hello'), original.vocab.idOf('hello'));
  }
  const data = BertTokenizer.fromVocab(vocab).toData();
  const bad: BertTokenizerData = { ...data, specialIds: [0, 100, 101, 103, 102] };
  assert.throws(() => BertTokenizer.fromData(bad), /\[SEP\] is not at id 103/);

  // In a worker: the tries arrive as the same shared memory (not copied), and ids match.
  const texts = corpusLines().slice(0, 100);
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.module).then(({ BertTokenizer }) => {
      const t = BertTokenizer.fromData(workerData.data);
      const ids = workerData.texts.map((x) => t.encodeIds(x));
      workerData.data.trie.edges[0] = -7; // visible to the sender only if the memory is shared
      parentPort.postMessage(ids);
    });`;
  const module = new URL('../../src/tokenizer/tokenizer.js', import.meta.url).href;
  const ids = await new Promise<number[][]>((resolve, reject) => {
    const worker = new Worker(source, { eval: true, workerData: { module, data, texts } });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  assert.equal(data.trie.edges[0], -7);
  const original = BertTokenizer.fromVocab(vocab);
  assert.deepEqual(ids, texts.map((x) => original.encodeIds(x)));
});

test('encodeIdsRange(text, s, e) equals encodeIds(text.slice(s, e)), ranges cutting surrogate pairs included', () => {
  const t = BertTokenizer.fromVocab(bertUncasedVocab());
  const reference = BertTokenizer.fromVocab(bertUncasedVocab());
  const text = [...adversarialStrings, ...corpusLines().slice(0, 50)].join('\n');
  let seed = 11;
  const next = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  for (let k = 0; k < 3000; k++) {
    const s = next(text.length);
    const e = Math.min(text.length, s + next(60));
    const n = t.encodeIdsRange(text, s, e);
    assert.deepEqual(Array.from(t.idBuffer.subarray(0, n)), reference.encodeIds(text.slice(s, e)), `range [${s}, ${e})`);
  }
  assert.throws(() => t.encodeIdsRange('abc', 2, 4), /outside a text of length 3/);
});

test('the word cache: words past its size limit, long uncached words, and refilling after it is emptied', () => {
  const t = BertTokenizer.fromVocab(bertUncasedVocab(), { maxInputCharsPerWord: 1000 });
  const wordPiece = new WordPiece(new Vocab(bertUncasedVocab()), { maxInputChars: 1000 });
  // A 600-character word is split every time (not cached), by the same rules as WordPiece.split.
  const long = 'hello'.repeat(120);
  const expected: number[] = [];
  wordPiece.split(long, expected, []);
  assert.ok(expected.length > 100);
  assert.deepEqual(t.encodeIds(`${long} x ${long}`), [...expected, t.vocab.idOf('x')!, ...expected]);
  // More distinct words than the cache keeps (2^19) empty it once; ids stay those of a fresh tokenizer.
  const words: string[] = [];
  for (let i = 0; i < (1 << 19) + 5000; i++) words.push('w' + i.toString(36));
  const fresh = BertTokenizer.fromVocab(bertUncasedVocab());
  for (let from = 0; from < words.length; from += 20000) t.encodeIds(words.slice(from, from + 20000).join(' '));
  const sample = [words[0]!, words[1000]!, words[words.length - 1]!, 'the', 'unaffable'].join(' ');
  assert.deepEqual(t.encodeIds(sample), fresh.encodeIds(sample));
});

test('Vocab.trusted indexes lazily and finds what a validated Vocab finds', () => {
  const tokens = bertUncasedVocab();
  const trusted = Vocab.trusted(tokens);
  const checked = new Vocab(tokens);
  assert.equal(trusted.size, checked.size);
  for (const t of ['[CLS]', 'hello', '##ing', 'not-a-token']) assert.equal(trusted.idOf(t), checked.idOf(t));
  assert.throws(() => (trusted.tokens as string[]).push('x'), TypeError);
});
