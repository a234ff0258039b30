// bf16 GEMM against the machine's bf16 peak (the VDPBF16PS loop on all
// threads, or its FMA emulation, measured right before and after each case;
// the higher is used) on the dense shapes of bench/gemm.ts. Products with a
// weight operand use it pre-packed, as training does (packed once per update);
// the others pack B per call. Speedups are against the fp32 figures of the
// same run.
import { allocFloats } from '../src/nn/tensor.js';
import type { Kernels } from '../src/kernels/types.js';
import { loadAddon } from '../src/kernels/native/addon.js';
import { bf16Addon } from '../src/kernels/native/gemm-bf16.js';
import { filled } from './gemm.js';
import { table, timeIt } from './util.js';

interface Bf16Case {
  key: string;
  kernel: string;
  shape: string;
  flops: number;
  run: () => void;
}

function dense(
  kernels: Kernels, key: string, kernel: string, shape: string,
  transA: boolean, transB: boolean, m: number, n: number, k: number, prepacked: boolean,
): Bf16Case {
  const a = filled(m * k, 1);
  const b = filled(k * n, 2);
  const c = allocFloats(m * n, 'float32');
  const lda = transA ? m : k;
  const ldb = transB ? k : n;
  const flops = 2 * m * n * k;
  if (!prepacked) {
    return { key, kernel, shape, flops,
      run: () => kernels.gemmBf16({ transA, transB, m, n, k, alpha: 1, beta: 0, a, lda, b, ldb, c, ldc: n }) };
  }
  const packed = kernels.packBf16(b, transB, k, n, ldb);
  return { key, kernel: `${kernel}, B pre-packed`, shape, flops,
    run: () => kernels.gemmBf16Packed({ transA, m, n, k, alpha: 1, beta: 0, a, lda, b: packed, c, ldc: n }) };
}

export function benchGemmBf16(kernels: Kernels, fp32: Record<string, number | string>): Record<string, number | string> {
  const addon = bf16Addon(loadAddon().addon!);
  const cases = [
    dense(kernels, 's1', 'bf16 NT (S1 fwd)', '[4096x256]x[1024x256]^T', false, true, 4096, 1024, 256, true),
    dense(kernels, 's2', 'bf16 NT (S2 fwd)', '[4096x1024]x[256x1024]^T', false, true, 4096, 256, 1024, true),
    dense(kernels, 's3', 'bf16 NT (S3 fwd)', '[4096x256]x[256x256]^T', false, true, 4096, 256, 256, true),
    dense(kernels, 's1_dx', 'bf16 NN (S1 dX)', '[4096x1024]x[1024x256]', false, false, 4096, 256, 1024, true),
    dense(kernels, 's1_dw', 'bf16 TN (S1 dW)', '[4096x256]^T x [4096x1024]', true, false, 256, 1024, 4096, false),
  ];
  // Each case against the peak measured right before and after it: on a machine shared with
  // other work the free share of the cores changes within a run.
  const before = addon.bf16PeakGflops(1);
  let last = before.gflops;
  const timings = cases.map((c) => {
    const previous = last;
    const t = timeIt(c.run, { warmup: 3, minRuns: 10, minTimeMs: 600 });
    last = addon.bf16PeakGflops(0.5).gflops;
    return { c, t, peak: Math.max(previous, last) };
  });
  const after = { gflops: last };
  const peak = Math.max(before.gflops, ...timings.map((x) => x.peak));
  const fp32Peak = Number(fp32.peak_gflops);
  const figures: Record<string, number | string> = {
    bf16_kernel: before.isa,
    bf16_peak_gflops: round(peak, 1),
    bf16_peak_over_fp32_peak: round(peak / fp32Peak, 2),
  };
  const rows: Record<string, string | number>[] = [];
  for (const { c, t, peak } of timings) {
    const gflops = c.flops / (t.medianMs * 1e6);
    // The fp32 figure of the same shape (S1 dX and the forward shapes are fp32's NN/NT rows).
    const fp32Gflops = Number(fp32[`gemm_${c.key}_gflops`] ?? NaN);
    rows.push({ kernel: c.kernel, shape: c.shape, ms: t.medianMs, 'GFLOP/s': gflops, '% bf16 peak': (100 * gflops) / peak,
      'x fp32': gflops / fp32Gflops, runs: t.runs });
    figures[`bf16_${c.key}_gflops`] = round(gflops, 1);
    figures[`bf16_${c.key}_pct_bf16_peak`] = round((100 * gflops) / peak, 1);
    figures[`bf16_${c.key}_over_fp32`] = round(gflops / fp32Gflops, 2);
  }
  console.log(`bf16 GEMM, ${before.isa}, ${before.threads} threads; bf16 peak ${peak.toFixed(1)} GFLOP/s ` +
    `(dot-product loop, first ${before.gflops.toFixed(1)} / last ${after.gflops.toFixed(1)}; each row against the higher of the peaks ` +
    `measured right before and after it); x fp32: against the fp32 row of the same shape above`);
  console.log(table(rows));
  return figures;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
