// Tensor buffers start on a 64-byte cache line where the native addon can tell (V8 places large
// buffers 16 bytes past one, which splits every AVX-512 access of the native kernels in two).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alignedFloat32Array } from '../../src/kernels/aligned.js';
import { loadAddon } from '../../src/kernels/native/addon.js';
import { allocFloats } from '../../src/nn/tensor.js';

const addon = loadAddon().addon;

test('cacheLineOffset reports where a typed array starts relative to a 64-byte line', () => {
  if (!addon) {
    // Without the addon nothing can say where a buffer starts: tensors are plain arrays.
    assert.equal(alignedFloat32Array(4096).byteOffset, 0);
    return;
  }
  const plain = new Float32Array(1 << 20);
  const offset = addon!.cacheLineOffset(plain);
  assert.ok(offset >= 0 && offset < 64 && offset % 4 === 0, `offset ${offset}`);
  // A view k floats further starts 4k bytes further.
  for (const k of [1, 3, 4, 15, 16, 17]) assert.equal(addon!.cacheLineOffset(plain.subarray(k)), (offset + 4 * k) % 64);
  assert.throws(() => addon!.cacheLineOffset(42 as unknown as Float32Array), /cacheLineOffset: expected a typed array/);
});

test('large float32 tensors start on a cache line, zero-filled, with their own length', () => {
  for (const n of [1024, 1025, 4099, 1 << 20]) {
    for (const a of [alignedFloat32Array(n), allocFloats(n, 'float32')]) {
      assert.ok(a instanceof Float32Array);
      assert.equal(a.length, n);
      assert.ok(a.every((v) => v === 0));
      if (addon) assert.equal(addon.cacheLineOffset(a), 0, `n = ${n}`);
      // Writes stay inside the view's own elements.
      a.fill(1);
      const whole = new Float32Array(a.buffer);
      assert.equal(whole.reduce((s, v) => s + v, 0), n);
    }
  }
  // Small ones (which V8 may keep on its moving heap) and float64 buffers are plain arrays.
  assert.equal(alignedFloat32Array(7).byteOffset, 0);
  assert.ok((allocFloats(5000, 'float64') as unknown) instanceof Float64Array);
});
