// Elementwise kernels of the native backend at [4096 x 1024] float32, in GB/s of
// bytes read + written, against a plain multi-threaded copy measured in the same
// run (the memory-bandwidth ceiling these streaming kernels can approach).
// Every timed call starts with a cold cache: a 16 MB array pair fits a large L3
// while three arrays do not, so warm timings would compare cache with DRAM.
// Counted bytes leave out write-allocate reads: kernels writing a separate output
// pay them, glibc's copy (rep movsb) largely does not, in-place kernels need none.
// Arrays start on a cache line, as the library allocates its tensors (allocFloats);
// `--unaligned` keeps V8's own placement (16 bytes past a line) for comparison.
import { loadavg } from 'node:os';
import { nativeKernels, nativeLoadError } from '../src/kernels/index.js';
import { loadAddon } from '../src/kernels/native/addon.js';
import { elementwiseAddon } from '../src/kernels/native/elementwise.js';
import { allocFloats } from '../src/nn/tensor.js';
import { randomArray as plainRandomArray } from '../test/helpers.js';
import { table } from './util.js';

const ROWS = 4096;
const COLS = 1024;
const VOCAB = 8192; // embedding table rows
const ROWS_PER_MASK = 64; // attention-like: one mask row per group of rows
const FLUSH_FLOATS = 24 << 20; // 96 MB read between timed calls
const WARMUP = 3;
const UNALIGNED = process.argv.includes('--unaligned');

/** A Float32Array of n elements placed as the library places its tensors (or as V8 does, with --unaligned). */
function floats(n: number): Float32Array {
  return UNALIGNED ? new Float32Array(n) : allocFloats(n, 'float32');
}
function randomArray(n: number, seed: number, scale?: number): Float32Array {
  const out = floats(n);
  out.set(plainRandomArray(n, seed, scale));
  return out;
}
const RUNS = 15;

interface Case {
  name: string;
  /** Bytes read plus bytes written by one call. */
  bytes: number;
  run: () => void;
}

export async function benchElementwise(): Promise<Record<string, number | string>> {
  const k = nativeKernels();
  const base = loadAddon().addon;
  if (!k || !base) throw new Error(`the elementwise benchmark needs the native addon: ${nativeLoadError()}`);
  const addon = elementwiseAddon(base);
  const info = addon.info();
  const loadAtStart = loadavg()[0]!;

  const n = ROWS * COLS;
  const F = 4; // bytes per float
  const x = randomArray(n, 1, 3);
  const y = floats(n);
  const dy = randomArray(n, 2);
  const dx = floats(n);
  const other = randomArray(n, 3);
  const bias = randomArray(COLS, 4);
  const gamma = randomArray(COLS, 5);
  const beta = randomArray(COLS, 6);
  const dgamma = floats(COLS);
  const dbeta = floats(COLS);
  const mean = floats(ROWS);
  const rstd = floats(ROWS);
  const mask = floats((ROWS / ROWS_PER_MASK) * COLS);
  mask.forEach((_, i) => { mask[i] = i % 7 === 0 ? -10000 : 0; });
  const probs = floats(n);
  k.softmax(x, probs, ROWS, COLS, 0.125, mask, ROWS_PER_MASK);
  const labels = Int32Array.from({ length: ROWS }, (_, r) => (r * 7919) % COLS);
  const sigmoidTargets = floats(n);
  sigmoidTargets.forEach((_, i) => { sigmoidTargets[i] = i & 1; });
  const embTable = randomArray(VOCAB * COLS, 7);
  const ids = Int32Array.from({ length: ROWS }, (_, i) => (i * 2654435761) % VOCAB);
  const params = randomArray(n, 8);
  const m = floats(n);
  const v = floats(n);
  const decayMask = new Uint8Array(n).map((_, i) => (i % COLS < 16 ? 0 : 1));
  const grads = randomArray(n, 9, 1e-2);
  let clipTo = Math.sqrt(k.sumSquares(grads, n)) * 0.999;
  const copyDst = floats(n);

  const copy: Case = { name: 'copy', bytes: 2 * n * F, run: () => addon.copy(x, copyDst, n) };
  const cases: Case[] = [
    { name: 'biasAdd', bytes: 2 * n * F, run: () => k.biasAdd(x, bias, y, ROWS, COLS) },
    { name: 'biasBackward', bytes: n * F, run: () => k.biasBackward(dy, dgamma, ROWS, COLS) },
    { name: 'gelu', bytes: 2 * n * F, run: () => k.gelu(x, y, n) },
    { name: 'geluBackward', bytes: 3 * n * F, run: () => k.geluBackward(x, dy, dx, n) },
    { name: 'layerNorm', bytes: 2 * n * F, run: () => k.layerNorm(x, gamma, beta, y, mean, rstd, ROWS, COLS, 1e-12) },
    {
      name: 'layerNormBackward', bytes: 3 * n * F,
      run: () => k.layerNormBackward(dy, x, gamma, mean, rstd, dx, dgamma, dbeta, ROWS, COLS),
    },
    { name: 'softmax', bytes: 2 * n * F, run: () => k.softmax(x, y, ROWS, COLS, 0.125, mask, ROWS_PER_MASK) },
    { name: 'softmaxBackward', bytes: 3 * n * F, run: () => k.softmaxBackward(probs, dy, dx, ROWS, COLS, 0.125) },
    { name: 'dropout', bytes: 2 * n * F, run: () => k.dropout(x, y, n, 0.1, 42, 0) },
    { name: 'dropoutBackward', bytes: 2 * n * F, run: () => k.dropoutBackward(dy, dx, n, 0.1, 42, 0) },
    { name: 'add', bytes: 3 * n * F, run: () => k.add(x, other, y, n) },
    { name: 'axpy', bytes: 3 * n * F, run: () => k.axpy(1e-3, x, y, n) },
    { name: 'scale', bytes: 2 * n * F, run: () => k.scale(y, 0.999, n) },
    { name: 'embeddingGather', bytes: 2 * n * F + ROWS * 4, run: () => k.embeddingGather(embTable, ids, y, ROWS, COLS) },
    { name: 'embeddingScatterAdd', bytes: 3 * n * F + ROWS * 4, run: () => k.embeddingScatterAdd(dy, ids, embTable, ROWS, COLS) },
    {
      name: 'softmaxCrossEntropy', bytes: 2 * n * F + ROWS * 4,
      run: () => { k.softmaxCrossEntropy(x, labels, null, y, ROWS, COLS, 1 / ROWS); },
    },
    {
      name: 'sigmoidCrossEntropy', bytes: 3 * n * F,
      run: () => { k.sigmoidCrossEntropy(x, sigmoidTargets, null, y, n, 1 / n); },
    },
    {
      name: 'adamw', bytes: 7 * n * F + n,
      run: () => k.adamw(params, grads, m, v, n,
        { lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-6, weightDecay: 0.01, biasCorrection: false, step: 1, decayMask }),
    },
    { name: 'sumSquares', bytes: n * F, run: () => { k.sumSquares(x, n); } },
    {
      // Clips on every call (maxNorm just under the current norm): read for the norm, then read + write.
      name: 'clipByGlobalNorm', bytes: 3 * n * F,
      run: () => { clipTo = k.clipByGlobalNorm(grads, n, clipTo) * 0.999; },
    },
  ];

  const flushBuffer = floats(FLUSH_FLOATS).fill(1);
  const flush = () => k.sumSquares(flushBuffer, FLUSH_FLOATS);
  const coldMs = (run: () => void): number => {
    flush();
    const t0 = performance.now();
    run();
    return performance.now() - t0;
  };
  // Each kernel sample is paired with a copy sample taken right before it, so a
  // machine shared with other work slows both alike; medians of RUNS pairs after
  // WARMUP pairs.
  const measure = (c: Case): { ms: number; copyMs: number } => {
    for (let i = 0; i < WARMUP; i++) { coldMs(copy.run); coldMs(c.run); }
    const copySamples: number[] = [];
    const samples: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      copySamples.push(coldMs(copy.run));
      samples.push(coldMs(c.run));
    }
    return { ms: median(samples), copyMs: median(copySamples) };
  };
  const timings = cases.map(measure);
  const allCopyMs = median(timings.map((t) => t.copyMs));
  const copyGBps = copy.bytes / allCopyMs / 1e6;

  const rows: Record<string, string | number>[] = [
    { kernel: 'copy (baseline)', ms: allCopyMs, 'GB/s': copyGBps, 'copy GB/s': copyGBps, 'of copy': 1 },
  ];
  const result: Record<string, number | string> = {
    'elementwise.isa': info.isa,
    'elementwise.threads': info.threads,
    'elementwise.shape': `${ROWS}x${COLS}`,
    'elementwise.loadAverage': round(loadAtStart),
    'elementwise.copy.GBps': round(copyGBps),
  };
  let worst = Infinity;
  cases.forEach((c, i) => {
    const { ms, copyMs } = timings[i]!;
    const gbps = c.bytes / ms / 1e6;
    const pairedCopyGBps = copy.bytes / copyMs / 1e6;
    const frac = gbps / pairedCopyGBps;
    worst = Math.min(worst, frac);
    rows.push({ kernel: c.name, ms, 'GB/s': gbps, 'copy GB/s': pairedCopyGBps, 'of copy': frac });
    result[`elementwise.${c.name}.ms`] = round(ms);
    result[`elementwise.${c.name}.GBps`] = round(gbps);
    result[`elementwise.${c.name}.ofCopy`] = round(frac);
  });
  result['elementwise.minOfCopy'] = round(worst);
  console.log(`elementwise kernels, native ${info.isa}, ${info.threads} threads, [${ROWS} x ${COLS}] float32, ` +
    `median of ${RUNS} cold-cache calls, each paired with a copy; load average ${loadAtStart.toFixed(2)} at start`);
  console.log(table(rows));
  return result;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
