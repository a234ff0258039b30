// Gradient accumulation: a batch of 32 run as 4 micro-batches of 8 gives the gradient, losses and
// counts of the batch of 32 run at once (same examples, same masking, same samples; dropout off, as
// each micro-batch draws its own dropout stream), the model holds only a micro-batch, and a run
// stopped after an update resumes exactly (checkpoints fall on update boundaries). Also: pre-training
// over TFRecord input (the reference's files) through `pretrain_tfrecords` globs.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildPretrainingDataset } from '../../src/data/build.js';
import { vocabHash } from '../../src/data/manifest.js';
import { openPretrainingDataset } from '../../src/data/pretraining-dataset.js';
import { readHfFolder } from '../../src/io/hf-folder.js';
import { jsKernels } from '../../src/kernels/index.js';
import { resolvePretrainingHparams } from '../../src/pretrain/hparams.js';
import { Pretrainer } from '../../src/pretrain/pretrainer.js';
import { runPretraining } from '../../src/pretrain/run.js';
import { makeTinyDataDir, tinyHparams, type TinyDataDir } from './fixtures.js';

let data: TinyDataDir;
const quiet = { progress: false, log: (): void => {} };
const noDropout = { hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 64, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 };

before(async () => {
  data = await makeTinyDataDir('accumulation');
});
after(() => data.cleanup());

test('4 x 8 accumulated equals one batch of 32: gradient, losses and counts; the model holds 8', () => {
  const hp = resolvePretrainingHparams(tinyHparams(data.vocab.length, { train_batch_size: 32, model_hparam_overrides: noDropout }), data.dataDir, 'acc').hparams;
  const ds = openPretrainingDataset(hp.pretrain_tfrecords, { maxSeqLength: 32, vocabHash: vocabHash(data.vocab), batchSize: 32, seed: 1 });
  const batch = ds.nextBatch();
  ds.close();
  const inputs = () => ({ inputIds: batch.inputIds.slice(), segmentIds: batch.segmentIds.slice(), inputMask: batch.inputMask.slice(), batch: 32, seqLen: 32 });
  const special = { cls: data.vocab.indexOf('[CLS]'), sep: data.vocab.indexOf('[SEP]'), mask: data.vocab.indexOf('[MASK]') };
  const whole = new Pretrainer(jsKernels, hp, { maxBatch: 32, maxSeqLen: 32, seed: 5, special });
  const micro = new Pretrainer(jsKernels, hp, { maxBatch: 8, maxSeqLen: 32, seed: 5, special, accumulationSteps: 4 });
  assert.equal(micro.model.maxBatch, 8);
  assert.equal(micro.model.discInputIds.length, 8 * 32, 'activations for a micro-batch only');
  for (let step = 0; step < 3; step++) {
    const a = whole.trainStep(inputs());
    const b = micro.trainStep(inputs());
    for (const key of ['predictions', 'discTokens', 'mlmCorrect', 'sampledCorrect', 'discCorrect', 'discLabelPositives', 'discPredictedPositives', 'examples'] as const) {
      assert.equal(b.metrics[key], a.metrics[key], `step ${step}: ${key}`);
    }
    for (const key of ['genLoss', 'discLoss', 'totalLoss', 'discExampleLossSum'] as const) {
      assert.ok(Math.abs(b.metrics[key] - a.metrics[key]) <= 1e-5 * Math.max(1, Math.abs(a.metrics[key])), `step ${step}: ${key} ${b.metrics[key]} vs ${a.metrics[key]}`);
    }
    assert.ok(Math.abs(b.gradNorm - a.gradNorm) <= 1e-5 * a.gradNorm, `step ${step}: grad norm ${b.gradNorm} vs ${a.gradNorm}`);
    // The (clipped) gradients, element by element.
    const ga = whole.model.params.grads;
    const gb = micro.model.params.grads;
    let scale = 0;
    for (const g of ga) scale = Math.max(scale, Math.abs(g));
    for (let i = 0; i < ga.length; i++) assert.ok(Math.abs(ga[i]! - gb[i]!) <= 2e-5 * scale, `step ${step}: gradient ${i}: ${gb[i]} vs ${ga[i]}`);
  }
  // The weights after three updates agree too.
  const wa = whole.model.params.params;
  const wb = micro.model.params.params;
  for (let i = 0; i < wa.length; i++) assert.ok(Math.abs(wa[i]! - wb[i]!) <= 1e-4, `weight ${i}: ${wb[i]} vs ${wa[i]}`);
});

test('gradient_accumulation_steps in a run: checkpoints at updates, an abort after an update resumes exactly, a bad split is refused', async () => {
  const base = { train_batch_size: 16, gradient_accumulation_steps: 4, num_train_steps: 4, save_checkpoints_steps: 2 };
  const straight = resolvePretrainingHparams(tinyHparams(data.vocab.length, base), data.dataDir, 'acc-straight').hparams;
  assert.equal((await runPretraining(straight, quiet)).step, 4);
  const resumed = resolvePretrainingHparams(tinyHparams(data.vocab.length, base), data.dataDir, 'acc-resumed').hparams;
  const controller = new AbortController();
  const first = await runPretraining(resumed, { ...quiet, signal: controller.signal, onStep: (e) => { if (e.step === 1) controller.abort(); } });
  assert.equal(first.step, 1);
  const second = await runPretraining(resumed, quiet);
  assert.equal(second.resumedFrom, 1);
  assert.equal(second.step, 4);
  for (const role of ['discriminator', 'generator']) {
    const a = readHfFolder(join(straight.model_dir, 'checkpoint-4', role)).tensors;
    const b = readHfFolder(join(resumed.model_dir, 'checkpoint-4', role)).tensors;
    for (const [name, t] of a) assert.deepEqual(b.get(name)!.data, t.data, `${role} ${name}`);
  }
  assert.throws(() => resolvePretrainingHparams(tinyHparams(data.vocab.length, { train_batch_size: 10, gradient_accumulation_steps: 4 }), data.dataDir, 'x'),
    /'train_batch_size' 10 is not a multiple of 'gradient_accumulation_steps' 4/);
  // The cloze loss is normalised per micro-batch, so accumulation is refused with the two-tower generator.
  for (const objective of [{ two_tower_generator: true }, { electric_objective: true }]) {
    assert.throws(() => resolvePretrainingHparams(tinyHparams(data.vocab.length, { train_batch_size: 16, gradient_accumulation_steps: 4, ...objective }), data.dataDir, 'x'),
      /'gradient_accumulation_steps' > 1 is not supported with the two-tower generator/);
  }
});

test('pre-training reads the reference\'s TFRecords through a pretrain_tfrecords glob', async () => {
  const tf = join(data.dataDir, 'tfrecords');
  await buildPretrainingDataset({ corpusDir: join(data.dataDir, 'corpus'), vocabFile: join(data.dataDir, 'vocab.txt'), outputDir: tf, maxSeqLength: 32, outputFormat: 'tfrecord' }, { inProcess: true });
  assert.ok(readdirSync(tf).some((n) => /^pretrain_data\.tfrecord-0-of-\d+$/.test(n)));
  const hp = resolvePretrainingHparams(tinyHparams(data.vocab.length, { num_train_steps: 2, pretrain_tfrecords: join(tf, 'pretrain_data.tfrecord*') }), data.dataDir, 'from-tf').hparams;
  const r = await runPretraining(hp, quiet);
  assert.equal(r.step, 2);
});
