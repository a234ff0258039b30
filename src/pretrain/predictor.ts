// Predictors: a loaded model behind `electra predict`, `electra fill-mask` and `electra serve`.
// Records (JSON objects, or plain text) come in; each is checked and tokenized on its own first,
// so a bad one is refused before it joins a batch; prepared inputs then run together and each gets
// one JSON-able result. Fine-tuned task models plug in by implementing the same interface.
import { InputError } from '../errors.js';
import type { TruncationStrategy } from '../tokenizer/tokenizer.js';
import type { Encoding } from '../tokenizer/tokenizer.js';
import type { Discriminator, FillMaskResult, MaskedLM, TextInput } from './inference.js';

/** Checks and tokenizes one input record (prepare), then runs prepared inputs in batches (run). */
export interface Predictor<Prepared = unknown, Result = unknown> {
  /** What it predicts, e.g. "replaced-token-detection", "fill-mask". */
  readonly task: string;
  /** Inputs worth running together. */
  readonly maxBatch: number;
  /** Checks and tokenizes one record (a string, or an object with "text" / "text_pair"); InputError if it cannot run. */
  prepare(record: unknown): Prepared;
  /** Runs prepared inputs together: one result per input, in order. */
  run(inputs: readonly Prepared[]): Result[];
  /** Fine-tuned tasks: the records of a file in the task's training format, each with its "file:line". */
  readFile?(file: string, reader?: unknown): { record: unknown; where: string }[];
}

/** The text (pair) of a record: a string, or {"text": ..., "text_pair"?: ...}. */
export function textRecord(record: unknown): TextInput {
  if (typeof record === 'string') return record;
  if (record !== null && typeof record === 'object' && !Array.isArray(record)) {
    const r = record as Record<string, unknown>;
    if (typeof r['text'] !== 'string') throw new InputError('expected a "text" string field');
    const pair = r['text_pair'];
    if (pair !== undefined && pair !== null && typeof pair !== 'string') throw new InputError('"text_pair" must be a string');
    return { text: r['text'] as string, textPair: (pair as string | undefined) ?? null };
  }
  throw new InputError('expected a JSON object with a "text" field, or a string');
}

/**
 * A forward pass costs about this many tokens' work before its first token (weights streamed once
 * per pass, thread hand-offs): small batches are dear, so groups are not split finer than it pays.
 */
const PASS_COST_TOKENS = 32;

/**
 * Runs inputs in groups of similar length (at most maxBatch each) and returns the results in input
 * order. A dynamic batch mixes short and long inputs: padding all to the longest wastes work, one
 * pass per input wastes more. The split of the inputs sorted by length that costs least (padded
 * tokens plus PASS_COST_TOKENS a pass) is found exactly by dynamic programming.
 */
export function runByLength<In, Out>(inputs: readonly In[], lengthOf: (x: In) => number, maxBatch: number, run: (group: In[]) => Out[]): Out[] {
  const order = inputs.map((_, i) => i).sort((a, b) => lengthOf(inputs[a]!) - lengthOf(inputs[b]!));
  const n = order.length;
  // best[i]: least cost of the first i sorted inputs; cut[i]: where its last group starts.
  const best = new Float64Array(n + 1).fill(Infinity);
  const cut = new Int32Array(n + 1);
  best[0] = 0;
  for (let i = 1; i <= n; i++) {
    const longest = lengthOf(inputs[order[i - 1]!]!);
    for (let j = Math.max(0, i - maxBatch); j < i; j++) {
      const cost = best[j]! + PASS_COST_TOKENS + (i - j) * longest;
      if (cost < best[i]!) {
        best[i] = cost;
        cut[i] = j;
      }
    }
  }
  const groups: number[][] = [];
  for (let i = n; i > 0; i = cut[i]!) groups.unshift(order.slice(cut[i]!, i));
  const out = new Array<Out>(n);
  for (const group of groups) run(group.map((i) => inputs[i]!)).forEach((r, j) => { out[group[j]!] = r; });
  return out;
}

/** How a text predictor tokenizes its inputs (truncation). */
export interface TextPredictorOptions {
  /** Cut inputs longer than the model takes this way; without it they are refused. */
  truncation?: TruncationStrategy;
}

/** The discriminator predictor's answer: tokens and, per token, the probability that it was replaced. */
export interface ReplacedTokenResult {
  tokens: string[];
  /** [start, end) in code points of the text (or of text_pair for its tokens); [0, 0] for special tokens. */
  offsets: [number, number][];
  /** P(token was replaced) per token. */
  probs: number[];
}

/** The discriminator: per-token replaced probabilities. */
export function discriminatorPredictor(disc: Discriminator, options: TextPredictorOptions = {}): Predictor<Encoding, ReplacedTokenResult> {
  const text = options.truncation ? { truncation: options.truncation } : {};
  return {
    task: 'replaced-token-detection',
    maxBatch: disc.maxBatch,
    prepare: (record) => disc.encode([textRecord(record)], text)[0]!,
    run: (encodings) => runByLength(encodings, (e) => e.ids.length, disc.maxBatch, (group) => {
      const out = disc.predict({ inputIds: group.map((e) => e.ids), tokenTypeIds: group.map((e) => e.segmentIds) });
      return group.map((e, b) => ({
        tokens: e.tokens, offsets: e.offsets, probs: Array.from(out.probs.subarray(b * out.seqLen, b * out.seqLen + e.ids.length)),
      }));
    }),
  };
}

/** The masked LM: the top-k tokens at each [MASK] (HF's fill-mask pipeline output). */
export function fillMaskPredictor(lm: MaskedLM, options: TextPredictorOptions & { topK?: number } = {}): Predictor<Encoding, FillMaskResult> {
  const text = options.truncation ? { truncation: options.truncation } : {};
  const topK = options.topK ?? 5;
  const mask = lm.tokenizer?.maskId;
  return {
    task: 'fill-mask',
    maxBatch: lm.maxBatch,
    prepare(record) {
      const enc = lm.encode([textRecord(record)], text)[0]!;
      if (!enc.ids.includes(mask!)) throw new InputError(`no ${lm.tokenizer!.vocab.tokens[mask!]} token to fill`);
      return enc;
    },
    run: (encodings) => runByLength(encodings, (e) => e.ids.length, lm.maxBatch, (group) => lm.fillMaskEncoded(group, topK)),
  };
}
