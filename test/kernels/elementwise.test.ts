// Elementwise kernels: every backend and every native instruction set this CPU
// supports, against float64 references written here, finite differences through
// the JS kernels on Float64Array, and an mpmath table for erf / erfc / Phi.
//
// Tolerances (float32 kernels against float64 references):
//   biasAdd, add, axpy, scale, dropout values: rtol 2e-7 (one rounding)
//   gelu: rtol 6e-7 + atol 1e-36 (measured worst 4.2e-7 SIMD, 4.7e-7 scalar, all for x < 0)
//   geluBackward: atol 3e-7 * |dy|max
//   layerNorm / softmax / cross-entropies / adamw: stated per test, ~1e-6 relative
//   sumSquares, clip norm: rtol 1e-12 (both accumulate in float64)
//   embedding gather / scatter, dropout masks: exact
//   finite differences (float64, central, h = 1e-6): rtol 1e-6 of the gradient's scale
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertClose, backends, randomArray } from '../helpers.js';
import { jsKernels, nativeKernels, type Kernels } from '../../src/kernels/index.js';
import { loadAddon } from '../../src/kernels/native/addon.js';
import { erf, erfc, normalCdf } from '../../src/kernels/js/elementwise.js';
import { dropoutUniform } from '../../src/kernels/rng.js';

// ---------------------------------------------------------------------------
// Backends and instruction sets.

interface Variant {
  name: string;
  kernels: Kernels;
  isa: string | null;
}

const ISA_ORDER = ['scalar', 'avx2', 'avx512'];

function variants(): Variant[] {
  const out: Variant[] = [];
  for (const k of backends()) {
    if (k.name === 'js') {
      out.push({ name: 'js', kernels: k, isa: null });
      continue;
    }
    const { addon } = loadAddon();
    const detected = addon!.info().detectedIsa;
    for (const isa of ISA_ORDER.slice(0, ISA_ORDER.indexOf(detected) + 1)) out.push({ name: `native/${isa}`, kernels: k, isa });
  }
  return out;
}

/** Runs fn on each variant, switching the addon's instruction set and restoring it. */
function eachVariant(fn: (k: Kernels, name: string) => void): void {
  for (const v of variants()) {
    if (v.isa === null) {
      fn(v.kernels, v.name);
      continue;
    }
    const addon = loadAddon().addon!;
    const previous = addon.info().isa;
    addon.setIsa(v.isa);
    try {
      fn(v.kernels, v.name);
    } finally {
      addon.setIsa(previous);
    }
  }
}

/** Runs fn with the native pool at `threads` threads, restoring the default. */
function withThreads<T>(threads: number, fn: () => T): T {
  const addon = loadAddon().addon!;
  addon.setThreads(threads);
  try {
    return fn();
  } finally {
    addon.setThreads(0);
  }
}

// ---------------------------------------------------------------------------
// Helpers.

const f64 = (a: ArrayLike<number>): Float64Array => Float64Array.from(a);
const f32 = (a: ArrayLike<number>): Float32Array => Float32Array.from(a);
/** The float64 copy handed to the JS kernels (typed as the interface's Float32Array). */
const asF32 = (a: Float64Array): Float32Array => a as unknown as Float32Array;

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** Asserts closeness with an absolute tolerance relative to the reference's largest magnitude. */
function assertNear(actual: ArrayLike<number>, expected: ArrayLike<number>, relToMax: number, what: string): void {
  assertClose(actual, expected, relToMax * Math.max(maxAbs(expected), 1e-30), 0, what);
}

/** Central finite differences of f with respect to every element of x (modified and restored). */
function numericGrad(x: Float64Array, f: () => number, h = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const keep = x[i]!;
    const step = h * Math.max(1, Math.abs(keep));
    x[i] = keep + step;
    const up = f();
    x[i] = keep - step;
    const down = f();
    x[i] = keep;
    g[i] = (up - down) / (2 * step);
  }
  return g;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

const js = jsKernels;
const ODD = [1, 3, 17, 127, 129];
const SHAPES: [number, number][] = [[1, 1], [1, 129], [3, 17], [17, 3], [5, 127], [2, 1000], [300, 257]];

// ---------------------------------------------------------------------------

describe('erf, erfc, normal CDF (JS, float64)', () => {
  // Reference values from mpmath at 30 digits.
  const erfTable = [[1e-10, 1.1283791670955125739e-10], [0.1, 1.124629160182848922e-1], [0.5, 5.2049987781304653768e-1],
    [1, 8.4270079294971486934e-1], [1.4, 9.5228511976264881052e-1], [1.5, 9.6610514647531072707e-1],
    [2, 9.9532226501895273416e-1], [3, 9.9997790950300141456e-1], [4, 9.9999998458274209972e-1], [6, 9.9999999999999997848e-1]];
  const erfcTable = [[-1, 1.8427007929497148693], [0.1, 8.875370839817151078e-1], [1, 1.5729920705028513066e-1],
    [1.5, 3.3894853524689272933e-2], [2, 4.6777349810472658379e-3], [3, 2.2090496998585441373e-5],
    [5, 1.5374597944280348502e-12], [10, 2.088487583762544757e-45], [20, 5.3958656116079009289e-176],
    [26, 5.6631924088561428465e-296]];
  const phiTable = [[-37, 5.7255712225245768227e-300], [-20, 2.7536241186062336951e-89], [-10, 7.619853024160526066e-24],
    [-5, 2.8665157187919391167e-7], [-3, 1.3498980316300945267e-3], [-2.5, 6.209665325776135167e-3],
    [-2, 2.27501319481792072e-2], [-1.9, 2.8716559816001799401e-2], [-1, 1.5865525393145705141e-1],
    [-0.5, 3.0853753872598689636e-1], [0, 0.5], [0.3, 6.1791142218895263731e-1], [1, 8.4134474606854294859e-1],
    [2, 9.772498680518207928e-1], [3, 9.9865010196836990547e-1], [8, 9.999999999999993779e-1]];

  it('erf within 1e-15 relative, odd', () => {
    for (const [x, e] of erfTable) {
      assertClose([erf(x!)], [e!], 0, 1e-15, `erf(${x})`);
      assert.equal(erf(-x!), -erf(x!));
    }
  });
  it('erfc within 2e-14 relative, including the far tail', () => {
    for (const [x, e] of erfcTable) assertClose([erfc(x!)], [e!], 0, 2e-14, `erfc(${x})`);
  });
  it('Phi within 2e-14 relative in both tails', () => {
    for (const [x, e] of phiTable) assertClose([normalCdf(x!)], [e!], 0, 2e-14, `Phi(${x})`);
  });
});

describe('biasAdd / biasBackward', () => {
  it('adds the bias per column, y may alias x; any shape', () => {
    eachVariant((k, name) => {
      for (const [rows, cols] of SHAPES) {
        const x = randomArray(rows * cols, 1, 3);
        const bias = randomArray(cols, 2);
        const expected = Array.from(x, (v, i) => v + bias[i % cols]!);
        const y = new Float32Array(rows * cols);
        k.biasAdd(x, bias, y, rows, cols);
        assertClose(y, expected, 0, 2e-7, `${name} [${rows}x${cols}]`);
        k.biasAdd(x, bias, x, rows, cols);
        assert.deepEqual(x, y, `${name} aliased`);
      }
    });
  });

  it('accumulates column sums of dy into dbias (float64 reference, rtol 1e-6)', () => {
    eachVariant((k, name) => {
      for (const [rows, cols] of SHAPES) {
        const dy = randomArray(rows * cols, 3);
        const dbias = randomArray(cols, 4);
        const expected = Array.from(dbias);
        for (let i = 0; i < rows * cols; i++) expected[i % cols]! += dy[i]!;
        k.biasBackward(dy, dbias, rows, cols);
        assertClose(dbias, expected, 1e-6 * Math.sqrt(rows), 1e-6, `${name} [${rows}x${cols}]`);
      }
    });
  });

  it('biasBackward is the adjoint of biasAdd (float64, JS)', () => {
    const rows = 4, cols = 5;
    const dy = f64(randomArray(rows * cols, 5));
    const bias = f64(randomArray(cols, 6));
    const x = f64(randomArray(rows * cols, 7));
    const y = new Float64Array(rows * cols);
    const loss = (): number => { js.biasAdd(asF32(x), asF32(bias), asF32(y), rows, cols); return dot(y, dy); };
    const db = new Float64Array(cols);
    js.biasBackward(asF32(dy), asF32(db), rows, cols);
    assertNear(db, numericGrad(bias, loss), 1e-7, 'dbias vs finite differences');
  });
});

describe('gelu', () => {
  it('matches x * Phi(x) to 6e-7 relative over [-14, 14] and odd sizes; y may alias x', () => {
    const n = 20011;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = -14 + (28 * i) / (n - 1);
    const expected = Array.from(x, (v) => v * normalCdf(v));
    eachVariant((k, name) => {
      const y = new Float32Array(n);
      k.gelu(x, y, n);
      assertClose(y, expected, 1e-36, 6e-7, `${name} gelu`);
      for (const m of ODD) {
        const part = x.slice(n - m - 5000, n - 5000);
        const alias = part.slice();
        k.gelu(alias, alias, m);
        assertClose(alias, Array.from(part, (v) => v * normalCdf(v)), 1e-36, 6e-7, `${name} aliased n=${m}`);
      }
    });
  });

  it('handles large magnitudes without NaN', () => {
    eachVariant((k, name) => {
      const x = f32([-1e30, -100, -20, 20, 100, 1e30, 0, -0]);
      const y = new Float32Array(x.length);
      k.gelu(x, y, x.length);
      assert.deepEqual(Array.from(y, (v) => v + 0), [0, 0, 0, 20, 100, 1e30, 0, 0].map((v) => Math.fround(v)), name);
    });
  });

  it('geluBackward: dy * (Phi + x phi) within 3e-7 absolute; dx may alias dy', () => {
    const n = 4099;
    const x = randomArray(n, 11, 6);
    const dy = randomArray(n, 12);
    const expected = new Float64Array(n);
    js.geluBackward(asF32(f64(x)), asF32(f64(dy)), asF32(expected), n);
    eachVariant((k, name) => {
      const dx = new Float32Array(n);
      k.geluBackward(x, dy, dx, n);
      assertClose(dx, expected, 3e-7, 0, `${name} geluBackward`);
      const alias = dy.slice();
      k.geluBackward(x, alias, alias, n);
      assert.deepEqual(alias, dx, `${name} aliased`);
    });
  });

  it('geluBackward matches finite differences of gelu (float64, JS)', () => {
    const x = f64(randomArray(40, 13, 5));
    const dy = f64(randomArray(40, 14));
    const y = new Float64Array(40);
    const loss = (): number => { js.gelu(asF32(x), asF32(y), 40); return dot(y, dy); };
    const dx = new Float64Array(40);
    js.geluBackward(asF32(x), asF32(dy), asF32(dx), 40);
    assertNear(dx, numericGrad(x, loss), 1e-8, 'dx');
  });
});

/** Float64 LayerNorm reference: two-pass mean and biased variance. */
function refLayerNorm(x: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>, rows: number, cols: number, eps: number) {
  const y = new Float64Array(rows * cols), mean = new Float64Array(rows), rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += x[r * cols + c]!;
    const mu = s / cols;
    let v = 0;
    for (let c = 0; c < cols; c++) v += (x[r * cols + c]! - mu) ** 2;
    const rs = 1 / Math.sqrt(v / cols + eps);
    mean[r] = mu;
    rstd[r] = rs;
    for (let c = 0; c < cols; c++) y[r * cols + c] = (x[r * cols + c]! - mu) * rs * gamma[c]! + beta[c]!;
  }
  return { y, mean, rstd };
}

describe('layerNorm', () => {
  it('normalises rows, saves mean and rstd; y may alias x (rtol 1e-6 of scale)', () => {
    eachVariant((k, name) => {
      for (const [rows, cols] of SHAPES) {
        const x = randomArray(rows * cols, 21, 2);
        for (let i = 0; i < x.length; i++) x[i] = x[i]! + 5; // an offset the two-pass variance must survive
        const gamma = randomArray(cols, 22), beta = randomArray(cols, 23);
        const eps = 1e-12;
        const ref = refLayerNorm(x, gamma, beta, rows, cols, eps);
        const y = new Float32Array(rows * cols), mean = new Float32Array(rows), rstd = new Float32Array(rows);
        k.layerNorm(x, gamma, beta, y, mean, rstd, rows, cols, eps);
        const what = `${name} [${rows}x${cols}]`;
        assertNear(y, ref.y, 2e-6, `${what} y`);
        assertClose(mean, ref.mean, 0, 1e-6, `${what} mean`);
        assertClose(rstd, ref.rstd, 0, 2e-6, `${what} rstd`);
        const alias = x.slice();
        k.layerNorm(alias, gamma, beta, alias, mean, rstd, rows, cols, eps);
        assert.deepEqual(alias, y, `${what} aliased`);
      }
    });
  });

  it('uses the eps argument (constant row: rstd = 1/sqrt(eps))', () => {
    eachVariant((k, name) => {
      const x = new Float32Array(17).fill(3);
      const y = new Float32Array(17), mean = new Float32Array(1), rstd = new Float32Array(1);
      k.layerNorm(x, new Float32Array(17).fill(1), new Float32Array(17).fill(0.5), y, mean, rstd, 1, 17, 1e-2);
      assertClose(rstd, [10], 0, 1e-6, `${name} rstd`);
      assertClose(y, new Array(17).fill(0.5), 1e-6, 0, `${name} y`);
    });
  });

  it('layerNormBackward matches the JS float64 result; dgamma, dbeta accumulate', () => {
    for (const [rows, cols] of SHAPES) {
      const x = randomArray(rows * cols, 31, 2);
      const dy = randomArray(rows * cols, 32);
      const gamma = randomArray(cols, 33), beta = randomArray(cols, 34);
      const y = new Float32Array(rows * cols), mean = new Float32Array(rows), rstd = new Float32Array(rows);
      js.layerNorm(x, gamma, beta, y, mean, rstd, rows, cols, 1e-12);
      const dgamma0 = randomArray(cols, 35), dbeta0 = randomArray(cols, 36);
      const ref = { dx: new Float64Array(rows * cols), dgamma: f64(dgamma0), dbeta: f64(dbeta0) };
      js.layerNormBackward(asF32(f64(dy)), asF32(f64(x)), asF32(f64(gamma)), asF32(f64(mean)), asF32(f64(rstd)),
        asF32(ref.dx), asF32(ref.dgamma), asF32(ref.dbeta), rows, cols);
      eachVariant((k, name) => {
        const dx = new Float32Array(rows * cols), dgamma = dgamma0.slice(), dbeta = dbeta0.slice();
        k.layerNormBackward(dy, x, gamma, mean, rstd, dx, dgamma, dbeta, rows, cols);
        const what = `${name} [${rows}x${cols}]`;
        // dx's rounding scale is rstd * |dy * gamma| (FMA contraction may differ per ISA), not |dx|.
        assertClose(dx, ref.dx, 3e-6 * maxAbs(rstd) * maxAbs(dy) * maxAbs(gamma), 0, `${what} dx`);
        assertClose(dgamma, ref.dgamma, 2e-6 * Math.sqrt(rows), 1e-6, `${what} dgamma`);
        assertClose(dbeta, ref.dbeta, 2e-6 * Math.sqrt(rows), 1e-6, `${what} dbeta`);
      });
    }
  });

  it('layerNormBackward matches finite differences (float64, JS)', () => {
    const rows = 3, cols = 7;
    const x = f64(randomArray(rows * cols, 41, 2)), gamma = f64(randomArray(cols, 42)), beta = f64(randomArray(cols, 43));
    const dy = f64(randomArray(rows * cols, 44));
    const y = new Float64Array(rows * cols), mean = new Float64Array(rows), rstd = new Float64Array(rows);
    const loss = (): number => {
      js.layerNorm(asF32(x), asF32(gamma), asF32(beta), asF32(y), asF32(mean), asF32(rstd), rows, cols, 1e-5);
      return dot(y, dy);
    };
    loss();
    const dx = new Float64Array(rows * cols), dgamma = new Float64Array(cols), dbeta = new Float64Array(cols);
    js.layerNormBackward(asF32(dy), asF32(x), asF32(gamma), asF32(mean), asF32(rstd), asF32(dx), asF32(dgamma), asF32(dbeta), rows, cols);
    assertNear(dx, numericGrad(x, loss), 1e-6, 'dx');
    assertNear(dgamma, numericGrad(gamma, loss), 1e-6, 'dgamma');
    assertNear(dbeta, numericGrad(beta, loss), 1e-6, 'dbeta');
  });
});

/** Float64 masked, scaled softmax reference. */
function refSoftmax(x: ArrayLike<number>, rows: number, cols: number, scale: number, mask: ArrayLike<number> | null, rowsPerMask: number) {
  const y = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const t = Array.from({ length: cols }, (_, c) => scale * x[r * cols + c]! + (mask ? mask[Math.floor(r / rowsPerMask) * cols + c]! : 0));
    const m = Math.max(...t);
    const e = t.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    for (let c = 0; c < cols; c++) y[r * cols + c] = e[c]! / s;
  }
  return y;
}

describe('softmax', () => {
  it('scaled, with per-group additive masks of -10000; y may alias x (atol 1e-7, rtol 2e-6)', () => {
    eachVariant((k, name) => {
      for (const [rows, cols] of SHAPES) {
        const x = randomArray(rows * cols, 51, 8);
        const rowsPerMask = 3;
        const maskRows = Math.ceil(rows / rowsPerMask);
        const mask = new Float32Array(maskRows * cols);
        for (let i = 0; i < mask.length; i++) if ((i * 7) % 5 === 0 && i % cols !== 0) mask[i] = -10000;
        for (const [m, rpm] of [[null, 1], [mask, rowsPerMask]] as const) {
          const expected = refSoftmax(x, rows, cols, 0.125, m, rpm);
          const y = new Float32Array(rows * cols);
          k.softmax(x, y, rows, cols, 0.125, m, rpm);
          assertClose(y, expected, 1e-7, 2e-6, `${name} [${rows}x${cols}] mask=${m !== null}`);
          const alias = x.slice();
          k.softmax(alias, alias, rows, cols, 0.125, m, rpm);
          assert.deepEqual(alias, y, `${name} aliased`);
        }
      }
    });
  });

  it('stays finite for large logits and fully masked rows', () => {
    eachVariant((k, name) => {
      const x = f32([1e30, 1e30, -1e30, 0, 88, 89, 90, 1000]);
      const y = new Float32Array(8);
      k.softmax(x, y, 2, 4, 1, null, 1);
      assertClose(y, [0.5, 0.5, 0, 0, ...refSoftmax([88, 89, 90, 1000], 1, 4, 1, null, 1)], 1e-7, 1e-6, `${name} large`);
      const masked = new Float32Array(4);
      k.softmax(f32([1, 2, 3, 4]), masked, 1, 4, 1, new Float32Array(4).fill(-10000), 1);
      assertClose(masked, refSoftmax([1, 2, 3, 4], 1, 4, 1, null, 1), 1e-7, 1e-6, `${name} all -10000`);
      const inf = new Float32Array(4);
      k.softmax(f32([1, 2, 3, 4]), inf, 1, 4, 1, new Float32Array(4).fill(-Infinity), 1);
      assert.deepEqual(Array.from(inf), [0, 0, 0, 0], `${name} all -inf gives zeros`);
    });
  });

  it('causal modes: query r % cols sees keys up to it (ltr) or from it on (rtl); outside keys get -10000 once', () => {
    // Independent float64 reference: the reference's 0/1 masks multiplied, then (1 - m) * -10000 added.
    const refCausal = (x: Float32Array, rows: number, cols: number, scale: number, mask: Float32Array, rpm: number, dir: 'ltr' | 'rtl'): Float64Array => {
      const y = new Float64Array(rows * cols);
      for (let r = 0; r < rows; r++) {
        const q = r % cols;
        const t = Array.from({ length: cols }, (_, c) => {
          const keep = (mask[Math.floor(r / rpm) * cols + c] === 0 ? 1 : 0) * ((dir === 'ltr' ? c <= q : c >= q) ? 1 : 0);
          return scale * x[r * cols + c]! + (1 - keep) * -10000;
        });
        const m = Math.max(...t);
        const e = t.map((v) => Math.exp(v - m));
        const sum = e.reduce((a, b) => a + b, 0);
        for (let c = 0; c < cols; c++) y[r * cols + c] = e[c]! / sum;
      }
      return y;
    };
    eachVariant((k, name) => {
      // [batch 2, heads 3, query 5, key 5] and [1, 2, 17, 17] (a length past the vector width).
      for (const [outer, heads, cols] of [[2, 3, 5], [1, 2, 17]] as const) {
        const rows = outer * heads * cols;
        const x = randomArray(rows * cols, 71, 6);
        const mask = new Float32Array(outer * cols);
        mask[cols - 1] = -10000; // sequence 0: its last key is padding
        mask[cols] = -10000; // sequence 1 (if any): its first key is padding, so rtl's last query sees only masked keys
        for (const dir of ['ltr', 'rtl'] as const) {
          const expected = refCausal(x, rows, cols, 0.3, mask, heads * cols, dir);
          const y = new Float32Array(rows * cols);
          k.softmax(x, y, rows, cols, 0.3, mask.subarray(0, outer * cols), heads * cols, dir);
          // A row whose keys are all masked is softmax(scale x - 10000): float32 rounds each sum to ~1e-3.
          for (let r = 0; r < rows; r++) {
            const rowOf = (a: ArrayLike<number>): number[] => Array.from({ length: cols }, (_, c) => a[r * cols + c]!);
            const allMasked = (dir === 'ltr' ? r % cols === 0 : r % cols === cols - 1) && mask[Math.floor(r / (heads * cols)) * cols + (dir === 'ltr' ? 0 : cols - 1)] !== 0;
            assertClose(rowOf(y), rowOf(expected), allMasked ? 1e-4 : 1e-7, allMasked ? 2e-3 : 2e-6, `${name} ${dir} [${rows}x${cols}] row ${r}`);
          }
          const alias = x.slice();
          k.softmax(alias, alias, rows, cols, 0.3, mask.subarray(0, outer * cols), heads * cols, dir);
          assert.deepEqual(alias, y, `${name} ${dir} aliased`);
          // Without a padding mask: exactly zero outside the band.
          const bare = new Float32Array(rows * cols);
          k.softmax(x, bare, rows, cols, 0.3, null, 1, dir);
          for (let r = 0; r < rows; r++) {
            const q = r % cols;
            for (let c = 0; c < cols; c++) if (dir === 'ltr' ? c > q : c < q) assert.equal(bare[r * cols + c], 0, `${name} ${dir} row ${r} key ${c}`);
          }
        }
      }
      assert.throws(() => k.softmax(new Float32Array(4), new Float32Array(4), 2, 2, 1, null, 1, 'up' as 'ltr'), /causal/, name);
    });
  });

  it('softmaxBackward: scale * y * (dy - sum(dy y)); dx may alias dy', () => {
    eachVariant((k, name) => {
      for (const [rows, cols] of SHAPES) {
        const y = new Float32Array(rows * cols);
        js.softmax(randomArray(rows * cols, 61, 3), y, rows, cols, 1, null, 1);
        const dy = randomArray(rows * cols, 62);
        const expected = new Float64Array(rows * cols);
        for (let r = 0; r < rows; r++) {
          let s = 0;
          for (let c = 0; c < cols; c++) s += dy[r * cols + c]! * y[r * cols + c]!;
          for (let c = 0; c < cols; c++) expected[r * cols + c] = 0.5 * y[r * cols + c]! * (dy[r * cols + c]! - s);
        }
        const dx = new Float32Array(rows * cols);
        k.softmaxBackward(y, dy, dx, rows, cols, 0.5);
        assertClose(dx, expected, 1e-7, 1e-5, `${name} [${rows}x${cols}]`);
        const alias = dy.slice();
        k.softmaxBackward(y, alias, alias, rows, cols, 0.5);
        assert.deepEqual(alias, dx, `${name} aliased`);
      }
    });
  });

  it('softmaxBackward matches finite differences of scaled masked softmax (float64, JS)', () => {
    const rows = 4, cols = 6, scale = 0.7;
    const x = f64(randomArray(rows * cols, 63, 2));
    const mask = f64([0, 0, -10000, 0, 0, 0, 0, -3, 0, 0, 0, 0]);
    const dy = f64(randomArray(rows * cols, 64));
    const y = new Float64Array(rows * cols);
    const loss = (): number => { js.softmax(asF32(x), asF32(y), rows, cols, scale, asF32(mask), 2); return dot(y, dy); };
    loss();
    const dx = new Float64Array(rows * cols);
    js.softmaxBackward(asF32(y), asF32(dy), asF32(dx), rows, cols, scale);
    assertNear(dx, numericGrad(x, loss), 1e-7, 'dx');
  });
});

describe('dropout', () => {
  it('keeps exactly where dropoutUniform(seed, offset + i) >= p, identically in every backend', () => {
    const n = 100003; // several native chunks
    const x = randomArray(n, 71);
    for (let i = 0; i < n; i++) if (x[i] === 0) x[i] = 1;
    const p = 0.1, seed = -12345, offset = 2 ** 32 - 50_000; // counters wrap past 2^32
    eachVariant((k, name) => {
      const y = new Float32Array(n);
      k.dropout(x, y, n, p, seed, offset);
      for (let i = 0; i < n; i++) {
        const keep = dropoutUniform(seed, offset + i) >= p;
        if (keep !== (y[i] !== 0)) assert.fail(`${name}: mask differs at ${i}`);
        if (keep) assertClose([y[i]!], [x[i]! / (1 - p)], 0, 2e-7, `${name} value ${i}`);
      }
    });
  });

  it('p = 0 copies, aliasing allowed, dropoutBackward applies the same mask', () => {
    eachVariant((k, name) => {
      for (const n of ODD) {
        const x = randomArray(n, 72);
        const y = new Float32Array(n);
        k.dropout(x, y, n, 0, 7, 0);
        assert.deepEqual(y, x, `${name} p=0`);
        k.dropout(x, y, n, 0.5, 7, 3);
        const alias = x.slice();
        k.dropout(alias, alias, n, 0.5, 7, 3);
        assert.deepEqual(alias, y, `${name} aliased`);
        const dx = x.slice();
        k.dropoutBackward(dx, dx, n, 0.5, 7, 3);
        assert.deepEqual(dx, y, `${name} backward`);
      }
    });
  });

  it('dropoutBackward is the adjoint of dropout (float64, JS)', () => {
    const x = f64(randomArray(50, 73)), dy = f64(randomArray(50, 74)), y = new Float64Array(50), dx = new Float64Array(50);
    js.dropout(asF32(x), asF32(y), 50, 0.3, 1, 9);
    js.dropoutBackward(asF32(dy), asF32(dx), 50, 0.3, 1, 9);
    assertClose([dot(y, dy)], [dot(x, dx)], 0, 1e-14, '<D x, dy> = <x, D^T dy>');
  });

  it('rejects p outside [0, 1) and fractional counters', () => {
    eachVariant((k, name) => {
      const x = new Float32Array(4);
      assert.throws(() => k.dropout(x, x, 4, 1, 0, 0), /p must be in \[0, 1\)/, name);
      assert.throws(() => k.dropout(x, x, 4, 0.1, 0, 0.5), /counterOffset/, name);
    });
  });
});

describe('add / axpy / scale', () => {
  it('match float64 arithmetic to one rounding; add may alias either input', () => {
    eachVariant((k, name) => {
      for (const n of [...ODD, 100003]) {
        const a = randomArray(n, 81, 4), b = randomArray(n, 82, 4);
        const out = new Float32Array(n);
        k.add(a, b, out, n);
        assertClose(out, Array.from(a, (v, i) => v + b[i]!), 0, 2e-7, `${name} add n=${n}`);
        const aa = a.slice();
        k.add(aa, b, aa, n);
        assert.deepEqual(aa, out, `${name} add out=a`);
        const bb = b.slice();
        k.add(a, bb, bb, n);
        assert.deepEqual(bb, out, `${name} add out=b`);
        const y = b.slice();
        k.axpy(-0.75, a, y, n);
        // atol: without FMA hardware (scalar build) alpha * x is rounded before the add; |terms| <= 4.
        assertClose(y, Array.from(a, (v, i) => b[i]! - 0.75 * v), 2.5e-7, 2e-7, `${name} axpy n=${n}`);
        const s = a.slice();
        k.scale(s, 3.5, n);
        assertClose(s, Array.from(a, (v) => v * 3.5), 0, 2e-7, `${name} scale n=${n}`);
      }
    });
  });
});

describe('embeddings', () => {
  it('gather copies rows exactly; scatterAdd accumulates repeated ids exactly as sequential float32 adds', () => {
    eachVariant((k, name) => {
      for (const [count, dim, vocab] of [[1, 1, 1], [7, 3, 5], [50, 129, 11], [600, 128, 30]] as const) {
        const table = randomArray(vocab * dim, 91);
        const ids = Int32Array.from({ length: count }, (_, i) => (i * 7 + (i >> 2)) % vocab);
        const out = new Float32Array(count * dim);
        k.embeddingGather(table, ids, out, count, dim);
        for (let i = 0; i < count; i++) assert.deepEqual(out.subarray(i * dim, (i + 1) * dim), table.subarray(ids[i]! * dim, (ids[i]! + 1) * dim));
        const dOut = randomArray(count * dim, 92);
        const dTable = randomArray(vocab * dim, 93);
        const expected = dTable.slice();
        for (let i = 0; i < count; i++) for (let c = 0; c < dim; c++) expected[ids[i]! * dim + c] = expected[ids[i]! * dim + c]! + dOut[i * dim + c]!;
        k.embeddingScatterAdd(dOut, ids, dTable, count, dim);
        assert.deepEqual(dTable, expected, `${name} scatter [${count}x${dim}]`);
      }
    });
  });

  it('throws on an id outside the table, before writing anything', () => {
    eachVariant((k, name) => {
      const table = randomArray(4 * 3, 94);
      const out = new Float32Array(6);
      assert.throws(() => k.embeddingGather(table, Int32Array.from([1, 4]), out, 2, 3), /ids\[1\] = 4 is outside \[0, 4\)/, name);
      assert.throws(() => k.embeddingGather(table, Int32Array.from([-1, 0]), out, 2, 3), /ids\[0\] = -1/, name);
      assert.deepEqual(Array.from(out), [0, 0, 0, 0, 0, 0], `${name} untouched`);
      const dTable = new Float32Array(12);
      assert.throws(() => k.embeddingScatterAdd(f32([1, 1, 1, 1, 1, 1]), Int32Array.from([0, 9]), dTable, 2, 3), /ids\[1\] = 9/, name);
      assert.deepEqual(Array.from(dTable), new Array(12).fill(0), `${name} dTable untouched`);
    });
  });

  it('scatterAdd is the adjoint of gather (float64, JS)', () => {
    const table = f64(randomArray(5 * 4, 95)), dOut = f64(randomArray(6 * 4, 96));
    const ids = Int32Array.from([4, 0, 4, 2, 1, 4]);
    const out = new Float64Array(24), dTable = new Float64Array(20);
    js.embeddingGather(asF32(table), ids, asF32(out), 6, 4);
    js.embeddingScatterAdd(asF32(dOut), ids, asF32(dTable), 6, 4);
    assertClose([dot(out, dOut)], [dot(table, dTable)], 0, 1e-14, 'adjoint');
  });
});

/** Float64 softmax cross-entropy reference: loss sum and gradient. */
function refSoftmaxXent(logits: ArrayLike<number>, labels: Int32Array, weights: ArrayLike<number> | null, rows: number, cols: number, gs: number) {
  let loss = 0;
  const grad = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    if (labels[r]! < 0) continue;
    const w = weights ? weights[r]! : 1;
    const row = Array.from({ length: cols }, (_, c) => logits[r * cols + c]!);
    const m = Math.max(...row);
    const s = row.reduce((a, v) => a + Math.exp(v - m), 0);
    loss += w * (m + Math.log(s) - row[labels[r]!]!);
    for (let c = 0; c < cols; c++) grad[r * cols + c] = gs * w * (Math.exp(row[c]! - m) / s - (c === labels[r] ? 1 : 0));
  }
  return { loss, grad };
}

describe('softmaxCrossEntropy', () => {
  it('loss sum and gradient, skipped rows, weights, dlogits aliasing logits (rtol 1e-6, atol 1e-7)', () => {
    eachVariant((k, name) => {
      for (const [rows, cols] of [[1, 1], [3, 17], [5, 129], [40, 1000]] as const) {
        const logits = randomArray(rows * cols, 101, 10);
        logits[0] = 80; // a large logit: log-sum-exp must not overflow
        const labels = Int32Array.from({ length: rows }, (_, r) => (r % 4 === 1 ? -1 : (r * 13) % cols));
        const weights = randomArray(rows, 102, 1).map(Math.abs);
        for (const w of [null, weights]) {
          const ref = refSoftmaxXent(logits, labels, w, rows, cols, 0.25);
          const lossOnly = k.softmaxCrossEntropy(logits, labels, w, null, rows, cols, 0.25);
          assertClose([lossOnly], [ref.loss], 1e-6, 1e-6, `${name} loss [${rows}x${cols}]`);
          const d = new Float32Array(rows * cols).fill(NaN);
          const loss = k.softmaxCrossEntropy(logits, labels, w, d, rows, cols, 0.25);
          assert.equal(loss, lossOnly, `${name} same loss with gradient`);
          assertClose(d, ref.grad, 1e-7, 1e-5, `${name} grad [${rows}x${cols}]`);
          const alias = logits.slice();
          assert.equal(k.softmaxCrossEntropy(alias, labels, w, alias, rows, cols, 0.25), loss, `${name} aliased loss`);
          assert.deepEqual(alias, d, `${name} aliased grad`);
        }
      }
    });
  });

  it('gradient matches finite differences of gradScale * loss (float64, JS)', () => {
    const rows = 3, cols = 5;
    const logits = f64(randomArray(rows * cols, 103, 3));
    const labels = Int32Array.from([2, -1, 4]);
    const weights = f64([0.5, 2, 1.5]);
    const d = new Float64Array(rows * cols);
    js.softmaxCrossEntropy(asF32(logits), labels, asF32(weights), asF32(d), rows, cols, 0.3);
    const loss = (): number => 0.3 * js.softmaxCrossEntropy(asF32(logits), labels, asF32(weights), null, rows, cols, 1);
    assertNear(d, numericGrad(logits, loss), 1e-7, 'dlogits');
  });

  it('rejects labels >= cols', () => {
    eachVariant((k, name) => {
      assert.throws(() => k.softmaxCrossEntropy(new Float32Array(6), Int32Array.from([0, 3]), null, null, 2, 3, 1), /labels\[1\] = 3/, name);
    });
  });
});

describe('sigmoidCrossEntropy', () => {
  it('stable loss and gradient for logits up to +-100; weights; dlogits may alias logits', () => {
    eachVariant((k, name) => {
      for (const n of [...ODD, 70001]) {
        const logits = randomArray(n, 111, 12);
        logits[0] = 100;
        if (n > 1) logits[1] = -100;
        const labels = Float32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : i % 3 === 1 ? 0 : 0.3));
        const weights = randomArray(n, 112).map(Math.abs);
        for (const w of [null, weights]) {
          let refLoss = 0;
          const refGrad = new Float64Array(n);
          for (let i = 0; i < n; i++) {
            const x = logits[i]!, z = labels[i]!, wi = w ? w[i]! : 1;
            refLoss += wi * (Math.max(x, 0) - x * z + Math.log1p(Math.exp(-Math.abs(x))));
            refGrad[i] = 0.5 * wi * (1 / (1 + Math.exp(-x)) - z);
          }
          const d = new Float32Array(n);
          const loss = k.sigmoidCrossEntropy(logits, labels, w, d, n, 0.5);
          assertClose([loss], [refLoss], 1e-37, 1e-6, `${name} loss n=${n}`); // atol: float32 denormals
          assertClose(d, refGrad, 1e-7, 1e-6, `${name} grad n=${n}`);
          assert.equal(k.sigmoidCrossEntropy(logits, labels, w, null, n, 0.5), loss, `${name} loss without gradient`);
          const alias = logits.slice();
          assert.equal(k.sigmoidCrossEntropy(alias, labels, w, alias, n, 0.5), loss, `${name} aliased loss`);
          assert.deepEqual(alias, d, `${name} aliased grad`);
        }
      }
    });
  });

  it('gradient matches finite differences (float64, JS)', () => {
    const logits = f64(randomArray(20, 113, 6)), labels = f64(randomArray(20, 114).map(Math.abs));
    const weights = f64(randomArray(20, 115).map(Math.abs));
    const d = new Float64Array(20);
    js.sigmoidCrossEntropy(asF32(logits), asF32(labels), asF32(weights), asF32(d), 20, 2);
    const loss = (): number => 2 * js.sigmoidCrossEntropy(asF32(logits), asF32(labels), asF32(weights), null, 20, 1);
    assertNear(d, numericGrad(logits, loss), 1e-8, 'dlogits');
  });
});

describe('adamw', () => {
  /** Float64 reference of the reference optimizer (bias correction optional). */
  function refAdamW(p: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array, o: {
    lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; biasCorrection: boolean; step: number; decayMask: Uint8Array | null;
  }): void {
    for (let i = 0; i < p.length; i++) {
      m[i] = o.beta1 * m[i]! + (1 - o.beta1) * g[i]!;
      v[i] = o.beta2 * v[i]! + (1 - o.beta2) * g[i]! ** 2;
      const mh = o.biasCorrection ? m[i]! / (1 - o.beta1 ** o.step) : m[i]!;
      const vh = o.biasCorrection ? v[i]! / (1 - o.beta2 ** o.step) : v[i]!;
      let u = mh / (Math.sqrt(vh) + o.eps);
      if (!o.decayMask || o.decayMask[i]) u += o.weightDecay * p[i]!;
      p[i] = p[i]! - o.lr * u;
    }
  }

  it('three steps match the float64 reference, with and without bias correction and decay mask', () => {
    eachVariant((k, name) => {
      for (const n of [...ODD, 100003]) {
        const mask = Uint8Array.from({ length: n }, (_, i) => (i % 5 === 2 ? 0 : 1));
        for (const [biasCorrection, decayMask] of [[false, mask], [true, null]] as const) {
          const p32 = randomArray(n, 121), m32 = new Float32Array(n), v32 = new Float32Array(n);
          const p = f64(p32), m = new Float64Array(n), v = new Float64Array(n);
          for (let step = 1; step <= 3; step++) {
            const g32 = randomArray(n, 122 + step, 0.1);
            const opts = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-6, weightDecay: 0.01, biasCorrection, step, decayMask };
            k.adamw(p32, g32, m32, v32, n, opts);
            refAdamW(p, f64(g32), m, v, opts);
          }
          const what = `${name} n=${n} bc=${biasCorrection}`;
          assertClose(p32, p, 1e-8, 1e-6, `${what} params`);
          assertClose(m32, m, 1e-8, 1e-6, `${what} m`); // atol: b1 m + (1 - b1) g may cancel
          assertClose(v32, v, 1e-11, 1e-6, `${what} v`);
        }
      }
    });
  });

  it('decay mask 0 means no decay: zero gradient leaves those params unchanged', () => {
    eachVariant((k, name) => {
      const n = 37;
      const p = randomArray(n, 131), before = p.slice();
      const mask = Uint8Array.from({ length: n }, (_, i) => i & 1);
      k.adamw(p, new Float32Array(n), new Float32Array(n), new Float32Array(n), n,
        { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-6, weightDecay: 0.5, biasCorrection: false, step: 1, decayMask: mask });
      for (let i = 0; i < n; i++) {
        const expected = i & 1 ? before[i]! * (1 - 0.05) : before[i]!;
        assertClose([p[i]!], [expected], 1e-8, 1e-6, `${name} param ${i}`);
      }
    });
  });
});

describe('sumSquares / clipByGlobalNorm', () => {
  it('sumSquares accumulates in float64 (rtol 1e-12)', () => {
    eachVariant((k, name) => {
      for (const n of [...ODD, 100003]) {
        const x = randomArray(n, 141, 3);
        let ref = 0;
        for (let i = 0; i < n; i++) ref += x[i]! * x[i]!;
        assertClose([k.sumSquares(x, n)], [ref], 0, 1e-12, `${name} n=${n}`);
      }
      // 2^24 + 1 ones: float32 accumulation would stall at 2^24.
      const big = new Float32Array(2 ** 24 + 1).fill(1);
      assert.equal(k.sumSquares(big, big.length), 2 ** 24 + 1, `${name} float64 accumulation`);
    });
  });

  it('clips by maxNorm / norm only when norm > maxNorm and returns the pre-clip norm', () => {
    eachVariant((k, name) => {
      for (const n of [1, 129, 100003]) {
        const g = randomArray(n, 151, 2);
        let ss = 0;
        for (let i = 0; i < n; i++) ss += g[i]! * g[i]!;
        const norm = Math.sqrt(ss);
        const kept = g.slice();
        assertClose([k.clipByGlobalNorm(kept, n, norm * 1.01)], [norm], 0, 1e-12, `${name} norm`);
        assert.deepEqual(kept, g, `${name} no clip below maxNorm`);
        const clipped = g.slice();
        k.clipByGlobalNorm(clipped, n, 1);
        assertClose(clipped, Array.from(g, (v) => v / norm), 1e-9, 1e-6, `${name} clipped n=${n}`);
      }
    });
  });
});

describe('JS backend on Float64Array', () => {
  it('computes in float64 end to end (add, axpy, scale, adamw, sumSquares, clip, layerNorm)', () => {
    const n = 37;
    const a = f64(randomArray(n, 171)).map((v) => v + 1e-9); // values float32 cannot hold
    const b = f64(randomArray(n, 172));
    const out = new Float64Array(n);
    js.add(asF32(a), asF32(b), asF32(out), n);
    assert.deepEqual(out, a.map((v, i) => v + b[i]!));
    const y = b.slice();
    js.axpy(1 / 3, asF32(a), asF32(y), n);
    assert.deepEqual(y, b.map((v, i) => v + (1 / 3) * a[i]!));
    const s = a.slice();
    js.scale(asF32(s), 1 / 7, n);
    assert.deepEqual(s, a.map((v) => v * (1 / 7)));
    assert.equal(js.sumSquares(asF32(a), n), a.reduce((acc, v) => acc + v * v, 0));
    const g = a.slice();
    const norm = js.clipByGlobalNorm(asF32(g), n, 0.5);
    assert.deepEqual(g, a.map((v) => v * (0.5 / norm)));
    const p = a.slice(), m = new Float64Array(n), v = new Float64Array(n);
    js.adamw(asF32(p), asF32(b), asF32(m), asF32(v), n,
      { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-6, weightDecay: 0.1, biasCorrection: true, step: 1, decayMask: null });
    // Step 1 with bias correction: m' = g, v' = g^2, so u = g / (|g| + eps) + wd * p.
    assertClose(p, a.map((pv, i) => pv - 0.01 * (b[i]! / (Math.abs(b[i]!) + 1e-6) + 0.1 * pv)), 0, 1e-14, 'adamw');
    const yl = new Float64Array(n), mean = new Float64Array(1), rstd = new Float64Array(1);
    js.layerNorm(asF32(a), asF32(new Float64Array(n).fill(1)), asF32(new Float64Array(n)), asF32(yl), asF32(mean), asF32(rstd), 1, n, 0);
    const ref = refLayerNorm(a, new Float64Array(n).fill(1), new Float64Array(n), 1, n, 0);
    assertClose(yl, ref.y, 1e-14, 0, 'layerNorm');
  });
});

describe('native specifics', () => {
  const native = nativeKernels();
  // These test the addon itself, so they run whenever it built, whichever backend the suite selected.
  const skip = native === null ? 'native addon not built' : false;

  it('reductions are bit-identical for 1, 2 and 3 threads', { skip }, () => {
    const k = native!;
    const rows = 700, cols = 301;
    const dy = randomArray(rows * cols, 161), x = randomArray(rows * cols, 162), gamma = randomArray(cols, 163);
    const mean = new Float32Array(rows), rstd = new Float32Array(rows), y = new Float32Array(rows * cols);
    k.layerNorm(x, gamma, gamma, y, mean, rstd, rows, cols, 1e-12);
    const labels = Int32Array.from({ length: rows }, (_, r) => (r * 31) % cols);
    const run = () => {
      const dbias = new Float32Array(cols), dgamma = new Float32Array(cols), dbeta = new Float32Array(cols), dx = new Float32Array(rows * cols);
      k.biasBackward(dy, dbias, rows, cols);
      k.layerNormBackward(dy, x, gamma, mean, rstd, dx, dgamma, dbeta, rows, cols);
      const ss = k.sumSquares(dy, rows * cols);
      const sce = k.sigmoidCrossEntropy(x, dy.map(Math.abs), null, null, rows * cols, 1);
      const xent = k.softmaxCrossEntropy(x, labels, null, null, rows, cols, 1);
      const g = dy.slice();
      const norm = k.clipByGlobalNorm(g, g.length, 1);
      return { dbias, dgamma, dbeta, dx, ss, sce, xent, norm, g };
    };
    const one = withThreads(1, run);
    for (const threads of [2, 3]) assert.deepEqual(withThreads(threads, run), one, `${threads} threads`);
  });

  it('rejects wrong array types and short arrays with the kernel and argument named', { skip }, () => {
    const k = native!;
    assert.throws(() => k.gelu(new Float64Array(4) as unknown as Float32Array, new Float32Array(4), 4), /gelu: x must be a Float32Array/);
    assert.throws(() => k.add(new Float32Array(3), new Float32Array(4), new Float32Array(4), 4), /add: a has 3 elements, needs at least 4/);
    assert.throws(() => k.biasAdd(new Float32Array(4), new Float32Array(2), new Float32Array(4), 2, -1), /biasAdd: cols must be a non-negative integer/);
  });

  it('the JS backend rejects short arrays too', () => {
    assert.throws(() => js.add(new Float32Array(3), new Float32Array(4), new Float32Array(4), 4), /add: a has 3 elements, needs at least 4/);
  });
});
