// The whole Brown corpus and every State of the Union address, cased and uncased, with
// bert-base-uncased's vocabulary and with vocabularies our trainer produced: ids, offsets and
// word ids identical to HF `tokenizers`, line by line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BertTokenizer, WordCounter, bertUncasedVocab, trainWordPiece } from '../../src/tokenizer/index.js';
import { bertVocabFile, corpusLines, hfBert } from './reference.js';
import { compareEncodings } from './compare.js';

const lines = corpusLines();

async function fullCorpus(vocabPath: string, vocab: readonly string[], lowerCase: boolean): Promise<void> {
  const ours = BertTokenizer.fromVocabFile(vocabPath, { lowerCase });
  const reference = await hfBert(vocabPath, { lowerCase }, vocab);
  const r = await compareEncodings(ours, reference, lines);
  assert.ok(r.texts > 57_000 && r.tokens > 3_000_000, `corpus too small: ${r.texts} texts, ${r.tokens} tokens`);
  assert.equal(r.mismatches, 0, `${r.mismatches} of ${r.texts} texts differ:\n${r.examples.join('\n')}`);
}

for (const lowerCase of [true, false]) {
  test(`full Brown + SOTU, bert-base-uncased vocab, ${lowerCase ? 'uncased' : 'cased'}: zero mismatches`, async () => {
    await fullCorpus(bertVocabFile(), bertUncasedVocab(), lowerCase);
  });
}

for (const lowerCase of [true, false]) {
  test(`full Brown + SOTU, ${lowerCase ? 'uncased' : 'cased'} vocab from our trainer: zero mismatches`, async () => {
    // Trained on a quarter of the lines, so the rest also meets words the vocab never saw whole.
    const counter = new WordCounter({ lowerCase });
    lines.forEach((line, i) => {
      if (i % 4 === 0) counter.add(line);
    });
    const vocab = trainWordPiece(counter.counts(), { vocabSize: 8000, lowerCase });
    assert.equal(vocab.length, 8000);
    const path = join(mkdtempSync(join(tmpdir(), 'electra-parity-')), 'vocab.txt');
    writeFileSync(path, vocab.join('\n') + '\n');
    await fullCorpus(path, vocab, lowerCase);
  });
}

test('sentence pairs (corpus lines): ids, type ids, offsets, word ids', async () => {
  const ours = BertTokenizer.fromVocabFile(bertVocabFile());
  const reference = await hfBert(bertVocabFile(), { lowerCase: true }, bertUncasedVocab());
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < lines.length; i += 29) pairs.push([lines[i]!, lines[(i * 7) % lines.length]!]);
  const r = await compareEncodings(ours, reference, pairs);
  assert.equal(r.mismatches, 0, `${r.mismatches} of ${r.texts} pairs differ:\n${r.examples.join('\n')}`);
});
