import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeSafetensors, encodeSafetensors, readSafetensors, writeSafetensors,
} from '../../src/io/safetensors.js';
import { encodeBfloat16, encodeFloat16, decodeToFloat32 } from '../../src/io/dtype.js';
import type { Tensor } from '../../src/io/tensor.js';
import { assertFormatError, scratchDir } from './util.js';
import { randomArray } from '../helpers.js';

function tensor(shape: number[], values?: ArrayLike<number>): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: values ? Float32Array.from(values) : randomArray(n, n + shape.length) };
}

/** A safetensors file from a header object and raw data bytes (for files our writer would not make). */
function rawFile(header: Record<string, unknown>, data: Uint8Array, pad = true): Uint8Array {
  const json = Buffer.from(JSON.stringify(header));
  const len = pad ? Math.ceil(json.length / 8) * 8 : json.length;
  const out = Buffer.alloc(8 + len + data.length, 0x20);
  out.writeBigUInt64LE(BigInt(len), 0);
  json.copy(out, 8);
  out.set(data, 8 + len);
  return out;
}

test('writer output matches the reference implementation test vector byte for byte', () => {
  // huggingface/safetensors, safetensors/src/tensor.rs test_serialization (no metadata).
  const expected = [
    64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
    116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
    58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
    101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
    0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
  ];
  const bytes = encodeSafetensors([['attn.0', tensor([1, 2, 3], [0, 1, 2, 3, 4, 5])]], null);
  assert.deepEqual([...bytes], expected);
  const back = decodeSafetensors(Uint8Array.from(expected));
  assert.deepEqual(back.tensors.get('attn.0')!.shape, [1, 2, 3]);
  assert.deepEqual([...back.tensors.get('attn.0')!.data], [0, 1, 2, 3, 4, 5]);
  assert.equal(back.metadata, undefined);
});

test('header: __metadata__ first, format pt, tensors by name, contiguous offsets, space padding to 8', () => {
  const bytes = encodeSafetensors([['b', tensor([3])], ['a.x', tensor([2, 2])]]);
  const n = Number(Buffer.from(bytes).readBigUInt64LE(0));
  assert.equal(n % 8, 0);
  const text = Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8');
  assert.equal(
    text.trimEnd(),
    '{"__metadata__":{"format":"pt"},"a.x":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[3],"data_offsets":[16,28]}}',
  );
  assert.match(text.slice(text.trimEnd().length), /^ *$/);
  assert.equal(bytes.length, 8 + n + 28);
});

test('write then read returns identical tensors; filter reads a subset', () => {
  const dir = scratchDir('st');
  const path = join(dir, 'model.safetensors');
  const tensors = new Map<string, Tensor>([
    ['electra.embeddings.word_embeddings.weight', tensor([7, 5])],
    ['scalar', tensor([], [3.5])],
    ['empty', tensor([0, 4])],
    ['electra.encoder.layer.0.output.dense.bias', tensor([5])],
  ]);
  writeSafetensors(path, tensors);
  const back = readSafetensors(path);
  assert.deepEqual(back.metadata, { format: 'pt' });
  assert.equal(back.tensors.size, 4);
  for (const [name, t] of tensors) {
    assert.deepEqual(back.tensors.get(name)!.shape, t.shape, name);
    assert.deepEqual(back.tensors.get(name)!.data, t.data, name);
    assert.equal(back.dtypes.get(name), 'F32');
  }
  const some = readSafetensors(path, { filter: (n) => n.startsWith('electra.') });
  assert.deepEqual([...some.tensors.keys()].sort(), ['electra.embeddings.word_embeddings.weight', 'electra.encoder.layer.0.output.dense.bias']);
  assert.deepEqual(readdirSync(dir), ['model.safetensors'], 'no temporary files left');
});

test('F16, BF16, F64, I64 and I32 tensors are converted to float32', () => {
  const half = [0.5, -1, 65504, 2 ** -24, -0, Infinity];
  const bf = [1, -2.5, 3.140625, -0.125];
  const f64 = [0.1, -7.25];
  const i64 = [20n, -3n];
  const i32 = [-5, 1 << 20];
  const parts = [
    new Uint8Array(encodeFloat16(half).buffer),
    new Uint8Array(encodeBfloat16(bf).buffer),
    new Uint8Array(Float64Array.from(f64).buffer),
    new Uint8Array(BigInt64Array.from(i64).buffer),
    new Uint8Array(Int32Array.from(i32).buffer),
  ];
  const names = ['h', 'bf', 'd', 'l', 'i'];
  const dtypes = ['F16', 'BF16', 'F64', 'I64', 'I32'];
  const shapes = [[2, 3], [4], [2], [2], [2]];
  const header: Record<string, unknown> = {};
  let off = 0;
  parts.forEach((p, k) => {
    header[names[k]!] = { dtype: dtypes[k], shape: shapes[k], data_offsets: [off, off + p.length] };
    off += p.length;
  });
  const file = decodeSafetensors(rawFile(header, Buffer.concat(parts)));
  assert.deepEqual([...file.tensors.get('h')!.data], half);
  assert.ok(Object.is(file.tensors.get('h')!.data[4], -0));
  assert.deepEqual([...file.tensors.get('bf')!.data], bf);
  assert.deepEqual([...file.tensors.get('d')!.data], f64.map(Math.fround));
  assert.deepEqual([...file.tensors.get('l')!.data], [20, -3]);
  assert.deepEqual([...file.tensors.get('i')!.data], i32);
  assert.equal(file.dtypes.get('h'), 'F16');
});

test('half and bfloat16 encoders round to nearest even and decode back exactly', () => {
  // 1 + 2^-11 is halfway between two halves: ties go to the even one (1.0).
  const h = encodeFloat16([1 + 2 ** -11, 1 + 3 * 2 ** -11, 1e-8, 70000, -65520]);
  assert.deepEqual([...decodeToFloat32(new Uint8Array(h.buffer), 'float16', 5)], [1, 1 + 2 ** -9, 0, Infinity, -Infinity]);
  const b = encodeBfloat16([1 + 2 ** -8, 1 + 3 * 2 ** -8]);
  assert.deepEqual([...decodeToFloat32(new Uint8Array(b.buffer), 'bfloat16', 2)], [1, 1 + 2 ** -6]);
});

test('malformed files are rejected with errors naming the file and tensor', () => {
  const dir = scratchDir('st-bad');
  const good = encodeSafetensors([['a', tensor([4])], ['b', tensor([2, 3])]]);
  const write = (name: string, bytes: Uint8Array): string => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };

  const truncated = write('truncated.safetensors', good.subarray(0, good.length - 5));
  assertFormatError(() => readSafetensors(truncated), [truncated, 'truncated', "tensor 'b' is cut off"], 'b');

  const tiny = write('tiny.safetensors', good.subarray(0, 5));
  assertFormatError(() => readSafetensors(tiny), ['too short']);

  const longHeader = Buffer.from(good);
  longHeader.writeBigUInt64LE(BigInt(good.length), 0);
  const lh = write('long-header.safetensors', longHeader);
  assertFormatError(() => readSafetensors(lh), ['header claims']);

  const huge = Buffer.from(good);
  huge.writeBigUInt64LE(200_000_000n, 0);
  assertFormatError(() => readSafetensors(write('huge.safetensors', huge)), ['exceeds the format\'s limit']);

  // The header lies about a size: 12 bytes for a [4] F32 tensor.
  const lie = write('lie.safetensors', rawFile({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 12] } }, new Uint8Array(12)));
  assertFormatError(() => readSafetensors(lie), ["tensor 'a' has 12 bytes", 'needs 16'], 'a');

  const gap = write('gap.safetensors', rawFile({
    a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
    b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
  }, new Uint8Array(12)));
  assertFormatError(() => readSafetensors(gap), ["tensor 'b'", 'contiguous'], 'b');

  const overlap = write('overlap.safetensors', rawFile({
    a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
  }, new Uint8Array(8)));
  assertFormatError(() => readSafetensors(overlap), ['contiguous']);

  const extra = write('extra.safetensors', Buffer.concat([good, Buffer.alloc(4)]));
  assertFormatError(() => readSafetensors(extra), ['extra bytes']);

  const notJson = write('json.safetensors', rawFile({}, new Uint8Array(0)).fill(0x41, 8));
  assertFormatError(() => readSafetensors(notJson), ['not valid UTF-8 JSON']);

  const dtype = write('dtype.safetensors', rawFile({ q: { dtype: 'Q4', shape: [2], data_offsets: [0, 2] } }, new Uint8Array(2)));
  assertFormatError(() => readSafetensors(dtype), ["tensor 'q' has unknown dtype"], 'q');

  const unreadable = write('f8.safetensors', rawFile({ q: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }, new Uint8Array(2)));
  assertFormatError(() => readSafetensors(unreadable), ['F8_E4M3', 'cannot be read as float32'], 'q');

  const badShape = write('shape.safetensors', rawFile({ s: { dtype: 'F32', shape: [-1], data_offsets: [0, 0] } }, new Uint8Array(0)));
  assertFormatError(() => readSafetensors(badShape), ["tensor 's' has an invalid shape"], 's');

  const badMeta = write('meta.safetensors', rawFile({ __metadata__: { format: 1 } }, new Uint8Array(0)));
  assertFormatError(() => readSafetensors(badMeta), ['__metadata__.format must be a string']);
});

test('a failed write leaves nothing behind', () => {
  const dir = scratchDir('st-fail');
  const path = join(dir, 'model.safetensors');
  writeSafetensors(path, [['old', tensor([2], [1, 2])]]);
  const before = readFileSync(path);
  assert.throws(() => writeSafetensors(path, [['bad', { shape: [3], data: new Float32Array(2) }]]), /holds 3 values but the data has 2/);
  assert.deepEqual(readdirSync(dir), ['model.safetensors']);
  assert.deepEqual(readFileSync(path), before, 'the previous file is untouched');
});
