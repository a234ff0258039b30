// bf16 GEMM: the JS twin against float64 (bf16 bounds) and against sums
// written out here from the definition in src/kernels/types.ts; the native
// kernels (on AVX-512: VDPBF16PS where the CPU has it and the FMA emulation,
// with and without AVX512_BF16 conversion, each forced; the AVX2 FMA
// emulation; the scalar loop) against the JS twin, bit for bit.
//
// Bound against float64 on the unrounded inputs: each bf16 input errs by at
// most 2^-9 relative, so a product by 2^-8 (+ 2^-18); k fp32 additions add
// k * 2^-24 of the sum of |products|; alpha/beta a few roundings more:
//   |c - ref| <= (2^-8 + 2^-17 + (k + 4) * 2^-24) * (|alpha| sum |a b| + |beta c|), doubled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { randomArray } from '../helpers.js';
import { bf16SpeedNote, jsKernels, nativeKernels, type BatchedGemmArgs, type GemmArgs, type Kernels } from '../../src/kernels/index.js';
import { bf16ToFloat, toBf16 } from '../../src/kernels/js/gemm-bf16.js';
import { loadAddon } from '../../src/kernels/native/addon.js';
import { bf16Addon } from '../../src/kernels/native/gemm-bf16.js';

function f32(x: number): number {
  return Math.fround(x);
}

test('toBf16 rounds to nearest even and flushes denormals', () => {
  assert.equal(toBf16(1), 0x3f80);
  assert.equal(toBf16(1 + 2 ** -8), 0x3f80, 'a tie rounds to the even 1');
  assert.equal(toBf16(1 + 3 * 2 ** -8), 0x3f82, 'a tie rounds up to even');
  assert.equal(toBf16(1 + 2 ** -8 + 2 ** -20), 0x3f81, 'above the tie rounds up');
  assert.equal(toBf16(-2.5), 0xc020);
  assert.equal(toBf16(2 ** -130), 0, 'fp32 denormal -> +0');
  assert.equal(toBf16(-(2 ** -130)), 0x8000, 'fp32 denormal -> -0');
  assert.equal(toBf16(3.4e38), 0x7f80, 'rounds past the largest bf16 to infinity');
  assert.ok(Number.isNaN(bf16ToFloat(toBf16(NaN))));
  assert.equal(bf16ToFloat(0x4049), 3.140625);
});

type Shape = Pick<GemmArgs, 'transA' | 'transB' | 'm' | 'n' | 'k' | 'alpha' | 'beta'>;

function makeArgs(s: Shape, seed: number): GemmArgs {
  const lda = (s.transA ? s.m : s.k) + 3;
  const ldb = (s.transB ? s.k : s.n) + 2;
  const ldc = s.n + 1;
  return {
    ...s,
    a: randomArray((s.transA ? s.k : s.m) * lda, seed),
    lda,
    b: randomArray((s.transB ? s.n : s.k) * ldb, seed + 1, 2),
    ldb,
    c: randomArray(s.m * ldc, seed + 2),
    ldc,
  };
}

const A = (g: GemmArgs, i: number, p: number): number => g.a[g.transA ? p * g.lda + i : i * g.lda + p]!;
const B = (g: GemmArgs, p: number, j: number): number => g.b[g.transB ? j * g.ldb + p : p * g.ldb + j]!;

const shapes: Shape[] = [
  { transA: false, transB: true, m: 29, n: 70, k: 37, alpha: 1, beta: 0 },
  { transA: false, transB: false, m: 13, n: 33, k: 300, alpha: 1, beta: 1 },
  { transA: true, transB: false, m: 40, n: 31, k: 521, alpha: 0.5, beta: 1 },
  { transA: true, transB: true, m: 5, n: 64, k: 1, alpha: -2, beta: 0.25 },
  { transA: false, transB: false, m: 1, n: 1, k: 2, alpha: 1, beta: 0 },
  { transA: false, transB: true, m: 3, n: 4, k: 0, alpha: 1, beta: 0.5 },
];

// Few rows against many columns, B not packed: with several threads, column tasks over all rows
// (A converted whole first, each task packing its own panels a depth block at a time), with row
// blocks, an edge tile, a partial last panel and several depth blocks, for each layout of A and B.
const columnSplitShapes: Shape[] = [
  { transA: true, transB: false, m: 130, n: 300, k: 600, alpha: 1, beta: 0 },
  { transA: true, transB: true, m: 20, n: 100, k: 515, alpha: 0.5, beta: 1 },
  { transA: false, transB: false, m: 50, n: 260, k: 301, alpha: 1, beta: 1 },
];

test('js gemmBf16 is within bf16 bounds of float64 and matches the definition exactly', () => {
  for (const [si, s] of shapes.entries()) {
    const g = makeArgs(s, 10 + si);
    const c0 = Float32Array.from(g.c);
    jsKernels.gemmBf16(g);
    for (let i = 0; i < s.m; i++) {
      for (let j = 0; j < s.n; j++) {
        // float64 on the unrounded inputs.
        let ref = 0;
        let mag = 0;
        for (let p = 0; p < s.k; p++) {
          ref += A(g, i, p) * B(g, p, j);
          mag += Math.abs(A(g, i, p) * B(g, p, j));
        }
        const before = c0[i * g.ldc + j]!;
        ref = s.alpha * ref + s.beta * before;
        const bound = 2 * (2 ** -8 + 2 ** -17 + (s.k + 4) * 2 ** -24) * (Math.abs(s.alpha) * mag + Math.abs(s.beta * before));
        const got = g.c[i * g.ldc + j]!;
        assert.ok(Math.abs(got - ref) <= bound, `shape ${si} (${i}, ${j}): ${got} vs ${ref}, bound ${bound}`);
        // The definition, written out independently: blocks of 256 depths, pairs odd-first.
        const r = (x: number): number => bf16ToFloat(toBf16(x));
        let c = before;
        for (let p0 = 0; p0 < s.k || (p0 === 0 && s.k === 0); p0 += 256) {
          let acc = 0;
          for (let p = p0; p < Math.min(s.k, p0 + 256); p += 2) {
            const odd = p + 1 < s.k ? r(A(g, i, p + 1)) * r(B(g, p + 1, j)) : 0;
            acc = f32(acc + odd);
            acc = f32(acc + r(A(g, i, p)) * r(B(g, p, j)));
          }
          const v = f32(s.alpha * acc);
          if (p0 > 0) c = f32(v + c);
          else c = s.beta === 0 ? v : f32(v + f32(s.beta * c));
          if (s.k === 0) break;
        }
        if (s.k === 0) c = s.beta === 0 ? 0 : f32(s.beta * before);
        assert.equal(got, c, `shape ${si} (${i}, ${j}) against the definition`);
      }
    }
    // Padding columns of C untouched.
    for (let i = 0; i < s.m; i++) assert.equal(g.c[i * g.ldc + s.n], c0[i * g.ldc + s.n]);
  }
});

/** A native bf16 kernel: an instruction set, and on AVX-512 the bf16 kernel setting; `kernel` is bf16Isa(). */
interface NativePath {
  isa: string;
  setting: string;
  kernel: string;
}

/**
 * The native bf16 kernels this CPU can run, each selected through the ISA switch and, on AVX-512,
 * each kernel setBf16Kernel can force (so the FMA emulation runs wherever AVX-512 does, whichever
 * kernel the speed probe would pick).
 */
function nativePaths(): NativePath[] {
  const addon = loadAddon().addon;
  if (!addon || !nativeKernels()) return [];
  const bf16 = bf16Addon(addon);
  const order = ['scalar', 'avx2', 'avx512'];
  const detected = order.indexOf(addon.info().detectedIsa);
  const before = addon.info().isa;
  const setting = bf16.bf16KernelSetting();
  const out: NativePath[] = [];
  for (const isa of order.slice(0, detected + 1)) {
    addon.setIsa(isa);
    if (isa !== 'avx512') {
      out.push({ isa, setting, kernel: bf16.bf16Isa() });
      continue;
    }
    for (const kernel of ['vdpbf16ps', 'emulated', 'emulated-avx512f']) {
      let name: string;
      try {
        name = bf16.setBf16Kernel(kernel);
      } catch {
        continue;  // VDPBF16PS on a CPU without avx512_bf16
      }
      // Without avx512_bf16, 'emulated' is 'emulated-avx512f': one path each kernel.
      if (!out.some((p) => p.kernel === name)) out.push({ isa, setting: kernel, kernel: name });
    }
    bf16.setBf16Kernel(setting);
  }
  addon.setIsa(before);
  return out;
}

function withPath(path: NativePath, fn: () => void): void {
  const addon = loadAddon().addon!;
  const bf16 = bf16Addon(addon);
  const before = addon.info().isa;
  const setting = bf16.bf16KernelSetting();
  addon.setIsa(path.isa);
  if (path.isa === 'avx512') bf16.setBf16Kernel(path.setting);
  try {
    assert.equal(bf16.bf16Isa(), path.kernel);
    fn();
  } finally {
    if (path.isa === 'avx512') bf16.setBf16Kernel(setting);
    addon.setIsa(before);
  }
}

test('the bf16 kernel switch: every AVX-512 CPU runs the FMA emulation when forced, VDPBF16PS only where it exists', (t) => {
  const addon = loadAddon().addon;
  if (!addon || !nativeKernels()) return t.skip('native addon not built');
  const bf16 = bf16Addon(addon);
  const setting = bf16.bf16KernelSetting();
  assert.throws(() => bf16.setBf16Kernel('fastest'), /unknown kernel 'fastest'/);
  assert.equal(bf16.bf16KernelSetting(), setting, 'a rejected name changes nothing');
  const paths = nativePaths();
  const kernels = paths.map((p) => p.kernel);
  const info = addon.info();
  if (info.detectedIsa === 'avx512') {
    assert.ok(kernels.includes('avx512f-emulated'), kernels.join());
    const hasBf16 = kernels.includes('avx512bf16');
    if (process.platform === 'linux') assert.equal(hasBf16, /avx512_bf16/.test(readFileSync('/proc/cpuinfo', 'utf8')), 'VDPBF16PS runs where the CPU has it');
    if (hasBf16) assert.ok(kernels.includes('avx512-emulated'), kernels.join());
    // The automatic choice is one of them, and the peak figure is the running kernel's.
    const before = info.isa;
    addon.setIsa('avx512');
    try {
      bf16.setBf16Kernel('auto');
      assert.ok((hasBf16 ? ['avx512bf16', 'avx512-emulated'] : ['avx512f-emulated']).includes(bf16.bf16Isa()), bf16.bf16Isa());
      for (const path of paths.filter((p) => p.isa === 'avx512')) {
        assert.equal(bf16.setBf16Kernel(path.setting), path.kernel);
        assert.equal(bf16.bf16KernelSetting(), path.setting);
        assert.equal(bf16.bf16PeakGflops(0.001).isa, path.kernel);
      }
    } finally {
      bf16.setBf16Kernel(setting);
      addon.setIsa(before);
    }
  } else {
    assert.throws(() => bf16.setBf16Kernel('emulated'), /needs AVX-512/);
    assert.throws(() => bf16.setBf16Kernel('vdpbf16ps'), /does not support VDPBF16PS/);
  }
});

test('native gemmBf16 equals the JS twin bit for bit on every instruction set', (t) => {
  const native = nativeKernels();
  if (!native) return t.skip('native addon not built');
  const extra: Shape[] = [
    // Full tiles, several depth blocks and column blocks, threads sharing the work.
    { transA: false, transB: true, m: 100, n: 130, k: 600, alpha: 1, beta: 0 },
    // An 11-row edge tile under 12 or 14 rows, a whole panel, a last depth block of one depth.
    { transA: true, transB: true, m: 47, n: 32, k: 257, alpha: -1, beta: 0.5 },
    { transA: true, transB: false, m: 64, n: 96, k: 777, alpha: 1, beta: 1 },
    ...columnSplitShapes,
  ];
  const paths = nativePaths();
  // One thread packs an unpacked B one depth block at a time; several threads pack it whole first, or
  // (few rows) convert A whole and split the columns (columnSplitShapes).
  const addon = loadAddon().addon!;
  const poolThreads = addon.info().threads;
  for (const path of paths) {
    for (const threads of [1, 2]) withPath(path, () => {
      addon.setThreads(threads);
      try {
        for (const [si, s] of [...shapes, ...extra].entries()) {
          const expected = makeArgs(s, 40 + si);
          const got = makeArgs(s, 40 + si);
          jsKernels.gemmBf16(expected);
          native.gemmBf16(got);
          assert.deepEqual(got.c, expected.c, `${path.kernel}: shape ${si}`);
          // Pre-packed B: the same bytes as the JS pack, the same product.
          const packedJs = jsKernels.packBf16(got.b, s.transB, s.k, s.n, got.ldb);
          const packed = native.packBf16(got.b, s.transB, s.k, s.n, got.ldb);
          assert.deepEqual(packed.data, packedJs.data, `${path.kernel}: pack ${si}`);
          const again = makeArgs(s, 40 + si);
          native.gemmBf16Packed({ ...again, b: packed });
          assert.deepEqual(again.c, expected.c, `${path.kernel}: packed shape ${si}`);
        }
      } finally {
        addon.setThreads(poolThreads);
      }
    });
  }
});

test('native bf16 conversion rounds ties, denormals, overflow and NaN as the JS twin on every instruction set', (t) => {
  const native = nativeKernels();
  if (!native) return t.skip('native addon not built');
  // Ties (1 + 2^-8 rounds down to even, 1 + 3 * 2^-8 up), denormals (to signed zero), values that
  // round past the largest bf16 (to infinity), infinities and NaN, among ordinary values.
  const special = [1 + 2 ** -8, 1 + 3 * 2 ** -8, -(1 + 2 ** -8), 2 ** -130, -(2 ** -130), 3.4e38, -3.4e38, Infinity, -Infinity, NaN, 0, -0];
  const fill = (n: number, seed: number): Float32Array => {
    const x = randomArray(n, seed);
    for (let i = 0; i < n; i += 3) x[i] = special[(i / 3 + seed) % special.length]!;
    return x;
  };
  for (const path of nativePaths()) {
    withPath(path, () => {
      // Packing B, rows contiguous or (transB) columns contiguous, several panels and a partial one.
      for (const [k, n] of [[37, 70], [4, 33], [1, 16]] as const) {
        const b = fill(k * n, k + n);
        assert.deepEqual(native.packBf16(b, false, k, n, n).data, jsKernels.packBf16(b, false, k, n, n).data, `${path.kernel}: pack ${k}x${n}`);
        assert.deepEqual(native.packBf16(b, true, k, n, k).data, jsKernels.packBf16(b, true, k, n, k).data, `${path.kernel}: pack ${k}x${n}, transB`);
      }
      // A's row-major and pair-major conversions, through products with finite values only
      // (infinities and NaN would only give NaN sums, hiding the conversion).
      const finite = special.filter((v) => Number.isFinite(v) && Math.abs(v) < 1e30);
      for (const transA of [false, true]) {
        const m = 27, n = 35, kk = 61;
        const a = randomArray(m * kk, 7);
        for (let i = 0; i < a.length; i += 2) a[i] = finite[i % finite.length]!;
        const b = randomArray(kk * n, 8);
        const args = (): GemmArgs => ({
          transA, transB: false, m, n, k: kk, alpha: 1, beta: 0, a, lda: transA ? m : kk, b, ldb: n, c: new Float32Array(m * n), ldc: n,
        });
        const expected = args();
        const got = args();
        jsKernels.gemmBf16(expected);
        native.gemmBf16(got);
        assert.deepEqual(got.c, expected.c, `${path.kernel}: transA ${transA}`);
      }
    });
  }
});

test('native gemmBatchedBf16 equals the JS twin, and each product gemmBf16, on every instruction set', (t) => {
  const native = nativeKernels();
  if (!native) return t.skip('native addon not built');
  // Attention's four products on 2 sequences x 3 heads: Q K^T, P V, P^T dC, dC V^T (head width 10, 37 tokens).
  const S = 37, dh = 10, nh = 3, batch = 2, W = 3 * nh * dh, H = nh * dh;
  const qkv = randomArray(batch * S * W, 61);
  const probs = randomArray(batch * nh * S * S, 62);
  const cases: { name: string; args: () => BatchedGemmArgs }[] = [
    { name: 'scores (NT)', args: () => ({ batchOuter: batch, batchInner: nh, transA: false, transB: true, m: S, n: S, k: dh, alpha: 1, beta: 0,
      a: qkv, lda: W, strideAOuter: S * W, strideAInner: dh, b: qkv, bOffset: H, ldb: W, strideBOuter: S * W, strideBInner: dh,
      c: new Float32Array(batch * nh * S * S), ldc: S, strideCOuter: nh * S * S, strideCInner: S * S }) },
    { name: 'context (NN)', args: () => ({ batchOuter: batch, batchInner: nh, transA: false, transB: false, m: S, n: dh, k: S, alpha: 1, beta: 0,
      a: probs, lda: S, strideAOuter: nh * S * S, strideAInner: S * S, b: qkv, bOffset: 2 * H, ldb: W, strideBOuter: S * W, strideBInner: dh,
      c: randomArray(batch * S * H, 63), ldc: H, strideCOuter: S * H, strideCInner: dh }) },
    { name: 'dV (TN, beta 1)', args: () => ({ batchOuter: batch, batchInner: nh, transA: true, transB: false, m: S, n: dh, k: S, alpha: 0.5, beta: 1,
      a: probs, lda: S, strideAOuter: nh * S * S, strideAInner: S * S, b: qkv, ldb: W, strideBOuter: S * W, strideBInner: dh,
      c: randomArray(batch * S * W, 64), cOffset: 2 * H, ldc: W, strideCOuter: S * W, strideCInner: dh }) },
  ];
  for (const path of nativePaths()) {
    withPath(path, () => {
      for (const c of cases) {
        const expected = c.args();
        const got = c.args();
        jsKernels.gemmBatchedBf16(expected);
        native.gemmBatchedBf16(got);
        assert.deepEqual(got.c, expected.c, `${path.kernel}: ${c.name}`);
        // A and B as bf16 values (attention keeps q | k | v so): the same products, on both backends.
        const a16 = new Uint16Array(got.a.length);
        const b16 = new Uint16Array(got.b.length);
        native.bf16Round(got.a, a16, a16.length);
        native.bf16Round(got.b, b16, b16.length);
        for (const k of [jsKernels, native]) {
          const rounded = c.args();
          k.gemmBatchedBf16({ ...rounded, a: a16, b: b16 });
          assert.deepEqual(rounded.c, expected.c, `${path.kernel}: ${c.name}, bf16 operands (${k.name})`);
        }
        // The batch is its products: the last one again through gemmBf16 on its own.
        const one = c.args();
        const io = batch - 1, ii = nh - 1;
        native.gemmBf16({ ...one, aOffset: (one.aOffset ?? 0) + io * one.strideAOuter + ii * one.strideAInner,
          bOffset: (one.bOffset ?? 0) + io * one.strideBOuter + ii * one.strideBInner,
          cOffset: (one.cOffset ?? 0) + io * one.strideCOuter + ii * one.strideCInner });
        const at = (one.cOffset ?? 0) + io * one.strideCOuter + ii * one.strideCInner;
        for (let i = 0; i < one.m; i++) {
          for (let j = 0; j < one.n; j++) assert.equal(one.c[at + i * one.ldc + j], got.c[at + i * one.ldc + j], `${path.kernel}: ${c.name} (${i}, ${j})`);
        }
      }
    });
  }
  const args = cases[0]!.args();
  assert.throws(() => native.gemmBatchedBf16({ ...args, batchOuter: 3 }), /gemmBatchedBf16.*too small|too small/);
});

test('bf16Round rounds as the GEMMs do, and bf16 operands give the products of their fp32 sources, on every backend', (t) => {
  const native = nativeKernels();
  const backends: { name: string; k: Kernels; path?: NativePath; threads?: number }[] = [{ name: 'js', k: jsKernels }];
  const addon = loadAddon().addon;
  if (native && addon) {
    for (const path of nativePaths()) for (const threads of [1, 2]) backends.push({ name: `${path.kernel}/${threads}`, k: native, path, threads });
  } else t.diagnostic('native addon not built: JS backend only');
  // Conversion: ties, denormals, overflow, NaN among ordinary values; odd lengths and offsets.
  const x = randomArray(40_003, 91);
  const special = [1 + 2 ** -8, 1 + 3 * 2 ** -8, 2 ** -130, -(2 ** -130), 3.4e38, -Infinity, NaN, -0];
  for (let i = 0; i < x.length; i += 5) x[i] = special[(i / 5) % special.length]!;
  const expectedBits = Uint16Array.from(x, (v) => toBf16(v));
  const poolThreads = addon?.info().threads ?? 1;
  const run = (b: (typeof backends)[number], fn: () => void): void => {
    if (!b.path) return fn();
    withPath(b.path, () => {
      addon!.setThreads(b.threads!);
      try {
        fn();
      } finally {
        addon!.setThreads(poolThreads);
      }
    });
  };
  const extra: Shape[] = [{ transA: true, transB: false, m: 64, n: 96, k: 777, alpha: 1, beta: 1 }, ...columnSplitShapes];
  for (const b of backends) {
    run(b, () => {
      const out = new Uint16Array(x.length + 4).fill(7);
      b.k.bf16Round(x, out, x.length - 2, 1, 3);
      assert.deepEqual(out.subarray(3, x.length + 1), expectedBits.subarray(1, x.length - 1), `${b.name}: bf16Round`);
      assert.deepEqual([out[0], out[1], out[2], out[x.length + 1]], [7, 7, 7, 7], `${b.name}: bf16Round writes only its span`);
      for (const [si, s] of [...shapes, ...extra].entries()) {
        const expected = makeArgs(s, 70 + si);
        jsKernels.gemmBf16(expected);
        const a16 = new Uint16Array(expected.a.length);
        const b16 = new Uint16Array(expected.b.length);
        b.k.bf16Round(expected.a, a16, a16.length);
        b.k.bf16Round(expected.b, b16, b16.length);
        for (const [which, a, bb] of [['A', a16, null], ['B', null, b16], ['A and B', a16, b16]] as const) {
          const got = makeArgs(s, 70 + si);
          b.k.gemmBf16({ ...got, a: a ?? got.a, b: bb ?? got.b });
          assert.deepEqual(got.c, expected.c, `${b.name}: shape ${si}, ${which} in bf16`);
        }
        const packed = b.k.packBf16(expected.b, s.transB, s.k, s.n, expected.ldb);
        const got = makeArgs(s, 70 + si);
        b.k.gemmBf16Packed({ ...got, a: a16, b: packed });
        assert.deepEqual(got.c, expected.c, `${b.name}: shape ${si}, packed B, A in bf16`);
      }
    });
  }
  for (const k of [jsKernels, native].filter((v): v is Kernels => v !== null)) {
    assert.throws(() => k.bf16Round(x, new Uint16Array(10), 11), /out is too small/);
    const args = makeArgs(shapes[0]!, 1);
    assert.throws(() => k.gemmBf16({ ...args, a: new Uint16Array(3) }), /a is too small/);
    assert.throws(() => k.gemmBatchedBf16({ ...args, a: new Uint16Array(args.a.length), batchOuter: 2, batchInner: 1,
      strideAOuter: args.a.length, strideAInner: 0, strideBOuter: 0, strideBInner: 0, strideCOuter: 0, strideCInner: 0 }), /a is too small/);
  }
});

test('bf16 argument errors name what was expected', () => {
  for (const k of [jsKernels, nativeKernels()].filter((x): x is Kernels => x !== null)) {
    const packed = k.packBf16(new Float32Array(12), false, 3, 4, 4);
    assert.throws(() => k.gemmBf16Packed({ transA: false, m: 2, n: 4, k: 2, alpha: 1, beta: 0, a: new Float32Array(4), lda: 2, b: packed, c: new Float32Array(8), ldc: 4 }),
      /packed as 3x4, but op\(B\) is 2x4/);
    assert.throws(() => k.packBf16(new Float32Array(5), false, 3, 4, 4), /b is too small/);
    assert.throws(() => k.gemmBf16({ transA: false, transB: false, m: 2, n: 2, k: 2, alpha: 1, beta: 0, a: new Float32Array(3), lda: 2, b: new Float32Array(4), ldb: 2, c: new Float32Array(4), ldc: 2 }),
      /a is too small/);
  }
});

test('bf16SpeedNote says when bf16 products run emulated (no faster than fp32), and is silent for VDPBF16PS', () => {
  assert.match(bf16SpeedNote(jsKernels)!, /^precision bf16: .*\(js kernel\).*no faster than fp32$/);
  const native = nativeKernels();
  if (!native) return;
  for (const path of nativePaths()) {
    withPath(path, () => {
      const note = bf16SpeedNote(native);
      if (path.kernel === 'avx512bf16') assert.equal(note, null);
      else assert.ok(note?.includes(`(${path.kernel} kernel`), `${path.kernel}: ${note}`);
    });
  }
});
