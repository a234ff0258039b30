// Elementwise kernels that write bf16 GEMM inputs (geluBf16, biasBackwardBf16, biasAddBf16,
// biasGeluBf16, dropoutBf16, softmaxBackwardBf16, geluBackwardBiasBf16): on every backend, instruction set and thread count, each equals its two-step form
// of the same backend bit for bit (gelu then bf16Round; biasBackward, and bf16Round of dy; ...). Native and JS gelu differ in the last
// fp32 bits (test/kernels/elementwise.test.ts), so across backends their bf16 values may differ by
// one rounding step where an fp32 value lies near a bf16 tie. A Linear layer in bf16 gives the same
// gradients with the fused bias pass as without it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomArray } from '../helpers.js';
import { jsKernels, nativeKernels, withPrecision, type Kernels } from '../../src/kernels/index.js';
import { loadAddon } from '../../src/kernels/native/addon.js';
import { Linear } from '../../src/nn/linear.js';
import { ParameterSet, Scope } from '../../src/nn/params.js';

interface Variant {
  name: string;
  k: Kernels;
  run: (fn: () => void) => void;
}

/** JS, and native on each instruction set this CPU has, with 1 and 2 threads. */
function variants(): Variant[] {
  const out: Variant[] = [{ name: 'js', k: jsKernels, run: (fn) => fn() }];
  const native = nativeKernels();
  const addon = loadAddon().addon;
  if (!native || !addon) return out;
  const order = ['scalar', 'avx2', 'avx512'];
  const detected = addon.info().detectedIsa;
  for (const isa of order.slice(0, order.indexOf(detected) + 1)) {
    for (const threads of [1, 2]) {
      out.push({
        name: `native/${isa}/${threads}`, k: native, run: (fn) => {
          const previous = addon.info().isa;
          addon.setIsa(isa);
          addon.setThreads(threads);
          try {
            fn();
          } finally {
            addon.setThreads(0);
            addon.setIsa(previous);
          }
        },
      });
    }
  }
  return out;
}

/** Random values with GELU's interesting inputs mixed in: zeros, denormals, tails, huge, infinite, NaN. */
function inputs(n: number, seed: number, scale: number): Float32Array {
  const x = randomArray(n, seed, scale);
  const special = [0, -0, 1e-40, -1e-40, 1e-30, -1e-30, 9, -9, 17, -17, 3e38, -3e38, Infinity, -Infinity, NaN, 1 + 2 ** -8];
  for (let i = 0; i < n; i += 7) x[i] = special[(i / 7) % special.length]!;
  return x;
}

test('geluBf16 equals bf16Round(gelu(x)) bit for bit on every backend, ISA and thread count', () => {
  // 70,003: several 32,768-element chunks, a partial 256-element block and a partial vector.
  const n = 70_003;
  const x = inputs(n, 5, 4);
  for (const v of variants()) {
    v.run(() => {
      const fp32 = new Float32Array(n);
      v.k.gelu(x, fp32, n);
      const expected = new Uint16Array(n);
      v.k.bf16Round(fp32, expected, n);
      const got = new Uint16Array(n + 1).fill(7);
      v.k.geluBf16(x, got, n);
      assert.deepEqual(got.subarray(0, n), expected, v.name);
      assert.equal(got[n], 7, `${v.name}: writes only n values`);
    });
  }
});

test('native and JS geluBf16 agree to one bf16 rounding step', (t) => {
  const native = nativeKernels();
  if (!native) return t.skip('native addon not built');
  const n = 20_001;
  const x = inputs(n, 6, 5);
  const js = new Uint16Array(n);
  const got = new Uint16Array(n);
  jsKernels.geluBf16(x, js, n);
  native.geluBf16(x, got, n);
  let differ = 0;
  for (let i = 0; i < n; i++) {
    if (got[i] === js[i] || !Number.isFinite(x[i]!)) continue; // gelu(-inf) is a NaN whose sign bit may differ
    differ++;
    // Same sign and exponent neighbourhood: adjacent bf16 values differ by 1 in their bits.
    assert.ok(Math.abs(got[i]! - js[i]!) === 1, `x = ${x[i]}: native ${got[i]} vs JS ${js[i]}`);
  }
  assert.ok(differ < n / 100, `${differ} of ${n} differ`);
});

test('biasBackwardBf16 gives biasBackward\'s sums and bf16Round(dy) bit for bit on every backend, ISA and thread count', () => {
  // Rows not a multiple of the 8-row groups; shapes under and over one reduction chunk (65,536 values).
  for (const [rows, cols] of [[13, 5], [300, 257], [1027, 96], [4, 1]] as const) {
    const n = rows * cols;
    const dy = inputs(n, rows + cols, 3).map((v) => (Number.isFinite(v) && Math.abs(v) < 1e30 ? v : 0.5));
    const start = randomArray(cols, 9);
    for (const v of variants()) {
      v.run(() => {
        const dbiasExpected = Float32Array.from(start);
        v.k.biasBackward(dy, dbiasExpected, rows, cols);
        const roundedExpected = new Uint16Array(n);
        v.k.bf16Round(dy, roundedExpected, n);
        const dbias = Float32Array.from(start);
        const rounded = new Uint16Array(n + 1).fill(7);
        v.k.biasBackwardBf16(dy, dbias, rows, cols, rounded);
        const name = `${v.name} ${rows}x${cols}`;
        assert.deepEqual(dbias, dbiasExpected, `${name}: bias sums`);
        assert.deepEqual(rounded.subarray(0, n), roundedExpected, `${name}: dy rounded`);
        assert.equal(rounded[n], 7, `${name}: writes only rows x cols values`);
      });
    }
  }
});

test('geluBackwardBiasBf16 gives geluBackward then biasBackwardBf16 bit for bit on every backend, ISA and thread count', () => {
  for (const [rows, cols] of [[13, 5], [300, 257], [1027, 96]] as const) {
    const n = rows * cols;
    const x = inputs(n, rows, 4).map((v) => (Number.isFinite(v) ? v : 1.5));
    const dy = randomArray(n, cols, 2);
    const start = randomArray(cols, 3);
    for (const v of variants()) {
      v.run(() => {
        const name = `${v.name} ${rows}x${cols}`;
        const d = new Float32Array(n);
        v.k.geluBackward(x, dy, d, n);
        const dbiasExpected = Float32Array.from(start);
        const expected = new Uint16Array(n);
        v.k.biasBackwardBf16(d, dbiasExpected, rows, cols, expected);
        const dbias = Float32Array.from(start);
        const got = new Uint16Array(n + 1).fill(7);
        v.k.geluBackwardBiasBf16(x, dy, dbias, rows, cols, got);
        assert.deepEqual(dbias, dbiasExpected, `${name}: bias sums`);
        assert.deepEqual(got.subarray(0, n), expected, `${name}: rounded gradient`);
        assert.equal(got[n], 7, `${name}: writes only rows x cols values`);
      });
    }
  }
});

test('biasAddBf16 and biasGeluBf16 give their two-kernel forms bit for bit on every backend, ISA and thread count', () => {
  // Rows of more than one 256-value block with a partial one; several 32,768-value chunks.
  for (const [rows, cols] of [[3, 600], [150, 257], [7, 1]] as const) {
    const n = rows * cols;
    const x = inputs(n, rows * cols, 3);
    const bias = inputs(cols, cols, 1);
    for (const v of variants()) {
      v.run(() => {
        const name = `${v.name} ${rows}x${cols}`;
        const added = new Float32Array(n);
        v.k.biasAdd(x, bias, added, rows, cols);
        const roundedExpected = new Uint16Array(n);
        v.k.bf16Round(added, roundedExpected, n);
        const rounded = new Uint16Array(n + 1).fill(7);
        v.k.biasAddBf16(x, bias, rounded, rows, cols);
        assert.deepEqual(rounded.subarray(0, n), roundedExpected, `${name}: biasAddBf16`);
        assert.equal(rounded[n], 7, `${name}: biasAddBf16 writes only rows x cols values`);
        const geluExpected = new Uint16Array(n);
        v.k.geluBf16(added, geluExpected, n);
        // In place (y = x, as the feed-forward runs it) and into another array.
        for (const inPlace of [true, false]) {
          const xCopy = Float32Array.from(x);
          const y = inPlace ? xCopy : new Float32Array(n);
          const out = new Uint16Array(n);
          v.k.biasGeluBf16(xCopy, bias, y, out, rows, cols);
          assert.deepEqual(y, added, `${name}: biasGeluBf16 y, in place ${inPlace}`);
          assert.deepEqual(out, geluExpected, `${name}: biasGeluBf16 out, in place ${inPlace}`);
        }
      });
    }
  }
});

test('dropoutBf16 and softmaxBackwardBf16 give their two-kernel forms bit for bit on every backend, ISA and thread count', () => {
  // Dropout over several chunks and 256-value blocks with a counter offset; softmax rows of odd width.
  const n = 70_001;
  const x = inputs(n, 12, 2);
  for (const [rows, cols] of [[300, 130], [5, 7]] as const) {
    const m = rows * cols;
    const y = randomArray(m, rows, 1).map(Math.abs);
    const dy = randomArray(m, cols, 1);
    for (const v of variants()) {
      v.run(() => {
        const name = `${v.name} ${rows}x${cols}`;
        const backward = new Float32Array(m);
        v.k.softmaxBackward(y, dy, backward, rows, cols, 0.125);
        const expected = new Uint16Array(m);
        v.k.bf16Round(backward, expected, m);
        const got = new Uint16Array(m + 1).fill(7);
        v.k.softmaxBackwardBf16(y, dy, got, rows, cols, 0.125);
        assert.deepEqual(got.subarray(0, m), expected, `${name}: softmaxBackwardBf16`);
        assert.equal(got[m], 7, `${name}: softmaxBackwardBf16 writes only rows x cols values`);
      });
    }
  }
  for (const v of variants()) {
    v.run(() => {
      for (const [p, offset] of [[0.1, 12_345], [0, 0]] as const) {
        const dropped = new Float32Array(n);
        v.k.dropout(x, dropped, n, p, 77, offset);
        const expected = new Uint16Array(n);
        v.k.bf16Round(dropped, expected, n);
        const got = new Uint16Array(n);
        v.k.dropoutBf16(x, got, n, p, 77, offset);
        assert.deepEqual(got, expected, `${v.name}: dropoutBf16 p ${p}`);
      }
    });
  }
});

test('the fused bf16 kernels refuse short outputs', () => {
  for (const v of variants()) {
    v.run(() => {
      assert.throws(() => v.k.geluBf16(new Float32Array(8), new Uint16Array(7), 8), /y/, v.name);
      assert.throws(() => v.k.biasBackwardBf16(new Float32Array(8), new Float32Array(4), 2, 4, new Uint16Array(7)), /dyBf16/, v.name);
      assert.throws(() => v.k.biasAddBf16(new Float32Array(8), new Float32Array(4), new Uint16Array(7), 2, 4), /out/, v.name);
      const x = new Float32Array(8);
      assert.throws(() => v.k.biasGeluBf16(x, new Float32Array(4), x, new Uint16Array(7), 2, 4), /out/, v.name);
      assert.throws(() => v.k.softmaxBackwardBf16(x, x, new Uint16Array(7), 2, 4, 1), /dx/, v.name);
      assert.throws(() => v.k.dropoutBf16(x, new Uint16Array(7), 8, 0.1, 1, 0), /y/, v.name);
      assert.throws(() => v.k.geluBackwardBiasBf16(x, x, new Float32Array(4), 2, 4, new Uint16Array(7)), /dyBf16/, v.name);
    });
  }
});

test('a bf16 Linear gives the same gradients with its output gradient rounded in the bias pass', () => {
  const scope = new Scope('m', 'm', ['discriminator']);
  for (const v of variants()) {
    v.run(() => {
      const k = withPrecision(v.k, 'bf16');
      const ps = new ParameterSet();
      const lin = Linear.declare(k, ps, scope.child('lin'), 70, 45);
      ps.allocate();
      ps.params.set(randomArray(ps.params.length, 3));
      const rows = 37;
      const x = randomArray(rows * 70, 4);
      const dy = randomArray(rows * 45, 5);
      const backward = (dyBf16?: Uint16Array): { grads: Float32Array; dx: Float32Array } => {
        ps.grads.fill(0.25);
        const dx = randomArray(rows * 70, 6);
        lin.backward(x, dy, dx, rows, true, dyBf16);
        return { grads: Float32Array.from(ps.grads), dx };
      };
      const plain = backward();
      const fused = backward(new Uint16Array(rows * 45));
      assert.deepEqual(fused.grads, plain.grads, `${v.name}: weight and bias gradients`);
      assert.deepEqual(fused.dx, plain.dx, `${v.name}: dx`);
      // A scratch too short for dy is not used (the same results).
      assert.deepEqual(backward(new Uint16Array(rows * 45 - 1)).grads, plain.grads, `${v.name}: short scratch`);
    });
  }
});
