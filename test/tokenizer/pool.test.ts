// The worker-thread pool gives exactly what one BertTokenizer gives, text by text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BertTokenizer, TokenizerPool, bertUncasedVocab } from '../../src/tokenizer/index.js';
import { adversarialStrings, corpusLines } from './reference.js';

test('pool.encodeBatch equals encodeIds / pieces, with and without offsets, in order', async () => {
  const vocab = bertUncasedVocab();
  const texts = [...corpusLines().filter((_, i) => i % 5 === 0), ...adversarialStrings];
  for (const lowerCase of [true, false]) {
    const single = BertTokenizer.fromVocab(vocab, { lowerCase });
    const pool = new TokenizerPool(vocab, { lowerCase, threads: 2 });
    try {
      const idsOnly = await pool.encodeBatch(texts, { chunkSize: 500 });
      const full = await pool.encodeBatch(texts, { withOffsets: true });
      assert.equal(idsOnly.lengths.length, texts.length);
      assert.equal(idsOnly.offsets, null);
      let at = 0;
      texts.forEach((text, i) => {
        const p = single.pieces(text);
        const n = p.ids.length;
        assert.equal(idsOnly.lengths[i], n, `length of text ${i}`);
        assert.deepEqual([...idsOnly.ids.subarray(at, at + n)], p.ids, `ids of text ${i}`);
        assert.deepEqual([...full.ids.subarray(at, at + n)], p.ids);
        assert.deepEqual([...full.offsets!.subarray(2 * at, 2 * (at + n))], p.starts.flatMap((s, k) => [s, p.ends[k]!]));
        assert.deepEqual([...full.wordIds!.subarray(at, at + n)], p.words);
        at += n;
      });
      assert.equal(at, idsOnly.ids.length);
      assert.equal((await pool.encodeBatch([])).lengths.length, 0);
    } finally {
      await pool.close();
    }
    await assert.rejects(pool.encodeBatch(['x']), /closed/);
  }
});
