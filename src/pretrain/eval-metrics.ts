// The reference's pre-training eval metrics (run_pretraining.PretrainingModel.metric_fn) summed
// over batches: masked-LM accuracy and loss over the predictions, sampled accuracy, the
// discriminator's per-example loss mean, and accuracy, precision, recall and AUC over the
// tokens. AUC is tf.metrics.auc's: 200 thresholds, ROC, trapezoidal, over every position of the
// batch with padding counted as label 0 and probability 0 (the reference multiplies both by
// the input mask). Also an exact AUC over real tokens only (ties count 1/2), as an extra.
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

export const AUC_THRESHOLDS = 200;
const KEPSILON = 1e-7;

/** tf.metrics.auc's thresholds: -eps, 1/(n-1), ..., (n-2)/(n-1), 1+eps. */
export function aucThresholds(n = AUC_THRESHOLDS): Float64Array {
  const t = new Float64Array(n);
  t[0] = -KEPSILON;
  for (let i = 1; i < n - 1; i++) t[i] = i / (n - 1);
  t[n - 1] = 1 + KEPSILON;
  return t;
}

/** Confusion counts at each threshold (prediction = prob > threshold), accumulated over batches. */
export class StreamingAuc {
  readonly thresholds: Float64Array;
  /** Positives/negatives whose probability exceeds exactly the first j thresholds, at index j. */
  private readonly positives: Float64Array;
  private readonly negatives: Float64Array;

  constructor(readonly numThresholds = AUC_THRESHOLDS) {
    this.thresholds = aucThresholds(numThresholds);
    this.positives = new Float64Array(numThresholds + 1);
    this.negatives = new Float64Array(numThresholds + 1);
  }

  /** Adds one (probability, label) pair; probability as the model computed it (float32). */
  add(prob: number, label: boolean): void {
    // Thresholds increase, so those below prob form a prefix; find its length.
    const t = this.thresholds;
    let lo = 0;
    let hi = t.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (prob > t[mid]!) lo = mid + 1;
      else hi = mid;
    }
    if (label) this.positives[lo]!++;
    else this.negatives[lo]!++;
  }

  /** The area under the ROC curve as tf.metrics.auc (summation_method 'trapezoidal') computes it. */
  value(): number {
    const n = this.numThresholds;
    const tp = new Float64Array(n);
    const fp = new Float64Array(n);
    // Above threshold i: everything counted at an index > i.
    let p = 0;
    let q = 0;
    for (let j = n; j >= 1; j--) {
      p += this.positives[j]!;
      q += this.negatives[j]!;
      tp[j - 1] = p;
      fp[j - 1] = q;
    }
    const totalP = p + this.positives[0]!;
    const totalN = q + this.negatives[0]!;
    // tf.metrics.auc's epsilon against division by zero.
    const eps = 1e-6;
    let auc = 0;
    let prevX = 0;
    let prevY = 0;
    for (let i = 0; i < n; i++) {
      const y = (tp[i]! + eps) / (totalP + eps);
      const x = fp[i]! / (totalN + eps);
      if (i > 0) auc += (prevX - x) * (prevY + y) / 2;
      prevX = x;
      prevY = y;
    }
    return auc;
  }
}

/** The reference's result names (sorted), including loss and global_step as its estimator reports them. */
export interface PretrainingEvalResults {
  disc_accuracy: number;
  disc_auc: number;
  disc_loss: number;
  disc_precision: number;
  disc_recall: number;
  global_step: number;
  loss: number;
  masked_lm_accuracy: number;
  masked_lm_loss: number;
  sampled_masked_lm_accuracy: number;
}

/** Sums PretrainingMetrics (and the AUC counts) over eval batches. */
export class EvalAccumulator {
  readonly auc = new StreamingAuc();
  private batches = 0;
  private lossSum = 0;
  private predictions = 0;
  private mlmLossSum = 0;
  private mlmCorrect = 0;
  private sampledCorrect = 0;
  private examples = 0;
  private discExampleLossSum = 0;
  private discTokens = 0;
  private discCorrect = 0;
  private tp = 0;
  private predictedPositives = 0;
  private labelPositives = 0;
  /** Real tokens' probabilities and labels, for the exact AUC. */
  private readonly scores: number[] = [];
  private readonly labels: number[] = [];

  /**
   * Adds one batch: its metrics, and per position (batch * seqLen) the discriminator's
   * probability, label (1 = replaced) and input mask.
   */
  add(m: PretrainingMetrics, discProbs: ArrayLike<number> | null, discLabels: ArrayLike<number> | null, inputMask: ArrayLike<number>, tokens: number): void {
    this.batches++;
    this.lossSum += m.totalLoss;
    this.predictions += m.predictions;
    // genLoss is the batch mean over predictions; the reference weights every prediction alike.
    this.mlmLossSum += m.genLoss * m.predictions;
    this.mlmCorrect += m.mlmCorrect;
    this.sampledCorrect += m.sampledCorrect;
    this.examples += m.examples;
    this.discExampleLossSum += m.discExampleLossSum;
    this.discTokens += m.discTokens;
    this.discCorrect += m.discCorrect;
    this.tp += m.discTruePositives;
    this.predictedPositives += m.discPredictedPositives;
    this.labelPositives += m.discLabelPositives;
    if (discProbs && discLabels) {
      for (let i = 0; i < tokens; i++) {
        const real = inputMask[i] ? 1 : 0;
        this.auc.add(Math.fround(discProbs[i]! * real), discLabels[i]! * real > 0);
        if (real) {
          this.scores.push(discProbs[i]!);
          this.labels.push(discLabels[i]! > 0 ? 1 : 0);
        }
      }
    }
  }

  /**
   * electra-ts extra: the accuracy of calling every token real (1 - replaced fraction), the
   * baseline disc_accuracy must beat to show any detection.
   */
  allRealAccuracy(): number {
    return this.discTokens > 0 ? 1 - this.labelPositives / this.discTokens : 0;
  }

  /**
   * electra-ts extra: the exact ROC AUC over real tokens only (the reference's disc_auc counts
   * padding as easy negatives and bins probabilities into 200 thresholds). NaN without both classes.
   */
  exactAuc(): number {
    return rocAuc(this.scores, this.labels);
  }

  results(globalStep: number): PretrainingEvalResults {
    const ratio = (a: number, b: number): number => (b > 0 ? a / b : 0);
    return {
      disc_accuracy: ratio(this.discCorrect, this.discTokens),
      disc_auc: this.auc.value(),
      disc_loss: ratio(this.discExampleLossSum, this.examples),
      disc_precision: ratio(this.tp, this.predictedPositives),
      disc_recall: ratio(this.tp, this.labelPositives),
      global_step: globalStep,
      loss: ratio(this.lossSum, this.batches),
      masked_lm_accuracy: ratio(this.mlmCorrect, this.predictions),
      masked_lm_loss: ratio(this.mlmLossSum, this.predictions),
      sampled_masked_lm_accuracy: ratio(this.sampledCorrect, this.predictions),
    };
  }
}

/** The results as the reference logs them ("  key = value", sorted by key). */
export function formatEvalResults(r: PretrainingEvalResults, electraObjective: boolean): string {
  const keys = (Object.keys(r) as (keyof PretrainingEvalResults)[])
    .filter((k) => electraObjective || !(k.startsWith('disc_') || k === 'sampled_masked_lm_accuracy'))
    .sort();
  return keys.map((k) => `  ${k} = ${String(r[k])}`).join('\n') + '\n';
}
