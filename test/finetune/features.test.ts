// Featurisation with the real BERT uncased vocabulary: sentence pairs, QA windows, tagging.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BertTokenizer, bertUncasedVocab } from '../../src/tokenizer/index.js';
import { featurizeSentence } from '../../src/finetune/classification/features.js';
import { featurizeQa, docSpans, isMaxContext } from '../../src/finetune/qa/features.js';
import { featurizeTagging } from '../../src/finetune/tagging/features.js';
import { padBatch } from '../../src/finetune/features/batch.js';
import type { SentenceExample, LabelSpec } from '../../src/finetune/classification/data.js';
import type { QaExample } from '../../src/finetune/qa/data.js';

const tok = BertTokenizer.fromVocab(bertUncasedVocab());
const ids = (tokens: string[]): number[] => tokens.map((t) => tok.vocab.idOf(t)!);
const binary: LabelSpec = { type: 'classification', labels: ['0', '1'] };
const pair = (textA: string, textB: string | null, label: string | number = '1'): SentenceExample => ({ taskName: 't', eid: 7, textA, textB, label });

test('sentence pairs: [CLS] A [SEP] B [SEP] with segment ids and the label id', () => {
  const f = featurizeSentence(tok, pair('The cat sat.', 'A dog ran.'), binary, 128);
  assert.deepEqual(f.inputIds, ids(['[CLS]', 'the', 'cat', 'sat', '.', '[SEP]', 'a', 'dog', 'ran', '.', '[SEP]']));
  assert.deepEqual(f.segmentIds, [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
  assert.equal(f.label, 1);
  assert.equal(f.eid, 7);
});

test('truncation: longest first, B on ties (the reference _truncate_seq_pair); single texts cut at the end', () => {
  // a = the cat sat . (4), b = a dog ran . (4), budget 8 - 3 = 5: b, a, b lose a token.
  const f = featurizeSentence(tok, pair('The cat sat.', 'A dog ran.'), binary, 8);
  assert.deepEqual(f.inputIds, ids(['[CLS]', 'the', 'cat', 'sat', '[SEP]', 'a', 'dog', '[SEP]']));
  // the longer side alone loses tokens until the lengths meet
  const g = featurizeSentence(tok, pair('one two three four five six', 'yes'), binary, 7);
  assert.deepEqual(g.inputIds, ids(['[CLS]', 'one', 'two', 'three', '[SEP]', 'yes', '[SEP]']));
  const s = featurizeSentence(tok, pair('The cat sat.', null), binary, 4);
  assert.deepEqual(s.inputIds, ids(['[CLS]', 'the', 'cat', '[SEP]']));
});

test('an empty (or token-less) second text gives a single-sentence input, as `if tokens_b`', () => {
  for (const b of ['', '\u0000\u0001']) {
    const f = featurizeSentence(tok, pair('Hello there', b), binary, 16);
    assert.deepEqual(f.inputIds, ids(['[CLS]', 'hello', 'there', '[SEP]']));
    assert.deepEqual(f.segmentIds, [0, 0, 0, 0]);
  }
});

test('regression targets are scaled to [0, 1]; bad labels are errors', () => {
  const sts: LabelSpec = { type: 'regression', min: 0, max: 5 };
  assert.equal(featurizeSentence(tok, pair('a', 'b', 4.75), sts, 16).label, 0.95);
  assert.equal(featurizeSentence(tok, pair('a', 'b', 3), { type: 'regression', min: 1, max: 5 }, 16).label, 0.5);
  assert.throws(() => featurizeSentence(tok, pair('a', 'b', '2'), binary, 16), /t example 7: label "2" is not in the label list/);
  assert.throws(() => featurizeSentence(tok, pair('a', 'b', 6), sts, 16), /target 6 is outside \[0, 5\]/);
});

test('doc spans and the max-context rule', () => {
  assert.deepEqual(docSpans(10, 4, 2), [{ start: 0, length: 4 }, { start: 2, length: 4 }, { start: 4, length: 4 }, { start: 6, length: 4 }]);
  assert.deepEqual(docSpans(10, 4, 128), [{ start: 0, length: 4 }, { start: 4, length: 4 }, { start: 8, length: 2 }]);
  assert.deepEqual(docSpans(3, 4, 2), [{ start: 0, length: 3 }]);
  const spans = docSpans(10, 4, 2);
  // token 3: window 0 gives min(3, 0), window 1 min(1, 2): window 1
  assert.equal(isMaxContext(spans, 1, 3), true);
  assert.equal(isMaxContext(spans, 0, 3), false);
  // token 2: window 0 min(2, 1) = 1 beats window 1 min(0, 3)
  assert.equal(isMaxContext(spans, 0, 2), true);
  // equal scores: the first window wins
  const even = [{ start: 0, length: 3 }, { start: 1, length: 3 }];
  assert.equal(isMaxContext(even, 0, 1), true);
  assert.equal(isMaxContext(even, 1, 2), true);
});

const qaExample = (context: string, answer: [number, number] | null, isImpossible = false): QaExample => ({
  taskName: 'squad', eid: 3, id: 'q', question: 'q ?', context, answers: [], isImpossible,
  answer: answer ? { text: context.slice(answer[0], answer[1]), start: answer[0], end: answer[1] } : null,
});

test('QA windows: [CLS] question [SEP] window [SEP], answer positions per window, max-context flags', () => {
  const context = 'a b c d e f g h i j';
  const features = featurizeQa(tok, qaExample(context, [8, 11]), true, { maxSeqLength: 9, maxQueryLength: 64, docStride: 2 });
  assert.equal(features.length, 4);
  assert.deepEqual(features.map((f) => f.uniqueId), [3000, 3001, 3002, 3003]);
  assert.deepEqual(features[1]!.inputIds, ids(['[CLS]', 'q', '?', '[SEP]', 'c', 'd', 'e', 'f', '[SEP]']));
  assert.deepEqual(features[1]!.segmentIds, [0, 0, 0, 0, 1, 1, 1, 1, 1]);
  // "e f" are passage tokens 4-5: inside windows 1 and 2 only.
  assert.deepEqual(features.map((f) => [f.startPosition, f.endPosition]), [[0, 0], [6, 7], [4, 5], [0, 0]]);
  assert.deepEqual(features.map((f) => f.maxContext.slice(4, 8)), [
    [true, true, true, false], [false, true, true, false], [false, true, true, false], [false, true, true, true]]);
  assert.deepEqual(features[1]!.tokenSpans.slice(3, 9), [null, [4, 5], [6, 7], [8, 9], [10, 11], null]);
  assert.deepEqual(features[0]!.tokenSpans.slice(0, 4), [null, null, null, null]);
  const span = features[2]!.tokenSpans;
  assert.equal(context.slice(span[4]![0], span[5]![1]), 'e f');
});

test('QA: unanswerable gives (0, 0) and is_impossible; query cut to max_query_length; UTF-16 spans', () => {
  const imp = featurizeQa(tok, qaExample('a b c', null, true), true, { maxSeqLength: 64, maxQueryLength: 64, docStride: 128 });
  assert.deepEqual(imp.map((f) => [f.startPosition, f.endPosition, f.isImpossible]), [[0, 0, true]]);
  const long = { ...qaExample('a b c', null), question: 'one two three four' };
  assert.deepEqual(featurizeQa(tok, long, false, { maxSeqLength: 64, maxQueryLength: 2, docStride: 128 })[0]!.inputIds.slice(0, 4),
    ids(['[CLS]', 'one', 'two', '[SEP]']));
  const emoji = '\u{1F600} Denverites';
  const [f] = featurizeQa(tok, qaExample(emoji, [3, 9]), true, { maxSeqLength: 64, maxQueryLength: 64, docStride: 128 });
  assert.deepEqual(f!.tokenSpans.slice(4, 7), [[0, 2], [3, 9], [9, 13]]);
  // the answer "Denver" covers the first piece of "denver ##ites" only
  assert.deepEqual([f!.startPosition, f!.endPosition], [5, 5]);
  assert.throws(() => featurizeQa(tok, qaExample('a', null), false, { maxSeqLength: 5, maxQueryLength: 64, docStride: 128 }), /leaves no room for the passage/);
  assert.deepEqual(featurizeQa(tok, qaExample('', null), false, { maxSeqLength: 64, maxQueryLength: 64, docStride: 128 }), []);
});

test('tagging: label on the first sub-token of each word; the reference truncation rule; segment ids 1', () => {
  const f = featurizeTagging(tok, { taskName: 'chunk', eid: 0, words: ['The', 'unaffable', 'cat'], labels: [4, 5, 6] }, 128);
  assert.deepEqual(f.inputIds, ids(['[CLS]', 'the', 'una', '##ffa', '##ble', 'cat', '[SEP]']));
  assert.deepEqual(f.labeledPositions, [1, 2, 5]);
  assert.deepEqual(f.labels, [4, 5, 6]);
  assert.deepEqual(f.segmentIds, [1, 1, 1, 1, 1, 1, 1]);
  // 3 words (5 with [CLS]/[SEP]) and max 8: a (5+1+1=7) and b (5+2+1=8) fit, c (9) does not.
  const t = featurizeTagging(tok, { taskName: 'chunk', eid: 1, words: ['a', 'b', 'c'], labels: [1, 2, 3] }, 8);
  assert.deepEqual(t.inputIds, ids(['[CLS]', 'a', 'b', '[SEP]']));
  assert.deepEqual([t.labeledPositions, t.labels], [[1, 2], [1, 2]]);
  // a word whose pieces would overflow stops the sentence instead of passing max_seq_length
  const w = featurizeTagging(tok, { taskName: 'chunk', eid: 2, words: ['unaffable'], labels: [1] }, 4);
  assert.deepEqual(w.inputIds, ids(['[CLS]', '[SEP]']));
  assert.throws(() => featurizeTagging(tok, { taskName: 'chunk', eid: 3, words: ['a'], labels: [] }, 8), /1 words but 0 labels/);
});

test('padBatch: zero padding to the longest (or a given) length with the input mask', () => {
  const b = padBatch([{ inputIds: [101, 7, 102], segmentIds: [0, 0, 0] }, { inputIds: [101, 102], segmentIds: [0, 1] }]);
  assert.equal(b.seqLength, 3);
  assert.deepEqual([...b.inputIds], [101, 7, 102, 101, 102, 0]);
  assert.deepEqual([...b.inputMask], [1, 1, 1, 1, 1, 0]);
  assert.deepEqual([...b.segmentIds], [0, 0, 0, 0, 1, 0]);
  assert.equal(padBatch([{ inputIds: [1], segmentIds: [0] }], 4).inputIds.length, 4);
  assert.throws(() => padBatch([{ inputIds: [1, 2], segmentIds: [0, 0] }], 1), /more than the sequence length 1/);
});
