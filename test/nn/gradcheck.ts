// Finite-difference gradient checks in float64 (the JS kernels on Float64Array).
import assert from 'node:assert/strict';
import { jsKernels, type Kernels } from '../../src/kernels/index.js';
import type { ParameterSet } from '../../src/nn/params.js';
import { Rng } from '../../src/nn/random.js';
import { allocFloats } from '../../src/nn/tensor.js';

/** The backend gradient checks run on: the JS kernels, which accept Float64Array. */
export const gradKernels: Kernels = jsKernels;

/** A float64 buffer of uniform values in [-scale, scale). */
export function randomFloat64(n: number, seed: number, scale = 1): Float32Array {
  const a = allocFloats(n, 'float64');
  const rng = new Rng(seed);
  for (let i = 0; i < n; i++) a[i] = (rng.uniform() * 2 - 1) * scale;
  return a;
}

/** Fills every parameter with its initializer, then perturbs so LayerNorm gains and biases are not trivial. */
export function randomizeParams(ps: ParameterSet, seed: number, scale = 0.3): void {
  ps.initialize(seed);
  const rng = new Rng(seed ^ 0x5bd1e995);
  const p = ps.params;
  for (let i = 0; i < p.length; i++) p[i] += (rng.uniform() * 2 - 1) * scale;
}

/** sum(r * y) over the first n elements: a scalar loss whose gradient w.r.t. y is r. */
export function dot(r: Float32Array, y: Float32Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += r[i]! * y[i]!;
  return s;
}

export interface FdOptions {
  /** Elements checked: all when the buffer is at most this long, else a seeded sample of this many. */
  maxChecks?: number;
  h?: number;
  atol?: number;
  rtol?: number;
  seed?: number;
}

/**
 * Compares analytic[i] with (loss(x + h e_i) - loss(x - h e_i)) / 2h for elements of x (restored after).
 * Also asserts the analytic gradient is not all zero where checked, so a dead path cannot pass.
 */
export function checkGradient(what: string, x: Float32Array, analytic: Float32Array, loss: () => number, opts: FdOptions = {}): number {
  const { maxChecks = 40, h = 1e-5, atol = 1e-8, rtol = 1e-5, seed = 7 } = opts;
  assert.equal(analytic.length, x.length, `${what}: gradient length`);
  const indices: number[] = [];
  if (x.length <= maxChecks) for (let i = 0; i < x.length; i++) indices.push(i);
  else {
    const rng = new Rng(seed);
    // Half random, half the largest analytic entries (the ones that matter).
    for (let j = 0; j < maxChecks / 2; j++) indices.push(rng.int(x.length));
    const order = Array.from(analytic, (v, i) => [Math.abs(v), i] as const).sort((a, b) => b[0] - a[0]);
    for (let j = 0; j < maxChecks / 2; j++) indices.push(order[j]![1]);
  }
  let maxAbs = 0;
  let worst = 0;
  for (const i of indices) {
    const saved = x[i]!;
    x[i] = saved + h;
    const plus = loss();
    x[i] = saved - h;
    const minus = loss();
    x[i] = saved;
    const numeric = (plus - minus) / (2 * h);
    const a = analytic[i]!;
    maxAbs = Math.max(maxAbs, Math.abs(a));
    const err = Math.abs(a - numeric);
    worst = Math.max(worst, err / (atol + rtol * Math.max(Math.abs(a), Math.abs(numeric))));
    if (err > atol + rtol * Math.max(Math.abs(a), Math.abs(numeric))) {
      assert.fail(`${what}[${i}]: analytic ${a}, finite difference ${numeric}`);
    }
  }
  assert.ok(maxAbs > 0, `${what}: analytic gradient is zero at every checked element`);
  return worst;
}

/** Checks the gradient of every parameter in the set (gradient arena must hold d loss / d params). */
export function checkParamGradients(ps: ParameterSet, loss: () => number, opts: FdOptions & { skip?: (name: string) => boolean } = {}): void {
  for (const ref of ps.entries) {
    if (opts.skip?.(ref.name)) continue;
    checkGradient(ref.name, ref.value, ref.grad, loss, opts);
  }
}
