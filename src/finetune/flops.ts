// Matrix-multiply FLOPs of fine-tuning steps and inference batches (for throughput and MFU
// figures): the encoder as in pre-training (model/flops.ts) plus the task head, at full-length
// sequences. Training counts 3x the forward pass; elementwise work is not counted.
import { bodyForwardFlops } from '../model/flops.js';
import type { ElectraConfig } from '../model/config.js';
import { QA_HIDDEN, type ElectraQaOptions } from './qa/head.js';

/** Forward FLOPs of the reference's sentence head (dense(num_labels) on [CLS]) with the encoder. */
export function sentenceForwardFlops(c: ElectraConfig, batch: number, seqLen: number, numLabels: number): number {
  return bodyForwardFlops(c, batch, seqLen) + 2 * batch * c.hidden_size * numLabels;
}

export type QaFlopOptions = Pick<ElectraQaOptions, 'jointPrediction' | 'beamSize' | 'answerableClassifier' | 'answerableUsesStartLogits'>;

/**
 * Forward FLOPs of the reference's QA head (ElectraQaHead) with the encoder. Training conditions
 * the end logits on the gold start; inference on each of the top beam_size starts, sharing the
 * token half of dense(512) between the beams.
 */
export function qaForwardFlops(
  c: ElectraConfig, batch: number, seqLen: number, opts: QaFlopOptions, training: boolean,
): number {
  const T = batch * seqLen;
  const H = c.hidden_size;
  const D = QA_HIDDEN;
  let head = 2 * T * H; // start logits
  if (opts.jointPrediction) {
    head += 2 * T * H * D; // token half of dense(512), once per example
    const starts = training ? 1 : Math.min(opts.beamSize, seqLen);
    head += batch * starts * (2 * H * D + 2 * seqLen * D); // start half, then end logits per start
  } else {
    head += 2 * T * H; // end logits
  }
  if (opts.answerableClassifier) {
    head += opts.answerableUsesStartLogits
      ? 2 * T * H + 2 * batch * 2 * H * D + 2 * batch * D // start-weighted hidden state, dense(512), dense(1)
      : 2 * batch * H;
  }
  return bodyForwardFlops(c, batch, seqLen) + head;
}

/** Training FLOPs of one update: 3x the forward pass (backward = input and weight gradients). */
export function trainingFlops(forwardFlops: number): number {
  return 3 * forwardFlops;
}
