// Matrix-multiply FLOPs of a pre-training step (for throughput and MFU figures).
// Training counts 3x the forward pass (backward = input and weight gradients), attention
// score and context products included; elementwise work is not counted.
import type { ElectraConfig } from './config.js';

/** Forward FLOPs of embeddings_project and the encoder over batch x seqLen tokens. */
export function bodyForwardFlops(c: ElectraConfig, batch: number, seqLen: number): number {
  const T = batch * seqLen;
  const H = c.hidden_size;
  const project = c.embedding_size !== H ? 2 * T * c.embedding_size * H : 0;
  const perLayer = 2 * T * H * H * 4 // query, key, value, attention output
    + 2 * 2 * batch * seqLen * seqLen * H // scores and context, all heads
    + 2 * 2 * T * H * c.intermediate_size; // feed-forward
  return project + c.num_hidden_layers * perLayer;
}

/** Forward FLOPs of the discriminator head (dense H -> H, then H -> 1) over batch x seqLen tokens. */
export function discriminatorHeadForwardFlops(c: ElectraConfig, batch: number, seqLen: number): number {
  return 2 * batch * seqLen * c.hidden_size * (c.hidden_size + 1);
}

/** Forward FLOPs of discriminator inference (ElectraDiscriminator.forward): body and head. */
export function discriminatorForwardFlops(c: ElectraConfig, batch: number, seqLen: number): number {
  return bodyForwardFlops(c, batch, seqLen) + discriminatorHeadForwardFlops(c, batch, seqLen);
}

export interface StepFlops {
  generator: number;
  discriminator: number;
  total: number;
}

/**
 * Training FLOPs of one ELECTRA step: generator body and head (at `predictions` rows, logits
 * over the vocabulary through the tied embeddings), discriminator body and head. With `twoTower`
 * (Electric's cloze generator) the generator is two bodies and a head over all batch x seqLen
 * positions reading both towers (2 x hidden wide).
 */
export function pretrainingStepFlops(
  gen: ElectraConfig, disc: ElectraConfig | null, batch: number, seqLen: number, predictions: number, twoTower = false,
): StepFlops {
  const rows = twoTower ? batch * seqLen : predictions;
  const headIn = twoTower ? 2 * gen.hidden_size : gen.hidden_size;
  const genHead = 2 * rows * headIn * gen.embedding_size + 2 * rows * gen.embedding_size * gen.vocab_size;
  const generator = 3 * ((twoTower ? 2 : 1) * bodyForwardFlops(gen, batch, seqLen) + genHead);
  const discriminator = disc ? 3 * discriminatorForwardFlops(disc, batch, seqLen) : 0;
  return { generator, discriminator, total: generator + discriminator };
}
