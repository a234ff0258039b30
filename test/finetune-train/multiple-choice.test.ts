// The multiple-choice family (HF's ElectraForMultipleChoice): its head against an independent
// float64 computation and finite differences, the JSON-lines reader's errors, the model with a
// mixed batch, an HF folder round trip, and a small run that learns which choice is right.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { jsKernels } from '../../src/kernels/index.js';
import { DropoutSites } from '../../src/nn/dropout.js';
import { ParameterSet } from '../../src/nn/params.js';
import { allocFloats } from '../../src/nn/tensor.js';
import { readHfFolder } from '../../src/io/hf-folder.js';
import type { HeadDims, HeadInput } from '../../src/finetune/model/head.js';
import { MultipleChoiceHead } from '../../src/finetune/multiple-choice/head.js';
import { readChoiceFile } from '../../src/finetune/multiple-choice/data.js';
import { FinetuningModel, type BatchItem } from '../../src/finetune/model/finetuning-model.js';
import { headSpecsOf, loadWeights, readFinetuningFolder, saveFinetunedModel, type SavedFinetuning } from '../../src/finetune/model/checkpoint.js';
import { resolveHparams } from '../../src/finetune/hparams.js';
import { runFinetuning } from '../../src/finetune/runner.js';
import { FinetunedModel } from '../../src/finetune/inference.js';
import { bertUncasedVocab } from '../../src/tokenizer/index.js';
import { checkGradient, checkParamGradients, gradKernels as K, randomFloat64, randomizeParams } from '../nn/gradcheck.js';
import { TempDir } from '../finetune/fixtures.js';
import { quiet, SIZE, WORDS } from './fixtures.js';

const H = 6;
const S = 5;
const CHOICES = 3;
const ROWS = 7;

function dims(): HeadDims {
  return { hidden: H, maxRows: ROWS, maxSeqLen: S, initializerRange: 0.02, hfDropout: 0.1, dtype: 'float64' };
}

function input(hidden: Float32Array, rows: number[], training: boolean, wantGrad: boolean): HeadInput {
  return {
    hidden, seqLen: S, rows, inputMask: new Int32Array(ROWS * S).fill(1), segmentIds: new Int32Array(ROWS * S),
    training, stepSeed: 77, wantGrad,
  };
}

const gelu = (x: number): number => {
  // erf by Abramowitz-Stegun 7.1.26 is too coarse here; integrate the normal density instead.
  const steps = 4000;
  const a = -12;
  const h = (x - a) / steps;
  let s = 0;
  for (let i = 0; i <= steps; i++) {
    const t = a + i * h;
    const w = i === 0 || i === steps ? 1 : i % 2 ? 4 : 2;
    s += w * Math.exp(-t * t / 2);
  }
  return x * (s * h / 3) / Math.sqrt(2 * Math.PI);
};

test('MultipleChoiceHead: scores and loss as HF computes them (summary dense + gelu, dense(1), softmax CE over choices), in float64', () => {
  const ps = new ParameterSet();
  const head = new MultipleChoiceHead(K, ps, 'mc', CHOICES, 'hf', dims(), new DropoutSites());
  ps.allocate('float64');
  randomizeParams(ps, 3);
  assert.deepEqual(ps.entries.map((e) => e.name), [
    'task_specific.mc.sequence_summary.summary.weight', 'task_specific.mc.sequence_summary.summary.bias',
    'task_specific.mc.classifier.weight', 'task_specific.mc.classifier.bias',
  ]);
  const hidden = randomFloat64(ROWS * S * H, 4);
  const rows = [4, 1, 6, 0, 2, 5];
  const labels = [2, 0];
  const out = head.forward(input(hidden, rows, false, false), labels);
  const W1 = ps.get('task_specific.mc.sequence_summary.summary.weight').value;
  const b1 = ps.get('task_specific.mc.sequence_summary.summary.bias').value;
  const W2 = ps.get('task_specific.mc.classifier.weight').value;
  const b2 = ps.get('task_specific.mc.classifier.bias').value;
  const score = (row: number): number => {
    let s = b2[0]!;
    for (let o = 0; o < H; o++) {
      let z = b1[o]!;
      for (let i = 0; i < H; i++) z += W1[o * H + i]! * hidden[row * S * H + i]!;
      s += W2[o]! * gelu(z);
    }
    return s;
  };
  for (let e = 0; e < 2; e++) {
    const scores = rows.slice(e * CHOICES, (e + 1) * CHOICES).map(score);
    scores.forEach((s, c) => assert.ok(Math.abs(out.scores[e * CHOICES + c]! - s) < 1e-9, `example ${e} choice ${c}: ${out.scores[e * CHOICES + c]} vs ${s}`));
    const lse = Math.log(scores.reduce((a, s) => a + Math.exp(s), 0));
    assert.ok(Math.abs(out.losses[e]! - (lse - scores[labels[e]!]!)) < 1e-9, `loss of example ${e}`);
  }
});

test('MultipleChoiceHead: parameters and hidden states match finite differences (dropout on); other rows get no gradient', () => {
  const ps = new ParameterSet();
  const head = new MultipleChoiceHead(K, ps, 'mc', CHOICES, 'electra', dims(), new DropoutSites());
  ps.allocate('float64');
  randomizeParams(ps, 5);
  const hidden = randomFloat64(ROWS * S * H, 6);
  const rows = [3, 0, 5, 6, 1, 2];
  const loss = (wantGrad: boolean): number => head.forward(input(hidden, rows, true, wantGrad), [1, 2]).losses.reduce((a, b) => a + b, 0);
  ps.zeroGrads();
  loss(true);
  const dHidden = allocFloats(hidden.length, 'float64');
  head.backward(dHidden);
  checkParamGradients(ps, () => loss(false), { maxChecks: 40, skip: (n) => n === 'task_specific.mc.classifier.bias' });
  assert.ok(Math.abs(ps.get('task_specific.mc.classifier.bias').grad[0]!) < 1e-12, 'a bias shared by every choice has no gradient');
  checkGradient('hidden', hidden, dHidden, () => loss(false), { maxChecks: 60 });
  assert.ok(dHidden.subarray(4 * S * H, 5 * S * H).every((v) => v === 0), 'row 4 is not this head\'s');
  for (const r of rows) assert.ok(dHidden.subarray(r * S * H + H, (r + 1) * S * H).every((v) => v === 0), `only [CLS] of row ${r}`);
});

test('readChoiceFile: JSON lines with context, question, choices and label; errors name file:line and the field', () => {
  const dir = new TempDir('mc-read-');
  try {
    const good = dir.write('train.jsonl', [
      JSON.stringify({ id: 'a', context: 'A man sits.', question: 'He', choices: ['stands.', 'sleeps.'], label: 1 }),
      '',
      JSON.stringify({ context: 'It rains.', choices: ['x', 'y'], label: 0 }),
    ].join('\n') + '\n');
    const examples = readChoiceFile(good, { taskName: 'mc', labelled: true });
    assert.deepEqual(examples.map((e) => [e.eid, e.id, e.question, e.label, e.line]), [[0, 'a', 'He', 1, 1], [1, '3', '', 0, 3]]);
    const bad = (lines: unknown[], message: RegExp, labelled = true): void => {
      const file = dir.write('bad.jsonl', lines.map((l) => typeof l === 'string' ? l : JSON.stringify(l)).join('\n'));
      assert.throws(() => readChoiceFile(file, { taskName: 'mc', labelled }), message);
    };
    bad(['{"context": "a", '], /bad\.jsonl:1: not JSON/);
    bad([{ context: 'a', choices: ['x', 'y'], label: 0 }, { context: 'b', choices: ['x', 'y', 'z'], label: 0 }], /bad\.jsonl:2: 3 choices, but line 1 has 2/);
    bad([{ context: 'a', choices: ['x'], label: 0 }], /bad\.jsonl:1: "choices" must be a list of 2 or more strings/);
    bad([{ context: 'a', choices: ['x', 'y'], label: 2 }], /bad\.jsonl:1: "label" must be the index of the right choice, an integer in \[0, 2\), got 2/);
    bad([{ context: 'a', choices: ['x', 'y'] }], /bad\.jsonl:1: "label" is missing/);
    bad([{ choices: ['x', 'y'], label: 0 }], /bad\.jsonl:1: "context" must be a string/);
    assert.equal(readChoiceFile(dir.write('test.jsonl', JSON.stringify({ context: 'a', choices: ['x', 'y'] })), { taskName: 'mc', labelled: false })[0]!.label, null);
  } finally {
    dir.remove();
  }
});

const CONFIG = {
  vocab_size: 30, embedding_size: 8, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 24,
  hidden_act: 'gelu' as const, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1, max_position_embeddings: 16,
  type_vocab_size: 2, initializer_range: 0.02, layer_norm_eps: 1e-12,
};

test('FinetuningModel: a multiple-choice example takes a row per choice beside other tasks; the summed loss matches finite differences', () => {
  const specs = [
    { task: 'rte', kind: 'classification' as const, style: 'electra' as const, numLabels: 2 },
    { task: 'mc', kind: 'multiple_choice' as const, style: 'hf' as const, numLabels: 2 },
  ];
  const model = new FinetuningModel(K, CONFIG, specs, { maxBatch: 3, maxSeqLen: 8, dtype: 'float64' });
  model.initialize(1);
  const items: BatchItem[] = [
    { task: 'mc', input: [{ inputIds: [1, 5, 6, 2, 9, 2], segmentIds: [0, 0, 0, 0, 1, 1] }, { inputIds: [1, 5, 6, 2, 10, 11, 2], segmentIds: [0, 0, 0, 0, 1, 1, 1] }], target: 1 },
    { task: 'rte', input: { inputIds: [1, 7, 8, 2, 12, 2], segmentIds: [0, 0, 0, 0, 1, 1] }, target: 0 },
    { task: 'mc', input: [{ inputIds: [1, 13, 2, 14, 2], segmentIds: [0, 0, 0, 1, 1] }, { inputIds: [1, 13, 2, 15, 16, 17, 2], segmentIds: [0, 0, 0, 1, 1, 1, 1] }], target: 0 },
  ];
  const opts = { training: true, stepSeed: 5, backward: false };
  model.params.zeroGrads();
  const r = model.run(items, { ...opts, backward: true });
  assert.equal(r.batch.batchSize, 5, 'two rows per multiple-choice example');
  assert.equal(r.outputs.map((o) => o.kind).join(), 'multiple_choice,classification,multiple_choice');
  checkParamGradients(model.params, () => model.run(items, opts).loss, { maxChecks: 6, rtol: 2e-5, skip: (n) => /mc\.classifier\.bias$/.test(n) });
  // Each example alone gives the same output (no dropout).
  const evalOpts = { training: false, stepSeed: 0, backward: false };
  const mixed = model.run(items, evalOpts);
  items.forEach((it, i) => assert.ok(Math.abs(model.run([it], evalOpts).loss - mixed.outputs[i]!.loss) < 1e-9, `example ${i}`));
  assert.throws(() => model.run([{ ...items[0]!, input: [items[1]!.input as { inputIds: number[]; segmentIds: number[] }] }], evalOpts), /a mc example has 1 sequences, its head reads 2/);
});

test('model folders: a multiple-choice head alone is saved as HF ElectraForMultipleChoice and loads back exactly', () => {
  const dir = new TempDir('mc-save-');
  try {
    const spec = { task: 'swag', kind: 'multiple_choice' as const, style: 'hf' as const, numLabels: 4 };
    const model = new FinetuningModel(jsKernels, CONFIG, [spec], { maxBatch: 2, maxSeqLen: 8 });
    model.initialize(7);
    const saved: SavedFinetuning = {
      tasks: [{ name: 'swag', kind: 'multiple_choice', style: 'hf', labels: null, numChoices: 4 }],
      max_seq_length: 8, max_query_length: 4, doc_stride: 4, n_best_size: 5, max_answer_length: 4, qa_na_threshold: 0,
      qa: { jointPrediction: true, beamSize: 3, answerableClassifier: true, answerableUsesStartLogits: true, answerableWeight: 0.5 },
    };
    const out = join(dir.path, 'm');
    saveFinetunedModel(out, model, { vocab: bertUncasedVocab().slice(0, 30), doLowerCase: true, saved });
    const folder = readHfFolder(out, { validate: false });
    assert.deepEqual(folder.config.architectures, ['ElectraForMultipleChoice']);
    assert.deepEqual([...folder.tensors.keys()].filter((n) => !n.startsWith('electra.')).sort(),
      ['classifier.bias', 'classifier.weight', 'sequence_summary.summary.bias', 'sequence_summary.summary.weight']);
    const copy = new FinetuningModel(jsKernels, CONFIG, [spec], { maxBatch: 2, maxSeqLen: 8 });
    const report = loadWeights(copy, readFinetuningFolder(out));
    assert.deepEqual(report.loadedHeads, ['swag']);
    assert.deepEqual(Array.from(copy.params.params), Array.from(model.params.params));
    assert.deepEqual(headSpecsOf(readFinetuningFolder(out).tasks), [spec], 'the choices are recorded');
  } finally {
    dir.remove();
  }
});

test('multiple_choice task: a small model learns which of 4 choices is right (dev accuracy far above chance), with test predictions', () => {
  const dir = new TempDir('mc-run-');
  try {
    // The right choice ends with "yes", the others with "no"; its place varies.
    const question = (k: number): { context: string; choices: string[]; label: number } => {
      const label = (k * 7 + 3) % 4;
      const choices = [0, 1, 2, 3].map((c) => `${WORDS[(k + c * 5) % WORDS.length]} ${WORDS[(k * 3 + c) % WORDS.length]} ${c === label ? 'yes' : 'no'}`);
      return { context: `${WORDS[k % WORDS.length]} ${WORDS[(k + 3) % WORDS.length]} sat on the mat`, choices, label };
    };
    const file = (from: number, n: number, labelled: boolean): string => Array.from({ length: n }, (_, i) => {
      const { context, choices, label } = question(from + i);
      return JSON.stringify({ id: `q${from + i}`, context, choices, ...(labelled ? { label } : {}) });
    }).join('\n') + '\n';
    dir.write('finetuning_data/multiple_choice/train.jsonl', file(0, 48, true));
    dir.write('finetuning_data/multiple_choice/dev.jsonl', file(100, 24, true));
    dir.write('finetuning_data/multiple_choice/test.jsonl', file(200, 3, false));
    const hp = resolveHparams({
      ...SIZE, data_dir: dir.path, model_name: 'mc', task_names: ['multiple_choice'], random_init: true, num_train_epochs: 6,
      max_seq_length: 16, train_batch_size: 8, learning_rate: 3e-3, write_test_outputs: true,
    }).hparams;
    const lines: string[] = [];
    const r = runFinetuning({ hparams: hp, log: (l) => lines.push(l), progressStream: quiet });
    const metrics = new Map(r.trials[0]!.get('multiple_choice'));
    assert.ok(metrics.get('accuracy')! >= 80, `dev accuracy ${metrics.get('accuracy')} (chance 25)`);
    console.log(`multiple_choice dev accuracy ${metrics.get('accuracy')!.toFixed(1)}, chance 25`);
    const preds = JSON.parse(readFileSync(join(dir.path, 'models', 'mc', 'test_predictions', 'multiple_choice_test_1_predictions.json'), 'utf8')) as Record<string, number[]>;
    assert.deepEqual(Object.keys(preds).sort(), ['q200', 'q201', 'q202']);
    assert.equal(preds['q200']!.length, 4, 'a score per choice');
    // The saved model answers through the inference API as the run scored it.
    const model = FinetunedModel.load(join(dir.path, 'models', 'mc', 'finetuning_models', 'multiple_choice_model_1'));
    const right = [100, 101, 102, 103].filter((k) => model.choose(question(k).context, question(k).choices).choice === question(k).label).length;
    assert.ok(right >= 3, `${right} of 4 dev questions right through choose()`);
    const q = question(200);
    const chosen = model.choose(q.context, q.choices);
    assert.ok(Math.abs(chosen.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-6);
    assert.equal(chosen.choice, preds['q200']!.indexOf(Math.max(...preds['q200']!)), 'the test prediction\'s best choice');
    assert.throws(() => model.choose(q.context, q.choices.slice(0, 3)), /takes 4 choices, got 3/);
  } finally {
    dir.remove();
  }
});
