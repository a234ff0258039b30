// Fine-tuning with gradient_accumulation_steps and precision: 4 micro-batches of 8 give the
// gradient and loss of one batch of 32 (same examples, dropout off) with a model that holds 8; a
// run with accumulation stopped after an update resumes exactly; bf16 GEMMs give gradients close
// to fp32's (not equal: the bf16 path is in use), and a bf16 run learns to the fp32 run's scores.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { withPrecision } from '../../src/kernels/index.js';
import type { ElectraConfig } from '../../src/model/config.js';
import { Rng } from '../../src/nn/random.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { resolveHparams } from '../../src/finetune/hparams.js';
import { readFinetuningState } from '../../src/finetune/model/training-checkpoint.js';
import { FinetuningModel, type BatchItem, type HeadSpec } from '../../src/finetune/model/finetuning-model.js';
import { accumulateGradients, modelBatchCapacity, runFinetuning, runFinetuningAsync, type FinetuneOptions } from '../../src/finetune/runner.js';
import { backends } from '../helpers.js';
import { TempDir } from '../finetune/fixtures.js';
import { quiet, SIZE } from './fixtures.js';

const CONFIG: ElectraConfig = {
  vocab_size: 40, embedding_size: 8, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 24,
  hidden_act: 'gelu', hidden_dropout_prob: 0, attention_probs_dropout_prob: 0, max_position_embeddings: 16,
  type_vocab_size: 2, initializer_range: 0.02, layer_norm_eps: 1e-12,
};
// HF-style heads: their dropout is the config's (0 here); the reference's heads drop 0.1 always.
const SPECS: HeadSpec[] = [
  { task: 'cls', kind: 'classification', style: 'hf', numLabels: 3 },
  { task: 'tag', kind: 'tagging', style: 'hf', numLabels: 4 },
];

/** 32 examples of both tasks, of lengths 4 to 12 (so micro-batches pad differently from the whole batch). */
function examples(): BatchItem[] {
  const rng = new Rng(7);
  return Array.from({ length: 32 }, (_, i) => {
    const n = 4 + rng.int(9);
    const inputIds = [1, ...Array.from({ length: n - 2 }, () => 3 + rng.int(37)), 2];
    const segmentIds = inputIds.map(() => 0);
    return i % 3 === 0
      ? { task: 'tag', input: { inputIds, segmentIds }, target: { positions: [1, n - 2], labels: [rng.int(4), rng.int(4)] } }
      : { task: 'cls', input: { inputIds, segmentIds }, target: rng.int(3) };
  });
}

function drain<T>(gen: Generator<void, T>): T {
  for (;;) {
    const next = gen.next();
    if (next.done) return next.value;
  }
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const x of a) m = Math.max(m, Math.abs(x));
  return m;
}

test('4 x 8 accumulated equals one batch of 32: loss and every gradient; the model holds 8', () => {
  for (const k of backends()) {
    const whole = new FinetuningModel(k, CONFIG, SPECS, { maxBatch: 32, maxSeqLen: 16 });
    const micro = new FinetuningModel(k, CONFIG, SPECS, { maxBatch: 8, maxSeqLen: 16 });
    whole.initialize(3);
    micro.initialize(3);
    const batch = examples();
    const a = drain(accumulateGradients(whole, batch, 32, 11));
    const b = drain(accumulateGradients(micro, batch, 8, 11));
    assert.ok(Math.abs(a - b) <= 1e-5 * Math.abs(a), `${k.name}: loss ${b} vs ${a}`);
    const ga = whole.params.grads;
    const gb = micro.params.grads;
    const scale = maxAbs(ga);
    assert.ok(scale > 0);
    for (let i = 0; i < ga.length; i++) assert.ok(Math.abs(ga[i]! - gb[i]!) <= 2e-5 * scale, `${k.name}: gradient ${i}: ${gb[i]} vs ${ga[i]}`);
    assert.throws(() => micro.run(batch.slice(0, 9), { training: true, stepSeed: 1, backward: false }), /9 examples > the 8 allocated/);
    // Not a gradient of the last micro-batch alone, nor of the first.
    const last = drain(accumulateGradients(micro, batch.slice(24), 8, 11));
    assert.ok(Math.abs(last - a) > 0.1 * Math.abs(a));
  }
});

test('bf16 fine-tuning GEMMs: loss and gradients within bf16 bounds of fp32, and not identical', () => {
  for (const k of backends()) {
    const fp32 = new FinetuningModel(k, CONFIG, SPECS, { maxBatch: 32, maxSeqLen: 16 });
    const bf16 = new FinetuningModel(withPrecision(k, 'bf16'), CONFIG, SPECS, { maxBatch: 32, maxSeqLen: 16 });
    fp32.initialize(3);
    bf16.initialize(3);
    const batch = examples();
    const a = drain(accumulateGradients(fp32, batch, 32, 11));
    const b = drain(accumulateGradients(bf16, batch, 32, 11));
    assert.notEqual(a, b, `${k.name}: the bf16 path is used`);
    assert.ok(Math.abs(a - b) <= 1e-2 * Math.abs(a), `${k.name}: loss ${b} vs ${a}`);
    const ga = fp32.params.grads;
    const gb = bf16.params.grads;
    let dot = 0, na = 0, nb = 0;
    for (let i = 0; i < ga.length; i++) {
      dot += ga[i]! * gb[i]!;
      na += ga[i]! * ga[i]!;
      nb += gb[i]! * gb[i]!;
    }
    const cosine = dot / Math.sqrt(na * nb);
    assert.ok(cosine > 0.999, `${k.name}: gradient cosine ${cosine}`);
  }
});

const dir = new TempDir('ft-accum-');
after(() => dir.remove());
// A learnable task: the label is whether the sentence holds "good" or "bad".
const WORDS = ['the', 'film', 'was', 'very', 'quite', 'a', 'story', 'of', 'the', 'city', 'and', 'its', 'people'];
function reviews(from: number, n: number): string {
  const rows = ['text\tlabel'];
  for (let i = from; i < from + n; i++) {
    const filler = Array.from({ length: 3 + (i % 4) }, (_, j) => WORDS[(i * 5 + j * 3) % WORDS.length]).join(' ');
    const good = i % 2 === 0;
    rows.push(`${filler} ${good ? 'good' : 'bad'} ${WORDS[i % WORDS.length]}\t${good ? 'pos' : 'neg'}`);
  }
  return rows.join('\n') + '\n';
}
dir.write('finetuning_data/rev/train.tsv', reviews(0, 64));
dir.write('finetuning_data/rev/dev.tsv', reviews(100, 16));
const NO_DROPOUT = { ...SIZE.model_hparam_overrides, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 };
const BASE = {
  ...SIZE, model_hparam_overrides: NO_DROPOUT, task_names: ['rev'], custom_tasks: { rev: { type: 'classification', header: true } },
  head_style: 'hf', random_init: true, max_seq_length: 16, train_batch_size: 32, eval_batch_size: 8, predict_batch_size: 8, num_train_epochs: 2,
  learning_rate: 1e-3, data_dir: dir.path,
};

function run(modelName: string, extra: Record<string, unknown>, opts: Partial<FinetuneOptions> = {}, lines: string[] = []) {
  const { hparams } = resolveHparams({ ...BASE, ...extra, model_name: modelName });
  return runFinetuning({ hparams, log: (l) => lines.push(l), progressStream: quiet, ...opts });
}
const weights = (name: string): Map<string, Float32Array> =>
  new Map([...readSafetensors(join(dir.path, 'models', name, 'finetuning_models', 'rev_model_1', 'model.safetensors')).tensors].map(([n, t]) => [n, t.data as Float32Array]));

test('gradient_accumulation_steps in a run: micro-batches of 8 in a model of 8, close to batches of 32; an abort resumes exactly', () => {
  const accumulated = { gradient_accumulation_steps: 4 };
  assert.equal(modelBatchCapacity(resolveHparams({ ...BASE, ...accumulated }).hparams), 8, 'the model is sized for the micro-batch');
  assert.equal(modelBatchCapacity(resolveHparams(BASE).hparams), 32);
  const lines: string[] = [];
  const straight = run('acc', accumulated, {}, lines);
  assert.equal(straight.trainSteps, 4);
  assert.ok(lines.some((l) => /training for 4 steps \(2 per epoch, batch 32 as 4 micro-batches of 8\)/.test(l)), lines.join('\n'));
  run('whole', {});
  // Same examples, dropout off: the same updates up to float sums, through Adam's normalisation.
  const [a, b] = [weights('whole'), weights('acc')];
  for (const [name, w] of a) {
    const v = b.get(name)!;
    for (let i = 0; i < w.length; i++) assert.ok(Math.abs(w[i]! - v[i]!) <= 2e-4, `${name}[${i}]: ${v[i]} vs ${w[i]}`);
  }
  // Stopped after update 1 (a checkpoint there), rerun: the same weights as the straight run, bit for bit.
  const controller = new AbortController();
  const first = run('acc-resumed', { ...accumulated, save_checkpoints_steps: 3 }, { signal: controller.signal, onStep: (_t, step) => { if (step === 1) controller.abort(); } });
  assert.equal(first.interrupted, true);
  const second = run('acc-resumed', { ...accumulated, save_checkpoints_steps: 3 });
  assert.deepEqual([...second.resumedFrom], [[1, 1]]);
  const [c, d] = [weights('acc'), weights('acc-resumed')];
  for (const [name, w] of c) assert.deepEqual(d.get(name), w, name);
  assert.throws(() => resolveHparams({ ...BASE, gradient_accumulation_steps: 5 }), /'train_batch_size' 32 is not a multiple of 'gradient_accumulation_steps' 5/);
});

test('an abort that arrives between micro-batches completes that update, saves there, and the rerun is exact', async () => {
  const hp = resolveHparams({ ...BASE, gradient_accumulation_steps: 4, save_checkpoints_steps: 3, model_name: 'acc-mid' }).hparams;
  const controller = new AbortController();
  let stepsAtAbort = -1;
  // The driver yields after every micro-batch and update (a setImmediate each): queued behind update 1's
  // yield, the second setImmediate fires after the first micro-batch of update 2.
  const onStep = (_t: number, step: number): void => {
    if (step === 1) setImmediate(() => setImmediate(() => { stepsAtAbort = step; controller.abort(); }));
  };
  const first = await runFinetuningAsync({ hparams: hp, log: () => {}, progressStream: quiet, signal: controller.signal, onStep });
  assert.equal(stepsAtAbort, 1);
  assert.deepEqual([first.interrupted, first.trials.length], [true, 0]);
  const state = readFinetuningState(join(dir.path, 'models', 'acc-mid', 'finetuning_models', 'rev_model_1', 'checkpoint-2'));
  assert.equal(state.step, 2, 'update 2 was finished before stopping');
  const second = runFinetuning({ hparams: hp, log: () => {}, progressStream: quiet });
  assert.deepEqual([...second.resumedFrom], [[1, 2]]);
  const [c, d] = [weights('acc'), weights('acc-mid')];
  for (const [name, w] of c) assert.deepEqual(d.get(name), w, name);
});

test('precision bf16 in a run: the loss falls, and its scores match the fp32 run', () => {
  const results: Record<string, Map<string, number>> = {};
  for (const precision of ['fp32', 'bf16'] as const) {
    const r = run(`p-${precision}`, { precision, train_batch_size: 8, num_train_epochs: 4, learning_rate: 1e-2 });
    results[precision] = new Map(r.trials[0]!.get('rev')!);
  }
  // Dev loss from chance (ln 2 = 0.69) to near 0 in both; the same accuracy.
  for (const p of ['fp32', 'bf16']) assert.ok(results[p]!.get('loss')! < 0.05, `${p}: dev loss ${results[p]!.get('loss')}`);
  assert.equal(results.bf16!.get('accuracy'), results.fp32!.get('accuracy'));
  assert.equal(results.fp32!.get('accuracy'), 100);
  // Weights are not compared: at this learning rate Adam's runs drift apart under any rounding; the
  // bounds are on the gradients (above) and on the scores.
  assert.notEqual(results.bf16!.get('loss'), results.fp32!.get('loss'), 'bf16 was used');
});
