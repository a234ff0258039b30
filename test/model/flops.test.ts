// The analytic FLOP count used for MFU equals the GEMM FLOPs a training step really issues.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsKernels } from '../../src/kernels/index.js';
import { pretrainingStepFlops } from '../../src/model/flops.js';
import { ElectraPretrainingModel } from '../../src/model/pretraining-model.js';
import { Rng } from '../../src/nn/random.js';
import { MaskedBatch, maskBatch } from '../../src/model/masking.js';
import { KernelProfiler } from '../../bench/profile.js';
import { SPECIAL, tinyConfig, tinyInputs } from './fixtures.js';

for (const [electra, electric] of [[true, false], [false, false], [true, true]] as const) {
  test(`training-step FLOPs = 3 x forward matmul FLOPs, counted at the kernels (electra_objective ${electra}, electric_objective ${electric})`, () => {
    const profiler = new KernelProfiler(jsKernels, false);
    const cfg = tinyConfig({ electra_objective: electra, electric_objective: electric });
    const model = new ElectraPretrainingModel(profiler.kernels, cfg, { maxBatch: 2, maxSeqLen: 8 });
    model.initialize(1);
    const inputs = tinyInputs();
    const masked = new MaskedBatch(2, 8, cfg.max_predictions_per_seq);
    maskBatch(inputs.inputIds, inputs.inputMask, 2, 8,
      { maskProb: cfg.mask_prob, maxPredictionsPerSeq: cfg.max_predictions_per_seq, special: SPECIAL }, new Rng(1), masked);
    model.step(inputs, masked, { stepSeed: 1, training: true, backward: true });
    const counted = profiler.report().reduce((s, x) => s + x.flops, 0);
    const expected = pretrainingStepFlops(model.generatorConfig, model.discriminatorConfig, 2, 8, masked.count, electric);
    assert.equal(counted, expected.total);
    assert.equal(expected.discriminator === 0, !electra);
  });
}
