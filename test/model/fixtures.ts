// A tiny ELECTRA configuration and batch shared by the model tests.
import { resolvePretrainingConfig, type PretrainingConfig } from '../../src/model/config.js';
import { MaskedBatch, maskBatch } from '../../src/model/masking.js';
import { ElectraPretrainingModel, type PretrainingInputs } from '../../src/model/pretraining-model.js';
import { Rng } from '../../src/nn/random.js';
import { gradKernels, randomizeParams } from '../nn/gradcheck.js';

export const SPECIAL = { cls: 1, sep: 2, mask: 3 };
const PAD = 0;

export function tinyConfig(extra: Partial<PretrainingConfig> = {}): PretrainingConfig {
  return resolvePretrainingConfig({
    vocab_size: 30,
    embedding_size: 8,
    max_seq_length: 8,
    mask_prob: 0.3,
    generator_hidden_size: 0.5,
    model_hparam_overrides: { hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 24, max_position_embeddings: 16 },
    ...extra,
  });
}

/** Two sequences of 8: one full, one with 4 padding tokens. */
export function tinyInputs(): PretrainingInputs {
  const { cls, sep } = SPECIAL;
  return {
    inputIds: Int32Array.from([cls, 11, 12, 13, sep, 14, 15, sep, cls, 16, 17, sep, PAD, PAD, PAD, PAD]),
    segmentIds: Int32Array.from([0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
    inputMask: Int32Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]),
    batch: 2,
    seqLen: 8,
  };
}


/** The reference's dynamic masking of a tiny batch (2 x 8) with the config's mask_prob. */
export function maskTiny(cfg: PretrainingConfig, inputs: PretrainingInputs, seed: number): MaskedBatch {
  const masked = new MaskedBatch(2, 8, cfg.max_predictions_per_seq);
  maskBatch(inputs.inputIds, inputs.inputMask, inputs.batch, inputs.seqLen,
    { maskProb: cfg.mask_prob, maxPredictionsPerSeq: cfg.max_predictions_per_seq, special: SPECIAL }, new Rng(seed), masked);
  return masked;
}

/** A float64 model of the config on the JS kernels, parameters initialized and perturbed (for gradient checks). */
export function tinyModel64(cfg: PretrainingConfig): ElectraPretrainingModel {
  const model = new ElectraPretrainingModel(gradKernels, cfg, { maxBatch: 2, maxSeqLen: 8, dtype: 'float64' });
  randomizeParams(model.params, 42);
  return model;
}
