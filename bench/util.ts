// Benchmark helpers: repeated timing with warm-up, medians, a plain table.
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
