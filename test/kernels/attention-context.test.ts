// attentionContext (inference self-attention with the scores kept per (sequence, head)): on
// each backend the same bits as gemmBatched (Q K^T), softmax and gemmBatched (P V); the JS
// twin against float64 attention written out here; native against JS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backends, randomArray } from '../helpers.js';
import { jsKernels, nativeKernels, type AttentionContextArgs, type Kernels } from '../../src/kernels/index.js';

interface Shape { batch: number; heads: number; seqLen: number; headDim: number; masked: boolean }

// batch * heads = 24: whole products per task on any thread count up to 24 (gemmBatched's split).
const shapes: Shape[] = [
  { batch: 6, heads: 4, seqLen: 37, headDim: 20, masked: true },
  { batch: 2, heads: 12, seqLen: 64, headDim: 16, masked: false },
  { batch: 3, heads: 8, seqLen: 5, headDim: 3, masked: true },
];

function makeArgs(s: Shape, seed: number): AttentionContextArgs {
  const H = s.heads * s.headDim;
  const mask = s.masked ? new Float32Array(s.batch * s.seqLen) : null;
  // Padding at the end of every other sequence.
  if (mask) for (let b = 0; b < s.batch; b += 2) mask.fill(-10000, b * s.seqLen + Math.ceil(s.seqLen / 2), (b + 1) * s.seqLen);
  return {
    batch: s.batch, heads: s.heads, seqLen: s.seqLen, headDim: s.headDim,
    qkv: randomArray(s.batch * s.seqLen * 3 * H, seed, 3), context: randomArray(s.batch * s.seqLen * H, seed + 1),
    scale: 1 / Math.sqrt(s.headDim), mask,
  };
}

/** The three separate kernels attentionContext stands for. */
function separate(k: Kernels, a: AttentionContextArgs): Float32Array {
  const { batch, heads: nh, seqLen: S, headDim: dh } = a;
  const H = nh * dh;
  const W = 3 * H;
  const probs = new Float32Array(batch * nh * S * S);
  const context = new Float32Array(batch * S * H);
  k.gemmBatched({
    batchOuter: batch, batchInner: nh, transA: false, transB: true, m: S, n: S, k: dh, alpha: 1, beta: 0,
    a: a.qkv, lda: W, strideAOuter: S * W, strideAInner: dh, b: a.qkv, bOffset: H, ldb: W, strideBOuter: S * W, strideBInner: dh,
    c: probs, ldc: S, strideCOuter: nh * S * S, strideCInner: S * S,
  });
  k.softmax(probs, probs, batch * nh * S, S, a.scale, a.mask, nh * S);
  k.gemmBatched({
    batchOuter: batch, batchInner: nh, transA: false, transB: false, m: S, n: dh, k: S, alpha: 1, beta: 0,
    a: probs, lda: S, strideAOuter: nh * S * S, strideAInner: S * S, b: a.qkv, bOffset: 2 * H, ldb: W, strideBOuter: S * W, strideBInner: dh,
    c: context, ldc: H, strideCOuter: S * H, strideCInner: dh,
  });
  return context;
}

/** Float64 attention from the definition. */
function reference(a: AttentionContextArgs): Float64Array {
  const { batch, heads: nh, seqLen: S, headDim: dh, qkv } = a;
  const H = nh * dh;
  const W = 3 * H;
  const out = new Float64Array(batch * S * H);
  const p = new Float64Array(S);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < nh; h++) {
      for (let i = 0; i < S; i++) {
        const q = (b * S + i) * W + h * dh;
        let max = -Infinity;
        for (let j = 0; j < S; j++) {
          const key = (b * S + j) * W + H + h * dh;
          let dot = 0;
          for (let d = 0; d < dh; d++) dot += qkv[q + d]! * qkv[key + d]!;
          p[j] = a.scale * dot + (a.mask ? a.mask[b * S + j]! : 0);
          max = Math.max(max, p[j]!);
        }
        let sum = 0;
        for (let j = 0; j < S; j++) sum += (p[j] = Math.exp(p[j]! - max));
        for (let d = 0; d < dh; d++) {
          let acc = 0;
          for (let j = 0; j < S; j++) acc += p[j]! * qkv[(b * S + j) * W + 2 * H + h * dh + d]!;
          out[(b * S + i) * H + h * dh + d] = acc / sum;
        }
      }
    }
  }
  return out;
}

function maxAbsDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
  return worst;
}

test('attentionContext equals gemmBatched + softmax + gemmBatched of the same backend, bit for bit', () => {
  for (const k of backends()) {
    for (const [i, s] of shapes.entries()) {
      const args = makeArgs(s, 10 + i);
      k.attentionContext(args);
      assert.deepEqual(args.context, separate(k, args), `${k.name}: shape ${JSON.stringify(s)}`);
    }
  }
});

test('js attentionContext is float64 attention to fp32 rounding, and native agrees with it', () => {
  const native = nativeKernels();
  for (const [i, s] of shapes.entries()) {
    const args = makeArgs(s, 20 + i);
    const ref = reference(args);
    jsKernels.attentionContext(args);
    const js = Float32Array.from(args.context);
    assert.ok(maxAbsDiff(js, ref) < 2e-5, `js vs float64: ${maxAbsDiff(js, ref)} (${JSON.stringify(s)})`);
    if (native) {
      args.context.fill(NaN);
      native.attentionContext(args);
      assert.ok(maxAbsDiff(args.context, js) < 2e-5, `native vs js: ${maxAbsDiff(args.context, js)} (${JSON.stringify(s)})`);
    }
  }
});

test('attentionContext rejects arrays too small for its shape, on every backend', () => {
  for (const k of backends()) {
    const args = makeArgs(shapes[0]!, 1);
    assert.throws(() => k.attentionContext({ ...args, qkv: args.qkv.subarray(1) }), /attentionContext: qkv has \d+ floats/);
    assert.throws(() => k.attentionContext({ ...args, context: args.context.subarray(1) }), /attentionContext: context has/);
    assert.throws(() => k.attentionContext({ ...args, mask: new Float32Array(3) }), /attentionContext: mask has 3 floats/);
    assert.throws(() => k.attentionContext({ ...args, scale: NaN }), /attentionContext: scale must be a finite number/);
  }
});
