// int8 dynamic-quantization GEMM (quantizing A per row, int32 sums, dequantizing
// epilogue with bias) against the fp32 GEMM plus bias on the same Linear
// shapes, timed side by side in the same run, and against the int8 peak
// (VPDPBUSD loop on all threads; GOP/s, 2 per product).
import { allocFloats } from '../src/nn/tensor.js';
import { quantizeWeightsInt8, type Kernels } from '../src/kernels/index.js';
import { loadAddon } from '../src/kernels/native/addon.js';
import { int8Addon } from '../src/kernels/native/gemm-int8.js';
import { filled } from './gemm.js';
import { table, timeIt } from './util.js';

const SHAPES: [string, number, number, number][] = [
  ['small_ffn1', 4096, 1024, 256],
  ['small_ffn2', 4096, 256, 1024],
  ['small_qkv', 4096, 768, 256],
  ['base_ffn1', 4096, 3072, 768],
  ['base_ffn2', 4096, 768, 3072],
  ['base_qkv', 4096, 2304, 768],
];

export function benchGemmInt8(kernels: Kernels): Record<string, number | string> {
  const addon = int8Addon(loadAddon().addon!);
  const before = addon.int8PeakGops(1);
  const rows: Record<string, string | number>[] = [];
  const figures: Record<string, number | string> = { int8_kernel: before.isa };
  const timed = SHAPES.map(([key, m, n, k]) => {
    const a = filled(m * k, 1);
    const w = filled(n * k, 2);
    const bias = filled(n, 3);
    const c = allocFloats(m * n, 'float32');
    const q = quantizeWeightsInt8(w, n, k, k);
    const fp32 = timeIt(() => {
      kernels.gemm({ transA: false, transB: true, m, n, k, alpha: 1, beta: 0, a, lda: k, b: w, ldb: k, c, ldc: n });
      kernels.biasAdd(c, bias, c, m, n);
    }, { warmup: 2, minRuns: 5, minTimeMs: 400 });
    const int8 = timeIt(() => kernels.gemmInt8({ m, n, k, a, lda: k, b: q, bias, c, ldc: n }), { warmup: 2, minRuns: 5, minTimeMs: 400 });
    return { key, m, n, k, fp32, int8 };
  });
  const after = addon.int8PeakGops(1);
  const peak = Math.max(before.gops, after.gops);
  figures.int8_peak_gops = Math.round(peak);
  for (const { key, m, n, k, fp32, int8 } of timed) {
    const gops = (2 * m * n * k) / (int8.medianMs * 1e6);
    rows.push({ shape: `${key} [${m}x${k}]x[${n}x${k}]^T`, 'fp32 ms': fp32.medianMs, 'int8 ms': int8.medianMs,
      'x fp32': fp32.medianMs / int8.medianMs, 'GOP/s': gops, '% int8 peak': (100 * gops) / peak });
    figures[`int8_${key}_over_fp32`] = +(fp32.medianMs / int8.medianMs).toFixed(2);
    figures[`int8_${key}_pct_int8_peak`] = +((100 * gops) / peak).toFixed(1);
  }
  console.log(`int8 GEMM + bias (${before.isa}, ${before.threads} threads) against fp32 GEMM + biasAdd, same run; ` +
    `int8 peak ${peak.toFixed(0)} GOP/s (before ${before.gops.toFixed(0)} / after ${after.gops.toFixed(0)})`);
  console.log(table(rows));
  return figures;
}
