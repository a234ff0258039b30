// GEMM throughput against the machine's measured fp32 peak (FMA loop on all
// threads, measured in the same run before and after; the higher is used, so
// a noisy machine cannot flatter the percentages). Shapes: the dense layers of
// an ELECTRA-small-sized model with 4096 tokens (S1-S3), the two backward
// products of S1, and attention per (sequence, head) through gemmBatched on
// [batch, seq, heads, headDim] tensors. Arrays start on a cache line, as the
// library allocates its tensors (allocFloats).
import { allocFloats } from '../src/nn/tensor.js';
import { nativeKernels, nativeLoadError } from '../src/kernels/index.js';
import type { BatchedGemmArgs, GemmArgs, Kernels } from '../src/kernels/types.js';
import { measurePeakGflops } from '../src/kernels/peak.js';
import { table, timeIt } from './util.js';

interface Case {
  key: string;
  kernel: string;
  shape: string;
  flops: number;
  run: () => void;
}

export function filled(n: number, seed: number): Float32Array {
  const out = allocFloats(n, 'float32');
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

function dense(
  kernels: Kernels, key: string, kernel: string, shape: string,
  transA: boolean, transB: boolean, m: number, n: number, k: number,
): Case {
  const args: GemmArgs = {
    transA, transB, m, n, k, alpha: 1, beta: 0,
    a: filled(m * k, 1), lda: transA ? m : k,
    b: filled(k * n, 2), ldb: transB ? k : n,
    c: allocFloats(m * n, 'float32'), ldc: n,
  };
  return { key, kernel, shape, flops: 2 * m * n * k, run: () => kernels.gemm(args) };
}

function attention(kernels: Kernels): Case[] {
  // 16 sequences x 4 heads = 64 products, hidden 256 as in ELECTRA-small.
  const batch = 16;
  const heads = 4;
  const seq = 128;
  const headDim = 64;
  const hidden = heads * headDim;
  const q = filled(batch * seq * hidden, 3);
  const kv = filled(batch * seq * hidden, 4);
  const probs = filled(batch * heads * seq * seq, 5);
  const scores = allocFloats(batch * heads * seq * seq, 'float32');
  const ctx = allocFloats(batch * seq * hidden, 'float32');
  const perToken = { strideAOuter: seq * hidden, strideAInner: headDim };
  const qk: BatchedGemmArgs = {
    transA: false, transB: true, m: seq, n: seq, k: headDim, alpha: 0.125, beta: 0,
    a: q, lda: hidden, b: kv, ldb: hidden, c: scores, ldc: seq,
    batchOuter: batch, batchInner: heads, ...perToken,
    strideBOuter: seq * hidden, strideBInner: headDim, strideCOuter: heads * seq * seq, strideCInner: seq * seq,
  };
  const pv: BatchedGemmArgs = {
    transA: false, transB: false, m: seq, n: headDim, k: seq, alpha: 1, beta: 0,
    a: probs, lda: seq, b: kv, ldb: hidden, c: ctx, ldc: hidden,
    batchOuter: batch, batchInner: heads,
    strideAOuter: heads * seq * seq, strideAInner: seq * seq,
    strideBOuter: seq * hidden, strideBInner: headDim, strideCOuter: seq * hidden, strideCInner: headDim,
  };
  const entries = batch * heads;
  return [
    { key: 'attn_qk', kernel: 'gemmBatched Q K^T', shape: `${entries} x [${seq}x${headDim}]x[${headDim}x${seq}]`,
      flops: entries * 2 * seq * seq * headDim, run: () => kernels.gemmBatched(qk) },
    { key: 'attn_pv', kernel: 'gemmBatched P V', shape: `${entries} x [${seq}x${seq}]x[${seq}x${headDim}]`,
      flops: entries * 2 * seq * seq * headDim, run: () => kernels.gemmBatched(pv) },
  ];
}

export async function benchGemm(): Promise<Record<string, number | string>> {
  const kernels = nativeKernels();
  if (!kernels) throw new Error(`the GEMM benchmark needs the native addon: ${nativeLoadError()}`);
  const cases: Case[] = [
    dense(kernels, 's1', 'gemm NN (S1)', '[4096x256]x[256x1024]', false, false, 4096, 1024, 256),
    dense(kernels, 's2', 'gemm NN (S2)', '[4096x1024]x[1024x256]', false, false, 4096, 256, 1024),
    dense(kernels, 's3', 'gemm NN (S3)', '[4096x256]x[256x256]', false, false, 4096, 256, 256),
    dense(kernels, 's1_dw', 'gemm TN (S1 dW)', '[4096x256]^T x [4096x1024]', true, false, 256, 1024, 4096),
    dense(kernels, 's1_dx', 'gemm NT (S1 dX)', '[4096x1024]x[256x1024]^T', false, true, 4096, 256, 1024),
    ...attention(kernels),
  ];

  const peakBefore = measurePeakGflops(1);
  const timings = cases.map((c) => ({ c, t: timeIt(c.run, { warmup: 3, minRuns: 10, minTimeMs: 600 }) }));
  const peakAfter = measurePeakGflops(1);
  const peak = Math.max(peakBefore.gflops, peakAfter.gflops);

  const rows: Record<string, string | number>[] = [];
  const figures: Record<string, number | string> = {
    gemm_isa: peakBefore.isa,
    gemm_threads: peakBefore.threads,
    peak_gflops: round(peak, 1),
  };
  for (const { c, t } of timings) {
    const gflops = c.flops / (t.medianMs * 1e6);
    const best = c.flops / (t.minMs * 1e6);
    rows.push({
      kernel: c.kernel, shape: c.shape, ms: t.medianMs, 'GFLOP/s': gflops,
      '% peak': (100 * gflops) / peak, 'best GFLOP/s': best, runs: t.runs,
    });
    figures[`gemm_${c.key}_gflops`] = round(gflops, 1);
    figures[`gemm_${c.key}_pct_peak`] = round((100 * gflops) / peak, 1);
  }
  console.log(`GEMM, native ${peakBefore.isa}, ${peakBefore.threads} threads; fp32 peak ${peak.toFixed(1)} GFLOP/s ` +
    `(FMA loop, before ${peakBefore.gflops.toFixed(1)} / after ${peakAfter.gflops.toFixed(1)}); medians after warm-up`);
  console.log(table(rows));
  Object.assign(figures, narrowShapes(kernels, peak));
  return figures;
}

// Narrow products of the pre-training step (generator hidden 64, the
// discriminator's one-logit head and its weight gradient): % of peak where
// they compute, and GB/s of operands read for the matrix-vector ones, which
// are memory-bound.
function narrowShapes(kernels: Kernels, peak: number): Record<string, number> {
  const cases = [
    dense(kernels, 'gen_ffn', 'gemm NT (generator)', '[4096x64]x[256x64]^T', false, true, 4096, 256, 64),
    dense(kernels, 'gen_dw', 'gemm TN (generator dW)', '[4096x64]^T x [4096x256]', true, false, 64, 256, 4096),
    dense(kernels, 'head', 'gemm NN (head)', '[4096x256]x[256x1]', false, false, 4096, 1, 256),
    dense(kernels, 'head_dw', 'gemm TN (head dW)', '[4096x256]^T x [4096x1]', true, false, 256, 1, 4096),
  ];
  const rows: Record<string, string | number>[] = [];
  const figures: Record<string, number> = {};
  for (const c of cases) {
    const t = timeIt(c.run, { warmup: 3, minRuns: 10, minTimeMs: 300 });
    const gflops = c.flops / (t.medianMs * 1e6);
    // A matrix-vector product reads one float of the matrix per multiply-add: flops / 2 * 4 bytes.
    const gbps = (c.flops * 2) / (t.medianMs * 1e6);
    const vector = c.key.startsWith('head');
    rows.push({ kernel: c.kernel, shape: c.shape, ms: t.medianMs, 'GFLOP/s': gflops, '% peak': (100 * gflops) / peak,
      'GB/s read': vector ? gbps : '', runs: t.runs });
    figures[`gemm_${c.key}_gflops`] = round(gflops, 1);
  }
  console.log('narrow GEMM shapes (matrix-vector ones are memory-bound: see GB/s read)');
  console.log(table(rows));
  return figures;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
