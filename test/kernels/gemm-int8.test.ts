// int8 dynamic-quantization GEMM: the JS twin against float64 (quantization
// bounds) and against the definition written out here; the native kernels
// (AMX TDPBUSD and VPDPBUSD where the CPU has them, AVX2 VPMADDWD, scalar)
// against the JS twin bit for bit.
//
// Bound: a row of A quantized with step s_a errs by at most s_a / 2 per
// element, a weight by s_w / 2, so |c - ref| <= sum_p (|a| s_w / 2 + |w| s_a / 2 + s_a s_w / 4),
// plus a few fp32 roundings of |c|; checked at twice that.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { randomArray } from '../helpers.js';
import { jsKernels, nativeKernels, quantizeWeightsInt8, type Int8GemmArgs, type Kernels } from '../../src/kernels/index.js';
import { roundHalfEven } from '../../src/kernels/int8.js';
import { loadAddon } from '../../src/kernels/native/addon.js';
import { int8Addon } from '../../src/kernels/native/gemm-int8.js';

test('roundHalfEven rounds ties to even', () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -2.6].map(roundHalfEven), [0, 2, 2, -0, -2, -2, 2, -3]);
});

test('weights are quantized per output column, symmetric, and packed in depth quads', () => {
  const w = Float32Array.from([1, -0.5, 0.25, 0, 0.1, /* row 1 */ 0, 0, 0, 0, 0, /* row 2 */ -2, 1, 0.5, 0.3, 0.9]);
  const p = quantizeWeightsInt8(w, 3, 5, 5);
  assert.deepEqual([...p.scale], [Math.fround(1 / 127), 1, Math.fround(2 / 127)]);
  // Row 0: 127 * [1, -0.5, 0.25, 0, 0.1] = [127, -63.5 -> -64 (even), 31.75 -> 32, 0, 12.7 -> 13].
  const at = (j: number, d: number): number => p.data[Math.floor(j / 32) * 2 * 128 + (j % 32) * 4 + Math.floor(d / 4) * 128 + (d % 4)]!;
  assert.deepEqual([0, 1, 2, 3, 4].map((d) => at(0, d)), [127, -64, 32, 0, 13]);
  assert.deepEqual([0, 1, 2, 3, 4].map((d) => at(1, d)), [0, 0, 0, 0, 0]);
  assert.equal(at(2, 0), -127);
  assert.equal(p.colSum[0], 127 - 64 + 32 + 13);
  assert.equal(p.data[7], 0, 'depth past k is zero');
});

interface Shape { m: number; n: number; k: number; bias: boolean }

function makeArgs(s: Shape, seed: number): Int8GemmArgs & { w: Float32Array } {
  const lda = s.k + 5;
  const ldc = s.n + 3;
  const w = randomArray(s.n * s.k, seed + 1, 0.2);
  const a = randomArray(s.m * lda, seed, 2);
  // A row of zeros and a row of one sign exercise the zero-point edge cases.
  if (s.m > 2) {
    a.fill(0, lda, lda + s.k);
    for (let p = 0; p < s.k; p++) a[2 * lda + p] = Math.abs(a[2 * lda + p]!) + 0.5;
  }
  return {
    m: s.m, n: s.n, k: s.k, a, lda, b: quantizeWeightsInt8(w, s.n, s.k, s.k), w,
    bias: s.bias ? randomArray(s.n, seed + 2) : null, c: randomArray(s.m * ldc, seed + 3), ldc,
  };
}

const shapes: Shape[] = [
  { m: 7, n: 70, k: 37, bias: true },
  { m: 30, n: 33, k: 256, bias: false },
  { m: 13, n: 5, k: 1, bias: true },
  { m: 3, n: 1, k: 9, bias: true },
];

test('js gemmInt8 is within quantization bounds of float64 and follows the definition', () => {
  for (const [si, s] of shapes.entries()) {
    const g = makeArgs(s, 20 + si);
    const before = Float32Array.from(g.c);
    jsKernels.gemmInt8(g);
    for (let i = 0; i < s.m; i++) {
      const row = g.a.subarray(i * g.lda, i * g.lda + s.k);
      const lo = Math.min(0, ...row);
      const hi = Math.max(0, ...row);
      const sa = Math.fround(Math.fround(hi - lo) / 255) || 1;
      for (let j = 0; j < s.n; j++) {
        let ref = g.bias ? g.bias[j]! : 0;
        let bound = 0;
        const sw = g.b.scale[j]!;
        for (let p = 0; p < s.k; p++) {
          const x = row[p]!;
          const w = g.w[j * s.k + p]!;
          ref += x * w;
          bound += Math.abs(x) * sw / 2 + Math.abs(w) * sa / 2 + sa * sw / 4;
        }
        const got = g.c[i * g.ldc + j]!;
        const tol = 2 * (bound + 4 * 2 ** -24 * (Math.abs(ref) + bound));
        assert.ok(Math.abs(got - ref) <= tol, `shape ${si} (${i}, ${j}): ${got} vs ${ref}, bound ${tol}`);
      }
      for (let j = s.n; j < g.ldc && i * g.ldc + j < g.c.length; j++) assert.equal(g.c[i * g.ldc + j], before[i * g.ldc + j], 'padding untouched');
    }
  }
});

test('native gemmInt8 equals the JS twin bit for bit on every instruction set', (t) => {
  const native = nativeKernels();
  if (!native) return t.skip('native addon not built');
  const addon = loadAddon().addon!;
  const order = ['scalar', 'avx2', 'avx512'];
  const detected = order.indexOf(addon.info().detectedIsa);
  const before = addon.info().isa;
  const int8 = int8Addon(addon);
  const seen: string[] = [];
  // m = 256 and 257: row blocks of equal shares that are not whole 12-row tiles (the driver's split for ELECTRA's 2-sequence chunks).
  const big: Shape[] = [
    { m: 100, n: 130, k: 300, bias: true }, { m: 64, n: 96, k: 1030, bias: false },
    { m: 256, n: 64, k: 64, bias: true }, { m: 257, n: 40, k: 36, bias: false },
  ];
  // Depths of whole AMX tiles (64), with row counts under, at and past its 16- and 32-row blocks.
  const wholeTiles: Shape[] = [
    { m: 100, n: 130, k: 256, bias: true }, { m: 17, n: 40, k: 64, bias: false },
    { m: 1, n: 33, k: 128, bias: true }, { m: 45, n: 64, k: 1024, bias: true },
  ];
  try {
    for (const isa of order.slice(0, detected + 1)) {
      addon.setIsa(isa);
      for (const amx of [false, true]) {
        int8.setInt8Amx(amx);
        const kernel = int8.int8Isa();
        if (seen.includes(kernel)) continue;
        seen.push(kernel);
        for (const [si, s] of [...shapes, ...big, ...wholeTiles].entries()) {
          const expected = makeArgs(s, 50 + si);
          const got = makeArgs(s, 50 + si);
          jsKernels.gemmInt8(expected);
          native.gemmInt8(got);
          assert.deepEqual(got.c, expected.c, `${kernel}: shape ${si}`);
        }
      }
    }
  } finally {
    addon.setIsa(before);
    int8.setInt8Amx(true);
  }
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  if (detected === 2 && /avx512_vnni/.test(cpuinfo)) assert.ok(seen.includes('avx512vnni'), seen.join());
  // Linux lists amx_int8 only where the kernel supports the tile state, which it then grants on request.
  if (detected === 2 && /avx512_vnni/.test(cpuinfo) && /\bamx_int8\b/.test(cpuinfo)) assert.ok(seen.includes('avx512amx'), seen.join());
});

test('gemmInt8 argument errors name what was expected', () => {
  for (const k of [jsKernels, nativeKernels()].filter((x): x is Kernels => x !== null)) {
    const b = quantizeWeightsInt8(new Float32Array(12), 3, 4, 4);
    assert.throws(() => k.gemmInt8({ m: 2, n: 3, k: 5, a: new Float32Array(10), lda: 5, b, bias: null, c: new Float32Array(6), ldc: 3 }),
      /quantized as 4x3, but op\(B\) is 5x3/);
    assert.throws(() => k.gemmInt8({ m: 2, n: 3, k: 4, a: new Float32Array(5), lda: 4, b, bias: null, c: new Float32Array(6), ldc: 3 }),
      /a is too small/);
    assert.throws(() => k.gemmInt8({ m: 2, n: 3, k: 4, a: new Float32Array(8), lda: 4, b, bias: new Float32Array(2), c: new Float32Array(6), ldc: 3 }),
      /bias must be null or a Float32Array of at least n = 3/);
  }
});

test('the gelu and residual epilogues give the bits of the separate gelu and add kernels', (t) => {
  const native = nativeKernels();
  const addon = native ? loadAddon().addon! : null;
  const isas = addon ? ['scalar', 'avx2', 'avx512'].slice(0, ['scalar', 'avx2', 'avx512'].indexOf(addon.info().detectedIsa) + 1) : [];
  const before = addon?.info().isa;
  // n = 600: tasks of several column blocks, so the epilogue runs on row segments past column 0.
  // k = 128: whole AMX tiles where the CPU has them.
  const fusedShapes: Shape[] = [{ m: 100, n: 600, k: 40, bias: true }, { m: 7, n: 70, k: 37, bias: false }, { m: 45, n: 600, k: 128, bias: true }];
  const runs: [string, Kernels, string | null][] = [['js', jsKernels, null], ...isas.map((i): [string, Kernels, string] => [`native ${i}`, native!, i])];
  if (!native) t.diagnostic('native addon not built: JS only');
  try {
    for (const [name, k, isa] of runs) {
      if (isa) addon!.setIsa(isa);
      for (const [si, s] of fusedShapes.entries()) {
        for (const [gelu, residual] of [[true, false], [false, true], [true, true]] as const) {
          const plain = makeArgs(s, 80 + si);
          const fused = makeArgs(s, 80 + si);
          const res = residual ? randomArray(fused.c.length, 90 + si) : null;
          k.gemmInt8({ ...fused, gelu, residual: res });
          k.gemmInt8(plain);
          for (let i = 0; i < s.m; i++) {
            const row = plain.c.subarray(i * plain.ldc, i * plain.ldc + s.n);
            if (gelu) k.gelu(row, row, s.n);
            if (res) k.add(row, res.subarray(i * plain.ldc), row, s.n);
          }
          assert.deepEqual(fused.c, plain.c, `${name}: shape ${si}, gelu ${gelu}, residual ${residual}`);
        }
      }
    }
  } finally {
    if (before) addon!.setIsa(before);
  }
});

test('gemmInt8 refuses a residual smaller than c', () => {
  for (const k of [jsKernels, nativeKernels()].filter((x): x is Kernels => x !== null)) {
    const b = quantizeWeightsInt8(new Float32Array(12), 3, 4, 4);
    assert.throws(() => k.gemmInt8({ m: 2, n: 3, k: 4, a: new Float32Array(8), lda: 4, b, bias: null, c: new Float32Array(6), ldc: 3,
      residual: new Float32Array(5) }), /residual is too small for 2 rows of 3/);
  }
});

test('the layerNorm epilogue gives the bits of a separate layerNorm call, after the residual', (t) => {
  const native = nativeKernels();
  if (!native) t.diagnostic('native addon not built: JS only');
  // n = 600: more columns than one task's block would take without the epilogue (tasks then span whole rows).
  const lnShapes: Shape[] = [{ m: 100, n: 600, k: 40, bias: true }, { m: 7, n: 70, k: 37, bias: false }, { m: 30, n: 33, k: 256, bias: true }];
  for (const k of [jsKernels, native].filter((x): x is Kernels => x !== null)) {
    for (const [si, s] of lnShapes.entries()) {
      const fused = { ...makeArgs(s, 60 + si), ldc: s.n, c: new Float32Array(s.m * s.n + 4) };
      const res = randomArray(fused.c.length, 70 + si);
      const ln = {
        gamma: randomArray(s.n, 71 + si, 2), beta: randomArray(s.n, 72 + si), out: new Float32Array(fused.c.length),
        mean: new Float32Array(s.m), rstd: new Float32Array(s.m), eps: 1e-12,
      };
      k.gemmInt8({ ...fused, cOffset: 4, residual: res, layerNorm: ln });
      const plain = { ...fused, c: new Float32Array(fused.c.length) };
      k.gemmInt8({ ...plain, cOffset: 4, residual: res });
      assert.deepEqual(fused.c, plain.c, `${k.name}: shape ${si}: C itself`);
      const out = new Float32Array(s.m * s.n);
      const mean = new Float32Array(s.m);
      const rstd = new Float32Array(s.m);
      k.layerNorm(plain.c.subarray(4), ln.gamma, ln.beta, out, mean, rstd, s.m, s.n, ln.eps);
      assert.deepEqual(ln.out.subarray(4), out, `${k.name}: shape ${si}: LayerNorm output`);
      assert.deepEqual([ln.mean, ln.rstd], [mean, rstd], `${k.name}: shape ${si}: mean and rstd`);
      assert.equal(ln.out[3], 0, 'before cOffset untouched');
    }
    const b = quantizeWeightsInt8(new Float32Array(12), 3, 4, 4);
    const c = new Float32Array(8);
    const ln = { gamma: new Float32Array(3), beta: new Float32Array(3), out: new Float32Array(8), mean: new Float32Array(2), rstd: new Float32Array(2), eps: 0 };
    assert.throws(() => k.gemmInt8({ m: 2, n: 3, k: 4, a: new Float32Array(8), lda: 4, b, bias: null, c, ldc: 4, layerNorm: ln }),
      /layerNorm epilogue needs ldc = n \(3\), got 4/);
    assert.throws(() => k.gemmInt8({ m: 2, n: 3, k: 4, a: new Float32Array(8), lda: 4, b, bias: null, c, ldc: 3, layerNorm: { ...ln, mean: new Float32Array(1) } }),
      /layerNorm.mean and rstd need m = 2/);
  }
});

test('electra info names the int8 kernel, and ELECTRA_AMX=0 turns AMX off', (t) => {
  if (!nativeKernels()) return t.skip('native addon not built');
  const cli = fileURLToPath(new URL('../../../bin/electra.js', import.meta.url));
  const info = (env: Record<string, string>): { int8Kernel: string; bf16Kernel: string } => {
    const r = spawnSync(process.execPath, [cli, 'info'], { encoding: 'utf8', env: { ...process.env, ...env } });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const amx = /\bamx_int8\b/.test(cpuinfo) && /avx512_vnni/.test(cpuinfo) && loadAddon().addon!.info().isa === 'avx512';
  assert.equal(info({}).int8Kernel, amx ? 'avx512amx' : int8Addon(loadAddon().addon!).int8Isa());
  const off = info({ ELECTRA_AMX: '0' });
  assert.notEqual(off.int8Kernel, 'avx512amx');
  assert.equal(typeof off.bf16Kernel, 'string');
});
