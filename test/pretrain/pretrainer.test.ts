// A few dozen pre-training updates of a tiny ELECTRA on patterned synthetic sequences: the
// generator and discriminator losses fall, and a resumed stream repeats the same updates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolvePretrainingConfig } from '../../src/model/config.js';
import type { PretrainingInputs } from '../../src/model/pretraining-model.js';
import { Pretrainer } from '../../src/pretrain/pretrainer.js';
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
