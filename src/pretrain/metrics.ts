// Evaluation metrics accumulated over batches: the reference's eval_metrics
// (masked_lm_accuracy, masked_lm_loss, sampled_masked_lm_accuracy, disc_loss, disc_auc,
// disc_accuracy, disc_precision, disc_recall). disc_auc is computed exactly (ties count 1/2)
// rather than with tf.metrics.auc's 200-threshold approximation.
import type { PretrainingMetrics } from '../model/pretraining-model.js';

/** Exact area under the ROC curve of scores for binary labels; NaN when a class is absent. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>, n = scores.length): number {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => scores[a]! - scores[b]!);
  // Mann-Whitney U with average ranks over tied scores.
  let positives = 0;
  let rankSum = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const averageRank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) {
      if (labels[order[t]!]) {
        positives++;
        rankSum += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Sums PretrainingMetrics over batches and keeps the per-token disc scores for the AUC. */
export class MetricsAccumulator {
  private readonly sums: Record<keyof PretrainingMetrics, number> = {
    totalLoss: 0, genLoss: 0, discLoss: 0, discExampleLossSum: 0, examples: 0, predictions: 0, mlmCorrect: 0,
    sampledCorrect: 0, discTokens: 0, discCorrect: 0, discTruePositives: 0, discPredictedPositives: 0, discLabelPositives: 0,
  };
  private batches = 0;
  private scores: number[] = [];
  private labels: number[] = [];

  /** Adds a batch; probs/labels/inputMask are per token (padding is skipped for the AUC). */
  add(m: PretrainingMetrics, probs: ArrayLike<number>, labels: ArrayLike<number>, inputMask: ArrayLike<number>, tokens: number): void {
    this.batches++;
    // Losses are means over their batch's predictions / tokens: weight them back to sums.
    this.sums.genLoss += m.genLoss * m.predictions;
    this.sums.discLoss += m.discLoss * m.discTokens;
    this.sums.totalLoss += m.totalLoss;
    for (const key of ['discExampleLossSum', 'examples', 'predictions', 'mlmCorrect', 'sampledCorrect', 'discTokens', 'discCorrect',
      'discTruePositives', 'discPredictedPositives', 'discLabelPositives'] as const) this.sums[key] += m[key];
    for (let i = 0; i < tokens; i++) {
      if (!inputMask[i]) continue;
      this.scores.push(probs[i]!);
      this.labels.push(labels[i]!);
    }
  }

  /** The reference's metric names and values. */
  summary(): Record<string, number> {
    const s = this.sums;
    const ratio = (a: number, b: number): number => (b > 0 ? a / b : 0);
    return {
      masked_lm_accuracy: ratio(s.mlmCorrect, s.predictions),
      masked_lm_loss: ratio(s.genLoss, s.predictions),
      sampled_masked_lm_accuracy: ratio(s.sampledCorrect, s.predictions),
      disc_loss: ratio(s.discExampleLossSum, s.examples),
      disc_auc: rocAuc(this.scores, this.labels),
      disc_accuracy: ratio(s.discCorrect, s.discTokens),
      disc_precision: ratio(s.discTruePositives, s.discPredictedPositives),
      disc_recall: ratio(s.discTruePositives, s.discLabelPositives),
      loss: ratio(s.totalLoss, this.batches),
    };
  }
}
