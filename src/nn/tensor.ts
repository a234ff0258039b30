// Float buffers for parameters and activations.
//
// Everything is typed Float32Array (the kernel interface's element type). Gradient-check
// tests build a float64 copy of a model: the JS kernels index plain numbers and work
// unchanged on Float64Array, so `allocFloats` is the one place where a Float64Array is
// handed out under the Float32Array type. Never pass a float64 model to the native backend.

import { alignedFloat32Array } from '../kernels/aligned.js';

export type DType = 'float32' | 'float64';

/** A zero-filled float buffer of n elements in the given precision (float32 ones start on a cache line). */
export function allocFloats(n: number, dtype: DType): Float32Array {
  if (dtype === 'float32') return alignedFloat32Array(n);
  return new Float64Array(n) as unknown as Float32Array;
}

/** The precision a buffer made by allocFloats was made with. */
export function dtypeOf(a: Float32Array): DType {
  return (a as unknown) instanceof Float64Array ? 'float64' : 'float32';
}
