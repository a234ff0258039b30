// The reference's eval metrics: tf.metrics.auc recomputed directly from its definition, and the
// accumulation over batches (per-prediction, per-example and per-token averages; padding in AUC).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aucThresholds, EvalAccumulator, formatEvalResults, rocAuc, StreamingAuc } from '../../src/pretrain/eval-metrics.js';
import type { PretrainingMetrics } from '../../src/model/pretraining-model.js';
import { Rng } from '../../src/nn/random.js';

/** tf.metrics.auc written out: confusion counts per threshold, then the trapezoids. */
function tfAuc(probs: number[], labels: boolean[]): number {
  const t = aucThresholds(200);
  const eps = 1e-6;
  const xs: number[] = [];
  const ys: number[] = [];
  for (const th of t) {
    let tp = 0;
    let fn = 0;
    let tn = 0;
    let fp = 0;
    probs.forEach((p, i) => {
      const pred = p > th;
      if (labels[i]) pred ? tp++ : fn++;
      else pred ? fp++ : tn++;
    });
    ys.push((tp + eps) / (tp + fn + eps));
    xs.push(fp / (fp + tn + eps));
  }
  let auc = 0;
  for (let i = 0; i < t.length - 1; i++) auc += (xs[i]! - xs[i + 1]!) * (ys[i]! + ys[i + 1]!) / 2;
  return auc;
}

test('StreamingAuc equals tf.metrics.auc computed from its definition', () => {
  const rng = new Rng(3);
  for (const separation of [0, 0.3, 1]) {
    const probs: number[] = [];
    const labels: boolean[] = [];
    const auc = new StreamingAuc();
    for (let i = 0; i < 3000; i++) {
      const label = rng.uniform() < 0.15;
      // Values on and next to the thresholds too, where > versus >= matters.
      const p = i % 10 === 0 ? Math.round(rng.uniform() * 199) / 199 : Math.fround(Math.min(1, Math.max(0, rng.uniform() * (1 - separation) + (label ? separation : 0))));
      probs.push(p);
      labels.push(label);
      auc.add(p, label);
    }
    assert.ok(Math.abs(auc.value() - tfAuc(probs, labels)) < 1e-12, `separation ${separation}: ${auc.value()} vs ${tfAuc(probs, labels)}`);
  }
  const perfect = new StreamingAuc();
  for (let i = 0; i < 100; i++) perfect.add(i < 50 ? 0.1 : 0.9, i >= 50);
  assert.ok(perfect.value() > 0.999);
  const reversed = new StreamingAuc();
  for (let i = 0; i < 100; i++) reversed.add(i < 50 ? 0.9 : 0.1, i >= 50);
  assert.ok(reversed.value() < 0.001);
});

function metrics(partial: Partial<PretrainingMetrics>): PretrainingMetrics {
  return {
    totalLoss: 0, genLoss: 0, discLoss: 0, discExampleLossSum: 0, examples: 0, predictions: 0, mlmCorrect: 0, sampledCorrect: 0,
    discTokens: 0, discCorrect: 0, discTruePositives: 0, discPredictedPositives: 0, discLabelPositives: 0, ...partial,
  };
}

test('EvalAccumulator weighs every prediction, example and token alike across batches; padding enters AUC as 0/0', () => {
  const acc = new EvalAccumulator();
  // Batch 1: 2 predictions with mean loss 3; batch 2: 6 predictions with mean loss 1 -> (6 + 6) / 8.
  acc.add(metrics({ totalLoss: 10, genLoss: 3, predictions: 2, mlmCorrect: 1, sampledCorrect: 0, examples: 1, discExampleLossSum: 0.5,
    discTokens: 4, discCorrect: 3, discTruePositives: 1, discPredictedPositives: 2, discLabelPositives: 1 }),
  [0.9, 0.8, 0.1, 0.2, 0.7], [1, 0, 0, 0, 1], [1, 1, 1, 1, 0], 5);
  acc.add(metrics({ totalLoss: 20, genLoss: 1, predictions: 6, mlmCorrect: 3, sampledCorrect: 2, examples: 3, discExampleLossSum: 0.7,
    discTokens: 12, discCorrect: 11, discTruePositives: 2, discPredictedPositives: 2, discLabelPositives: 3 }), null, null, [], 0);
  const r = acc.results(42);
  assert.equal(r.global_step, 42);
  assert.equal(r.loss, 15);
  assert.equal(r.masked_lm_loss, 12 / 8);
  assert.equal(r.masked_lm_accuracy, 4 / 8);
  assert.equal(r.sampled_masked_lm_accuracy, 2 / 8);
  assert.equal(r.disc_loss, 1.2 / 4);
  assert.equal(r.disc_accuracy, 14 / 16);
  assert.equal(r.disc_precision, 3 / 4);
  assert.equal(r.disc_recall, 3 / 4);
  assert.equal(acc.allRealAccuracy(), 1 - 4 / 16);
  // The padded position (label 1, prob 0.7) counts as a negative with probability 0, as the reference's
  // disc_labels * input_mask and disc_probs * input_mask.
  assert.ok(Math.abs(r.disc_auc - tfAuc([0.9, 0.8, 0.1, 0.2, 0], [true, false, false, false, false])) < 1e-12);
  // The exact AUC leaves padding out: 0.9 (replaced) above all three real negatives.
  assert.equal(acc.exactAuc(), 1);
  const text = formatEvalResults(r, true);
  assert.deepEqual(text.trimEnd().split('\n').map((l) => l.trim().split(' = ')[0]), [
    'disc_accuracy', 'disc_auc', 'disc_loss', 'disc_precision', 'disc_recall', 'global_step', 'loss', 'masked_lm_accuracy',
    'masked_lm_loss', 'sampled_masked_lm_accuracy',
  ]);
  assert.match(text, /^ {2}disc_accuracy = 0\.875$/m);
  // Masked-LM training (no ELECTRA objective) reports only the generator metrics, as the reference.
  assert.deepEqual(formatEvalResults(r, false).trimEnd().split('\n').map((l) => l.trim().split(' = ')[0]),
    ['global_step', 'loss', 'masked_lm_accuracy', 'masked_lm_loss']);
});

test('rocAuc equals the fraction of correctly ordered positive/negative pairs (ties 1/2)', () => {
  const rng = new Rng(1);
  const n = 300;
  // Coarse scores so that ties occur.
  const scores = Array.from({ length: n }, () => Math.round(rng.uniform() * 20) / 20);
  const labels = scores.map((s) => (rng.uniform() < 0.2 + 0.6 * s ? 1 : 0));
  let pairs = 0;
  let wins = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    if (labels[i] === 1 && labels[j] === 0) {
      pairs++;
      wins += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  assert.ok(Math.abs(rocAuc(scores, labels) - wins / pairs) < 1e-12);
  assert.equal(rocAuc([0.1, 0.9], [0, 1]), 1);
  assert.equal(rocAuc([0.9, 0.1], [0, 1]), 0);
  assert.ok(Number.isNaN(rocAuc([0.5, 0.6], [0, 0])));
});

test('EvalAccumulator.exactAuc ranks the real tokens of every batch and skips padding', () => {
  const base: PretrainingMetrics = {
    totalLoss: 0, genLoss: 0, discLoss: 0, discExampleLossSum: 0, examples: 0, predictions: 0, mlmCorrect: 0, sampledCorrect: 0,
    discTokens: 0, discCorrect: 0, discTruePositives: 0, discPredictedPositives: 0, discLabelPositives: 0,
  };
  const acc = new EvalAccumulator();
  acc.add({ ...base, discTokens: 3, discLabelPositives: 1 }, [0.9, 0.1, 0.2, 0.99], [1, 0, 0, 0], [1, 1, 1, 0], 4);
  acc.add({ ...base, discTokens: 1, discLabelPositives: 1 }, [0.3], [1], [1], 1);
  // Real tokens: 0.9(+), 0.1, 0.2, 0.3(+); the padded 0.99 would lose a pair for each positive if counted.
  assert.equal(acc.exactAuc(), 1);
  assert.equal(acc.allRealAccuracy(), 1 - 2 / 4);
});
