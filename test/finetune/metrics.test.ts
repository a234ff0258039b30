// Scorers against hand-computed values and the official scripts' edge cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  accuracy, binaryF1, matthewsCorrcoef, pearson, spearman, averageRanks,
  AccuracyScorer, AccuracyF1Scorer, F1Scorer, MCCScorer, RegressionScorer,
} from '../../src/finetune/classification/metrics.js';
import { normalizeAnswer, pythonSplit, tokenF1, exactMatch } from '../../src/finetune/qa/answer-text.js';
import {
  evaluateSquadV2, evaluateSquadV1, evaluateMrqa, squadV2F1, sortedMetrics, type GoldQuestion,
} from '../../src/finetune/qa/metrics.js';
import { getSpanLabels, getTags, toBioes, EntityLevelF1Scorer, TokenAccuracyScorer } from '../../src/finetune/tagging/metrics.js';
import { formatResults, formatResultsFile, resultsObject } from '../../src/finetune/scorer.js';

const close = (a: number, b: number, tol = 1e-9): void => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

test('accuracy and binary F1 of the positive class', () => {
  assert.equal(accuracy([1, 0, 1, 1], [1, 1, 1, 0]), 50);
  // predicted positives {0,1,5}, gold positives {0,2,3,5}, correct {0,5}
  const r = binaryF1([1, 0, 1, 1, 0, 1], [1, 1, 0, 0, 0, 1]);
  close(r.precision, 200 / 3);
  close(r.recall, 50);
  close(r.f1, 400 / 7);
  assert.deepEqual(binaryF1([1, 1, 0], [0, 0, 0]), { precision: 0, recall: 0, f1: 0 });
  // positive label other than 1
  close(binaryF1([0, 0, 1], [0, 1, 1], 0).f1, 2 * 100 * 50 / 150);
  assert.throws(() => accuracy([], []), /no examples/);
  assert.throws(() => accuracy([1], [1, 0]), /1 gold values but 2 predictions/);
});

test('Matthews correlation: binary, multiclass, single-class', () => {
  // TP 2, TN 2, FP 1, FN 1: (4 - 1) / sqrt(3^4)
  close(matthewsCorrcoef([1, 1, 1, 0, 0, 0], [1, 1, 0, 0, 0, 1]), 1 / 3);
  close(matthewsCorrcoef([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 2]), 6 / Math.sqrt(24 * 22));
  close(matthewsCorrcoef([0, 1, 0, 1], [1, 0, 1, 0]), -1);
  assert.equal(matthewsCorrcoef([1, 0, 1, 0], [1, 1, 1, 1]), 0); // all predictions one class
  assert.equal(matthewsCorrcoef([1, 1, 1], [1, 0, 1]), 0); // all gold one class
});

test('Pearson and Spearman with average ranks for ties', () => {
  close(pearson([1, 2, 3, 4], [2, 4, 5, 9]), 11 / Math.sqrt(130));
  assert.deepEqual(averageRanks([10, 20, 10, 30, 20, 20]), [1.5, 4, 1.5, 6, 4, 4]);
  // ranks x: 1 2.5 2.5 4, y: 1 3 2 4
  close(spearman([1, 2, 2, 3], [1, 3, 2, 4]), 4.5 / Math.sqrt(22.5));
  close(spearman([1, 2, 3], [10, 100, 1000]), 1);
  assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])), 'constant input gives NaN as scipy');
  assert.throws(() => pearson([1], [2]), /at least 2/);
});

test('sentence-level scorers report the reference keys, scaled by 100, with mean loss', () => {
  const acc = new AccuracyScorer();
  for (const [label, prediction, loss] of [[1, 1, 0.5], [0, 1, 1.5], [1, 1, 1]] as const) acc.update({ label, prediction, loss });
  assert.deepEqual(acc.getResults(), [['accuracy', 200 / 3], ['loss', 1]]);
  assert.deepEqual(acc.getResults('dev_').map(([k]) => k), ['dev_accuracy', 'dev_loss']);
  assert.equal(formatResults(acc.getResults()), 'accuracy: 66.67 - loss: 1.00');
  assert.equal(formatResultsFile([new Map([['sst', acc.getResults()]]), new Map([['sst', [['accuracy', 50]]]])]),
    'sst: accuracy: 66.67 - loss: 1.00\nsst: accuracy: 50.00\n');

  const f1 = new F1Scorer();
  const af1 = new AccuracyF1Scorer();
  const mcc = new MCCScorer();
  const pairs = [[1, 1], [1, 1], [1, 0], [0, 0], [0, 0], [0, 1]];
  for (const [label, prediction] of pairs) {
    for (const s of [f1, af1, mcc]) s.update({ label: label!, prediction: prediction!, loss: 0 });
  }
  assert.deepEqual(f1.getResults().map(([k]) => k), ['precision', 'recall', 'f1', 'loss']);
  const a = resultsObject(af1.getResults());
  close(a.accuracy!, 400 / 6);
  close(a.f1!, 200 / 3);
  close(resultsObject(mcc.getResults()).mcc!, 100 / 3);

  const reg = new RegressionScorer();
  const targets = [0.2, 0.4, 0.6, 0.8];
  const preds = [0.1, 0.5, 0.5, 0.9];
  targets.forEach((t, i) => reg.update({ target: t, prediction: preds[i]!, loss: (t - preds[i]!) ** 2 }));
  const r = resultsObject(reg.getResults());
  assert.deepEqual(Object.keys(r), ['pearson', 'spearman', 'mse', 'loss']);
  close(r.mse!, 0.01);
  close(r.loss!, 0.01);
  close(r.spearman!, 100 * spearman(targets, preds));
  close(r.spearman!, 100 * (4.5 / Math.sqrt(5 * 4.5)));
  assert.throws(() => new AccuracyScorer().getResults(), /no results/);
});

test('answer normalisation follows Python: ASCII punctuation, Unicode \\b, str.split whitespace', () => {
  assert.equal(normalizeAnswer("The  Cat's hat!"), 'cats hat');
  assert.equal(normalizeAnswer('an apple-a-day'), 'appleaday');
  assert.equal(normalizeAnswer('A  Tale of the\tTwo Cities.'), 'tale of two cities');
  // 'é' is a word character for Python's \b, so "the" inside "éthe" stays; " a" goes.
  assert.equal(normalizeAnswer('Éthe a'), 'éthe');
  // « » are not in string.punctuation
  assert.equal(normalizeAnswer('«Paris»'), '«paris»');
  assert.deepEqual(pythonSplit('x\u00a0y\u2003z'), ['x', 'y', 'z']);
  assert.deepEqual(pythonSplit('x\ufeffy'), ['x\ufeffy']); // BOM is not whitespace to Python
  assert.deepEqual(pythonSplit('p\x1cq'), ['p', 'q']);
});

test('token F1 and exact match (v1.1/MRQA) and the v2.0 empty-answer rule', () => {
  close(tokenF1('big dog cat', 'the big cat'), 0.8);
  assert.equal(tokenF1('', ''), 0); // v1.1: no shared token gives 0 even when both are empty
  assert.equal(exactMatch('', 'the'), 1);
  close(squadV2F1('the big cat', 'big dog cat'), 0.8);
  assert.equal(squadV2F1('', ''), 1);
  assert.equal(squadV2F1('', 'Santa Clara'), 0);
  assert.equal(squadV2F1('Santa Clara', ''), 0);
  // repeated tokens count once each (Counter intersection)
  close(tokenF1('a cat cat cat', 'cat'), 2 * (1 / 3) * 1 / (1 / 3 + 1));
});

const gold: GoldQuestion[] = [
  { id: 'q1', answers: ['Denver Broncos', 'the Denver Broncos'] },
  { id: 'q2', answers: ['Carolina Panthers'] },
  { id: 'q3', answers: [] },
  { id: 'q4', answers: [] },
];
const preds = new Map([['q1', 'Denver Broncos'], ['q2', 'Panthers'], ['q3', 'Santa Clara'], ['q4', '']]);

test('SQuAD 2.0 official evaluation: threshold, HasAns/NoAns, best thresholds', () => {
  const naProbs = new Map([['q1', -5], ['q2', -1], ['q3', 2], ['q4', 0.5]]);
  const { metrics, missing } = evaluateSquadV2(gold, preds, { naProbs, naProbThreshold: -2.75 });
  assert.deepEqual(missing, []);
  assert.deepEqual(metrics.map(([k]) => k), [
    'exact', 'f1', 'total', 'HasAns_exact', 'HasAns_f1', 'HasAns_total', 'NoAns_exact', 'NoAns_f1', 'NoAns_total',
    'best_exact', 'best_exact_thresh', 'best_f1', 'best_f1_thresh',
  ]);
  const m = resultsObject(metrics);
  // q2 and q3, q4 exceed -2.75 and count as "no answer": q2 wrong, q3 and q4 right.
  close(m.exact!, 75);
  close(m.f1!, 75);
  assert.equal(m.total, 4);
  close(m.HasAns_exact!, 50);
  close(m.NoAns_f1!, 100);
  // best: answer q1 only (-5) for exact; q1 and q2 (-1) for F1 (2 + 1 + 2/3 of 4).
  close(m.best_exact!, 75);
  assert.equal(m.best_exact_thresh, -5);
  close(m.best_f1!, 100 * (3 + 2 / 3) / 4);
  assert.equal(m.best_f1_thresh, -1);

  // Without null scores: the script's default threshold 1.0 over zeros answers everything.
  const plain = resultsObject(evaluateSquadV2(gold, preds).metrics);
  close(plain.exact!, 50); // q1 and q4
  close(plain.f1!, 100 * (1 + 2 / 3 + 0 + 1) / 4);
  assert.equal(plain.best_f1, undefined);
  assert.deepEqual(sortedMetrics(evaluateSquadV2(gold, preds, { naProbs }).metrics).map(([k]) => k).slice(0, 4),
    ['HasAns_exact', 'HasAns_f1', 'HasAns_total', 'NoAns_exact']);
});

test('SQuAD 2.0: missing predictions are reported and left out; an unknown null score is an error', () => {
  const partial = new Map([['q1', 'Denver Broncos'], ['q4', '']]);
  const r = evaluateSquadV2(gold, partial);
  assert.deepEqual(r.missing, ['q2', 'q3']);
  const m = resultsObject(r.metrics);
  assert.equal(m.total, 2);
  assert.equal(m.HasAns_total, 1);
  assert.throws(() => evaluateSquadV2(gold, preds, { naProbs: new Map([['q1', 0]]) }), /no null score for question q2/);
  assert.throws(() => evaluateSquadV2(gold, new Map()), /no question has a prediction/);
});

test('SQuAD v1.1 counts missing answers as 0; MRQA skips them', () => {
  const v1Gold = gold.slice(0, 2).concat([{ id: 'q5', answers: ['Levi Stadium'] }]);
  const p = new Map([['q1', 'the Denver Broncos'], ['q2', 'Panthers']]);
  const v1 = resultsObject(evaluateSquadV1(v1Gold, p).metrics);
  close(v1.exact_match!, 100 / 3);
  close(v1.f1!, 100 * (1 + 2 / 3) / 3);
  const mrqa = evaluateMrqa(v1Gold, p);
  assert.deepEqual(mrqa.missing, ['q5']);
  close(resultsObject(mrqa.metrics).exact_match!, 50);
  close(resultsObject(mrqa.metrics).f1!, 100 * (1 + 2 / 3) / 2);
});

test('span extraction reproduces get_span_labels, including its I- quirks', () => {
  assert.deepEqual(getSpanLabels(['B-NP', 'I-NP', 'O', 'B-VP', 'I-VP', 'I-NP', 'B-PP']),
    [[0, 1, 'NP'], [3, 5, 'NP'], [6, 6, 'PP']]); // a span takes its last tag's type
  assert.deepEqual(getSpanLabels(['O', 'I-NP', 'I-NP']), [[1, 2, 'NP']]);
  assert.deepEqual(getSpanLabels(['B-NP', 'I-NP', 'E-NP', 'S-VP', 'O']), [[0, 2, 'NP'], [3, 3, 'VP']]);
  assert.deepEqual(getSpanLabels([]), []);
  assert.deepEqual(getSpanLabels(['O', 'O']), []);
  assert.throws(() => getSpanLabels(['NP']), /tag 'NP' is neither 'O' nor PREFIX-TYPE/);
  assert.deepEqual(toBioes(['B-NP', 'I-NP', 'I-NP', 'O', 'B-VP', 'B-NP']), ['B-NP', 'I-NP', 'E-NP', 'O', 'S-VP', 'S-NP']);
  assert.deepEqual(getTags([[0, 1, 'NP'], [2, 2, 'VP']], 4, 'BIO'), ['B-NP', 'I-NP', 'B-VP', 'O']);
});

test('entity-level F1 and token accuracy scorers', () => {
  const names = ['B-NP', 'E-NP', 'O', 'S-NP', 'S-VP'];
  const id = (tags: string[]): number[] => tags.map((t) => names.indexOf(t));
  const f1 = new EntityLevelF1Scorer(names);
  f1.update({ labels: id(['B-NP', 'E-NP', 'S-VP']), predictions: id(['B-NP', 'E-NP', 'S-NP']), loss: 3 });
  f1.update({ labels: id(['O', 'S-NP']), predictions: id(['O', 'O']), loss: 2 });
  const r = resultsObject(f1.getResults());
  close(r.precision!, 50);
  close(r.recall!, 100 / 3);
  close(r.f1!, 40);
  close(r.loss!, 1); // 5 over 5 words
  const none = new EntityLevelF1Scorer(names);
  none.update({ labels: id(['S-NP']), predictions: id(['O']), loss: 0 });
  assert.deepEqual(none.getResults().slice(0, 3), [['precision', 0], ['recall', 0], ['f1', 0]]);
  const acc = new TokenAccuracyScorer();
  acc.update({ labels: [1, 2, 3], predictions: [1, 2, 0], loss: 0 });
  acc.update({ labels: [4], predictions: [4], loss: 0 });
  close(resultsObject(acc.getResults()).accuracy!, 75);
  assert.throws(() => new EntityLevelF1Scorer(names).update({ labels: [1], predictions: [], loss: 0 }), /1 gold labels but 0/);
});
