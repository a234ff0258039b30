// A tiny ELECTRA configuration and batch shared by the model tests.
import { resolvePretrainingConfig, type PretrainingConfig } from '../../src/model/config.js';
import type { PretrainingInputs } from '../../src/model/pretraining-model.js';

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

