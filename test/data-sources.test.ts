import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { bertUncasedVocabText } from '../src/tokenizer/bert-vocab.js';
import { readBrown, readSotu, readMobyDick } from '../src/data/corpora.js';

test('bert-base-uncased vocab.txt is rebuilt byte for byte', () => {
  const text = bertUncasedVocabText();
  assert.equal(text.split('\n').length - 1, 30522);
  assert.equal(Buffer.byteLength(text), 231508);
  assert.equal(createHash('md5').update(text).digest('hex'), '64800d5d8528ce344256daf115d4965e');
});

test('shipped corpora have the documented sizes', () => {
  const brown = readBrown();
  assert.equal(brown.length, 500);
  const sentences = brown.reduce((s, d) => s + d.sentences.length, 0);
  assert.equal(sentences, 57340);
  const tokens = brown.reduce((s, d) => s + d.sentences.reduce((t, x) => t + x.words.length, 0), 0);
  assert.ok(tokens > 1_150_000 && tokens < 1_170_000, `Brown tokens ${tokens}`);
  assert.equal(new Set(brown.map((d) => d.category)).size, 15);
  assert.equal(readSotu().length, 233);
  assert.ok(readMobyDick().length > 130);
});
