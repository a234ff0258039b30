// Argument checks shared by both GEMM backends, so bad input fails the same way
// (with a message naming what was expected) whichever backend runs.
import type { AttentionContextArgs, BatchedGemmArgs, Bf16BatchedGemmArgs, Bf16GemmArgs, GemmArgs, Int8GemmArgs, PackedBf16, PackedGemmArgs } from './types.js';
import { packedInt8Length } from './int8.js';

/** Offsets with their defaults filled in. */
export interface GemmOffsets {
  aOffset: number;
  bOffset: number;
  cOffset: number;
}

/** A two-level batch; a plain GEMM is the batch 1 x 1 with zero strides. */
interface Batch {
  outer: number;
  inner: number;
  aOuter: number;
  aInner: number;
  bOuter: number;
  bInner: number;
  cOuter: number;
  cInner: number;
}

const single: Batch = { outer: 1, inner: 1, aOuter: 0, aInner: 0, bOuter: 0, bInner: 0, cOuter: 0, cInner: 0 };

function count(fn: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${fn}: ${name} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

function finite(fn: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RangeError(`${fn}: ${name} must be a finite number, got ${String(value)}`);
  }
  return value;
}

function flag(fn: string, name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${fn}: ${name} must be a boolean, got ${String(value)}`);
  return value;
}

function floatArray(fn: string, name: string, value: unknown, allowFloat64: boolean, allowBf16 = false): void {
  if (value instanceof Float32Array || (allowFloat64 && value instanceof Float64Array) || (allowBf16 && value instanceof Uint16Array)) return;
  const expected = allowFloat64 ? 'a Float32Array or Float64Array' : allowBf16 ? 'a Float32Array or a Uint16Array of bf16 values' : 'a Float32Array';
  const got = value === null ? 'null' : typeof value === 'object' ? value.constructor.name : typeof value;
  throw new TypeError(`${fn}: ${name} must be ${expected}, got ${got}`);
}

/**
 * Checks one operand: `rows` x `cols` as stored, row stride `ld`, repeated over
 * the batch. Throws unless ld >= cols and, when the operand is read or written,
 * every element lies inside the array.
 */
function operand(
  fn: string, name: string, length: number, offset: number, rows: number, cols: number, ld: number,
  ldName: string, batch: Batch, outerStride: number, innerStride: number, touched: boolean,
): void {
  if (ld < cols) {
    throw new RangeError(`${fn}: ${ldName} (${ld}) must be >= ${cols}, the row length of ${name} as stored`);
  }
  if (!touched || rows === 0 || cols === 0 || batch.outer === 0 || batch.inner === 0) return;
  const last = offset + (batch.outer - 1) * outerStride + (batch.inner - 1) * innerStride + (rows - 1) * ld + cols - 1;
  if (last >= length) {
    throw new RangeError(
      `${fn}: ${name} is too small: a ${rows}x${cols} matrix with ${ldName} ${ld} at offset ${offset}` +
      (batch.outer * batch.inner > 1 ? ` over a ${batch.outer}x${batch.inner} batch` : '') +
      ` reaches index ${last}, but ${name}.length is ${length}`,
    );
  }
}

/** bf16: A and B may be Uint16Arrays of bf16 values (gemmBf16, gemmBf16Packed). */
function validate(fn: string, args: Bf16GemmArgs, batch: Batch, allowFloat64: boolean, checkB = true, bf16 = false): GemmOffsets {
  const transA = flag(fn, 'transA', args.transA);
  const transB = flag(fn, 'transB', args.transB);
  const m = count(fn, 'm', args.m);
  const n = count(fn, 'n', args.n);
  const k = count(fn, 'k', args.k);
  finite(fn, 'alpha', args.alpha);
  finite(fn, 'beta', args.beta);
  floatArray(fn, 'a', args.a, allowFloat64, bf16);
  floatArray(fn, 'b', args.b, allowFloat64, bf16);
  floatArray(fn, 'c', args.c, allowFloat64);
  const aOffset = count(fn, 'aOffset', args.aOffset ?? 0);
  const bOffset = count(fn, 'bOffset', args.bOffset ?? 0);
  const cOffset = count(fn, 'cOffset', args.cOffset ?? 0);
  const lda = count(fn, 'lda', args.lda);
  const ldb = count(fn, 'ldb', args.ldb);
  const ldc = count(fn, 'ldc', args.ldc);
  const product = m > 0 && n > 0 && k > 0;
  operand(fn, 'a', args.a.length, aOffset, transA ? k : m, transA ? m : k, lda, 'lda', batch, batch.aOuter,
    batch.aInner, product);
  if (checkB) {
    operand(fn, 'b', args.b.length, bOffset, transB ? n : k, transB ? k : n, ldb, 'ldb', batch, batch.bOuter,
      batch.bInner, product);
  }
  operand(fn, 'c', args.c.length, cOffset, m, n, ldc, 'ldc', batch, batch.cOuter, batch.cInner, true);
  return { aOffset, bOffset, cOffset };
}

/** Validates a gemm call; returns the offsets with defaults applied. */
export function validateGemm(args: GemmArgs, allowFloat64: boolean): GemmOffsets {
  return validate('gemm', args, single, allowFloat64);
}

/** Validates a gemmBf16 call (A and B fp32 or bf16 values); returns the offsets with defaults applied. */
export function validateGemmBf16(args: Bf16GemmArgs): GemmOffsets {
  return validate('gemmBf16', args, single, false, true, true);
}

/** Validates a bf16Round call; returns its offsets. */
export function validateBf16Round(x: Float32Array, out: Uint16Array, n: number, xOffset: number, outOffset: number): { x: number; out: number } {
  const fn = 'bf16Round';
  floatArray(fn, 'x', x, false);
  if (!(out instanceof Uint16Array)) throw new TypeError(`${fn}: out must be a Uint16Array`);
  count(fn, 'n', n);
  const xo = count(fn, 'xOffset', xOffset);
  const oo = count(fn, 'outOffset', outOffset);
  if (xo + n > x.length) throw new RangeError(`${fn}: x is too small: ${n} elements from ${xo}, but x.length is ${x.length}`);
  if (oo + n > out.length) throw new RangeError(`${fn}: out is too small: ${n} elements from ${oo}, but out.length is ${out.length}`);
  return { x: xo, out: oo };
}

/** Validates a gemmBatched call; returns the offsets with defaults applied. */
export function validateGemmBatched(args: BatchedGemmArgs | Bf16BatchedGemmArgs, allowFloat64: boolean, fn = 'gemmBatched'): GemmOffsets {
  const batch: Batch = {
    outer: count(fn, 'batchOuter', args.batchOuter),
    inner: count(fn, 'batchInner', args.batchInner),
    aOuter: count(fn, 'strideAOuter', args.strideAOuter),
    aInner: count(fn, 'strideAInner', args.strideAInner),
    bOuter: count(fn, 'strideBOuter', args.strideBOuter),
    bInner: count(fn, 'strideBInner', args.strideBInner),
    cOuter: count(fn, 'strideCOuter', args.strideCOuter),
    cInner: count(fn, 'strideCInner', args.strideCInner),
  };
  return validate(fn, args, batch, allowFloat64, true, fn === 'gemmBatchedBf16');
}

/** Elements a PackedBf16 of op(B) k x n holds. */
export function packedBf16Length(k: number, n: number): number {
  return Math.ceil(n / 32) * Math.ceil(k / 2) * 64;
}

/** Validates a packBf16 call; returns the packed array to write (out, or a new one). */
export function validatePackBf16(
  b: Float32Array, transB: boolean, k: number, n: number, ldb: number, bOffset: number, out: PackedBf16 | undefined,
): PackedBf16 {
  const fn = 'packBf16';
  flag(fn, 'transB', transB);
  count(fn, 'k', k);
  count(fn, 'n', n);
  floatArray(fn, 'b', b, false);
  count(fn, 'bOffset', bOffset);
  count(fn, 'ldb', ldb);
  operand(fn, 'b', b.length, bOffset, transB ? n : k, transB ? k : n, ldb, 'ldb', single, 0, 0, k > 0 && n > 0);
  const length = packedBf16Length(k, n);
  if (!out) return { data: new Uint16Array(length), k, n };
  if (out.k !== k || out.n !== n || !(out.data instanceof Uint16Array) || out.data.length < length) {
    throw new RangeError(`${fn}: out holds a ${out.k}x${out.n} pack of ${out.data.length} elements, not ${k}x${n} (${length})`);
  }
  return out;
}

/** Validates a gemmBf16Packed call; returns the offsets of A and C (bOffset 0). */
export function validatePackedGemm(args: PackedGemmArgs): GemmOffsets {
  const fn = 'gemmBf16Packed';
  const b = args.b;
  if (!b || !(b.data instanceof Uint16Array)) throw new TypeError(`${fn}: b must be a PackedBf16 (from packBf16)`);
  if (b.k !== args.k || b.n !== args.n) {
    throw new RangeError(`${fn}: b was packed as ${b.k}x${b.n}, but op(B) is ${args.k}x${args.n}`);
  }
  if (b.data.length < packedBf16Length(b.k, b.n)) throw new RangeError(`${fn}: b.data is shorter than a ${b.k}x${b.n} pack`);
  // A and C as in a plain GEMM whose B (never read) is an n-wide empty matrix.
  return validate(fn, { ...args, transB: false, b: new Float32Array(0), ldb: args.n, k: args.k }, single, false, false, true);
}

/** Validates a gemmInt8 call; returns the offsets of A and C. */
export function validateInt8Gemm(args: Int8GemmArgs): GemmOffsets {
  const fn = 'gemmInt8';
  const b = args.b;
  if (!b || !(b.data instanceof Int8Array) || !(b.scale instanceof Float32Array) || !(b.colSum instanceof Int32Array)) {
    throw new TypeError(`${fn}: b must be a PackedInt8 (from quantizeWeightsInt8)`);
  }
  if (b.k !== args.k || b.n !== args.n) throw new RangeError(`${fn}: b was quantized as ${b.k}x${b.n}, but op(B) is ${args.k}x${args.n}`);
  if (b.data.length < packedInt8Length(b.k, b.n) || b.scale.length < b.n || b.colSum.length < b.n) {
    throw new RangeError(`${fn}: b's arrays are shorter than a ${b.k}x${b.n} quantized weight`);
  }
  if (args.bias !== null && !(args.bias instanceof Float32Array && args.bias.length >= args.n)) {
    throw new TypeError(`${fn}: bias must be null or a Float32Array of at least n = ${args.n} elements`);
  }
  if (args.gelu !== undefined && typeof args.gelu !== 'boolean') throw new TypeError(`${fn}: gelu must be a boolean`);
  const residual = args.residual ?? null;
  if (residual !== null) {
    if (!(residual instanceof Float32Array)) throw new TypeError(`${fn}: residual must be null or a Float32Array`);
    if (args.m > 0 && args.n > 0 && (args.cOffset ?? 0) + (args.m - 1) * args.ldc + args.n > residual.length) {
      throw new RangeError(`${fn}: residual is too small for ${args.m} rows of ${args.n} laid out as c`);
    }
  }
  const ln = args.layerNorm ?? null;
  if (ln !== null) {
    for (const name of ['gamma', 'beta', 'out', 'mean', 'rstd'] as const) floatArray(fn, `layerNorm.${name}`, ln[name], false);
    finite(fn, 'layerNorm.eps', ln.eps);
    if (ln.eps < 0) throw new RangeError(`${fn}: layerNorm.eps must be >= 0, got ${ln.eps}`);
    if (args.ldc !== args.n) throw new RangeError(`${fn}: the layerNorm epilogue needs ldc = n (${args.n}), got ${args.ldc}`);
    if (ln.out === args.c) throw new RangeError(`${fn}: layerNorm.out must be distinct from c`);
    if (ln.gamma.length < args.n || ln.beta.length < args.n) throw new RangeError(`${fn}: layerNorm.gamma and beta need n = ${args.n} elements`);
    if (ln.mean.length < args.m || ln.rstd.length < args.m) throw new RangeError(`${fn}: layerNorm.mean and rstd need m = ${args.m} elements`);
    if (args.m > 0 && args.n > 0 && (args.cOffset ?? 0) + args.m * args.n > ln.out.length) {
      throw new RangeError(`${fn}: layerNorm.out is too small for ${args.m} rows of ${args.n} laid out as c`);
    }
  }
  return validate(fn, {
    transA: false, transB: false, m: args.m, n: args.n, k: args.k, alpha: 1, beta: 0, a: args.a, aOffset: args.aOffset,
    lda: args.lda, b: new Float32Array(0), ldb: args.n, c: args.c, cOffset: args.cOffset, ldc: args.ldc,
  }, single, false, false);
}

/** Checks attentionContext's arguments (both backends). */
export function validateAttentionContext(args: AttentionContextArgs): void {
  const fn = 'attentionContext';
  const batch = count(fn, 'batch', args.batch);
  const heads = count(fn, 'heads', args.heads);
  const seqLen = count(fn, 'seqLen', args.seqLen);
  const headDim = count(fn, 'headDim', args.headDim);
  finite(fn, 'scale', args.scale);
  floatArray(fn, 'qkv', args.qkv, false);
  floatArray(fn, 'context', args.context, false);
  const tokens = batch * seqLen;
  const hidden = heads * headDim;
  if (args.qkv.length < tokens * 3 * hidden) {
    throw new RangeError(`${fn}: qkv has ${args.qkv.length} floats, fewer than ${batch} x ${seqLen} rows of 3 x ${hidden}`);
  }
  if (args.context.length < tokens * hidden) {
    throw new RangeError(`${fn}: context has ${args.context.length} floats, fewer than ${batch} x ${seqLen} rows of ${hidden}`);
  }
  if (args.mask !== null) {
    floatArray(fn, 'mask', args.mask, false);
    if (args.mask.length < tokens) throw new RangeError(`${fn}: mask has ${args.mask.length} floats, fewer than ${batch} x ${seqLen}`);
  }
}
