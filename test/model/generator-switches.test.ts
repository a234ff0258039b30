// The reference's generator ablations (ELECTRA paper section 3.2): a uniform generator, the
// generator's own embeddings, and one network shared by generator and discriminator; each
// gradient-checked in float64 and checked against an independent computation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gumbelNoise, gumbelUniforms, type MaskedBatch } from '../../src/model/masking.js';
import { ElectraPretrainingModel, type PretrainingInputs } from '../../src/model/pretraining-model.js';
import { siteSeed } from '../../src/nn/dropout.js';
import { checkParamGradients, gradKernels } from '../nn/gradcheck.js';
import { maskTiny, tinyConfig, tinyInputs, tinyModel64 } from './fixtures.js';



function gradCheck(model: ElectraPretrainingModel, inputs: PretrainingInputs, masked: MaskedBatch, fixedSamples?: Int32Array): void {
  const opts = { stepSeed: 21, training: true, backward: false, ...(fixedSamples ? { fixedSamples } : {}) };
  model.params.zeroGrads();
  model.step(inputs, masked, { ...opts, backward: true });
  checkParamGradients(model.params, () => model.step(inputs, masked, opts).totalLoss, { maxChecks: 8, rtol: 2e-5 });
}

test('uniform_generator: no generator weights, loss log(V) per prediction, replacements by Gumbel-max over zero logits', () => {
  const cfg = tinyConfig({ uniform_generator: true });
  const inputs = tinyInputs();
  const model = tinyModel64(cfg);
  assert.equal(model.generator, null);
  assert.deepEqual(model.hfModels, ['discriminator']);
  assert.ok(model.params.entries.every((p) => !p.name.startsWith('generator')), 'no generator parameter');
  const masked = maskTiny(cfg, inputs, 5);
  const m = model.step(inputs, masked, { stepSeed: 4, training: false, backward: false });
  assert.ok(Math.abs(m.genLoss - (masked.count / (masked.count + 1e-6)) * Math.log(cfg.vocab_size)) < 1e-9, `${m.genLoss}`);
  const seed = siteSeed(4, 0x5a4d504c);
  for (let r = 0; r < masked.count; r++) {
    const u = gumbelUniforms(seed, r, cfg.vocab_size);
    let best = 0;
    for (let i = 1; i < u.length; i++) if (gumbelNoise(u[i]!) > gumbelNoise(u[best]!)) best = i;
    assert.equal(model.sampledIds[r], best, `prediction ${r}`);
    assert.equal(model.mlmPredictions[r], 0, 'argmax of all-zero logits is the first token');
  }
  gradCheck(model, inputs, masked);
});

test('untied_generator_embeddings: the generator has its own embeddings, its hidden size wide', () => {
  const cfg = tinyConfig({ untied_generator_embeddings: true, generator_hidden_size: 0.75 });
  const inputs = tinyInputs();
  const model = tinyModel64(cfg);
  assert.equal(model.generatorConfig.embedding_size, 12);
  const genWord = model.params.get('generator.electra.embeddings.word_embeddings.weight');
  assert.deepEqual(genWord.shape, [30, 12]);
  assert.deepEqual(genWord.hfNames, [{ model: 'generator', name: 'electra.embeddings.word_embeddings.weight' }]);
  assert.deepEqual(model.tables.word.hfNames.map((h) => h.model), ['discriminator'], 'the discriminator\'s embeddings are its own');
  assert.equal(model.generator!.project, null, 'no embeddings_project: embedding size = hidden size');
  const masked = maskTiny(cfg, inputs, 5);
  const samples = Int32Array.from({ length: masked.count }, (_, r) => 4 + ((r * 5) % 26));
  gradCheck(model, inputs, masked, samples);
  // With disc_weight 0 the discriminator's embeddings get no gradient: nothing of the generator reaches them.
  const genOnly = tinyModel64({ ...cfg, disc_weight: 0 });
  genOnly.params.zeroGrads();
  genOnly.step(inputs, masked, { stepSeed: 1, training: false, backward: true, fixedSamples: samples });
  assert.ok(genOnly.tables.word.grad.every((v) => v === 0));
  assert.ok(genOnly.params.get('generator.electra.embeddings.word_embeddings.weight').grad.some((v) => v !== 0));
});

test('untied_generator false: one discriminator-sized network under both heads', () => {
  const cfg = tinyConfig({ untied_generator: false });
  const inputs = tinyInputs();
  const model = tinyModel64(cfg);
  const separate = new ElectraPretrainingModel(gradKernels, tinyConfig({ electra_objective: false }), { maxBatch: 2, maxSeqLen: 8, dtype: 'float64' });
  const head = (n: string): boolean => n.startsWith('discriminator.discriminator_predictions');
  // Exactly the masked LM's parameters (full-size body + generator head) plus the discriminator head.
  assert.equal(model.params.size, separate.params.size + model.params.entries.filter((p) => head(p.name)).reduce((a, p) => a + p.size, 0));
  assert.equal(model.generatorConfig.hidden_size, 16);
  const layer0 = model.params.get('discriminator.electra.encoder.layer.0.attention.self.query.weight');
  assert.deepEqual(layer0.hfNames.map((h) => h.model), ['discriminator', 'generator']);
  // The generator body is the discriminator body: same hidden states for the same input.
  const ids = inputs.inputIds;
  const noDrop = { hiddenProb: 0, attentionProb: 0, stepSeed: 0 };
  const g = Float64Array.from(model.generator!.forward(ids, inputs.segmentIds, inputs.inputMask, 2, 8, noDrop));
  const d = Float64Array.from(model.discriminator!.forward(ids, inputs.segmentIds, inputs.inputMask, 2, 8, noDrop));
  assert.deepEqual(g, d);
  const masked = maskTiny(cfg, inputs, 5);
  const samples = Int32Array.from({ length: masked.count }, (_, r) => 4 + ((r * 5) % 26));
  gradCheck(model, inputs, masked, samples);
});
