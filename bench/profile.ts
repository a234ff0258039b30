// A Kernels wrapper that times every kernel call (by kernel, and GEMMs by shape), so a
// benchmark can say where a training step spends its time.
import type { BatchedGemmArgs, GemmArgs, Kernels } from '../src/kernels/index.js';

export interface KernelStat {
  name: string;
  calls: number;
  ms: number;
  /** GEMM FLOPs (2mnk per product). */
  flops: number;
}

export class KernelProfiler {
  readonly kernels: Kernels;
  private readonly stats = new Map<string, KernelStat>();

  constructor(readonly inner: Kernels, readonly byShape = true) {
    const wrapped: Record<string, unknown> = { name: inner.name, isa: inner.isa, threads: inner.threads, precision: inner.precision };
    for (const key of Object.keys(inner) as (keyof Kernels)[]) {
      const fn = inner[key];
      if (typeof fn !== 'function') continue;
      wrapped[key] = (...args: unknown[]): unknown => {
        const t0 = performance.now();
        const result = (fn as (...a: unknown[]) => unknown).apply(inner, args);
        const ms = performance.now() - t0;
        let label: string = key;
        let flops = 0;
        if (key === 'gemm' || key === 'gemmBatched' || key === 'gemmBf16' || key === 'gemmBf16Packed') {
          const g = args[0] as GemmArgs & Partial<BatchedGemmArgs>;
          const batch = (g.batchOuter ?? 1) * (g.batchInner ?? 1);
          flops = 2 * g.m * g.n * g.k * batch;
          if (this.byShape) {
            label = `${key} ${g.transA ? 'T' : 'N'}${g.transB ? 'T' : 'N'} ${g.m}x${g.n}x${g.k}${batch > 1 ? ` x${batch}` : ''}`;
          }
        } else if (key === 'gemmInt8') {
          const g = args[0] as { m: number; n: number; k: number };
          flops = 2 * g.m * g.n * g.k;
          if (this.byShape) label = `${key} ${g.m}x${g.n}x${g.k}`;
        }
        const s = this.stats.get(label) ?? { name: label, calls: 0, ms: 0, flops: 0 };
        s.calls++;
        s.ms += ms;
        s.flops += flops;
        this.stats.set(label, s);
        return result;
      };
    }
    this.kernels = wrapped as unknown as Kernels;
  }

  reset(): void {
    this.stats.clear();
  }

  /** Stats sorted by time, largest first. */
  report(): KernelStat[] {
    return [...this.stats.values()].sort((a, b) => b.ms - a.ms);
  }
}
