// GEMM against a float64 reference, for the JS backend and, for the native
// backend, every instruction set this CPU supports.
//
// Tolerance: summing k products in any order in float32 errs by at most
// about k * u * sum_p |a_ip b_pj| (u = 2^-24); the final alpha/beta update adds
// a few roundings. Each element is checked against
//   (k + 4) * 2^-23 * (|alpha| sum_p |a_ip b_pj| + |beta c_ij|),
// twice that bound, computed alongside the reference. Elements outside C's
// matrices must come back unchanged (NaN stays NaN).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backends, randomArray } from '../helpers.js';
import { jsKernels, type BatchedGemmArgs, type GemmArgs, type Kernels } from '../../src/kernels/index.js';
import { loadAddon } from '../../src/kernels/native/addon.js';
import { gemmAddon } from '../../src/kernels/native/gemm.js';
import { measurePeakGflops } from '../../src/kernels/peak.js';

const isaOrder = ['scalar', 'avx2', 'avx512'];

interface Config {
  label: string;
  kernels: Kernels;
  /** Runs fn with this configuration in force (instruction set selected, then restored). */
  run(fn: () => void): void;
}

/** JS, plus native once per instruction set the CPU supports. */
function configs(): Config[] {
  const out: Config[] = [];
  for (const kernels of backends()) {
    if (kernels.name === 'js') {
      out.push({ label: 'js', kernels, run: (fn) => fn() });
      continue;
    }
    const addon = loadAddon().addon!;
    const detected = isaOrder.indexOf(addon.info().detectedIsa);
    for (const isa of isaOrder.slice(0, detected + 1)) {
      out.push({
        label: `native/${isa}`,
        kernels,
        run(fn) {
          const before = addon.info().isa;
          addon.setIsa(isa);
          try {
            assert.equal(addon.info().isa, isa);
            fn();
          } finally {
            addon.setIsa(before);
          }
        },
      });
    }
  }
  return out;
}

type Real = Float32Array | Float64Array;

interface Layout {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  alpha: number;
  beta: number;
  aOffset: number;
  bOffset: number;
  cOffset: number;
  lda: number;
  ldb: number;
  ldc: number;
}

/**
 * Writes the float64 result of one product into `expected` (a copy of C) and
 * its error bound into `bound`, for C's matrix at cOffset.
 */
function reference(l: Layout, a: Real, b: Real, c0: Real, expected: Float64Array, bound: Float64Array): void {
  const scale = (l.k + 4) * 2 ** -23;
  for (let i = 0; i < l.m; i++) {
    for (let j = 0; j < l.n; j++) {
      let sum = 0;
      let sumAbs = 0;
      for (let p = 0; p < l.k; p++) {
        const av = l.transA ? a[l.aOffset + p * l.lda + i]! : a[l.aOffset + i * l.lda + p]!;
        const bv = l.transB ? b[l.bOffset + j * l.ldb + p]! : b[l.bOffset + p * l.ldb + j]!;
        sum += av * bv;
        sumAbs += Math.abs(av * bv);
      }
      const ci = l.cOffset + i * l.ldc + j;
      const old = l.beta === 0 ? 0 : c0[ci]!;
      expected[ci] = l.alpha * sum + l.beta * old;
      bound[ci] = scale * (Math.abs(l.alpha) * sumAbs + Math.abs(l.beta * old)) + 1e-30;
    }
  }
}

/** |actual - expected| <= bound elementwise; untouched elements (bound 0) must match exactly. */
function assertWithin(actual: Real, expected: Float64Array, bound: Float64Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const x = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) ? Number.isNaN(x) : Math.abs(x - e) <= bound[i]!) continue;
    assert.fail(`${what}: element ${i} is ${x}, expected ${e} (bound ${bound[i]})`);
  }
}

/** Storage rows x row length of op(X) as held in memory. */
function stored(trans: boolean, rows: number, cols: number): [number, number] {
  return trans ? [cols, rows] : [rows, cols];
}

interface Problem {
  layout: Layout;
  a: Float32Array;
  b: Float32Array;
  c: Float32Array;
  expected: Float64Array;
  bound: Float64Array;
}

const alphaBeta: [number, number][] = [[1, 0], [0.5, 0], [-1.5, 1], [0.75, -0.5], [0, 2], [2, 1]];

function makeProblem(
  transA: boolean, transB: boolean, m: number, n: number, k: number, variant: number, seed: number,
): Problem {
  const [alpha, beta] = alphaBeta[variant % alphaBeta.length]!;
  // Every other problem uses offsets and leading dimensions larger than needed.
  const pad = variant % 2 === 1;
  const [aRows, aCols] = stored(transA, m, k);
  const [bRows, bCols] = stored(transB, k, n);
  const layout: Layout = {
    transA, transB, m, n, k, alpha, beta,
    aOffset: pad ? 5 : 0, bOffset: pad ? 3 : 0, cOffset: pad ? 7 : 0,
    lda: aCols + (pad ? 3 : 0), ldb: bCols + (pad ? 1 : 0), ldc: n + (pad ? 5 : 0),
  };
  const a = randomArray(layout.aOffset + aRows * layout.lda + 2, seed);
  const b = randomArray(layout.bOffset + bRows * layout.ldb + 2, seed + 1);
  const c = randomArray(layout.cOffset + m * layout.ldc + 2, seed + 2);
  if (beta === 0) c.fill(Number.NaN); // must never be read
  const expected = Float64Array.from(c);
  const bound = new Float64Array(c.length);
  reference(layout, a, b, c, expected, bound);
  return { layout, a, b, c, expected, bound };
}

function gemmArgs(p: Problem, c: Float32Array): GemmArgs {
  return { ...p.layout, a: p.a, b: p.b, c };
}

const transposes: [boolean, boolean][] = [[false, false], [true, false], [false, true], [true, true]];

function describeLayout(l: Layout): string {
  return `${l.transA ? 'T' : 'N'}${l.transB ? 'T' : 'N'} m=${l.m} n=${l.n} k=${l.k} alpha=${l.alpha} beta=${l.beta}` +
    ` offsets=${l.aOffset},${l.bOffset},${l.cOffset} ld=${l.lda},${l.ldb},${l.ldc}`;
}

function checkProblems(problems: Problem[]): void {
  for (const cfg of configs()) {
    cfg.run(() => {
      for (const p of problems) {
        const c = p.c.slice();
        cfg.kernels.gemm(gemmArgs(p, c));
        assertWithin(c, p.expected, p.bound, `${cfg.label} ${describeLayout(p.layout)}`);
      }
    });
  }
}

test('gemm: odd shapes, all transposes, offsets, leading dimensions, alpha/beta', () => {
  const dims = [1, 3, 17, 127, 129];
  const problems: Problem[] = [];
  let variant = 0;
  for (const [transA, transB] of transposes) {
    for (const m of dims) {
      for (const n of dims) {
        for (const k of dims) {
          // All small combinations, and a spread of the larger ones.
          if (m * n * k > 20000 && (m + 2 * n + 3 * k + variant) % 7 !== 0) continue;
          problems.push(makeProblem(transA, transB, m, n, k, variant, 100 + variant));
          variant++;
        }
      }
    }
  }
  assert.ok(problems.length > 300);
  checkProblems(problems);
});

test('gemm: shapes beyond the block sizes (several depth, row and column blocks)', () => {
  const shapes: [number, number, number][] = [
    [300, 150, 530], // depth split in three, few row blocks: shared packed A, columns split
    [1500, 70, 40], // many row blocks: each task packs its own A block
    [20, 4500, 30], // more columns than one packed B block
  ];
  const problems: Problem[] = [];
  let variant = 0;
  for (const [m, n, k] of shapes) {
    for (const [transA, transB] of transposes) {
      problems.push(makeProblem(transA, transB, m, n, k, variant, 500 + variant));
      variant++;
    }
  }
  checkProblems(problems);
});

test('gemm: beta = 0 ignores NaN in C; empty sizes; k = 0 scales C', () => {
  for (const cfg of configs()) {
    cfg.run(() => {
      const { kernels } = cfg;
      // beta = 0 with C full of NaN: no NaN may survive.
      const a = randomArray(40 * 33, 1);
      const b = randomArray(33 * 50, 2);
      const c = new Float32Array(40 * 50).fill(Number.NaN);
      kernels.gemm({ transA: false, transB: false, m: 40, n: 50, k: 33, alpha: 1, beta: 0, a, lda: 33, b, ldb: 50, c, ldc: 50 });
      assert.ok(c.every(Number.isFinite), `${cfg.label}: NaN in C leaked through beta = 0`);

      // k = 0: C = beta * C, and beta = 0 writes zeros.
      const c2 = Float32Array.from([1, 2, 3, 4, 5, 6]);
      kernels.gemm({ transA: false, transB: false, m: 2, n: 3, k: 0, alpha: 1, beta: 2, a: new Float32Array(0), lda: 0, b: new Float32Array(0), ldb: 3, c: c2, ldc: 3 });
      assert.deepEqual(Array.from(c2), [2, 4, 6, 8, 10, 12], cfg.label);
      c2.fill(Number.NaN);
      kernels.gemm({ transA: false, transB: false, m: 2, n: 3, k: 0, alpha: 1, beta: 0, a: new Float32Array(0), lda: 0, b: new Float32Array(0), ldb: 3, c: c2, ldc: 3 });
      assert.deepEqual(Array.from(c2), [0, 0, 0, 0, 0, 0], cfg.label);

      // m = 0 or n = 0: nothing is touched, even with empty arrays.
      const untouched = Float32Array.from([7, 8]);
      kernels.gemm({ transA: false, transB: false, m: 0, n: 2, k: 3, alpha: 1, beta: 0, a: new Float32Array(0), lda: 3, b: new Float32Array(6), ldb: 2, c: untouched, ldc: 2 });
      kernels.gemm({ transA: false, transB: false, m: 1, n: 0, k: 3, alpha: 1, beta: 0, a: new Float32Array(3), lda: 3, b: new Float32Array(0), ldb: 0, c: untouched, ldc: 0 });
      assert.deepEqual(Array.from(untouched), [7, 8], cfg.label);
    });
  }
});

/** Attention-shaped batched problems on [batch, seq, heads, headDim] tensors. */
interface BatchedProblem {
  args: Omit<BatchedGemmArgs, 'c'>;
  c: Float32Array;
  expected: Float64Array;
  bound: Float64Array;
  what: string;
}

function makeBatched(
  what: string, batch: number, heads: number, seq: number, headDim: number, seed: number, variant: number,
): BatchedProblem[] {
  const hidden = heads * headDim;
  const q = randomArray(batch * seq * hidden + 3, seed);
  const kv = randomArray(batch * seq * hidden + 3, seed + 1);
  const scores = randomArray(batch * heads * seq * seq + 3, seed + 2);
  const ctx = randomArray(batch * seq * hidden + 3, seed + 3);
  const ctxT = randomArray(batch * heads * headDim * seq + 3, seed + 4);
  const tensorStrides = { outer: seq * hidden, inner: headDim };
  const scoreStrides = { outer: heads * seq * seq, inner: seq * seq };
  const ctxTStrides = { outer: heads * headDim * seq, inner: headDim * seq };
  const [alpha, beta] = alphaBeta[variant % alphaBeta.length]!;
  const out: BatchedProblem[] = [];
  // Each product of attention forward and backward: all four transpose cases.
  const specs: [string, boolean, boolean, number, number, number, Float32Array, typeof tensorStrides, number,
    Float32Array, typeof tensorStrides, number, Float32Array, typeof tensorStrides, number][] = [
    ['Q K^T', false, true, seq, seq, headDim, q, tensorStrides, hidden, kv, tensorStrides, hidden, scores, scoreStrides, seq],
    ['P V', false, false, seq, headDim, seq, scores, scoreStrides, seq, kv, tensorStrides, hidden, ctx, tensorStrides, hidden],
    ['dP^T Q', true, false, seq, headDim, seq, scores, scoreStrides, seq, q, tensorStrides, hidden, ctx, tensorStrides, hidden],
    ['dCtx V^T', false, true, seq, seq, headDim, ctx, tensorStrides, hidden, kv, tensorStrides, hidden, scores, scoreStrides, seq],
    ['dCtx^T P^T', true, true, headDim, seq, seq, ctx, tensorStrides, hidden, scores, scoreStrides, seq, ctxT, ctxTStrides, seq],
  ];
  for (const [name, transA, transB, m, n, k, a, sa, lda, b, sb, ldb, c, sc, ldc] of specs) {
    const layout: Layout = { transA, transB, m, n, k, alpha, beta, aOffset: 1, bOffset: 2, cOffset: 3, lda, ldb, ldc };
    const c0 = c.slice();
    if (beta === 0) c0.fill(Number.NaN);
    const expected = Float64Array.from(c0);
    const bound = new Float64Array(c0.length);
    const args = {
      transA, transB, m, n, k, alpha, beta, a, aOffset: 1, lda, b, bOffset: 2, ldb, cOffset: 3, ldc,
      batchOuter: batch, batchInner: heads,
      strideAOuter: sa.outer, strideAInner: sa.inner, strideBOuter: sb.outer, strideBInner: sb.inner,
      strideCOuter: sc.outer, strideCInner: sc.inner,
    };
    for (let io = 0; io < batch; io++) {
      for (let ii = 0; ii < heads; ii++) {
        reference({
          ...layout,
          aOffset: 1 + io * sa.outer + ii * sa.inner,
          bOffset: 2 + io * sb.outer + ii * sb.inner,
          cOffset: 3 + io * sc.outer + ii * sc.inner,
        }, a, b, c0, expected, bound);
      }
    }
    out.push({ args, c: c0, expected, bound, what: `${what} ${name} (alpha=${alpha}, beta=${beta})` });
  }
  return out;
}

test('gemmBatched: two-level batches on [batch, seq, heads, headDim] without transposes', () => {
  const problems = [
    ...makeBatched('2x3 heads', 2, 3, 19, 5, 900, 0), // whole entries per task
    ...makeBatched('1x3 heads', 1, 3, 130, 20, 910, 2), // entries one after another, each multi-threaded
    ...makeBatched('4x4 heads', 4, 4, 9, 16, 920, 3),
  ];
  for (const cfg of configs()) {
    cfg.run(() => {
      for (const p of problems) {
        const c = p.c.slice();
        cfg.kernels.gemmBatched({ ...p.args, c });
        assertWithin(c, p.expected, p.bound, `${cfg.label} ${p.what}`);
      }
    });
  }
});

test('gemmBatched: zero strides reuse one operand across the batch', () => {
  const m = 6;
  const n = 7;
  const k = 5;
  const a = randomArray(3 * m * k, 31);
  const b = randomArray(k * n, 32); // shared by every entry
  for (const cfg of configs()) {
    cfg.run(() => {
      const c = new Float32Array(3 * m * n);
      cfg.kernels.gemmBatched({
        transA: false, transB: false, m, n, k, alpha: 1, beta: 0, a, lda: k, b, ldb: n, c, ldc: n,
        batchOuter: 3, batchInner: 1, strideAOuter: m * k, strideAInner: 0, strideBOuter: 0, strideBInner: 0,
        strideCOuter: m * n, strideCInner: 0,
      });
      for (let e = 0; e < 3; e++) {
        const expected = new Float64Array(c.length);
        const bound = new Float64Array(c.length);
        reference({ transA: false, transB: false, m, n, k, alpha: 1, beta: 0, aOffset: e * m * k, bOffset: 0, cOffset: e * m * n, lda: k, ldb: n, ldc: n }, a, b, c, expected, bound);
        for (let i = e * m * n; i < (e + 1) * m * n; i++) {
          assert.ok(Math.abs(c[i]! - expected[i]!) <= bound[i]!, `${cfg.label}: entry ${e}, element ${i}`);
        }
      }
    });
  }
});

test('JS backend on Float64Array matches the float64 reference to ~1e-12', () => {
  for (const [transA, transB] of transposes) {
    for (const [m, n, k] of [[17, 23, 129], [64, 3, 31], [1, 40, 7]] as const) {
      const p = makeProblem(transA, transB, m, n, k, 3, 77);
      const a = Float64Array.from(p.a);
      const b = Float64Array.from(p.b);
      const c = Float64Array.from(p.c);
      jsKernels.gemm({ ...p.layout, a: a as unknown as Float32Array, b: b as unknown as Float32Array, c: c as unknown as Float32Array });
      // In float64 the error is ~k * 2^-53 * sum |a b|: 1e-12 of the bound's float32 scale is ample.
      const tight = p.bound.map((x) => x * 2 ** -29 + 1e-300);
      for (let i = 0; i < c.length; i++) {
        if (tight[i]! > 1e-300) assert.ok(Math.abs(c[i]! - p.expected[i]!) <= Math.max(tight[i]!, 1e-12 * Math.abs(p.expected[i]!)), `element ${i}`);
        else assert.equal(c[i], p.expected[i]);
      }
      // Float32 rounding would show up far above this level.
      const err = Math.max(...Array.from(c, (x, i) => Math.abs(x - p.expected[i]!)));
      assert.ok(err < 1e-12, `${describeLayout(p.layout)}: max error ${err}`);
    }
  }
});

test('JS backend: its 4 x 4 register tiles sum each entry in float64 in depth order, as a plain triple loop does', () => {
  // Shapes around the tile (4) and the packed column block (256), with offsets and padded leading dimensions.
  for (const [transA, transB] of transposes) {
    for (const [m, n, k] of [[4, 4, 1], [7, 5, 33], [13, 300, 9], [5, 513, 3]] as const) {
      for (const beta of [0, -0.75]) {
        for (const make of [(x: number[]) => Float32Array.from(x), (x: number[]) => Float64Array.from(x)]) {
          const lda = (transA ? m : k) + 2, ldb = (transB ? k : n) + 1, ldc = n + 3;
          const a = make(Array.from(randomArray(3 + lda * (transA ? k : m), 5)));
          const b = make(Array.from(randomArray(1 + ldb * (transB ? n : k), 6)));
          const c = make(Array.from(randomArray(2 + ldc * m, 7)));
          const expected = c.slice();
          const alpha = 1.25;
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
              let sum = 0;
              for (let p = 0; p < k; p++) {
                sum += a[3 + (transA ? p * lda + i : i * lda + p)]! * b[1 + (transB ? j * ldb + p : p * ldb + j)]!;
              }
              const at = 2 + i * ldc + j;
              expected[at] = beta === 0 ? alpha * sum : alpha * sum + beta * expected[at]!;
            }
          }
          const f32 = (x: Float32Array | Float64Array) => x as unknown as Float32Array;
          jsKernels.gemm({ transA, transB, m, n, k, alpha, beta, a: f32(a), aOffset: 3, lda, b: f32(b), bOffset: 1, ldb, c: f32(c), cOffset: 2, ldc });
          assert.deepEqual(c, expected, `${m}x${n}x${k} transA=${transA} transB=${transB} beta=${beta} ${c.constructor.name}`);
        }
      }
    }
  }
});

test('native: results are identical for any thread count', () => {
  const addon = loadAddon().addon;
  if (!backends().some((k) => k.name === 'native') || !addon) return;
  const before = addon.info().threads;
  const problems = [makeProblem(false, false, 300, 150, 530, 0, 1), makeProblem(true, true, 1500, 70, 40, 1, 2),
    makeProblem(false, true, 7, 800, 300, 2, 3)];
  try {
    for (const p of problems) {
      const results: Float32Array[] = [];
      for (const threads of [1, 2, 3]) {
        addon.setThreads(threads);
        const c = p.c.slice();
        backends().find((k) => k.name === 'native')!.gemm(gemmArgs(p, c));
        assertWithin(c, p.expected, p.bound, `${threads} threads ${describeLayout(p.layout)}`);
        results.push(c);
      }
      assert.deepEqual(results[1], results[0], 'blocking and summation order do not depend on threads');
      assert.deepEqual(results[2], results[0], 'blocking and summation order do not depend on threads');
    }
  } finally {
    addon.setThreads(before);
  }
});

test('native: parallel driver with shared packs split into several blocks, vector shapes, size threshold, split depth', () => {
  const loaded = loadAddon().addon;
  if (!backends().some((k) => k.name === 'native') || !loaded) return;
  const addon = gemmAddon(loaded);
  const native = backends().find((k) => k.name === 'native')!;
  const problems = [
    // Row tasks; a 3000-float limit splits the shared B into many column blocks.
    makeProblem(false, false, 90, 200, 300, 0, 11), makeProblem(true, true, 90, 200, 300, 3, 12),
    // Few rows, many columns, long depth: column tasks; the shared A splits into row blocks.
    makeProblem(true, false, 100, 1000, 300, 1, 13), makeProblem(false, true, 100, 1000, 300, 2, 14),
    // Matrix-vector products big enough to use the pool (n = 1, m = 1; both storage orders).
    makeProblem(false, false, 3000, 1, 400, 0, 15), makeProblem(true, false, 3000, 1, 400, 3, 16),
    makeProblem(false, true, 1, 3000, 400, 1, 17), makeProblem(false, false, 1, 3000, 400, 2, 18),
    // Either side of the size below which products stay on the calling thread (2^20 multiply-adds).
    makeProblem(false, false, 64, 128, 128, 0, 19), makeProblem(false, false, 64, 128, 127, 1, 20),
    // Depth split into 2 and 4 chunks (weight-gradient shapes: small C, depth >= 4096).
    makeProblem(true, false, 40, 72, 4100, 0, 21), makeProblem(true, true, 24, 40, 8200, 3, 22),
    makeProblem(false, false, 33, 17, 4096, 2, 23),
  ];
  const threadsBefore = loaded.info().threads;
  const isaBefore = loaded.info().isa;
  const detected = isaOrder.indexOf(loaded.info().detectedIsa);
  try {
    for (const isa of isaOrder.slice(0, detected + 1)) {
      loaded.setIsa(isa);
      for (const limit of [0, 3000]) {
        addon.setGemmSharedPackLimit(limit);
        for (const p of problems) {
          const results: Float32Array[] = [];
          for (const threads of [1, 2, 3]) {
            loaded.setThreads(threads);
            const c = p.c.slice();
            native.gemm(gemmArgs(p, c));
            assertWithin(c, p.expected, p.bound, `${isa} limit ${limit} ${threads} threads ${describeLayout(p.layout)}`);
            results.push(c);
          }
          assert.deepEqual(results[1], results[0], `${isa} ${describeLayout(p.layout)}: 2 threads differ from 1`);
          assert.deepEqual(results[2], results[0], `${isa} ${describeLayout(p.layout)}: 3 threads differ from 1`);
        }
      }
    }
  } finally {
    addon.setGemmSharedPackLimit(0);
    loaded.setThreads(threadsBefore);
    loaded.setIsa(isaBefore);
  }
  assert.equal(addon.setGemmSharedPackLimit(0), 2 * 1024 * 1024, 'the default limit is restored');
});

test('gemm and gemmBatched reject bad arguments with clear errors', () => {
  const ok = (): GemmArgs => ({
    transA: false, transB: false, m: 2, n: 3, k: 4, alpha: 1, beta: 0,
    a: new Float32Array(8), lda: 4, b: new Float32Array(12), ldb: 3, c: new Float32Array(6), ldc: 3,
  });
  for (const kernels of backends()) {
    kernels.gemm(ok());
    assert.throws(() => kernels.gemm({ ...ok(), a: new Float32Array(7) }), /gemm: a is too small.*a\.length is 7/);
    assert.throws(() => kernels.gemm({ ...ok(), aOffset: 1 }), /a is too small/);
    assert.throws(() => kernels.gemm({ ...ok(), c: new Float32Array(5) }), /c is too small/);
    assert.throws(() => kernels.gemm({ ...ok(), transB: true }), /ldb \(3\) must be >= 4/);
    assert.throws(() => kernels.gemm({ ...ok(), lda: 3 }), /lda \(3\) must be >= 4/);
    assert.throws(() => kernels.gemm({ ...ok(), m: -1 }), /m must be a non-negative integer/);
    assert.throws(() => kernels.gemm({ ...ok(), k: 1.5 }), /k must be a non-negative integer/);
    assert.throws(() => kernels.gemm({ ...ok(), alpha: Number.NaN }), /alpha must be a finite number/);
    assert.throws(() => kernels.gemm({ ...ok(), b: [1, 2] as unknown as Float32Array }), /b must be a Float32Array/);
    const batched = (): BatchedGemmArgs => ({
      ...ok(), c: new Float32Array(6 * 6), batchOuter: 2, batchInner: 3, strideAOuter: 0, strideAInner: 0,
      strideBOuter: 0, strideBInner: 0, strideCOuter: 18, strideCInner: 6,
    });
    kernels.gemmBatched(batched());
    assert.throws(() => kernels.gemmBatched({ ...batched(), strideCInner: 7 }), /gemmBatched: c is too small.*2x3 batch/);
    assert.throws(() => kernels.gemmBatched({ ...batched(), batchInner: -2 }), /batchInner must be a non-negative integer/);
  }
  const native = backends().find((k) => k.name === 'native');
  if (native) {
    const f64 = new Float64Array(8) as unknown as Float32Array;
    assert.throws(() => native.gemm({ ...ok(), a: f64 }), /a must be a Float32Array, got Float64Array/);
  }
});

test('peak measurement: an FMA loop on every pool thread', () => {
  const addon = loadAddon().addon;
  if (!backends().some((k) => k.name === 'native') || !addon) return;
  const peak = measurePeakGflops(0.05);
  assert.equal(peak.threads, addon.info().threads);
  assert.equal(peak.isa, addon.info().isa);
  // At least one 1-wide multiply-add per nanosecond on some thread, and below any real CPU's limit.
  assert.ok(peak.gflops > 1 && peak.gflops < 1e5, `peak ${peak.gflops} GFLOP/s`);
  assert.throws(() => measurePeakGflops(0), /seconds must be in/);
});
