// Dynamic masking, generator sampling and input corruption for ELECTRA pre-training,
// following pretrain/pretrain_helpers.py and run_pretraining.py of the reference.
import type { Kernels } from '../kernels/index.js';
import { mix32, seedKey } from '../kernels/rng.js';
import { roundHalfEven } from './config.js';
import { Rng } from '../nn/random.js';

export interface SpecialTokenIds {
  cls: number;
  sep: number;
  mask: number;
}

/** [CLS], [SEP] and [MASK] in the BERT uncased vocabulary. */
export const BERT_SPECIAL_IDS: SpecialTokenIds = { cls: 101, sep: 102, mask: 103 };

export interface MaskingOptions {
  maskProb: number;
  maxPredictionsPerSeq: number;
  special: SpecialTokenIds;
}

/**
 * One batch after masking. Predictions are stored compactly, sequence by sequence in draw
 * order: row r predicts token `labels[r]` at flat position `positions[r]` (b * seqLen + p).
 */
export class MaskedBatch {
  /** Input ids with [MASK] written at the masked positions. */
  readonly maskedIds: Int32Array;
  readonly positions: Int32Array;
  readonly labels: Int32Array;
  /**
   * 1 per token that could be masked (pretrain_helpers.get_candidates_mask: real tokens other than
   * [CLS], [SEP], [MASK]): the two-tower generator's cloze loss weights.
   */
  readonly candidates: Uint8Array;
  count = 0;

  constructor(readonly maxBatch: number, readonly maxSeqLen: number, readonly maxPredictionsPerSeq: number) {
    this.maskedIds = new Int32Array(maxBatch * maxSeqLen);
    this.candidates = new Uint8Array(maxBatch * maxSeqLen);
    this.positions = new Int32Array(maxBatch * maxPredictionsPerSeq);
    this.labels = new Int32Array(maxBatch * maxPredictionsPerSeq);
  }
}

/** Python/TF float32 round(num_tokens * mask_prob): computed in float32, halves to even (tf.round). */
export function numToPredict(numTokens: number, maskProb: number, maxPredictions: number): number {
  const product = Math.fround(Math.fround(numTokens) * Math.fround(maskProb));
  return Math.max(1, Math.min(maxPredictions, roundHalfEven(product)));
}

/**
 * The reference's dynamic masking (pretrain_helpers.mask): per sequence,
 * k = max(1, min(N, round(num_real_tokens * mask_prob))) positions are drawn uniformly WITH
 * replacement from the candidates (real tokens other than [CLS], [SEP], [MASK]); every draw is
 * a generator prediction (a position drawn twice is predicted twice). Each draw independently
 * picks [MASK] with probability 0.85, else keeps the token; a position is masked when any of its
 * draws picked [MASK]. Position 0 is never rewritten (the reference's scatter skips index 0).
 * A sequence without candidates gets no predictions (the reference would sample from NaNs).
 */
export function maskBatch(
  inputIds: Int32Array, inputMask: Int32Array, batch: number, seqLen: number,
  opts: MaskingOptions, rng: Rng, out: MaskedBatch, candidates: Int32Array = new Int32Array(seqLen),
): void {
  if (batch > out.maxBatch || seqLen > out.maxSeqLen) throw new Error('maskBatch: batch larger than the MaskedBatch');
  if (opts.maxPredictionsPerSeq > out.maxPredictionsPerSeq) throw new Error('maskBatch: maxPredictionsPerSeq larger than the MaskedBatch');
  const { cls, sep, mask } = opts.special;
  const T = batch * seqLen;
  out.maskedIds.set(inputIds.subarray(0, T));
  let count = 0;
  for (let b = 0; b < batch; b++) {
    const base = b * seqLen;
    let numTokens = 0;
    let nc = 0;
    for (let p = 0; p < seqLen; p++) {
      out.candidates[base + p] = 0;
      if (!inputMask[base + p]) continue;
      numTokens++;
      const id = inputIds[base + p]!;
      if (id !== cls && id !== sep && id !== mask) {
        candidates[nc++] = p;
        out.candidates[base + p] = 1;
      }
    }
    if (nc === 0) continue;
    const k = numToPredict(numTokens, opts.maskProb, opts.maxPredictionsPerSeq);
    for (let j = 0; j < k; j++) {
      const p = candidates[rng.int(nc)]!;
      out.positions[count] = base + p;
      out.labels[count] = inputIds[base + p]!;
      count++;
      if (rng.uniform() < 0.85 && p !== 0) out.maskedIds[base + p] = mask;
    }
  }
  out.count = count;
}

/** The reference's Gumbel noise for a uniform u in [0, 1). */
export function gumbelNoise(u: number): number {
  return -Math.log(-Math.log(u + 1e-9) + 1e-9);
}

/**
 * The largest u whose noise is certainly below t (minus a margin far above rounding error),
 * so every u <= threshold gives gumbelNoise(u) < t: inverting t = -log(-log(u + 1e-9) + 1e-9).
 */
function noiseThreshold(t: number): number {
  return Math.exp(-(Math.exp(-t) - 1e-9)) - 1e-9 - 1e-12;
}

/**
 * Gumbel-max sampling from softmax(logits / temperature) per row, with the reference's noise
 * -log(-log(u + 1e-9) + 1e-9), u uniform in [0, 1) (24 bits, like TF's float32 uniforms).
 * Row r draws its uniforms u_0, u_1, ... from a xorshift32 stream seeded by (seed, r) (see
 * gumbelUniforms), so the sample is a fixed function of (logits, seed); ties go to the lowest
 * index, as tf.argmax. Also writes each row's plain argmax (the MLM prediction) when given.
 *
 * Exact pruning: with L = max_i logit_i / T, an element can only beat the best so far when its
 * noise exceeds best - L, i.e. when its uniform exceeds a threshold; all other elements cost a
 * few integer operations instead of two logarithms (a disallowed column only lowers its value, so
 * the bound still holds). The argmax column is evaluated first, so best starts near its final
 * value. The result equals evaluating every element. With `disallow`, column
 * disallow[r] of row r gets -1000 added after the temperature (pretrain_helpers.sample_from_softmax).
 * With kernels `k`, their gumbelCandidates pre-pass (native: all threads) does the argmax and the
 * integer scan, also pruning by each column's own bound (its noise must exceed best - logit_i / T,
 * which leaves a peaked row a few candidates), and this loop runs over its candidates only: the
 * same samples, bit for bit.
 */
/** The uniforms row `row` of sampleGumbelMax draws under `seed` (for tests and reference implementations). */
export function gumbelUniforms(seed: number, row: number, cols: number): Float64Array {
  const out = new Float64Array(cols);
  let state = gumbelRowState(seedKey(seed), row);
  for (let i = 0; i < cols; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = (state >>> 8) * 5.9604644775390625e-8;
  }
  return out;
}

function gumbelRowState(key: number, row: number): number {
  return mix32((key ^ Math.imul(row + 1, 0x9e3779b1)) >>> 0) | 1;
}

export function sampleGumbelMax(
  logits: Float32Array, rows: number, cols: number, temperature: number, seed: number,
  samples: Int32Array, argmax: Int32Array | null = null, rowOffset = 0, disallow: Int32Array | null = null,
  k: Pick<Kernels, 'gumbelCandidates'> | null = null,
): void {
  const key = seedKey(seed);
  const invT = 1 / temperature;
  // With kernels: their pre-pass lists each row's argmax and every column this loop would
  // evaluate, and the loop below runs over those only (the same samples: V8's logs decide).
  const pre = k ? gumbelPrePass(k, logits, rows, cols, invT, seed, rowOffset, disallow) : null;
  for (let r = 0; r < rows; r++) {
    if (pre && pre.counts[r]! >= 0) {
      const topIndex = pre.argmax[r]!;
      if (argmax) argmax[r] = topIndex;
      samples[r] = sampleCandidates(logits, r, cols, invT, topIndex, pre, disallow);
      continue;
    }
    const base = r * cols;
    let top = -Infinity;
    let topIndex = 0;
    for (let i = 0; i < cols; i++) {
      const x = logits[base + i]!;
      if (x > top) {
        top = x;
        topIndex = i;
      }
    }
    if (argmax) argmax[r] = topIndex;
    const maxScaled = top * invT;
    // Row r of a slice that starts at rowOffset draws what row rowOffset + r of the whole would.
    const rowState = gumbelRowState(key, r + rowOffset);
    // disallow_correct: the reference subtracts 1000 from the scaled logit of the original token.
    const value = (i: number, u: number): number =>
      (disallow && disallow[r] === i ? logits[base + i]! * invT - 1000 : logits[base + i]! * invT) + gumbelNoise(u);
    // The argmax column first: its value is near the row's best, so the threshold prunes from the
    // start (from -Infinity, a peaked row evaluates every column up to its peak). The first index
    // wins a tie, as in a plain loop in order.
    let state = rowState;
    for (let i = 0; i <= topIndex; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
    }
    let best = value(topIndex, (state >>> 8) * 5.9604644775390625e-8);
    let bestIndex = topIndex;
    let threshold = best > -Infinity ? noiseThreshold(best - maxScaled) : -1;
    if (!(best > -Infinity)) {
      best = -Infinity;
      bestIndex = 0;
    }
    state = rowState;
    for (let i = 0; i < cols; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      const u = (state >>> 8) * 5.9604644775390625e-8;
      if (u <= threshold) continue;
      const v = value(i, u);
      if (v > best || (v === best && i < bestIndex)) {
        best = v;
        bestIndex = i;
        threshold = noiseThreshold(best - maxScaled);
      }
    }
    samples[r] = bestIndex;
  }
}

/** Candidates per row that the pre-pass keeps (the argmax column, then ~log(cols) others; more runs the whole row). */
const GUMBEL_CAPACITY = 256;

interface GumbelPrePass {
  argmax: Int32Array;
  counts: Int32Array;
  columns: Int32Array;
  numerators: Int32Array;
}

let gumbelScratch: GumbelPrePass | null = null;

function gumbelPrePass(
  k: Pick<Kernels, 'gumbelCandidates'>, logits: Float32Array, rows: number, cols: number, invT: number, seed: number,
  rowOffset: number, disallow: Int32Array | null,
): GumbelPrePass {
  if (!gumbelScratch || gumbelScratch.counts.length < rows) {
    gumbelScratch = {
      argmax: new Int32Array(rows), counts: new Int32Array(rows),
      columns: new Int32Array(rows * GUMBEL_CAPACITY), numerators: new Int32Array(rows * GUMBEL_CAPACITY),
    };
  }
  const s = gumbelScratch;
  k.gumbelCandidates(logits, rows, cols, invT, seed, rowOffset, disallow, s.argmax, s.counts, s.columns, s.numerators, GUMBEL_CAPACITY);
  return s;
}

/** sampleGumbelMax's loop for row r over the pre-pass's candidates (the columns it would not skip). */
function sampleCandidates(
  logits: Float32Array, r: number, cols: number, invT: number, topIndex: number, pre: GumbelPrePass, disallow: Int32Array | null,
): number {
  const base = r * cols;
  const top = logits[base + topIndex]!;
  const maxScaled = (top > -Infinity ? top : -Infinity) * invT; // the exact loop's top: -Infinity when nothing exceeds it
  let bestIndex = 0;
  let best = -Infinity;
  let threshold = -1;
  // The argmax column comes first, then the others in order: the first index wins a tie.
  for (let j = r * GUMBEL_CAPACITY, end = j + pre.counts[r]!; j < end; j++) {
    const u = pre.numerators[j]! * 5.9604644775390625e-8;
    if (u <= threshold) continue;
    const i = pre.columns[j]!;
    const v = (disallow && disallow[r] === i ? logits[base + i]! * invT - 1000 : logits[base + i]! * invT) + gumbelNoise(u);
    if (v > best || (v === best && i < bestIndex)) {
      best = v;
      bestIndex = i;
      threshold = noiseThreshold(best - maxScaled);
    }
  }
  return bestIndex;
}

/** Scratch for corruptInputs: per-token sums and counts of the written samples. */
export class CorruptionScratch {
  readonly sums: Int32Array;
  readonly counts: Int32Array;
  constructor(maxTokens: number) {
    this.sums = new Int32Array(maxTokens);
    this.counts = new Int32Array(maxTokens);
  }
}

/**
 * The discriminator's input (run_pretraining._get_fake_data): the original ids with each
 * prediction's sampled token written at its position, and labels 1 where the written token
 * differs from the original. Written exactly as the reference's scatter_update: position 0 of a
 * sequence is never written, and a position predicted several times receives
 * floor(sum of its samples / count) (tf.scatter_nd adds duplicates, then integer-divides).
 * With `labelWritten` (Electric) the label is 1 at every written position, even where the sample
 * equals the original (scatter_update's update mask).
 */
export function corruptInputs(
  originalIds: Int32Array, batch: number, seqLen: number, positions: Int32Array, samples: Int32Array, count: number,
  outIds: Int32Array, outLabels: Float32Array, scratch: CorruptionScratch, labelWritten = false,
): void {
  const T = batch * seqLen;
  outIds.set(originalIds.subarray(0, T));
  outLabels.fill(0, 0, T);
  const { sums, counts } = scratch;
  for (let r = 0; r < count; r++) {
    const p = positions[r]!;
    if (p % seqLen === 0) continue;
    sums[p]! += samples[r]!;
    counts[p]!++;
  }
  for (let r = 0; r < count; r++) {
    const p = positions[r]!;
    const c = counts[p]!;
    if (c === 0) continue;
    const written = Math.floor(sums[p]! / c);
    outIds[p] = written;
    outLabels[p] = labelWritten || written !== originalIds[p] ? 1 : 0;
    sums[p] = 0;
    counts[p] = 0;
  }
}
