// Sentence-level metrics as the reference's classification_metrics.py reports them: accuracy,
// binary F1, Matthews correlation (sklearn's multiclass formula), Pearson and Spearman (scipy),
// all scaled by 100; MSE unscaled.
import { prefixed, type MetricList, type Scorer } from '../scorer.js';

/** Percentage of predictions equal to the gold label. */
export function accuracy(gold: readonly number[], predicted: readonly number[]): number {
  checkPaired(gold, predicted);
  let correct = 0;
  for (let i = 0; i < gold.length; i++) if (gold[i] === predicted[i]) correct++;
  return (100 * correct) / gold.length;
}

export interface PrecisionRecallF1 {
  precision: number;
  recall: number;
  f1: number;
}

/**
 * Precision, recall and F1 (percent) of the positive class. The reference's F1Scorer (which no
 * reference task uses) counts predicted positives as gold, making recall equal precision; here
 * gold positives are counted. As there, all three are 0 when nothing is correctly predicted.
 */
export function binaryF1(gold: readonly number[], predicted: readonly number[], positive = 1): PrecisionRecallF1 {
  checkPaired(gold, predicted);
  let correct = 0;
  let nPredicted = 0;
  let nGold = 0;
  for (let i = 0; i < gold.length; i++) {
    if (predicted[i] === positive) {
      nPredicted++;
      if (gold[i] === positive) correct++;
    }
    if (gold[i] === positive) nGold++;
  }
  if (correct === 0) return { precision: 0, recall: 0, f1: 0 };
  const precision = (100 * correct) / nPredicted;
  const recall = (100 * correct) / nGold;
  return { precision, recall, f1: (2 * precision * recall) / (precision + recall) };
}

/**
 * Matthews correlation coefficient in [-1, 1] (not scaled), sklearn's multiclass form:
 * (c*s - t.p) / sqrt((s^2 - p.p)(s^2 - t.t)) over the confusion matrix; 0 when either
 * the gold or the predicted labels are all one class (sklearn's convention).
 */
export function matthewsCorrcoef(gold: readonly number[], predicted: readonly number[]): number {
  checkPaired(gold, predicted);
  const trueCounts = new Map<number, number>();
  const predCounts = new Map<number, number>();
  let correct = 0;
  for (let i = 0; i < gold.length; i++) {
    trueCounts.set(gold[i]!, (trueCounts.get(gold[i]!) ?? 0) + 1);
    predCounts.set(predicted[i]!, (predCounts.get(predicted[i]!) ?? 0) + 1);
    if (gold[i] === predicted[i]) correct++;
  }
  const s = gold.length;
  let tp = 0;
  for (const [label, t] of trueCounts) tp += t * (predCounts.get(label) ?? 0);
  let pp = 0;
  for (const p of predCounts.values()) pp += p * p;
  let tt = 0;
  for (const t of trueCounts.values()) tt += t * t;
  const covYtYp = correct * s - tp;
  const covYpYp = s * s - pp;
  const covYtYt = s * s - tt;
  if (covYpYp * covYtYt === 0) return 0;
  return covYtYp / Math.sqrt(covYtYt * covYpYp);
}

/** Pearson's r (scipy.stats.pearsonr); NaN when either side is constant, as scipy returns. */
export function pearson(x: readonly number[], y: readonly number[]): number {
  checkPaired(x, y);
  if (x.length < 2) throw new Error(`pearson: needs at least 2 pairs, got ${x.length}`);
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  const r = sxy / Math.sqrt(sxx * syy);
  return Math.max(-1, Math.min(1, r));
}

/** 1-based ranks with ties given their average rank (scipy.stats.rankdata, method 'average'). */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const ranks = new Array<number>(values.length);
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && values[order[j + 1]!] === values[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]!] = rank;
    i = j + 1;
  }
  return ranks;
}

/** Spearman's rho: Pearson's r of the average ranks (scipy.stats.spearmanr). */
export function spearman(x: readonly number[], y: readonly number[]): number {
  checkPaired(x, y);
  return pearson(averageRanks(x), averageRanks(y));
}

function checkPaired(a: readonly number[], b: readonly number[]): void {
  if (a.length !== b.length) throw new Error(`metric: ${a.length} gold values but ${b.length} predictions`);
  if (a.length === 0) throw new Error('metric: no examples to score');
}

/** One classification example's result: its loss, gold label id and predicted label id. */
export interface ClassificationResult {
  loss: number;
  label: number;
  prediction: number;
}

/** One regression example's result: its loss, (normalised) target and prediction. */
export interface RegressionResult {
  loss: number;
  target: number;
  prediction: number;
}

abstract class SentenceLevelScorer<R> implements Scorer<R> {
  protected readonly gold: number[] = [];
  protected readonly predicted: number[] = [];
  private totalLoss = 0;

  update(result: R): void {
    const [gold, prediction, loss] = this.unpack(result);
    this.gold.push(gold);
    this.predicted.push(prediction);
    this.totalLoss += loss;
  }

  getLoss(): number {
    return this.gold.length === 0 ? NaN : this.totalLoss / this.gold.length;
  }

  getResults(prefix = ''): MetricList {
    if (this.gold.length === 0) throw new Error('scorer: no results to score');
    return prefixed([...this.metrics(), ['loss', this.getLoss()]], prefix);
  }

  protected abstract unpack(result: R): [gold: number, prediction: number, loss: number];
  protected abstract metrics(): MetricList;
}

abstract class LabelScorer extends SentenceLevelScorer<ClassificationResult> {
  protected unpack(r: ClassificationResult): [number, number, number] {
    return [r.label, r.prediction, r.loss];
  }
}

/** accuracy, loss (sst, mnli, qnli, rte). */
export class AccuracyScorer extends LabelScorer {
  protected metrics(): MetricList {
    return [['accuracy', accuracy(this.gold, this.predicted)]];
  }
}

/** precision, recall, f1, loss of the positive label (1 by default, as the reference). */
export class F1Scorer extends LabelScorer {
  constructor(private readonly positive = 1) {
    super();
  }

  protected metrics(): MetricList {
    const { precision, recall, f1 } = binaryF1(this.gold, this.predicted, this.positive);
    return [['precision', precision], ['recall', recall], ['f1', f1]];
  }
}

/** accuracy, f1 (positive label 1), loss: the GLUE report for mrpc and qqp. */
export class AccuracyF1Scorer extends LabelScorer {
  constructor(private readonly positive = 1) {
    super();
  }

  protected metrics(): MetricList {
    return [
      ['accuracy', accuracy(this.gold, this.predicted)],
      ['f1', binaryF1(this.gold, this.predicted, this.positive).f1],
    ];
  }
}

/** mcc (x100), loss (cola). */
export class MCCScorer extends LabelScorer {
  protected metrics(): MetricList {
    return [['mcc', 100 * matthewsCorrcoef(this.gold, this.predicted)]];
  }
}

/** pearson, spearman (x100), mse, loss (sts). */
export class RegressionScorer extends SentenceLevelScorer<RegressionResult> {
  protected unpack(r: RegressionResult): [number, number, number] {
    return [r.target, r.prediction, r.loss];
  }

  protected metrics(): MetricList {
    let se = 0;
    for (let i = 0; i < this.gold.length; i++) se += (this.gold[i]! - this.predicted[i]!) ** 2;
    return [
      ['pearson', 100 * pearson(this.gold, this.predicted)],
      ['spearman', 100 * spearman(this.gold, this.predicted)],
      ['mse', se / this.gold.length],
    ];
  }
}
