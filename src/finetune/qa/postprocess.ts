// From per-window logits to answers, as the reference's SpanBasedQAScorer.write_predictions:
// n-best spans over all windows of a question, the no-answer score, and the predictions,
// n-best and null-odds JSON files.
import { mkdirSync } from 'node:fs';
import { writeFileAtomic } from '../../io/files.js';
import { dirname } from 'node:path';
import type { QaExample } from './data.js';
import type { QaFeatures } from './features.js';

/** The model's outputs for one window (feature). */
export interface QaRawResult {
  uniqueId: number;
  /** Joint prediction (the reference default): the beam of start positions and their log-probabilities... */
  startTopIndex?: readonly number[];
  startTopLogProbs?: readonly number[];
  /** ...and for each start in the beam, the beam of end positions and their log-probabilities. */
  endTopIndex?: readonly (readonly number[])[];
  endTopLogProbs?: readonly (readonly number[])[];
  /** Independent start/end logits over the window's positions (joint_prediction false). */
  startLogits?: ArrayLike<number>;
  endLogits?: ArrayLike<number>;
  /** Answerability classifier logit (high = unanswerable). */
  answerableLogit?: number;
}

export interface QaPostprocessOptions {
  nBestSize: number;
  maxAnswerLength: number;
  jointPrediction: boolean;
  /** SQuAD 2.0: compute the no-answer score (null odds) per question. */
  v2: boolean;
  /** Null score from the answerability logit (else from the [CLS] start + end logits). */
  answerableClassifier: boolean;
}

export interface NbestEntry {
  text: string;
  probability: number;
  startLogit: number;
  endLogit: number;
}

export interface QaPredictions {
  /** Question id -> best non-empty answer text. */
  predictions: Map<string, string>;
  nbest: Map<string, NbestEntry[]>;
  /** v2 only: question id -> no-answer score ("" is predicted where it exceeds qa_na_threshold). */
  nullOdds: Map<string, number> | null;
  /** Question id -> [start, end) of each n-best text in the context (UTF-16 units; [0, 0] for the placeholder). */
  spans?: Map<string, [number, number][]>;
}

/** Indices of the k largest values, ties in index order (tf.nn.top_k and Python's stable sort agree). */
export function topKIndices(values: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: values.length }, (_, i) => i);
  idx.sort((a, b) => values[b]! - values[a]! || a - b);
  return idx.slice(0, k);
}

/** Softmax in float64 after subtracting the maximum. */
export function softmax(scores: readonly number[]): number[] {
  if (scores.length === 0) return [];
  const max = Math.max(...scores);
  const exps = scores.map((s) => Math.exp(s - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

interface Prelim {
  featureIndex: number;
  start: number;
  end: number;
  startLogit: number;
  endLogit: number;
}

/** Candidate (start, end) pairs of one window with their scores, before the validity filter. */
function candidates(result: QaRawResult, opts: QaPostprocessOptions): [number, number, number, number][] {
  const out: [number, number, number, number][] = [];
  if (opts.jointPrediction) {
    const { startTopIndex: si, startTopLogProbs: sp, endTopIndex: ei, endTopLogProbs: ep } = result;
    if (!si || !sp || !ei || !ep) throw new Error(`QA result ${result.uniqueId}: joint prediction needs startTopIndex, startTopLogProbs, endTopIndex and endTopLogProbs`);
    si.forEach((start, i) => {
      ei[i]!.forEach((end, j) => out.push([start, end, sp[i]!, ep[i]![j]!]));
    });
  } else {
    const { startLogits, endLogits } = result;
    if (!startLogits || !endLogits) throw new Error(`QA result ${result.uniqueId}: needs startLogits and endLogits`);
    const starts = topKIndices(startLogits, opts.nBestSize);
    const ends = topKIndices(endLogits, opts.nBestSize);
    for (const s of starts) for (const e of ends) out.push([s, e, startLogits[s]!, endLogits[e]!]);
  }
  return out;
}

/**
 * Predictions for every example from its windows' results. Spans must start and end on
 * passage tokens of the window, start where the window has the token's max context, end no
 * earlier than they start and span at most maxAnswerLength tokens; the n-best keeps distinct
 * texts (cut from the original context by the tokens' character spans), best total score first.
 */
export function postprocessQa(
  examples: readonly QaExample[], features: readonly QaFeatures[], results: Iterable<QaRawResult>, opts: QaPostprocessOptions,
): QaPredictions {
  const byId = new Map<number, QaRawResult>();
  for (const r of results) byId.set(r.uniqueId, r);
  const featuresOf = new Map<number, QaFeatures[]>();
  for (const f of features) {
    const list = featuresOf.get(f.eid);
    if (list) list.push(f);
    else featuresOf.set(f.eid, [f]);
  }

  const predictions = new Map<string, string>();
  const nbestAll = new Map<string, NbestEntry[]>();
  const nullOdds = opts.v2 ? new Map<string, number>() : null;
  const spans = new Map<string, [number, number][]>();

  for (const example of examples) {
    const windows = featuresOf.get(example.eid) ?? [];
    const prelim: Prelim[] = [];
    let scoreNull = 1000000; // large and positive, as the reference starts it
    windows.forEach((feature, featureIndex) => {
      const result = byId.get(feature.uniqueId);
      if (!result) throw new Error(`no model result for QA feature ${feature.uniqueId} (question ${example.id}, window ${feature.windowIndex})`);
      if (opts.v2) {
        let featureNull: number;
        if (opts.answerableClassifier) {
          if (result.answerableLogit === undefined) throw new Error(`QA result ${result.uniqueId}: answerableLogit is missing`);
          featureNull = result.answerableLogit;
        } else {
          if (!result.startLogits || !result.endLogits) throw new Error(`QA result ${result.uniqueId}: the null score needs startLogits and endLogits`);
          featureNull = result.startLogits[0]! + result.endLogits[0]!;
        }
        scoreNull = Math.min(scoreNull, featureNull);
      }
      const length = feature.inputIds.length;
      for (const [start, end, startLogit, endLogit] of candidates(result, opts)) {
        if (start >= length || end >= length || start === 0) continue;
        if (!feature.tokenSpans[start] || !feature.tokenSpans[end]) continue;
        if (!feature.maxContext[start]) continue;
        if (end < start || end - start + 1 > opts.maxAnswerLength) continue;
        prelim.push({ featureIndex, start, end, startLogit, endLogit });
      }
    });
    // Stable: equal totals keep their window and beam order.
    prelim.sort((a, b) => b.startLogit + b.endLogit - (a.startLogit + a.endLogit));

    const seen = new Set<string>();
    const nbest: Omit<NbestEntry, 'probability'>[] = [];
    const at: [number, number][] = [];
    for (const p of prelim) {
      if (nbest.length >= opts.nBestSize) break;
      const feature = windows[p.featureIndex]!;
      const span: [number, number] = [feature.tokenSpans[p.start]![0], feature.tokenSpans[p.end]![1]];
      const text = example.context.slice(span[0], span[1]);
      if (seen.has(text)) continue;
      seen.add(text);
      nbest.push({ text, startLogit: p.startLogit, endLogit: p.endLogit });
      at.push(span);
    }
    // No valid span at all: the reference's placeholder.
    if (nbest.length === 0) {
      nbest.push({ text: 'empty', startLogit: 0, endLogit: 0 });
      at.push([0, 0]);
    }
    spans.set(example.id, at);

    const probs = softmax(nbest.map((e) => e.startLogit + e.endLogit));
    const entries = nbest.map((e, i) => ({ text: e.text, probability: probs[i]!, startLogit: e.startLogit, endLogit: e.endLogit }));
    nbestAll.set(example.id, entries);
    if (!nullOdds) predictions.set(example.id, entries[0]!.text);
    else {
      const bestNonNull = entries.find((e) => e.text !== '') ?? entries[0]!;
      nullOdds.set(example.id, opts.answerableClassifier ? scoreNull : scoreNull - bestNonNull.startLogit - bestNonNull.endLogit);
      predictions.set(example.id, bestNonNull.text);
    }
  }
  return { predictions, nbest: nbestAll, nullOdds, spans };
}

/** The SQuAD 2.0 test-set answers: "" where the null odds exceed the threshold. */
export function applyNullThreshold(
  predictions: ReadonlyMap<string, string>, nullOdds: ReadonlyMap<string, number>, threshold: number,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const [id, text] of predictions) {
    const odds = nullOdds.get(id);
    if (odds === undefined) throw new Error(`no null odds for question ${id}`);
    out.set(id, odds > threshold ? '' : text);
  }
  return out;
}

/** JSON with json.dump's ', ' / ': ' separators and ASCII escapes, keys in map order (numbers in JavaScript's shortest form, so -5 where Python writes -5.0). */
export function pythonJson(value: unknown): string {
  if (value instanceof Map) {
    return '{' + [...value].map(([k, v]) => `${pythonJson(String(k))}: ${pythonJson(v)}`).join(', ') + '}';
  }
  if (Array.isArray(value)) return '[' + value.map(pythonJson).join(', ') + ']';
  if (typeof value === 'string') return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
    return String(value);
  }
  if (value === null || typeof value === 'boolean') return String(value);
  if (typeof value === 'object') return pythonJson(new Map(Object.entries(value as Record<string, unknown>)));
  throw new Error(`pythonJson: cannot write a ${typeof value}`);
}

export interface QaOutputFiles {
  predictions: string;
  nbest?: string;
  nullOdds?: string;
}

/** Writes predictions ({id: text}), n-best ({id: [{text, probability, start_logit, end_logit}]}) and null odds ({id: score}). */
export function writeQaPredictions(files: QaOutputFiles, result: QaPredictions): void {
  const write = (path: string, content: string): void => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileAtomic(path, [content]);
  };
  write(files.predictions, pythonJson(result.predictions));
  if (files.nbest) {
    const nbest = new Map([...result.nbest].map(([id, entries]) => [id, entries.map((e) => new Map<string, unknown>([
      ['text', e.text], ['probability', e.probability], ['start_logit', e.startLogit], ['end_logit', e.endLogit],
    ]))]));
    write(files.nbest, pythonJson(nbest));
  }
  if (files.nullOdds && result.nullOdds) write(files.nullOdds, pythonJson(result.nullOdds));
}
