// Plain-TypeScript elementwise kernels: portable fallback and float64 test oracle.
// All arithmetic runs in JS numbers (float64); results are rounded only when
// stored. Every kernel works unchanged on Float64Array (the model's gradient
// checks run a float64 copy through this backend), so nothing here rounds to
// float32 explicitly or allocates Float32Array scratch.
import { CAUSAL_MASKED_SCORE, type AdamWOptions, type CausalMode, type ElementwiseKernels } from '../types.js';
import { mix32, seedKey, uniformAt } from '../rng.js';
import { toBf16 } from './gemm-bf16.js';

type Floats = Float32Array;

// ---------------------------------------------------------------------------
// Argument checks (the native addon performs the same ones in C++).

function fail(kernel: string, message: string): never {
  throw new RangeError(`${kernel}: ${message}`);
}

function checkCount(kernel: string, name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) fail(kernel, `${name} must be a non-negative integer, got ${value}`);
}

function checkLength(kernel: string, name: string, array: ArrayLike<number>, need: number): void {
  if (array === null || typeof array !== 'object' || typeof array.length !== 'number') {
    throw new TypeError(`${kernel}: ${name} must be a typed array`);
  }
  if (array.length < need) fail(kernel, `${name} has ${array.length} elements, needs at least ${need}`);
}

function checkFinite(kernel: string, name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(kernel, `${name} must be finite, got ${value}`);
}

function checkIds(kernel: string, ids: Int32Array, count: number, tableRows: number): void {
  for (let i = 0; i < count; i++) {
    const id = ids[i]!;
    if (id < 0 || id >= tableRows) fail(kernel, `ids[${i}] = ${id} is outside [0, ${tableRows})`);
  }
}

// ---------------------------------------------------------------------------
// erf, erfc and the standard normal CDF in float64.
//
// Phi (used by GELU) is exp(-x^2/2) * N(|x|)/D(|x|) with a rational fitted by
// scripts/fit-elementwise-coefficients.py (relative error 1.7e-18 on [0, 38.5];
// all coefficients positive, so Horner's rule does not cancel): ~1e-15 relative in
// both tails. exp(-x^2/2) is evaluated from an exact split of x^2 (Dekker), so its
// error does not grow with x.
//
// erf and erfc are computed independently (they also serve as a test oracle):
// small arguments by the all-positive series sum_n t (2t^2)^n / (1*3*...*(2n+1)),
// large ones by the Laplace continued fraction of the Mills ratio. Relative error
// below ~1e-15 for erf and ~1e-14 for erfc near the switch-over.

const INV_SQRT_2PI = 0.3989422804014327;
const TWO_OVER_SQRT_PI = 1.1283791670955126;
const INV_SQRT_PI = 0.5641895835477563;

// N(a) = sum N_k a^k, D(a) = sum D_k a^k (written out: V8 keeps them as immediates).
function millsNum(a: number): number {
  return 0.5 + a * (0.8239603671695153 + a * (0.6733907748588149 + a * (0.3525245179709664 + a * (0.12967168969869317
    + a * (0.034856275526661706 + a * (0.006924038151349649 + a * (0.0010047748391805 + a * (0.00010230895499174977
    + a * (6.645237933646923e-6 + a * 2.115454039937594e-7)))))))));
}

function millsDen(a: number): number {
  return 1.0 + a * (2.4458052951418963 + a * (2.79825183344124 + a * (1.9807898437797427 + a * (0.9661491917977997
    + a * (0.34188710660793636 + a * (0.08985700887968659 + a * (0.01761137978143789 + a * (0.0025352541630858897
    + a * (0.00025698078501712517 + a * (1.665714129617012e-5 + a * 5.302656910188176e-7))))))))));
}

/** exp(-c x^2) for x >= 0 and c in {0.5, 1}, with x^2 split so that c * hi^2 is exact. */
function expNegSquare(x: number, c: number): number {
  if (x > 40) return 0;
  const s = 134217729 * x;
  const hi = s - (s - x);
  const lo = x - hi;
  const delta = c * (2 * hi * lo + lo * lo); // below 2e-5: a short series for exp(-delta) suffices
  return Math.exp(-c * hi * hi) * (1 - delta + 0.5 * delta * delta);
}

/** Phi(-a) for a >= 0. */
function normalUpperTail(a: number): number {
  if (a > 38.5) return 0; // Phi(-38.5) < 1e-323
  return (expNegSquare(a, 0.5) * millsNum(a)) / millsDen(a);
}

/** Standard normal density. */
export function normalPdf(x: number): number {
  return INV_SQRT_2PI * expNegSquare(Math.abs(x), 0.5);
}

/** Standard normal CDF Phi(x), accurate in both tails. */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const tail = normalUpperTail(Math.abs(x));
  return x < 0 ? tail : 1 - tail;
}

/** sum_{n>=0} x * x2^n / (1*3*...*(2n+1)) for x >= 0. */
function oddSeries(x: number, x2: number): number {
  let term = x;
  let sum = x;
  for (let k = 3; term > sum * 1e-17; k += 2) {
    term *= x2 / k;
    sum += term;
  }
  return sum;
}

/** 1 / (y + step / (y + 2 step / (y + 3 step / ...))) for y > 0, bottom-up; a sets the depth. */
function millsFraction(y: number, step: number, a: number): number {
  const terms = Math.ceil(20 + 600 / (a * a));
  let acc = 0;
  for (let k = terms; k >= 1; k--) acc = (k * step) / (y + acc);
  return 1 / (y + acc);
}

const ERF_SERIES_LIMIT = Math.SQRT2; // series below, continued fraction above

/** The error function. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const t = Math.abs(x);
  const v = t < ERF_SERIES_LIMIT ? TWO_OVER_SQRT_PI * expNegSquare(t, 1) * oddSeries(t, 2 * t * t) : 1 - erfcPositive(t);
  return x < 0 ? -v : v;
}

/** The complementary error function 1 - erf(x), accurate for large positive x. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 1 + erf(-x);
  return x < ERF_SERIES_LIMIT ? 1 - erf(x) : erfcPositive(x);
}

/** erfc(t) for t >= ERF_SERIES_LIMIT. */
function erfcPositive(t: number): number {
  if (t > 27) return 0;
  return INV_SQRT_PI * expNegSquare(t, 1) * millsFraction(t, 0.5, t * Math.SQRT2);
}

// ---------------------------------------------------------------------------
// The kernels.

function biasAdd(x: Floats, bias: Floats, y: Floats, rows: number, cols: number): void {
  const k = 'biasAdd';
  checkCount(k, 'rows', rows);
  checkCount(k, 'cols', cols);
  checkLength(k, 'x', x, rows * cols);
  checkLength(k, 'bias', bias, cols);
  checkLength(k, 'y', y, rows * cols);
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    for (let c = 0; c < cols; c++) y[o + c] = x[o + c]! + bias[c]!;
  }
}

function biasBackward(dy: Floats, dbias: Floats, rows: number, cols: number): void {
  const k = 'biasBackward';
  checkCount(k, 'rows', rows);
  checkCount(k, 'cols', cols);
  checkLength(k, 'dy', dy, rows * cols);
  checkLength(k, 'dbias', dbias, cols);
  for (let c = 0; c < cols; c++) {
    let sum = 0;
    for (let o = c; o < rows * cols; o += cols) sum += dy[o]!;
    dbias[c] = dbias[c]! + sum;
  }
}

function gelu(x: Floats, y: Floats, n: number): void {
  checkCount('gelu', 'n', n);
  checkLength('gelu', 'x', x, n);
  checkLength('gelu', 'y', y, n);
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    y[i] = v * normalCdf(v);
  }
}

function geluBf16(x: Floats, y: Uint16Array, n: number): void {
  checkCount('geluBf16', 'n', n);
  checkLength('geluBf16', 'x', x, n);
  checkLength('geluBf16', 'y', y, n);
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    y[i] = toBf16(v * normalCdf(v)); // toBf16 rounds to float32 first, as gelu's store would
  }
}

function biasBackwardBf16(dy: Floats, dbias: Floats, rows: number, cols: number, dyBf16: Uint16Array): void {
  biasBackward(dy, dbias, rows, cols);
  checkLength('biasBackwardBf16', 'dyBf16', dyBf16, rows * cols);
  for (let i = 0; i < rows * cols; i++) dyBf16[i] = toBf16(dy[i]!);
}

function geluBackwardBiasBf16(x: Floats, dy: Floats, dbias: Floats, rows: number, cols: number, dyBf16: Uint16Array): void {
  const k = 'geluBackwardBiasBf16';
  checkCount(k, 'rows', rows);
  checkCount(k, 'cols', cols);
  checkLength(k, 'dyBf16', dyBf16, rows * cols);
  const d = new Float32Array(rows * cols);
  geluBackward(x, dy, d, rows * cols);
  biasBackwardBf16(d, dbias, rows, cols, dyBf16);
}

function biasAddBf16(x: Floats, bias: Floats, out: Uint16Array, rows: number, cols: number): void {
  const k = 'biasAddBf16';
  checkCount(k, 'rows', rows);
  checkCount(k, 'cols', cols);
  checkLength(k, 'x', x, rows * cols);
  checkLength(k, 'bias', bias, cols);
  checkLength(k, 'out', out, rows * cols);
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    for (let c = 0; c < cols; c++) out[o + c] = toBf16(x[o + c]! + bias[c]!);
  }
}

function biasGeluBf16(x: Floats, bias: Floats, y: Floats, out: Uint16Array, rows: number, cols: number): void {
  checkLength('biasGeluBf16', 'out', out, rows * cols);
  biasAdd(x, bias, y, rows, cols);
  geluBf16(y, out, rows * cols);
}

/** Runs a kernel into float32 scratch and rounds its n outputs into out (the two-step form, by definition). */
function intoBf16(kernel: string, out: Uint16Array, n: number, write: (scratch: Float32Array) => void): void {
  checkCount(kernel, 'n', n);
  checkLength(kernel, 'out', out, n);
  const scratch = new Float32Array(n);
  write(scratch);
  for (let i = 0; i < n; i++) out[i] = toBf16(scratch[i]!);
}

function softmaxBackwardBf16(y: Floats, dy: Floats, dx: Uint16Array, rows: number, cols: number, scale: number): void {
  checkLength('softmaxBackwardBf16', 'dx', dx, rows * cols);
  intoBf16('softmaxBackwardBf16', dx, rows * cols, (s) => softmaxBackward(y, dy, s, rows, cols, scale));
}

function dropoutBf16(x: Floats, y: Uint16Array, n: number, p: number, seed: number, counterOffset: number): void {
  checkLength('dropoutBf16', 'y', y, n);
  intoBf16('dropoutBf16', y, n, (s) => applyDropout('dropoutBf16', x, s, n, p, seed, counterOffset));
}

// The uniform below which the Gumbel noise is certainly under d, at steps of 1/8 from NOISE_LO (the
// value at the step's lower end); no uniform reaches noise NOISE_HI (the largest is 16.6).
const NOISE_LO = -4;
const NOISE_HI = 17;
const NOISE_STEP = 0.125;
const NOISE_TABLE = Float64Array.from({ length: (NOISE_HI - NOISE_LO) / NOISE_STEP + 1 }, (_, k) =>
  Math.exp(-(Math.exp(-(NOISE_LO + k * NOISE_STEP)) - 1e-9)) - 1e-9 - 1e-12 - 1e-9);

function gumbelCandidates(
  logits: Floats, rows: number, cols: number, invTemperature: number, seed: number, rowOffset: number,
  disallow: Int32Array | null, argmax: Int32Array, counts: Int32Array, columns: Int32Array, numerators: Int32Array, capacity: number,
): void {
  const k = 'gumbelCandidates';
  for (const [name, v] of [['rows', rows], ['cols', cols], ['rowOffset', rowOffset], ['capacity', capacity]] as const) checkCount(k, name, v);
  checkFinite(k, 'invTemperature', invTemperature);
  if (!Number.isInteger(seed)) fail(k, `seed must be an integer, got ${seed}`);
  checkLength(k, 'logits', logits, rows * cols);
  if (disallow) checkLength(k, 'disallow', disallow, rows);
  for (const [name, a] of [['argmax', argmax], ['counts', counts]] as const) checkLength(k, name, a, rows);
  for (const [name, a] of [['columns', columns], ['numerators', numerators]] as const) checkLength(k, name, a, rows * capacity);
  const key = seedKey(seed);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let top = -Infinity;
    let topIndex = 0;
    for (let i = 0; i < cols; i++) {
      if (logits[base + i]! > top) {
        top = logits[base + i]!;
        topIndex = i;
      }
    }
    argmax[r] = topIndex;
    const maxScaled = top * invTemperature;
    const banned = disallow ? disallow[r]! : -1;
    const rowState = (mix32((key ^ Math.imul(r + rowOffset + 1, 0x9e3779b1)) >>> 0) | 1) >>> 0;
    // The argmax column is listed first, and its value sets the first threshold (see masking.ts).
    let state = rowState;
    for (let i = 0; i <= topIndex; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
    }
    const topNum = (state >>> 0) >>> 8;
    const topValue = (topIndex === banned ? top * invTemperature - 1000 : top * invTemperature)
      - Math.log(-Math.log(topNum * 5.9604644775390625e-8 + 1e-9) + 1e-9);
    let best = -Infinity;
    let threshold = -1;
    let count = 0;
    if (capacity > 0) {
      columns[r * capacity] = topIndex;
      numerators[r * capacity] = topNum;
      count = 1;
      if (topValue > -Infinity) {
        best = topValue;
        threshold = Math.exp(-(Math.exp(-(best - maxScaled)) - 1e-9)) - 1e-9 - 1e-12 - 1e-9;
      }
    }
    state = rowState;
    for (let i = 0; i < cols; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      const num = state >>> 8;
      const u = num * 5.9604644775390625e-8;
      if (u <= threshold) continue;
      const scaled = i === banned ? logits[base + i]! * invTemperature - 1000 : logits[base + i]! * invTemperature;
      // This column's own bound: it can beat best only if its noise exceeds best - scaled.
      const d = best - scaled;
      if (d >= NOISE_HI) continue;
      if (d >= NOISE_LO && u <= NOISE_TABLE[Math.floor((d - NOISE_LO) / NOISE_STEP)]!) continue;
      if (count === capacity) {
        count = -1;
        break;
      }
      columns[r * capacity + count] = i;
      numerators[r * capacity + count] = num;
      count++;
      const v = scaled - Math.log(-Math.log(u + 1e-9) + 1e-9);
      if (v > best) {
        best = v;
        threshold = Math.exp(-(Math.exp(-(best - maxScaled)) - 1e-9)) - 1e-9 - 1e-12 - 1e-9;
      }
    }
    counts[r] = count;
  }
}

function geluBackward(x: Floats, dy: Floats, dx: Floats, n: number): void {
  const k = 'geluBackward';
  checkCount(k, 'n', n);
  checkLength(k, 'x', x, n);
  checkLength(k, 'dy', dy, n);
  checkLength(k, 'dx', dx, n);
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    dx[i] = dy[i]! * (normalCdf(v) + v * normalPdf(v));
  }
}

function layerNorm(
  x: Floats, gamma: Floats, beta: Floats, y: Floats, mean: Floats, rstd: Floats, rows: number, cols: number, eps: number,
): void {
  const k = 'layerNorm';
  checkCount(k, 'rows', rows);
  checkCount(k, 'cols', cols);
  checkFinite(k, 'eps', eps);
  if (eps < 0) fail(k, 'eps must be >= 0');
  if (cols === 0 && rows > 0) fail(k, 'cols must be positive');
  for (const [name, arr, need] of [['x', x, rows * cols], ['gamma', gamma, cols], ['beta', beta, cols],
    ['y', y, rows * cols], ['mean', mean, rows], ['rstd', rstd, rows]] as const) checkLength(k, name, arr, need);
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += x[o + c]!;
    const mu = sum / cols;
    let sq = 0;
    for (let c = 0; c < cols; c++) {
      const d = x[o + c]! - mu;
      sq += d * d;
    }
    const rs = 1 / Math.sqrt(sq / cols + eps);
    mean[r] = mu;
    rstd[r] = rs;
    for (let c = 0; c < cols; c++) y[o + c] = (x[o + c]! - mu) * rs * gamma[c]! + beta[c]!;
  }
}

function layerNormBackward(
  dy: Floats, x: Floats, gamma: Floats, mean: Floats, rstd: Floats, dx: Floats, dgamma: Floats, dbeta: Floats,
  rows: number, cols: number,
): void {
  const k = 'layerNormBackward';
  checkCount(k, 'rows', rows);
  checkCount(k, 'cols', cols);
  for (const [name, arr, need] of [['dy', dy, rows * cols], ['x', x, rows * cols], ['gamma', gamma, cols],
    ['mean', mean, rows], ['rstd', rstd, rows], ['dx', dx, rows * cols], ['dgamma', dgamma, cols],
    ['dbeta', dbeta, cols]] as const) checkLength(k, name, arr, need);
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    const mu = mean[r]!;
    const rs = rstd[r]!;
    let sumG = 0;
    let sumGx = 0;
    for (let c = 0; c < cols; c++) {
      const d = dy[o + c]!;
      const xhat = (x[o + c]! - mu) * rs;
      const g = d * gamma[c]!;
      sumG += g;
      sumGx += g * xhat;
      dgamma[c] = dgamma[c]! + d * xhat;
      dbeta[c] = dbeta[c]! + d;
    }
    const meanG = sumG / cols;
    const meanGx = sumGx / cols;
    for (let c = 0; c < cols; c++) {
      const xhat = (x[o + c]! - mu) * rs;
      dx[o + c] = rs * (dy[o + c]! * gamma[c]! - meanG - xhat * meanGx);
    }
  }
}

function softmax(
  x: Floats, y: Floats, rows: number, cols: number, scale: number, mask: Floats | null, rowsPerMask: number,
  causal: CausalMode = 'none',
): void {
  const k = 'softmax';
  checkCount(k, 'rows', rows);
  checkCount(k, 'cols', cols);
  checkFinite(k, 'scale', scale);
  checkLength(k, 'x', x, rows * cols);
  checkLength(k, 'y', y, rows * cols);
  if (mask) {
    checkCount(k, 'rowsPerMask', rowsPerMask);
    if (rowsPerMask < 1) fail(k, 'rowsPerMask must be >= 1 when a mask is given');
    checkLength(k, 'mask', mask, Math.ceil(rows / rowsPerMask) * cols);
  }
  if (causal !== 'none' && causal !== 'ltr' && causal !== 'rtl') fail(k, `causal must be 'none', 'ltr' or 'rtl', got ${String(causal)}`);
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    const m = mask ? Math.floor(r / rowsPerMask) * cols : 0;
    // Keys [lo, hi) are inside the causal band of query r % cols.
    const q = r % cols;
    const lo = causal === 'rtl' ? q : 0;
    const hi = causal === 'ltr' ? q + 1 : cols;
    const add = (c: number): number => (c < lo || c >= hi ? CAUSAL_MASKED_SCORE : mask ? mask[m + c]! : 0);
    let max = -Infinity;
    for (let c = 0; c < cols; c++) {
      const t = scale * x[o + c]! + add(c);
      if (t > max) max = t;
    }
    if (max === -Infinity) { // every logit -inf: no distribution to normalise
      for (let c = 0; c < cols; c++) y[o + c] = 0;
      continue;
    }
    let sum = 0;
    for (let c = 0; c < cols; c++) {
      const e = Math.exp(scale * x[o + c]! + add(c) - max);
      y[o + c] = e;
      sum += e;
    }
    // Normalise the stored exponentials in place (no scratch of y's precision needed).
    const inv = 1 / sum;
    for (let c = 0; c < cols; c++) y[o + c] = y[o + c]! * inv;
  }
}

function softmaxBackward(y: Floats, dy: Floats, dx: Floats, rows: number, cols: number, scale: number): void {
  const k = 'softmaxBackward';
  checkCount(k, 'rows', rows);
  checkCount(k, 'cols', cols);
  checkFinite(k, 'scale', scale);
  checkLength(k, 'y', y, rows * cols);
  checkLength(k, 'dy', dy, rows * cols);
  checkLength(k, 'dx', dx, rows * cols);
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    let dot = 0;
    for (let c = 0; c < cols; c++) dot += dy[o + c]! * y[o + c]!;
    for (let c = 0; c < cols; c++) dx[o + c] = scale * y[o + c]! * (dy[o + c]! - dot);
  }
}

function applyDropout(k: string, x: Floats, y: Floats, n: number, p: number, seed: number, counterOffset: number): void {
  checkCount(k, 'n', n);
  checkFinite(k, 'p', p);
  if (!(p >= 0 && p < 1)) fail(k, `p must be in [0, 1), got ${p}`);
  if (!Number.isInteger(seed)) fail(k, `seed must be an integer, got ${seed}`);
  checkCount(k, 'counterOffset', counterOffset);
  checkLength(k, 'x', x, n);
  checkLength(k, 'y', y, n);
  if (p === 0) {
    if (x !== y) for (let i = 0; i < n; i++) y[i] = x[i]!;
    return;
  }
  const key = seedKey(seed);
  const keepScale = 1 - p;
  for (let i = 0; i < n; i++) y[i] = uniformAt(key, counterOffset + i) >= p ? x[i]! / keepScale : 0;
}

function add(a: Floats, b: Floats, out: Floats, n: number): void {
  checkCount('add', 'n', n);
  checkLength('add', 'a', a, n);
  checkLength('add', 'b', b, n);
  checkLength('add', 'out', out, n);
  for (let i = 0; i < n; i++) out[i] = a[i]! + b[i]!;
}

function axpy(alpha: number, x: Floats, y: Floats, n: number): void {
  checkCount('axpy', 'n', n);
  checkLength('axpy', 'x', x, n);
  checkLength('axpy', 'y', y, n);
  for (let i = 0; i < n; i++) y[i] = y[i]! + alpha * x[i]!;
}

function scale(x: Floats, alpha: number, n: number): void {
  checkCount('scale', 'n', n);
  checkLength('scale', 'x', x, n);
  for (let i = 0; i < n; i++) x[i] = x[i]! * alpha;
}

function embeddingGather(table: Floats, ids: Int32Array, out: Floats, count: number, dim: number): void {
  const k = 'embeddingGather';
  checkCount(k, 'count', count);
  checkCount(k, 'dim', dim);
  checkLength(k, 'ids', ids, count);
  checkLength(k, 'out', out, count * dim);
  if (count * dim === 0) return;
  checkIds(k, ids, count, Math.floor(table.length / dim));
  for (let i = 0; i < count; i++) {
    const src = ids[i]! * dim;
    out.set(table.subarray(src, src + dim), i * dim);
  }
}

function embeddingScatterAdd(dOut: Floats, ids: Int32Array, dTable: Floats, count: number, dim: number): void {
  const k = 'embeddingScatterAdd';
  checkCount(k, 'count', count);
  checkCount(k, 'dim', dim);
  checkLength(k, 'dOut', dOut, count * dim);
  checkLength(k, 'ids', ids, count);
  if (count * dim === 0) return;
  checkIds(k, ids, count, Math.floor(dTable.length / dim));
  for (let i = 0; i < count; i++) {
    const dst = ids[i]! * dim;
    const src = i * dim;
    for (let c = 0; c < dim; c++) dTable[dst + c] = dTable[dst + c]! + dOut[src + c]!;
  }
}

function softmaxCrossEntropy(
  logits: Floats, labels: Int32Array, weights: Floats | null, dlogits: Floats | null, rows: number, cols: number,
  gradScale: number,
): number {
  const k = 'softmaxCrossEntropy';
  checkCount(k, 'rows', rows);
  checkCount(k, 'cols', cols);
  checkFinite(k, 'gradScale', gradScale);
  checkLength(k, 'logits', logits, rows * cols);
  checkLength(k, 'labels', labels, rows);
  if (weights) checkLength(k, 'weights', weights, rows);
  if (dlogits) checkLength(k, 'dlogits', dlogits, rows * cols);
  for (let r = 0; r < rows; r++) {
    if (labels[r]! >= cols) fail(k, `labels[${r}] = ${labels[r]} is not below cols = ${cols}`);
  }
  let total = 0;
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    const label = labels[r]!;
    if (label < 0) {
      if (dlogits) for (let c = 0; c < cols; c++) dlogits[o + c] = 0;
      continue;
    }
    const w = weights ? weights[r]! : 1;
    let max = -Infinity;
    for (let c = 0; c < cols; c++) if (logits[o + c]! > max) max = logits[o + c]!;
    const labelLogit = logits[o + label]!; // before dlogits (maybe logits itself) is written
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += Math.exp(logits[o + c]! - max);
    total += w * (max - labelLogit + Math.log(sum));
    if (dlogits) {
      const f = (gradScale * w) / sum;
      for (let c = 0; c < cols; c++) dlogits[o + c] = Math.exp(logits[o + c]! - max) * f;
      dlogits[o + label] = dlogits[o + label]! - gradScale * w;
    }
  }
  return total;
}

function sigmoidCrossEntropy(
  logits: Floats, labels: Floats, weights: Floats | null, dlogits: Floats | null, n: number, gradScale: number,
): number {
  const k = 'sigmoidCrossEntropy';
  checkCount(k, 'n', n);
  checkFinite(k, 'gradScale', gradScale);
  checkLength(k, 'logits', logits, n);
  checkLength(k, 'labels', labels, n);
  if (weights) checkLength(k, 'weights', weights, n);
  if (dlogits) checkLength(k, 'dlogits', dlogits, n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const x = logits[i]!;
    const z = labels[i]!;
    const w = weights ? weights[i]! : 1;
    const e = Math.exp(-Math.abs(x));
    total += w * (Math.max(x, 0) - x * z + Math.log1p(e));
    if (dlogits) {
      const sig = x >= 0 ? 1 / (1 + e) : e / (1 + e);
      dlogits[i] = gradScale * w * (sig - z);
    }
  }
  return total;
}

function adamw(params: Floats, grads: Floats, m: Floats, v: Floats, n: number, opts: AdamWOptions): void {
  const k = 'adamw';
  checkCount(k, 'n', n);
  for (const [name, arr] of [['params', params], ['grads', grads], ['m', m], ['v', v]] as const) checkLength(k, name, arr, n);
  const { lr, beta1, beta2, eps, weightDecay, biasCorrection, step, decayMask } = opts;
  for (const [name, value] of [['lr', lr], ['beta1', beta1], ['beta2', beta2], ['eps', eps], ['weightDecay', weightDecay]] as const) {
    checkFinite(k, name, value);
  }
  if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) fail(k, 'beta1 and beta2 must be in [0, 1)');
  if (decayMask) checkLength(k, 'decayMask', decayMask, n);
  let mScale = 1;
  let vScale = 1;
  if (biasCorrection) {
    if (!Number.isSafeInteger(step) || step < 1) fail(k, `step must be an integer >= 1 with bias correction, got ${step}`);
    mScale = 1 / (1 - Math.pow(beta1, step));
    vScale = 1 / (1 - Math.pow(beta2, step));
  }
  for (let i = 0; i < n; i++) {
    const g = grads[i]!;
    const p = params[i]!;
    const mi = beta1 * m[i]! + (1 - beta1) * g;
    const vi = beta2 * v[i]! + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    let update = (mi * mScale) / (Math.sqrt(vi * vScale) + eps);
    if (!decayMask || decayMask[i] !== 0) update += weightDecay * p;
    params[i] = p - lr * update;
  }
}

function sumSquares(x: Floats, n: number): number {
  checkCount('sumSquares', 'n', n);
  checkLength('sumSquares', 'x', x, n);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += x[i]! * x[i]!;
  return sum;
}

function clipByGlobalNorm(grads: Floats, n: number, maxNorm: number): number {
  checkFinite('clipByGlobalNorm', 'maxNorm', maxNorm);
  if (maxNorm < 0) fail('clipByGlobalNorm', 'maxNorm must be >= 0');
  const norm = Math.sqrt(sumSquares(grads, n));
  if (norm > maxNorm) {
    const factor = maxNorm / norm;
    for (let i = 0; i < n; i++) grads[i] = grads[i]! * factor;
  }
  return norm;
}

export const jsElementwise: ElementwiseKernels = {
  biasAdd,
  biasBackward,
  gelu,
  geluBackward,
  geluBf16,
  biasBackwardBf16,
  biasAddBf16,
  geluBackwardBiasBf16,
  biasGeluBf16,
  softmaxBackwardBf16,
  dropoutBf16,
  gumbelCandidates,
  layerNorm,
  layerNormBackward,
  softmax,
  softmaxBackward,
  dropout: (x, y, n, p, seed, counterOffset) => applyDropout('dropout', x, y, n, p, seed, counterOffset),
  dropoutBackward: (dy, dx, n, p, seed, counterOffset) => applyDropout('dropoutBackward', dy, dx, n, p, seed, counterOffset),
  add,
  axpy,
  scale,
  embeddingGather,
  embeddingScatterAdd,
  softmaxCrossEntropy,
  sigmoidCrossEntropy,
  adamw,
  sumSquares,
  clipByGlobalNorm,
};
