// Benchmark helpers: repeated timing with warm-up, medians, a plain table, the fp32 peak.
import { measurePeakGflops } from '../src/kernels/peak.js';
export interface Timing {
  medianMs: number;
  minMs: number;
  runs: number;
}

/** Times fn: warm-up calls, then at least minRuns runs and about minTimeMs in all. */
export function timeIt(fn: () => void, opts: { warmup?: number; minRuns?: number; minTimeMs?: number } = {}): Timing {
  const warmup = opts.warmup ?? 2;
  const minRuns = opts.minRuns ?? 5;
  const minTime = opts.minTimeMs ?? 300;
  for (let i = 0; i < warmup; i++) fn();
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < minRuns || performance.now() - start < minTime) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
    if (samples.length >= 1000) break;
  }
  samples.sort((a, b) => a - b);
  return { medianMs: samples[samples.length >> 1]!, minMs: samples[0]!, runs: samples.length };
}

/** Renders rows of equal keys as an aligned text table. */
export function table(rows: Record<string, string | number>[]): string {
  if (rows.length === 0) return '';
  const keys = Object.keys(rows[0]!);
  const cells = rows.map((r) => keys.map((k) => fmt(r[k])));
  const widths = keys.map((k, i) => Math.max(k.length, ...cells.map((c) => c[i]!.length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padStart(widths[i]!)).join('  ');
  return [line(keys), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

function fmt(v: string | number | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3);
}

/**
 * The machine's fp32 peak as the best of a few short measurements: on a shared machine one can
 * land on a busy moment, and a low peak would flatter an MFU. Benches call it before and after
 * their timed work and divide by the larger.
 */
export function bestPeakGflops(previous = 0, tries = 3): number {
  let best = previous;
  for (let i = 0; i < tries; i++) best = Math.max(best, measurePeakGflops(0.5).gflops);
  return best;
}

/** Runs `first` and `second` alternately `steps` times after one warm-up each (both see the same
 * machine load): the median seconds of each. */
export function timeAlternately(steps: number, first: () => void, second: () => void): [number, number] {
  first();
  second();
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < steps; i++) {
    let t0 = performance.now();
    first();
    a.push((performance.now() - t0) / 1000);
    t0 = performance.now();
    second();
    b.push((performance.now() - t0) / 1000);
  }
  const median = (v: number[]): number => [...v].sort((x, y) => x - y)[v.length >> 1]!;
  return [median(a), median(b)];
}
