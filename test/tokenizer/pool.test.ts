// The worker-thread pool gives exactly what one BertTokenizer gives, text by text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BertTokenizer, TokenizerPool, bertUncasedVocab, type EncodedBatch } from '../../src/tokenizer/index.js';
import { adversarialStrings, corpusLines } from './reference.js';

/** What the pool should return, built with one tokenizer on this thread. */
function expected(tokenizer: BertTokenizer, texts: readonly string[]): EncodedBatch {
  const lengths: number[] = [];
  const ids: number[] = [];
  const offsets: number[] = [];
  const wordIds: number[] = [];
  for (const text of texts) {
    const p = tokenizer.pieces(text);
    lengths.push(p.ids.length);
    ids.push(...p.ids);
    p.starts.forEach((s, k) => offsets.push(s, p.ends[k]!));
    wordIds.push(...p.words);
  }
  return { lengths: Int32Array.from(lengths), ids: Int32Array.from(ids), offsets: Int32Array.from(offsets), wordIds: Int32Array.from(wordIds) };
}

test('pool.encodeBatch equals encodeIds / pieces, with and without offsets, in order', async () => {
  const vocab = bertUncasedVocab();
  const texts = [...corpusLines().filter((_, i) => i % 5 === 0), ...adversarialStrings];
  for (const lowerCase of [true, false]) {
    const want = expected(BertTokenizer.fromVocab(vocab, { lowerCase }), texts);
    const pool = new TokenizerPool(vocab, { lowerCase, threads: 2 });
    try {
      const idsOnly = await pool.encodeBatch(texts, { chunkSize: 500 });
      assert.deepEqual(idsOnly.lengths, want.lengths);
      assert.deepEqual(idsOnly.ids, want.ids);
      assert.equal(idsOnly.offsets, null);
      assert.equal(idsOnly.wordIds, null);
      assert.deepEqual(await pool.encodeBatch(texts, { withOffsets: true }), want);
      assert.equal((await pool.encodeBatch([])).lengths.length, 0);
    } finally {
      await pool.close();
    }
    await assert.rejects(pool.encodeBatch(['x']), /closed/);
  }
});
