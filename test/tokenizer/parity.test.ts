// Whole Brown corpus and all State of the Union addresses, cased and uncased, with
// bert-base-uncased's vocabulary: ids, offsets and word ids identical to HF `tokenizers`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BertTokenizer, bertUncasedVocab } from '../../src/tokenizer/index.js';
import { bertVocabFile, corpusLines, hfBert } from './reference.js';
import { compareEncodings } from './compare.js';

const lines = corpusLines();

for (const lowerCase of [true, false]) {
  test(`full Brown + SOTU, bert-base-uncased vocab, ${lowerCase ? 'uncased' : 'cased'}: zero mismatches`, async () => {
    const vocab = bertUncasedVocab();
    const ours = BertTokenizer.fromVocabFile(bertVocabFile(), { lowerCase });
    const reference = await hfBert(bertVocabFile(), { lowerCase }, vocab);
    const r = await compareEncodings(ours, reference, lines);
    assert.ok(r.texts > 57_000 && r.tokens > 3_000_000, `corpus too small: ${r.texts} texts, ${r.tokens} tokens`);
    assert.equal(r.mismatches, 0, `${r.mismatches} of ${r.texts} texts differ:\n${r.examples.join('\n')}`);
  });
}

test('sentence pairs (consecutive corpus lines): ids, type ids, offsets, word ids', async () => {
  const vocab = bertUncasedVocab();
  const ours = BertTokenizer.fromVocabFile(bertVocabFile());
  const reference = await hfBert(bertVocabFile(), { lowerCase: true }, vocab);
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < lines.length; i += 29) pairs.push([lines[i]!, lines[i + 1]!]);
  const r = await compareEncodings(ours, reference, pairs);
  assert.equal(r.mismatches, 0, `${r.mismatches} of ${r.texts} pairs differ:\n${r.examples.join('\n')}`);
});
