// The multi-task fine-tuning model (encoder + heads, mixed batches) against finite
// differences, AdamW with layer-wise learning rates against a hand computation, the encoder config of the
// reference's hparams, and model folders: save/load round trips, HF layouts, size errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsKernels } from '../../src/kernels/index.js';
import type { ElectraConfig } from '../../src/model/config.js';
import { Rng } from '../../src/nn/random.js';
import { readHfFolder, writeHfFolder } from '../../src/io/hf-folder.js';
import { defaultElectraConfig } from '../../src/io/hf-config.js';
import { resolveHparams } from '../../src/finetune/hparams.js';
import { layerwiseLrScale } from '../../src/finetune/layerwise-lr.js';
import { FinetuningModel, type BatchItem, type HeadSpec } from '../../src/finetune/model/finetuning-model.js';
import { AdamW, lrSegments } from '../../src/optim/adamw.js';
import {
  checkModelSize, loadWeights, modelConfigFromHparams, readFinetuningFolder, saveFinetunedModel, type SavedFinetuning, type SavedTask,
} from '../../src/finetune/model/checkpoint.js';
import type { ElectraQaOptions } from '../../src/finetune/qa/head.js';
import { bertUncasedVocab } from '../../src/tokenizer/index.js';
import { backends } from '../helpers.js';
import { checkParamGradients, gradKernels } from '../nn/gradcheck.js';

const CONFIG: ElectraConfig = {
  vocab_size: 30, embedding_size: 8, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 24,
  hidden_act: 'gelu', hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1, max_position_embeddings: 16,
  type_vocab_size: 2, initializer_range: 0.02, layer_norm_eps: 1e-12,
};
const QA: ElectraQaOptions = { jointPrediction: true, beamSize: 3, answerableClassifier: true, answerableUsesStartLogits: true, answerableWeight: 0.5 };
const SPECS: HeadSpec[] = [
  { task: 'rte', kind: 'classification', style: 'electra', numLabels: 2 },
  { task: 'chunk', kind: 'tagging', style: 'electra', numLabels: 3 },
  { task: 'squad', kind: 'qa', style: 'electra', numLabels: 0 },
];

/** A batch mixing the three tasks, with different lengths (padding). */
function mixedBatch(): BatchItem[] {
  return [
    { task: 'squad', input: { inputIds: [1, 5, 6, 2, 9, 10, 11, 2], segmentIds: [0, 0, 0, 0, 1, 1, 1, 1] }, target: { startPosition: 5, endPosition: 6, isImpossible: false } },
    { task: 'rte', input: { inputIds: [1, 7, 8, 2, 12, 2], segmentIds: [0, 0, 0, 0, 1, 1] }, target: 1 },
    { task: 'chunk', input: { inputIds: [1, 13, 14, 15, 2], segmentIds: [1, 1, 1, 1, 1] }, target: { positions: [1, 3], labels: [2, 0] } },
    { task: 'rte', input: { inputIds: [1, 16, 2, 17, 18, 19, 2], segmentIds: [0, 0, 0, 1, 1, 1, 1] }, target: 0 },
    { task: 'squad', input: { inputIds: [1, 20, 2, 21, 22, 2], segmentIds: [0, 0, 0, 1, 1, 1] }, target: { startPosition: 0, endPosition: 0, isImpossible: true } },
  ];
}

function perturb(model: FinetuningModel, seed: number, scale = 0.2): void {
  const rng = new Rng(seed);
  const p = model.params.params;
  for (let i = 0; i < p.length; i++) p[i] += (rng.uniform() * 2 - 1) * scale;
}

test('multi-task batch: the summed loss of all heads over the shared encoder matches finite differences (dropout on)', () => {
  const model = new FinetuningModel(gradKernels, CONFIG, SPECS, { maxBatch: 5, maxSeqLen: 8, dtype: 'float64', qa: QA });
  model.initialize(1);
  perturb(model, 2);
  const items = mixedBatch();
  const opts = { training: true, stepSeed: 99, backward: false };
  const loss = (): number => model.run(items, opts).loss;
  model.params.zeroGrads();
  const r = model.run(items, { ...opts, backward: true });
  assert.equal(r.outputs.map((o) => o.kind).join(), 'qa,classification,tagging,classification,qa');
  assert.ok(Math.abs(r.loss - r.outputs.reduce((s, o) => s + o.loss, 0)) < 1e-12, 'the loss is the sum over examples');
  checkParamGradients(model.params, loss, {
    maxChecks: 6, rtol: 2e-5,
    // Biases before a softmax over positions have exactly zero gradient (shift invariance).
    skip: (n) => /(start_logits|qa_logits)\.bias$/.test(n),
  });
  // A task absent from the batch gets no gradient.
  model.params.zeroGrads();
  model.run(items.filter((it) => it.task !== 'chunk'), { ...opts, backward: true });
  for (const name of model.headParameterNames('chunk')) assert.ok(model.params.get(name).grad.every((g) => g === 0), name);
});

test('a batch of one task gives each example the same outputs as in a mixed batch (no dropout)', () => {
  const model = new FinetuningModel(jsKernels, CONFIG, SPECS, { maxBatch: 5, maxSeqLen: 8, qa: QA });
  model.initialize(3);
  perturb(model, 4);
  const items = mixedBatch();
  const eval1 = { training: false, stepSeed: 0, backward: false };
  const mixed = model.run(items, eval1);
  items.forEach((it, i) => {
    const alone = model.run([it], eval1);
    assert.ok(Math.abs(alone.loss - mixed.outputs[i]!.loss) < 1e-4, `example ${i}: ${alone.loss} vs ${mixed.outputs[i]!.loss}`);
  });
});

for (const k of backends()) {
  test(`AdamW with layer-wise learning rates (was LayerwiseAdamW): clipping over all segments, per-segment learning rates, no bias correction (${k.name})`, () => {
    const model = new FinetuningModel(k, CONFIG, [SPECS[0]!], { maxBatch: 2, maxSeqLen: 8 });
    model.initialize(5);
    const ps = model.params;
    const scaleOf = (name: string): number => layerwiseLrScale(name, { numLayers: 2, decay: 0.8 });
    const segments = lrSegments(ps, scaleOf);
    // Embeddings (+ project), layer 0, layer 1, head: depth order gives one segment each.
    assert.deepEqual(segments.map((s) => +s.scale.toFixed(6)), [0.4096, 0.512, 0.64, 1]);
    assert.equal(segments.reduce((s, x) => s + x.size, 0), ps.size);
    const opt = new AdamW(k, ps, { weightDecayRate: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-6, clipNorm: 1.0 }, scaleOf);
    const rng = new Rng(6);
    for (let i = 0; i < ps.size; i++) ps.grads[i] = (rng.uniform() * 2 - 1) * 0.5;
    const g = Float64Array.from(ps.grads);
    const p0 = Float64Array.from(ps.params);
    let sq = 0;
    for (const x of g) sq += x * x;
    const norm = Math.sqrt(sq);
    assert.ok(norm > 1, 'the gradient is clipped');
    const lr = 1e-3;
    const reported = opt.update(lr);
    assert.ok(Math.abs(reported - norm) < 1e-3 * norm);
    for (const name of ['electra.embeddings.word_embeddings.weight', 'electra.encoder.layer.0.attention.self.query.weight',
      'electra.encoder.layer.1.output.LayerNorm.weight', 'task_specific.rte.classifier.weight', 'task_specific.rte.classifier.bias']) {
      const ref = ps.get(name);
      for (const j of [0, ref.size - 1]) {
        const i = ref.offset + j;
        const gc = g[i]! / norm;
        const m = 0.1 * gc;
        const v = 0.001 * gc * gc;
        const update = m / (Math.sqrt(v) + 1e-6) + (ref.decay ? 0.01 * p0[i]! : 0);
        const expected = p0[i]! - lr * scaleOf(name) * update;
        assert.ok(Math.abs(ps.params[i]! - expected) < 1e-6, `${name}[${j}]: ${ps.params[i]} vs ${expected}`);
      }
    }
  });
}

test("modelConfigFromHparams: the reference's sizes, debug shrink and overrides", () => {
  const small = modelConfigFromHparams(resolveHparams({ task_names: ['rte'] }).hparams);
  assert.deepEqual([small.hidden_size, small.num_hidden_layers, small.num_attention_heads, small.intermediate_size, small.embedding_size], [256, 12, 4, 1024, 128]);
  const debug = modelConfigFromHparams(resolveHparams({ task_names: ['rte'], debug: true }).hparams);
  assert.deepEqual([debug.hidden_size, debug.num_hidden_layers, debug.num_attention_heads, debug.intermediate_size, debug.embedding_size], [144, 3, 4, 576, 128]);
  const base = modelConfigFromHparams(resolveHparams({ task_names: ['rte'], model_size: 'base' }).hparams);
  assert.deepEqual([base.hidden_size, base.embedding_size, base.intermediate_size], [768, 768, 3072]);
  const over = modelConfigFromHparams(resolveHparams({ task_names: ['rte'], model_hparam_overrides: { hidden_size: 64, num_hidden_layers: 2 } }).hparams);
  assert.deepEqual([over.hidden_size, over.num_attention_heads, over.intermediate_size, over.num_hidden_layers], [64, 1, 256, 2]);
  assert.throws(() => modelConfigFromHparams(resolveHparams({ task_names: ['rte'], model_hparam_overrides: { hiden_size: 64 } }).hparams),
    /model_hparam_overrides: unknown key 'hiden_size'/);
});

function savedInfo(tasks: SavedTask[]): SavedFinetuning {
  return {
    tasks, max_seq_length: 8, max_query_length: 4, doc_stride: 4, n_best_size: 5, max_answer_length: 4, qa_na_threshold: -2.75, qa: QA,
  };
}

const VOCAB = bertUncasedVocab().slice(0, 30);

test('model folders: the reference heads go under task_specific.<task> in an ElectraModel, and load back exactly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ft-ckpt-'));
  try {
    const model = new FinetuningModel(jsKernels, CONFIG, SPECS, { maxBatch: 5, maxSeqLen: 8, qa: QA });
    model.initialize(7);
    perturb(model, 8);
    const tasks: SavedTask[] = [
      { name: 'rte', kind: 'classification', style: 'electra', labels: ['entailment', 'not_entailment'] },
      { name: 'chunk', kind: 'tagging', style: 'electra', labels: ['B', 'I', 'O'], tokenLevel: false },
      { name: 'squad', kind: 'qa', style: 'electra', labels: null },
    ];
    saveFinetunedModel(dir, model, { vocab: VOCAB, doLowerCase: true, saved: savedInfo(tasks) });
    const hf = readHfFolder(dir, { validate: false });
    assert.deepEqual(hf.config.architectures, ['ElectraModel']);
    assert.ok(hf.tensors.has('task_specific.squad.qa_hidden.weight') && hf.tensors.has('task_specific.rte.classifier.weight'));
    const folder = readFinetuningFolder(dir);
    assert.deepEqual(folder.tasks, tasks);
    const copy = new FinetuningModel(jsKernels, folder.modelConfig, SPECS, { maxBatch: 5, maxSeqLen: 8, qa: QA });
    const report = loadWeights(copy, folder);
    assert.deepEqual(report.loadedHeads, ['rte', 'chunk', 'squad']);
    assert.deepEqual(Array.from(copy.params.params), Array.from(model.params.params));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('model folders: one HF-style head is written as its transformers class with HF tensor names', () => {
  const cases: [HeadSpec, SavedTask, string, string[]][] = [
    [{ task: 'sst', kind: 'classification', style: 'hf', numLabels: 2 }, { name: 'sst', kind: 'classification', style: 'hf', labels: ['neg', 'pos'] },
      'ElectraForSequenceClassification', ['classifier.dense.weight', 'classifier.out_proj.weight']],
    [{ task: 'pos', kind: 'tagging', style: 'electra', numLabels: 3 }, { name: 'pos', kind: 'tagging', style: 'electra', labels: ['a', 'b', 'c'], tokenLevel: true },
      'ElectraForTokenClassification', ['classifier.weight', 'classifier.bias']],
    [{ task: 'qa', kind: 'qa', style: 'hf', numLabels: 0 }, { name: 'qa', kind: 'qa', style: 'hf', labels: null },
      'ElectraForQuestionAnswering', ['qa_outputs.weight', 'qa_outputs.bias']],
  ];
  for (const [spec, task, arch, names] of cases) {
    const dir = mkdtempSync(join(tmpdir(), 'ft-hf-'));
    try {
      const model = new FinetuningModel(jsKernels, CONFIG, [spec], { maxBatch: 2, maxSeqLen: 8 });
      model.initialize(9);
      saveFinetunedModel(dir, model, { vocab: VOCAB, doLowerCase: true, saved: savedInfo([task]) });
      // transformers' own layout: the standard reader validates it against the class's tensors.
      const hf = readHfFolder(dir);
      assert.equal(hf.architecture, arch);
      for (const n of names) assert.ok(hf.tensors.has(n), `${arch}: ${n}`);
      if (task.labels && task.kind !== 'qa') assert.deepEqual(Object.values(hf.config.id2label), task.labels);
      const copy = new FinetuningModel(jsKernels, CONFIG, [spec], { maxBatch: 2, maxSeqLen: 8 });
      loadWeights(copy, readFinetuningFolder(dir));
      assert.deepEqual(Array.from(copy.params.params), Array.from(model.params.params), arch);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('model folders: an HF fine-tuned folder (no electra-ts information) continues as another task name; a pre-trained encoder leaves heads fresh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ft-hfin-'));
  try {
    const src = new FinetuningModel(jsKernels, CONFIG, [{ task: 'x', kind: 'classification', style: 'hf', numLabels: 3 }], { maxBatch: 2, maxSeqLen: 8 });
    src.initialize(10);
    const hfConfig = defaultElectraConfig({
      ...CONFIG, architectures: ['ElectraForSequenceClassification'],
      id2label: { 0: 'a', 1: 'b', 2: 'c' }, label2id: { a: 0, b: 1, c: 2 },
    });
    const tensors = new Map(src.params.entries.map((e) => [e.name.replace('task_specific.x.', ''), { shape: [...e.shape], data: Float32Array.from(e.value) }]));
    writeHfFolder(dir, { config: hfConfig, tensors, vocab: VOCAB });
    const folder = readFinetuningFolder(dir);
    assert.deepEqual(folder.tasks, [{ name: 'classification', kind: 'classification', style: 'hf', labels: ['a', 'b', 'c'] }]);
    const model = new FinetuningModel(jsKernels, CONFIG, [{ task: 'mnli', kind: 'classification', style: 'hf', numLabels: 3 }], { maxBatch: 2, maxSeqLen: 8 });
    assert.deepEqual(loadWeights(model, folder, 'mnli').loadedHeads, ['mnli']);
    assert.deepEqual(Array.from(model.params.params), Array.from(src.params.params));
    // Another label count: a clear error naming the tensor.
    const wrong = new FinetuningModel(jsKernels, CONFIG, [{ task: 'mnli', kind: 'classification', style: 'hf', numLabels: 2 }], { maxBatch: 2, maxSeqLen: 8 });
    assert.throws(() => loadWeights(wrong, folder, 'mnli'), /task_specific\.mnli\.classifier\.out_proj\.weight' is \[3, 16\], the model needs \[2, 16\]/);
    // A head of another style finds nothing to load and starts fresh.
    const fresh = new FinetuningModel(jsKernels, CONFIG, [{ task: 'mnli', kind: 'classification', style: 'electra', numLabels: 3 }], { maxBatch: 2, maxSeqLen: 8 });
    assert.deepEqual(loadWeights(fresh, folder, 'mnli').freshHeads, ['mnli']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a model folder of another size than model_size: an error naming the differing fields and the hparams to set', () => {
  const hp = resolveHparams({ task_names: ['rte'] }).hparams;
  const expected = modelConfigFromHparams(hp);
  const found = defaultElectraConfig({ hidden_size: 144, num_hidden_layers: 3, num_attention_heads: 4, intermediate_size: 576 });
  assert.throws(() => checkModelSize(expected, found, '/m', hp), (err: Error) => {
    assert.match(err.message, /^\/m: the model does not match the hparams: hidden_size 144 \(model_size 'small' means 256\)/);
    assert.match(err.message, /"model_hparam_overrides": \{"hidden_size":144,"num_hidden_layers":3,"intermediate_size":576\}/);
    return true;
  });
  assert.doesNotThrow(() => checkModelSize(expected, defaultElectraConfig(), '/m', hp), 'google/electra-small-discriminator matches small');
});
