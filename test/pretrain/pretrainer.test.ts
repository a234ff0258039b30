// A few dozen pre-training updates of a tiny ELECTRA on patterned synthetic sequences: the
// generator and discriminator losses fall, and a resumed stream repeats the same updates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolvePretrainingConfig } from '../../src/model/config.js';
import type { PretrainingInputs } from '../../src/model/pretraining-model.js';
import { Pretrainer, samplingTemperature } from '../../src/pretrain/pretrainer.js';
import { Rng } from '../../src/nn/random.js';
import { backends } from '../helpers.js';

const SPECIAL = { cls: 1, sep: 2, mask: 3 };
const B = 8;
const S = 16;
const STEPS = 100;

/** [CLS] a a a ... a [SEP] with a random content token a (ids 5..20) and a random length: a copy task. */
function batch(rng: Rng): PretrainingInputs {
  const inputIds = new Int32Array(B * S);
  const segmentIds = new Int32Array(B * S);
  const inputMask = new Int32Array(B * S);
  for (let b = 0; b < B; b++) {
    const len = 10 + rng.int(S - 9);
    const token = 5 + rng.int(16);
    for (let p = 0; p < len; p++) {
      inputIds[b * S + p] = p === 0 ? SPECIAL.cls : p === len - 1 ? SPECIAL.sep : token;
      inputMask[b * S + p] = 1;
    }
  }
  return { inputIds, segmentIds, inputMask, batch: B, seqLen: S };
}

function config() {
  return resolvePretrainingConfig({
    vocab_size: 24, embedding_size: 16, max_seq_length: S, learning_rate: 1e-3, num_warmup_steps: 5, num_train_steps: STEPS,
    generator_hidden_size: 1.0,
    model_hparam_overrides: { hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: S },
  });
}

const k = backends().at(-1)!;

test(`pre-training a tiny ELECTRA lowers the generator and discriminator losses (${k.name})`, () => {
  const trainer = new Pretrainer(k, config(), { maxBatch: B, maxSeqLen: S, seed: 1, special: SPECIAL });
  const rng = new Rng(2);
  const gen: number[] = [];
  const disc: number[] = [];
  for (let i = 0; i < STEPS; i++) {
    const r = trainer.trainStep(batch(rng));
    assert.equal(r.step, i);
    assert.ok(Number.isFinite(r.metrics.totalLoss) && Number.isFinite(r.gradNorm));
    gen.push(r.metrics.genLoss);
    disc.push(r.metrics.discLoss);
  }
  const mean = (a: number[]): number => a.reduce((s, x) => s + x, 0) / a.length;
  // The generator starts near log(24) = 3.18 and must go below log(16) = 2.77, the best a model
  // ignoring the context can do: it has learnt to copy from the other positions.
  const g0 = mean(gen.slice(0, 5));
  const g1 = mean(gen.slice(-15));
  assert.ok(g0 > 3 && g1 < 2.77, `generator loss ${g0.toFixed(3)} -> ${g1.toFixed(3)}`);
  // The discriminator starts near log 2 per token and learns at least the replaced-token rate.
  const d0 = mean(disc.slice(0, 3));
  const d1 = mean(disc.slice(-15));
  assert.ok(d0 > 0.6 && d1 < 0.45, `discriminator loss ${d0.toFixed(3)} -> ${d1.toFixed(3)}`);
});

test('two trainers with the same seed take identical steps (streams derive from seed and step)', () => {
  const a = new Pretrainer(k, config(), { maxBatch: B, maxSeqLen: S, seed: 5, special: SPECIAL });
  const b = new Pretrainer(k, config(), { maxBatch: B, maxSeqLen: S, seed: 5, special: SPECIAL });
  const rng = new Rng(3);
  for (let i = 0; i < 3; i++) {
    const x = batch(rng);
    assert.deepEqual(a.trainStep(x).metrics, b.trainStep(x).metrics);
  }
  assert.deepEqual(a.model.params.params, b.model.params.params);
});

test('final_temperature moves the sampling temperature linearly from temperature to it over num_train_steps', () => {
  const schedule = { temperature: 3, final_temperature: 1, num_train_steps: 4 };
  assert.deepEqual([0, 1, 2, 4, 9].map((s) => samplingTemperature(schedule, s)), [3, 2.5, 2, 1, 1]);
  assert.equal(samplingTemperature({ ...schedule, final_temperature: null }, 3), 3);
  const trainer = (t: Record<string, unknown>) =>
    new Pretrainer(k, resolvePretrainingConfig({ ...config(), num_train_steps: 4, ...t }), { maxBatch: B, maxSeqLen: S, seed: 9, special: SPECIAL });
  const rng = new Rng(7);
  const xs = [batch(rng), batch(rng), batch(rng)];
  // From near-argmax sampling to near-uniform (exact binary fractions: halfway is exactly 25).
  const scheduled = trainer({ temperature: 0.125, final_temperature: 49.875 });
  const cold = trainer({ temperature: 0.125 });
  const mid = trainer({ temperature: 25 });
  assert.deepEqual(scheduled.trainStep(xs[0]!).metrics, cold.trainStep(xs[0]!).metrics, 'update 0 samples at temperature 0.125');
  scheduled.trainStep(xs[1]!);
  mid.trainStep(xs[0]!);
  // Update 2 from the same parameters and moments: the scheduled run samples as a constant 25 does.
  for (const other of [cold, mid]) {
    other.trainStep(xs[1]!);
    other.model.params.params.set(scheduled.model.params.params);
    other.optimizer.m.set(scheduled.optimizer.m);
    other.optimizer.v.set(scheduled.optimizer.v);
  }
  const a = scheduled.trainStep(xs[2]!);
  const b = mid.trainStep(xs[2]!);
  cold.trainStep(xs[2]!);
  assert.equal(a.step, 2);
  assert.deepEqual(scheduled.model.sampledIds, mid.model.sampledIds, 'update 2 samples at temperature 25');
  assert.deepEqual(a.metrics, b.metrics);
  assert.notDeepEqual(cold.model.sampledIds, scheduled.model.sampledIds, 'a constant 0.125 samples differently');
});
