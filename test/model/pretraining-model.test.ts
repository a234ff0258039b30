// The whole pre-training loss of a tiny generator + discriminator: finite differences in
// float64 through the JS kernels (sampling held fixed, dropout on with a fixed seed), and
// the float32 native backend against the JS one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kernels } from '../../src/kernels/index.js';
import type { PretrainingConfig } from '../../src/model/config.js';
import { ElectraPretrainingModel } from '../../src/model/pretraining-model.js';
import { Rng } from '../../src/nn/random.js';
import { type DType } from '../../src/nn/tensor.js';
import { assertClose, backends } from '../helpers.js';
import { checkParamGradients, gradKernels } from '../nn/gradcheck.js';
import { maskTiny, tinyConfig, tinyInputs } from './fixtures.js';

function buildModel(k: Kernels, cfg: PretrainingConfig, dtype: DType): ElectraPretrainingModel {
  const model = new ElectraPretrainingModel(k, cfg, { maxBatch: 2, maxSeqLen: 8, dtype });
  model.initialize(42);
  // Larger weights than the 0.02 init so every nonlinearity is exercised.
  const rng = new Rng(9);
  const p = model.params.params;
  for (let i = 0; i < p.length; i++) p[i] += (rng.uniform() * 2 - 1) * 0.3;
  return model;
}


test('the whole ELECTRA loss (generator + discriminator, shared embeddings) matches finite differences', () => {
  const cfg = tinyConfig();
  const inputs = tinyInputs();
  const model = buildModel(gradKernels, cfg, 'float64');
  const masked = maskTiny(cfg, inputs, 5);
  assert.ok(masked.count >= 3, `predictions: ${masked.count}`);
  // Fixed replacements: a mix of real replacements and one correct guess.
  const samples = Int32Array.from({ length: masked.count }, (_, r) => (r === 0 ? masked.labels[0]! : 4 + ((r * 7) % 26)));
  const opts = { stepSeed: 77, training: true, backward: false, fixedSamples: samples };
  const loss = (): number => model.step(inputs, masked, opts).totalLoss;
  model.params.zeroGrads();
  const m = model.step(inputs, masked, { ...opts, backward: true });
  assert.ok(m.genLoss > 0 && m.discLoss > 0);
  assert.ok(Math.abs(m.totalLoss - (cfg.gen_weight * m.genLoss + cfg.disc_weight * m.discLoss)) < 1e-12);
  assert.ok(m.discLabelPositives >= 1, 'some tokens were replaced');
  checkParamGradients(model.params, loss, { maxChecks: 10, rtol: 2e-5 });
});

test('plain MLM objective (electra_objective false): full-size generator loss matches finite differences', () => {
  const cfg = tinyConfig({ electra_objective: false });
  const inputs = tinyInputs();
  const model = buildModel(gradKernels, cfg, 'float64');
  assert.equal(model.discriminator, null);
  assert.equal(model.generatorConfig.hidden_size, 16, 'the MLM is discriminator-sized');
  const masked = maskTiny(cfg, inputs, 6);
  const opts = { stepSeed: 78, training: true, backward: false };
  const loss = (): number => model.step(inputs, masked, opts).totalLoss;
  model.params.zeroGrads();
  const m = model.step(inputs, masked, { ...opts, backward: true });
  assert.equal(m.discLoss, 0);
  assert.ok(Math.abs(m.totalLoss - m.genLoss) < 1e-12);
  checkParamGradients(model.params, loss, { maxChecks: 10 });
});

test('native and JS backends agree on a full float32 forward/backward step', () => {
  const list = backends();
  const cfg = tinyConfig();
  const inputs = tinyInputs();
  const masked = maskTiny(cfg, inputs, 5);
  const results = list.map((k) => {
    const model = buildModel(k, cfg, 'float32');
    model.params.zeroGrads();
    const metrics = model.step(inputs, masked, { stepSeed: 3, training: true, backward: true });
    return { k, metrics, grads: Float32Array.from(model.params.grads), samples: Int32Array.from(model.sampledIds.subarray(0, masked.count)) };
  });
  const ref = results[0]!;
  // The float32 JS result against the float64 one: the float32 model is numerically sound.
  const model64 = buildModel(gradKernels, cfg, 'float64');
  model64.params.zeroGrads();
  const m64 = model64.step(inputs, masked, { stepSeed: 3, training: true, backward: true, fixedSamples: ref.samples });
  assert.ok(Math.abs(ref.metrics.totalLoss - m64.totalLoss) < 1e-4 * m64.totalLoss, `${ref.metrics.totalLoss} vs ${m64.totalLoss}`);
  const scale = Math.max(...Array.from(model64.params.grads, Math.abs));
  assertClose(ref.grads, Float32Array.from(model64.params.grads), 1e-5 * scale, 1e-3, 'js float32 vs float64 grads');
  for (const other of results.slice(1)) {
    assert.deepEqual(other.samples, ref.samples, `${other.k.name}: sampled replacements`);
    assert.ok(Math.abs(other.metrics.totalLoss - ref.metrics.totalLoss) < 1e-4 * ref.metrics.totalLoss);
    assertClose(other.grads, ref.grads, 1e-5 * scale, 1e-3, `${other.k.name} vs js grads`);
  }
});

test('a batch without maskable tokens gives zero generator loss and finite gradients', () => {
  for (const k of backends()) {
    const cfg = tinyConfig();
    const model = buildModel(k, cfg, 'float32');
    const inputs = { ...tinyInputs(), inputIds: Int32Array.from([1, 2, 2, 2, 2, 2, 2, 2, 1, 2, 3, 2, 0, 0, 0, 0]) };
    const masked = maskTiny(cfg, inputs, 1);
    assert.equal(masked.count, 0);
    model.params.zeroGrads();
    const m = model.step(inputs, masked, { stepSeed: 1, training: true, backward: true });
    assert.equal(m.genLoss, 0);
    assert.equal(m.discLabelPositives, 0);
    assert.ok(m.discLoss > 0 && Number.isFinite(m.totalLoss));
    assert.ok(model.params.grads.every(Number.isFinite));
    assert.ok(model.tables.word.grad.some((v) => v !== 0), 'the discriminator still trains the shared embeddings');
  }
});
