// Exact ROC AUC against counting all positive/negative pairs, and metric accumulation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/nn/random.js';
import { MetricsAccumulator, rocAuc } from '../../src/pretrain/metrics.js';
import type { PretrainingMetrics } from '../../src/model/pretraining-model.js';

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

test('MetricsAccumulator weights batch means back to sums and skips padding in the AUC', () => {
  const base: PretrainingMetrics = {
    totalLoss: 0, genLoss: 0, discLoss: 0, discExampleLossSum: 0, examples: 0, predictions: 0, mlmCorrect: 0, sampledCorrect: 0,
    discTokens: 0, discCorrect: 0, discTruePositives: 0, discPredictedPositives: 0, discLabelPositives: 0,
  };
  const acc = new MetricsAccumulator();
  acc.add({ ...base, genLoss: 2, predictions: 1, mlmCorrect: 1, discTokens: 3, discCorrect: 3, examples: 1, discExampleLossSum: 0.5, totalLoss: 4 },
    [0.9, 0.1, 0.2, 0.99], [1, 0, 0, 0], [1, 1, 1, 0], 4);
  acc.add({ ...base, genLoss: 1, predictions: 3, sampledCorrect: 2, discTokens: 1, examples: 1, discExampleLossSum: 1.5, totalLoss: 2,
    discTruePositives: 1, discPredictedPositives: 2, discLabelPositives: 1 }, [0.3], [1], [1], 1);
  const s = acc.summary();
  assert.equal(s.masked_lm_loss, (2 * 1 + 1 * 3) / 4);
  assert.equal(s.masked_lm_accuracy, 1 / 4);
  assert.equal(s.sampled_masked_lm_accuracy, 2 / 4);
  assert.equal(s.disc_loss, (0.5 + 1.5) / 2);
  assert.equal(s.disc_accuracy, 3 / 4);
  assert.equal(s.disc_precision, 1 / 2);
  assert.equal(s.disc_recall, 1);
  assert.equal(s.loss, 3);
  // Real tokens: scores 0.9(+), 0.1, 0.2, 0.3(+); the padded 0.99 is ignored: positives beat negatives in 4 of 4 pairs.
  assert.equal(s.disc_auc, 1);
});
