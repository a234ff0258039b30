// The official question-answering evaluations the reference runs: SQuAD v2.0 (with the no-answer
// threshold, HasAns/NoAns breakdown and best-threshold search), SQuAD v1.1 and MRQA.
import type { MetricList } from '../scorer.js';
import {
  exactMatch, maxOverGroundTruths, normalizeAnswer, pythonSplit, sharedTokenCount, tokenF1,
} from './answer-text.js';

/** A question's id and gold answer texts (empty for unanswerable SQuAD 2.0 questions). */
export interface GoldQuestion {
  id: string;
  answers: readonly string[];
}

export interface QaEvaluation {
  metrics: MetricList;
  /** Ids of gold questions without a prediction. */
  missing: string[];
}

/** SQuAD 2.0's token F1: 1 if both are empty, 0 if only one is, else overlap F1. */
export function squadV2F1(goldAnswer: string, prediction: string): number {
  const gold = goldAnswer ? pythonSplit(normalizeAnswer(goldAnswer)) : [];
  const pred = prediction ? pythonSplit(normalizeAnswer(prediction)) : [];
  if (gold.length === 0 || pred.length === 0) return gold.length === pred.length ? 1 : 0;
  const same = sharedTokenCount(gold, pred);
  if (same === 0) return 0;
  const precision = same / pred.length;
  const recall = same / gold.length;
  return (2 * precision * recall) / (precision + recall);
}

export interface SquadV2Options {
  /** Per-question no-answer score (the reference writes its null odds here). */
  naProbs?: ReadonlyMap<string, number>;
  /** Predict "" where naProbs exceeds this (the script's default 1.0; ELECTRA passes qa_na_threshold). */
  naProbThreshold?: number;
}

/**
 * The official SQuAD 2.0 script: exact, f1, total, HasAns_*, NoAns_*, and with naProbs
 * best_exact, best_exact_thresh, best_f1, best_f1_thresh, in that order.
 */
export function evaluateSquadV2(
  gold: readonly GoldQuestion[], predictions: ReadonlyMap<string, string>, opts: SquadV2Options = {},
): QaEvaluation {
  const threshold = opts.naProbThreshold ?? 1.0;
  const naProbs = opts.naProbs ?? new Map([...predictions.keys()].map((k) => [k, 0]));
  const hasAnswer = new Map<string, boolean>();
  for (const q of gold) hasAnswer.set(q.id, q.answers.length > 0);

  const exactRaw = new Map<string, number>();
  const f1Raw = new Map<string, number>();
  const missing: string[] = [];
  for (const q of gold) {
    let goldAnswers = q.answers.filter((a) => normalizeAnswer(a) !== '');
    if (goldAnswers.length === 0) goldAnswers = ['']; // only the empty string answers an unanswerable question
    const prediction = predictions.get(q.id);
    if (prediction === undefined) {
      missing.push(q.id);
      continue;
    }
    exactRaw.set(q.id, maxOverGroundTruths((p, g) => exactMatch(g, p), prediction, goldAnswers));
    f1Raw.set(q.id, maxOverGroundTruths((p, g) => squadV2F1(g, p), prediction, goldAnswers));
  }
  if (exactRaw.size === 0) throw new Error('SQuAD 2.0 evaluation: no question has a prediction');

  const applyThreshold = (scores: Map<string, number>): Map<string, number> => {
    const out = new Map<string, number>();
    for (const [id, s] of scores) {
      const na = naProbs.get(id);
      if (na === undefined) throw new Error(`SQuAD 2.0 evaluation: no null score for question ${id}`);
      out.set(id, na > threshold ? (hasAnswer.get(id) ? 0 : 1) : s);
    }
    return out;
  };
  const exact = applyThreshold(exactRaw);
  const f1 = applyThreshold(f1Raw);

  const summary = (ids: readonly string[]): [number, number, number] => {
    let e = 0;
    let f = 0;
    for (const id of ids) {
      e += exact.get(id)!;
      f += f1.get(id)!;
    }
    return [(100 * e) / ids.length, (100 * f) / ids.length, ids.length];
  };
  const metrics: MetricList = [];
  const all = summary([...exact.keys()]);
  metrics.push(['exact', all[0]], ['f1', all[1]], ['total', all[2]]);
  // The script's breakdown lists every gold id; ids without a prediction are left out here
  // (the script would fail on them).
  const scored = (want: boolean): string[] => gold.filter((q) => hasAnswer.get(q.id) === want && exact.has(q.id)).map((q) => q.id);
  for (const [name, ids] of [['HasAns', scored(true)], ['NoAns', scored(false)]] as const) {
    if (ids.length === 0) continue;
    const [e, f, n] = summary(ids);
    metrics.push([`${name}_exact`, e], [`${name}_f1`, f], [`${name}_total`, n]);
  }
  if (opts.naProbs) {
    const [bestExact, exactThresh] = findBestThreshold(predictions, exactRaw, naProbs, hasAnswer);
    const [bestF1, f1Thresh] = findBestThreshold(predictions, f1Raw, naProbs, hasAnswer);
    metrics.push(['best_exact', bestExact], ['best_exact_thresh', exactThresh], ['best_f1', bestF1], ['best_f1_thresh', f1Thresh]);
  }
  return { metrics, missing };
}

/**
 * The script's find_best_thresh: start from "every question unanswered" and lower the
 * threshold past each question in increasing null score, keeping the best total.
 */
export function findBestThreshold(
  predictions: ReadonlyMap<string, string>, scores: ReadonlyMap<string, number>,
  naProbs: ReadonlyMap<string, number>, hasAnswer: ReadonlyMap<string, boolean>,
): [score: number, threshold: number] {
  let noAnswerCount = 0;
  for (const v of hasAnswer.values()) if (!v) noAnswerCount++;
  let current = noAnswerCount;
  let best = current;
  let bestThreshold = 0;
  // Stable sort: ties keep naProbs' insertion order, as Python's sorted() over a dict.
  const ids = [...naProbs.keys()].sort((a, b) => naProbs.get(a)! - naProbs.get(b)!);
  for (const id of ids) {
    if (!scores.has(id)) continue;
    let diff: number;
    if (hasAnswer.get(id)) diff = scores.get(id)!;
    else diff = predictions.get(id) ? -1 : 0;
    current += diff;
    if (current > best) {
      best = current;
      bestThreshold = naProbs.get(id)!;
    }
  }
  return [(100 * best) / scores.size, bestThreshold];
}

/** Exact match and F1 summed over the questions that have a prediction; the others are listed. */
function sumOverPredicted(gold: readonly GoldQuestion[], predictions: ReadonlyMap<string, string>): { em: number; f1: number; scored: number; missing: string[] } {
  let em = 0;
  let f1 = 0;
  let scored = 0;
  const missing: string[] = [];
  for (const q of gold) {
    const prediction = predictions.get(q.id);
    if (prediction === undefined) {
      missing.push(q.id);
      continue;
    }
    scored++;
    em += maxOverGroundTruths(exactMatch, prediction, q.answers);
    f1 += maxOverGroundTruths(tokenF1, prediction, q.answers);
  }
  return { em, f1, scored, missing };
}

/** The official SQuAD v1.1 script: exact_match and f1; questions without a prediction score 0. */
export function evaluateSquadV1(gold: readonly GoldQuestion[], predictions: ReadonlyMap<string, string>): QaEvaluation {
  if (gold.length === 0) throw new Error('SQuAD v1.1 evaluation: no questions');
  const { em, f1, missing } = sumOverPredicted(gold, predictions);
  return { metrics: [['exact_match', (100 * em) / gold.length], ['f1', (100 * f1) / gold.length]], missing };
}

/**
 * The MRQA shared task's script as ELECTRA calls it (skip_no_answer): questions without a
 * prediction are left out of the total rather than scored 0.
 */
export function evaluateMrqa(gold: readonly GoldQuestion[], predictions: ReadonlyMap<string, string>): QaEvaluation {
  const { em, f1, scored, missing } = sumOverPredicted(gold, predictions);
  if (scored === 0) throw new Error('MRQA evaluation: no question has a prediction');
  return { metrics: [['exact_match', (100 * em) / scored], ['f1', (100 * f1) / scored]], missing };
}

/** Python's sorted() over the result keys (code-point order: upper case first), as the reference's scorer returns them. */
export function sortedMetrics(metrics: MetricList): MetricList {
  return [...metrics].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
