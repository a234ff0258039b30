// Question-answering features as the reference's QATask.featurize: [CLS] question [SEP] window
// [SEP] over doc-stride windows of the passage, with each passage token's character span in
// the context (to recover answer text) and whether this window is its "max context" window.
import type { BertTokenizer } from '../../tokenizer/index.js';
import type { QaExample } from './data.js';
import type { EncodedInput } from '../features/batch.js';

export interface QaFeatureOptions {
  maxSeqLength: number;
  /** Question tokens kept (default 64). */
  maxQueryLength: number;
  /** Step between window starts, in passage tokens (default 128). */
  docStride: number;
}

export interface QaFeatures extends EncodedInput {
  /** The example's eid, and this window's index among its windows. */
  eid: number;
  windowIndex: number;
  /** The reference's unique id: 1000 * eid + window index. */
  uniqueId: number;
  /** Per input position: the passage token's [start, end) in the context (UTF-16), or null for [CLS], question and [SEP]. */
  tokenSpans: ([number, number] | null)[];
  /** Per input position: true where this window gives the passage token the most context. */
  maxContext: boolean[];
  /** Training targets: answer start/end input positions (0, 0 = [CLS] when unanswerable or outside this window). */
  startPosition: number;
  endPosition: number;
  isImpossible: boolean;
}

interface DocSpan {
  start: number;
  length: number;
}

/** Window starts: advance by min(length, stride) until a window reaches the end of the passage. */
export function docSpans(numTokens: number, maxTokensForDoc: number, stride: number): DocSpan[] {
  const spans: DocSpan[] = [];
  let start = 0;
  while (start < numTokens) {
    const length = Math.min(numTokens - start, maxTokensForDoc);
    spans.push({ start, length });
    if (start + length === numTokens) break;
    start += Math.min(length, stride);
  }
  return spans;
}

/**
 * Whether window `current` is the one where passage token `position` has the most context:
 * the largest min(left, right) + 0.01 * window length; the first window wins ties.
 */
export function isMaxContext(spans: readonly DocSpan[], current: number, position: number): boolean {
  let bestScore = -Infinity;
  let best = -1;
  spans.forEach((span, i) => {
    const end = span.start + span.length - 1;
    if (position < span.start || position > end) return;
    const score = Math.min(position - span.start, end - position) + 0.01 * span.length;
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  });
  return best === current;
}

/** Token index range [first, last] covering a character span; null when no token overlaps it. */
function tokenRange(starts: readonly number[], ends: readonly number[], charStart: number, charEnd: number): [number, number] | null {
  let first = -1;
  let last = -1;
  for (let i = 0; i < starts.length; i++) {
    if (ends[i]! > charStart && starts[i]! < charEnd) {
      if (first < 0) first = i;
      last = i;
    }
  }
  return first < 0 ? null : [first, last];
}

/** UTF-16 position of every code point index (and of the end), for tokenizer offsets. */
function codePointToUnit(text: string): number[] | null {
  if (!/[\ud800-\udfff]/.test(text)) return null;
  const map: number[] = [];
  for (let i = 0; i < text.length; i++) {
    map.push(i);
    if ((text.charCodeAt(i) & 0xfc00) === 0xd800 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
  }
  map.push(text.length);
  return map;
}

/**
 * One feature per window. Training examples get the answer's token positions in the windows
 * that contain all of it, and [CLS] (0, 0) elsewhere and for unanswerable questions. The
 * answer's tokens are those overlapping its characters (the reference narrows word-level spans
 * to the tokenised answer text, which this gives directly).
 */
export function featurizeQa(tokenizer: BertTokenizer, example: QaExample, isTraining: boolean, opts: QaFeatureOptions): QaFeatures[] {
  const query = tokenizer.pieces(example.question).ids.slice(0, opts.maxQueryLength);
  const passage = tokenizer.pieces(example.context);
  const toUnit = codePointToUnit(example.context);
  const starts = toUnit ? passage.starts.map((s) => toUnit[s]!) : passage.starts;
  const ends = toUnit ? passage.ends.map((e) => toUnit[e]!) : passage.ends;

  let answerTokens: [number, number] | null = null;
  if (isTraining && !example.isImpossible) {
    if (!example.answer) throw new Error(`${example.taskName} example ${example.eid} (${example.id}): an answerable training example needs its answer span`);
    answerTokens = tokenRange(starts, ends, example.answer.start, example.answer.end);
  }

  const maxTokensForDoc = opts.maxSeqLength - query.length - 3;
  if (maxTokensForDoc <= 0) {
    throw new Error(`max_seq_length ${opts.maxSeqLength} leaves no room for the passage after a ${query.length}-token question`);
  }
  const spans = docSpans(passage.ids.length, maxTokensForDoc, opts.docStride);
  if (spans.length >= 1000) throw new Error(`${example.taskName} example ${example.id}: ${spans.length} windows; unique ids allow at most 999`);
  // An empty passage gives no windows (as the reference); post-processing then predicts "empty".

  const features: QaFeatures[] = [];
  spans.forEach((span, windowIndex) => {
    const inputIds = [tokenizer.clsId, ...query, tokenizer.sepId];
    const segmentIds = inputIds.map(() => 0);
    const tokenSpans: ([number, number] | null)[] = inputIds.map(() => null);
    const maxContext: boolean[] = inputIds.map(() => false);
    for (let i = 0; i < span.length; i++) {
      const t = span.start + i;
      inputIds.push(passage.ids[t]!);
      segmentIds.push(1);
      tokenSpans.push([starts[t]!, ends[t]!]);
      maxContext.push(isMaxContext(spans, windowIndex, t));
    }
    inputIds.push(tokenizer.sepId);
    segmentIds.push(1);
    tokenSpans.push(null);
    maxContext.push(false);

    let startPosition = 0;
    let endPosition = 0;
    if (answerTokens) {
      const docEnd = span.start + span.length - 1;
      if (answerTokens[0] >= span.start && answerTokens[1] <= docEnd) {
        const offset = query.length + 2;
        startPosition = answerTokens[0] - span.start + offset;
        endPosition = answerTokens[1] - span.start + offset;
      }
    }
    features.push({
      eid: example.eid, windowIndex, uniqueId: 1000 * example.eid + windowIndex, inputIds, segmentIds, tokenSpans, maxContext,
      startPosition, endPosition, isImpossible: isTraining && example.isImpossible,
    });
  });
  return features;
}
