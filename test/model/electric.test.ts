// The two-tower cloze generator and the Electric objective: finite differences of the whole loss
// in float64, and the new parts (shift and concatenation of the towers, cloze head and loss,
// Electric's logit shift and labels) recomputed independently in float64 from the towers' outputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalCdf } from '../../src/kernels/js/elementwise.js';
import { ElectraPretrainingModel, type PretrainingInputs } from '../../src/model/pretraining-model.js';
import { assertClose, backends } from '../helpers.js';
import { checkParamGradients, gradKernels } from '../nn/gradcheck.js';
import { maskTiny, SPECIAL, tinyConfig, tinyInputs, tinyModel64 } from './fixtures.js';



/** Cloze logits [T, V] in float64 from the towers' outputs and the head's parameters, written from the reference. */
function referenceClozeLogits(model: ElectraPretrainingModel, inputs: PretrainingInputs): Float64Array[] {
  const cloze = model.cloze!;
  const { batch, seqLen } = inputs;
  const none = { hiddenProb: 0, attentionProb: 0, stepSeed: 0 };
  const H = model.generatorConfig.hidden_size;
  const left = Float64Array.from(cloze.ltr.forward(inputs.inputIds, inputs.segmentIds, inputs.inputMask, batch, seqLen, none));
  const right = Float64Array.from(cloze.rtl.forward(inputs.inputIds, inputs.segmentIds, inputs.inputMask, batch, seqLen, none));
  const ps = model.params;
  const W = ps.get('cloze.cloze_predictions.dense.weight').value;
  const bias = ps.get('cloze.cloze_predictions.dense.bias').value;
  const gamma = ps.get('cloze.cloze_predictions.LayerNorm.weight').value;
  const beta = ps.get('cloze.cloze_predictions.LayerNorm.bias').value;
  const outBias = ps.get('cloze.cloze_predictions.output_bias').value;
  const table = cloze.tables.word.value;
  const E = gamma.length;
  const V = outBias.length;
  const rows: Float64Array[] = [];
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < seqLen; i++) {
      // roll(ltr, -1) and roll(rtl, 1): position i sees ltr[i - 1] and rtl[i + 1], wrapping.
      const l = (b * seqLen + ((i - 1 + seqLen) % seqLen)) * H;
      const r = (b * seqLen + ((i + 1) % seqLen)) * H;
      const x = [...left.subarray(l, l + H), ...right.subarray(r, r + H)];
      const h = Array.from({ length: E }, (_, e) => {
        let s = bias[e]!;
        for (let j = 0; j < 2 * H; j++) s += W[e * 2 * H + j]! * x[j]!;
        return s * normalCdf(s);
      });
      const mean = h.reduce((a, v) => a + v, 0) / E;
      const variance = h.reduce((a, v) => a + (v - mean) ** 2, 0) / E;
      const n = h.map((v, e) => ((v - mean) / Math.sqrt(variance + 1e-12)) * gamma[e]! + beta[e]!);
      rows.push(Float64Array.from({ length: V }, (_, t) => {
        let s = outBias[t]!;
        for (let e = 0; e < E; e++) s += n[e]! * table[t * E + e]!;
        return s;
      }));
    }
  }
  return rows;
}

function logSoftmaxAt(row: Float64Array, t: number): number {
  const max = Math.max(...row);
  return row[t]! - max - Math.log(row.reduce((a, v) => a + Math.exp(v - max), 0));
}

test('two_tower_generator: the cloze loss over candidate tokens, recomputed independently, and its gradients', () => {
  const cfg = tinyConfig({ two_tower_generator: true, gen_weight: 1.5 });
  const inputs = tinyInputs();
  const model = tinyModel64(cfg);
  assert.deepEqual(model.hfModels, ['discriminator'], 'the cloze model has no HF class; its weights live in the checkpoint state');
  assert.ok(model.params.entries.filter((p) => p.name.startsWith('generator_') || p.name.startsWith('cloze.')).every((p) => p.hfNames.length === 0));
  const masked = maskTiny(cfg, inputs, 5);
  const samples = Int32Array.from({ length: masked.count }, (_, r) => 4 + ((r * 5) % 26));
  const m = model.step(inputs, masked, { stepSeed: 3, training: false, backward: false, fixedSamples: samples });
  const logits = referenceClozeLogits(model, inputs);
  let sum = 0;
  let count = 0;
  for (let i = 0; i < 16; i++) {
    const id = inputs.inputIds[i]!;
    if (!inputs.inputMask[i] || id === SPECIAL.cls || id === SPECIAL.sep || id === SPECIAL.mask) continue;
    sum -= logSoftmaxAt(logits[i]!, id);
    count++;
  }
  const cloze = sum / (count + 1e-6);
  assert.ok(Math.abs(m.clozeLoss! - cloze) < 1e-9 * cloze, `${m.clozeLoss} vs ${cloze}`);
  // masked_lm_loss reads the cloze logits at the predictions; the total loss uses the cloze loss.
  let mlm = 0;
  for (let r = 0; r < masked.count; r++) mlm -= logSoftmaxAt(logits[masked.positions[r]!]!, masked.labels[r]!);
  assert.ok(Math.abs(m.genLoss - mlm / (masked.count + 1e-6)) < 1e-9 * m.genLoss);
  assert.ok(Math.abs(m.totalLoss - (1.5 * cloze + cfg.disc_weight * m.discLoss)) < 1e-9 * m.totalLoss);
  const opts = { stepSeed: 21, training: true, backward: false, fixedSamples: samples };
  model.params.zeroGrads();
  model.step(inputs, masked, { ...opts, backward: true });
  checkParamGradients(model.params, () => model.step(inputs, masked, opts).totalLoss, { maxChecks: 6, rtol: 2e-5 });
});

test('electric_objective: logits + stop-gradient log q + log(p / (1 - p)), labels "was sampled"; gradients', () => {
  const cfg = tinyConfig({ electric_objective: true, untied_generator_embeddings: true });
  assert.equal(cfg.two_tower_generator, true);
  const inputs = tinyInputs();
  const model = tinyModel64(cfg);
  assert.notEqual(model.cloze!.ltr.tables, model.cloze!.rtl.tables, 'each tower has its own embeddings');
  const masked = maskTiny(cfg, inputs, 5);
  // The first prediction samples the original token: still labelled fake.
  const samples = Int32Array.from({ length: masked.count }, (_, r) => (r === 0 ? masked.labels[0]! : 4 + ((r * 5) % 26)));
  const m = model.step(inputs, masked, { stepSeed: 3, training: false, backward: false, fixedSamples: samples });
  const first = masked.positions[0]!;
  assert.equal(model.discInputIds[first], inputs.inputIds[first]);
  assert.equal(model.discLabels[first], 1);
  const discLogits = Float64Array.from(model.discriminatorHead!.logits.subarray(0, 16));
  // The head's own logits: the same weights without Electric (same discriminator input).
  const plain = new ElectraPretrainingModel(gradKernels, { ...cfg, electric_objective: false }, { maxBatch: 2, maxSeqLen: 8, dtype: 'float64' });
  plain.params.params.set(model.params.params);
  plain.step(inputs, masked, { stepSeed: 3, training: false, backward: false, fixedSamples: samples });
  assert.equal(plain.discLabels[first], 0, 'ELECTRA labels a correct sample real');
  const logits = referenceClozeLogits(model, inputs);
  const prior = Math.log(cfg.mask_prob / (1 - cfg.mask_prob));
  let loss = 0;
  let tokens = 0;
  for (let i = 0; i < 16; i++) {
    const expected = plain.discriminatorHead!.logits[i]! + logSoftmaxAt(logits[i]!, model.discInputIds[i]!) + prior;
    assert.ok(Math.abs(discLogits[i]! - expected) < 1e-9 * Math.max(1, Math.abs(expected)), `token ${i}: ${discLogits[i]} vs ${expected}`);
    assert.ok(Math.abs(1 / (1 + Math.exp(-expected)) - model.discProbs[i]!) < 1e-12);
    if (!inputs.inputMask[i]) continue;
    const z = model.discLabels[i]!;
    loss += Math.max(expected, 0) - expected * z + Math.log1p(Math.exp(-Math.abs(expected)));
    tokens++;
  }
  assert.ok(Math.abs(m.discLoss - loss / (tokens + 1e-6)) < 1e-9 * m.discLoss);
  // log q is a constant to the gradient (stop_gradient): the cloze model's parameters get the cloze
  // loss's gradient only, the discriminator's (own embeddings here) the whole loss's.
  const opts = { stepSeed: 21, training: true, backward: false, fixedSamples: samples };
  model.params.zeroGrads();
  model.step(inputs, masked, { ...opts, backward: true });
  const isCloze = (name: string): boolean => name.startsWith('generator_') || name.startsWith('cloze.');
  checkParamGradients(model.params, () => cfg.gen_weight * model.step(inputs, masked, opts).clozeLoss!, { maxChecks: 6, rtol: 2e-5, skip: (n) => !isCloze(n) });
  checkParamGradients(model.params, () => model.step(inputs, masked, opts).totalLoss, { maxChecks: 6, rtol: 2e-5, skip: isCloze });
});

test('Electric in float32: native and JS backends agree with the float64 step', () => {
  const cfg = tinyConfig({ electric_objective: true });
  const inputs = tinyInputs();
  const masked = maskTiny(cfg, inputs, 5);
  const model64 = tinyModel64(cfg);
  model64.params.zeroGrads();
  const m64 = model64.step(inputs, masked, { stepSeed: 3, training: true, backward: true });
  const samples = Int32Array.from(model64.sampledIds.subarray(0, masked.count));
  const scale = Math.max(...Array.from(model64.params.grads, Math.abs));
  for (const k of backends()) {
    const model = new ElectraPretrainingModel(k, cfg, { maxBatch: 2, maxSeqLen: 8, dtype: 'float32' });
    model.params.params.set(model64.params.params);
    model.params.zeroGrads();
    const m = model.step(inputs, masked, { stepSeed: 3, training: true, backward: true, fixedSamples: samples });
    assert.ok(Math.abs(m.totalLoss - m64.totalLoss) < 1e-4 * m64.totalLoss, `${k.name}: ${m.totalLoss} vs ${m64.totalLoss}`);
    assertClose(model.params.grads, Float32Array.from(model64.params.grads), 1e-5 * scale, 1e-3, `${k.name} float32 vs float64 grads`);
  }
});
