// The library API over saved model folders: FinetunedModel answers exactly what the model that
// was saved computes (classification, regression in target units, tagging, QA with both head
// styles), picks tasks by kind and name, and refuses folders without heads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsKernels } from '../../src/kernels/index.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FinetunedModel, taggingInputs } from '../../src/finetune/inference.js';
import { headSpecsOf, saveFinetunedModel, type SavedTask } from '../../src/finetune/model/checkpoint.js';
import { featurizeTagging } from '../../src/finetune/tagging/features.js';
import { BertTokenizer, bertUncasedVocab } from '../../src/tokenizer/index.js';
import { TempDir } from '../finetune/fixtures.js';
import { randomModel, saved, TASKS, writePretrained } from './fixtures.js';

const softmax = (x: number[]): number[] => {
  const m = Math.max(...x);
  const e = x.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

test('FinetunedModel: classify, score, tag and answer give what the saved model computes', () => {
  const dir = new TempDir('ft-api-');
  try {
    const model = randomModel(headSpecsOf(TASKS), 3);
    saveFinetunedModel(dir.path, model, { vocab: bertUncasedVocab(), doLowerCase: true, saved: saved(TASKS) });
    const api = FinetunedModel.load(dir.path, { kernels: jsKernels });
    assert.deepEqual(api.tasks.map((t) => t.name), ['rte', 'sts', 'pos', 'squad']);
    const tok = BertTokenizer.fromVocab(bertUncasedVocab());
    const eval0 = { training: false, stepSeed: 0, backward: false };

    const a = 'A man is playing a guitar.';
    const b = 'Someone plays music.';
    const enc = tok.encode(a, b);
    const [cls] = model.run([{ task: 'rte', input: { inputIds: enc.ids, segmentIds: enc.segmentIds }, target: null }], eval0).outputs;
    const expected = softmax((cls as { logits: number[] }).logits);
    const c = api.classify(a, b);
    assert.ok(Math.abs(c.probabilities['entailment']! - expected[0]!) < 1e-5 && Math.abs(c.probabilities['not_entailment']! - expected[1]!) < 1e-5);
    assert.equal(c.label, expected[0]! > expected[1]! ? 'entailment' : 'not_entailment');
    assert.notDeepEqual(api.classify('Completely different words here.').probabilities, c.probabilities, 'the input matters');

    const [reg] = model.run([{ task: 'sts', input: { inputIds: enc.ids, segmentIds: enc.segmentIds }, target: null }], eval0).outputs;
    assert.ok(Math.abs(api.score(a, b) - 5 * (reg as { prediction: number }).prediction) < 1e-5, 'regression in the targets\' units');

    const words = ['The', 'unbelievably', 'old', 'man', 'sat'];
    const f = featurizeTagging(tok, { taskName: 'pos', eid: 0, words, labels: words.map(() => 0) }, 48);
    const [tagOut] = model.run([{ task: 'pos', input: f, target: { positions: f.labeledPositions, labels: null } }], eval0).outputs;
    const tags = api.tag(words.join('  '));
    assert.deepEqual(tags.map((t) => t.word), words);
    (tagOut as { logits: number[][] }).logits.forEach((logits, i) => {
      const p = softmax(logits);
      const best = p.indexOf(Math.max(...p));
      assert.equal(tags[i]!.tag, TASKS[2]!.labels![best]);
      assert.ok(Math.abs(tags[i]!.score - p[best]!) < 1e-5);
    });

    // A passage longer than one window (max_seq_length 32): several doc-stride windows.
    const passage = 'The river flows through the old city of Avalon. It was named by Marta in 1810. Boats carry grain and wool to the sea every spring, and fishermen mend their nets on the stones of the harbour wall.';
    assert.ok(tok.encodeIds(passage).length > 32);
    const ans = api.answer('Who named the river?', passage);
    assert.ok(passage.includes(ans.text) && ans.text.length > 0, `'${ans.text}' is a span of the passage`);
    assert.ok(ans.nbest.length > 1 && ans.nbest.length <= 5);
    assert.ok(ans.nbest.every((e, i) => i === 0 || e.startLogit + e.endLogit <= ans.nbest[i - 1]!.startLogit + ans.nbest[i - 1]!.endLogit));
    assert.equal(ans.answerable, ans.noAnswerScore <= -2.75);

    assert.throws(() => api.classify(a, b, { task: 'sts' }), /has no task 'sts' for classification; it has rte \(classification\), sts \(regression\)/);
  } finally {
    dir.remove();
  }
});

test('FinetunedModel: an HF ElectraForQuestionAnswering folder answers with independent start/end logits', () => {
  const dir = new TempDir('ft-api-hf-');
  try {
    const task: SavedTask = { name: 'qa', kind: 'qa', style: 'hf', labels: null };
    saveFinetunedModel(dir.path, randomModel(headSpecsOf([task]), 5), { vocab: bertUncasedVocab(), doLowerCase: true, saved: saved([task]) });
    const api = FinetunedModel.load(dir.path, { kernels: jsKernels });
    const passage = 'Grain is carried to the sea by boat every spring.';
    const ans = api.answer('What is carried?', passage);
    assert.ok(passage.includes(ans.text) && ans.text.length > 0);
    assert.equal(ans.answerable, ans.noAnswerScore <= -2.75);
  } finally {
    dir.remove();
  }
});

test('FinetunedModel: a pre-trained model without heads is refused with what to do', () => {
  const dir = new TempDir('ft-api-pre-');
  try {
    const folder = writePretrained(dir, 'm');
    assert.throws(() => FinetunedModel.load(folder), /holds an ElectraForPreTraining without task heads: fine-tune it first/);
  } finally {
    dir.remove();
  }
});

test('FinetunedModel.tag: a sentence too long for one input is tagged in pieces; one that fits gets the training input', () => {
  const dir = new TempDir('ft-api-long-');
  try {
    const model = randomModel(headSpecsOf(TASKS), 7);
    saveFinetunedModel(dir.path, model, { vocab: bertUncasedVocab(), doLowerCase: true, saved: saved(TASKS) });
    const api = FinetunedModel.load(dir.path, { kernels: jsKernels });
    const tok = BertTokenizer.fromVocab(bertUncasedVocab());
    const eval0 = { training: false, stepSeed: 0, backward: false };
    const tagsOf = (f: ReturnType<typeof featurizeTagging>): number[] => {
      const [o] = model.run([{ task: 'pos', input: f, target: { positions: f.labeledPositions, labels: null } }], eval0).outputs;
      return (o as { logits: number[][] }).logits.map((l) => l.indexOf(Math.max(...l)));
    };
    // 40 words at max_seq_length 32: the reference's featurizer tags none of them.
    const words = Array.from({ length: 40 }, (_, i) => ['the', 'old', 'man', 'unbelievably', 'sat'][i % 5]!);
    assert.equal(featurizeTagging(tok, { taskName: 'pos', eid: 0, words, labels: words.map(() => 0) }, 32).labeledPositions.length, 0);
    const tags = api.tag(words);
    assert.deepEqual(tags.map((t) => t.word), words, 'every word gets a tag');
    // Each piece is what featurizeTagging builds for its words (all tagged), and the tags are the model's.
    const pieces = taggingInputs(tok, words, 32);
    assert.ok(pieces.length > 1);
    let at = 0;
    for (const p of pieces) {
      assert.ok(p.inputIds.length <= 32);
      const piece = words.slice(at, at + p.labeledPositions.length);
      const f = featurizeTagging(tok, { taskName: 'pos', eid: 0, words: piece, labels: piece.map(() => 0) }, 32);
      assert.deepEqual(p.inputIds, f.inputIds);
      assert.deepEqual(p.labeledPositions, f.labeledPositions);
      assert.deepEqual(tags.slice(at, at + piece.length).map((t) => t.tag), tagsOf(f).map((k) => TASKS[2]!.labels![k]));
      at += piece.length;
    }
    assert.equal(at, words.length);
    // A word with more sub-tokens than an input holds gets an input of its own.
    const huge = 'zqjxvk'.repeat(8); // one word of 48 single-letter pieces
    assert.ok(tok.pieces(huge).ids.length > 30);
    assert.deepEqual(api.tag(`the ${huge} sat`).map((t) => t.word), ['the', huge, 'sat']);
    assert.deepEqual(api.tag(''), []);
  } finally {
    dir.remove();
  }
});

test('FinetunedModel.answer refuses an empty question or passage; a vocab.txt of another size than vocab_size is refused at load', () => {
  const dir = new TempDir('ft-api-empty-');
  try {
    const task: SavedTask = { name: 'squad', kind: 'qa', style: 'electra', labels: null };
    saveFinetunedModel(dir.path, randomModel(headSpecsOf([task]), 5), { vocab: bertUncasedVocab(), doLowerCase: true, saved: saved([task]) });
    const api = FinetunedModel.load(dir.path, { kernels: jsKernels });
    assert.throws(() => api.answer('', 'Grain is carried to the sea.'), /the question is empty/);
    assert.throws(() => api.answer('What?', '  \n'), /the passage is empty/);
    writeFileSync(join(dir.path, 'vocab.txt'), bertUncasedVocab().slice(0, 1000).join('\n') + '\n');
    assert.throws(() => FinetunedModel.load(dir.path, { kernels: jsKernels }), /vocab\.txt: has 1000 tokens but config\.json says vocab_size 30522/);
  } finally {
    dir.remove();
  }
});
