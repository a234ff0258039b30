import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32, crc32Portable, crc32c, maskCrc32c, unmaskCrc32c } from '../../src/io/checksum.js';
import { randomBytes } from 'node:crypto';
import { PickleError, PyDict, PyGlobal, PyTuple, unpickle, type UnpicklerHooks } from '../../src/io/pickle.js';
import { decodeMessage, intField } from '../../src/io/protobuf.js';
import { PickleWriter } from './builders.js';

test('CRC-32C and CRC-32 check values, LevelDB masking', () => {
  const digits = new TextEncoder().encode('123456789');
  assert.equal(crc32c(digits), 0xe3069283);
  assert.equal(crc32(digits), 0xcbf43926);
  assert.equal(crc32Portable(digits), 0xcbf43926);
  const noise = randomBytes(1037);
  assert.equal(crc32Portable(noise.subarray(300), crc32Portable(noise.subarray(0, 300))), crc32(noise));
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa); // RFC 3720 B.4: 32 zero bytes
  assert.equal(crc32c(digits.subarray(5), crc32c(digits.subarray(0, 5))), 0xe3069283, 'incremental');
  // The README's fixture facts: masking is ((c >> 15 | c << 17) + 0xa282ead8) mod 2^32.
  for (const c of [0, 1, 0xe3069283, 0xffffffff]) assert.equal(unmaskCrc32c(maskCrc32c(c)), c);
  assert.equal(maskCrc32c(0), 0xa282ead8);
});

const plainHooks: UnpicklerHooks = {
  findGlobal: (m, n) => new PyGlobal(m, n),
  call: () => { throw new Error('no calls'); },
  persistentLoad: () => { throw new Error('no persistent ids'); },
  build: (o) => o,
};

test('unpickler: ints of every width, floats, strings, lists, memo', () => {
  const p = new PickleWriter(2);
  p.op(0x5d).w.u8(0x71).u8(0); // EMPTY_LIST, BINPUT 0
  p.mark();
  for (const v of [0, 255, 65535, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 40, -(2 ** 40)]) p.int(v);
  p.w.u8(0x47).bytes([0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18]); // BINFLOAT pi (big-endian)
  p.str('ünïcode').none().bool(true);
  p.w.u8(0x8a).u8(9).bytes([0, 0, 0, 0, 0, 0, 0, 0, 1]); // LONG1 2^64
  p.op(0x65); // APPENDS
  p.w.u8(0x68).u8(0); // BINGET 0: the same list again
  p.op(0x86); // TUPLE2
  const v = unpickle(p.stop(), plainHooks);
  assert.ok(v instanceof PyTuple);
  const [list, again] = v.items;
  assert.equal(list, again, 'memo returns the same object');
  assert.deepEqual(list, [0, 255, 65535, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 40, -(2 ** 40), Math.PI, 'ünïcode', null, true, 2n ** 64n]);
});

test('unpickler: dicts with SETITEM(S), and errors that say where', () => {
  const p = new PickleWriter(2);
  p.emptyDict().str('a').int(1).op(0x73).mark().str('b').int(2).str('c').int(3).setitems();
  const d = unpickle(p.stop(), plainHooks);
  assert.ok(d instanceof PyDict);
  assert.deepEqual([...d.map], [['a', 1], ['b', 2], ['c', 3]]);
  assert.throws(() => unpickle(Uint8Array.from([0x80, 0x02, 0x30, 0x2e]), plainHooks), (e: unknown) => e instanceof PickleError && /stack underflow \(at byte 2\)/.test(e.message));
  assert.throws(() => unpickle(Uint8Array.from([0x80, 0x06, 0x4e, 0x2e]), plainHooks), /protocol 6 is not supported/);
  assert.throws(() => unpickle(Uint8Array.from([0x80, 0x02, 0x58, 0xff, 0xff, 0xff, 0x7f]), plainHooks), /truncated pickle/);
  assert.throws(() => unpickle(Uint8Array.from([0x80, 0x02, 0x68, 0x05, 0x2e]), plainHooks), /memo key 5 is not defined/);
  assert.throws(() => unpickle(Uint8Array.from([0x80, 0x02, 0xff]), plainHooks), /unknown pickle opcode 0xff/);
  assert.throws(() => unpickle(Uint8Array.from([0x80, 0x02, 0x82, 0x01]), plainHooks), /opcode EXT1 is not allowed/);
});

test('protobuf: varints up to 64 bits, negative int64, nested and repeated fields', () => {
  // field 1 varint 150, field 2 varint -1 (10-byte two's complement), field 3 bytes "hi".
  const bytes = Uint8Array.from([0x08, 0x96, 0x01, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x1a, 0x02, 0x68, 0x69]);
  const f = decodeMessage(bytes);
  assert.equal(intField(f, 1), 150n);
  assert.equal(intField(f, 2), -1n);
  assert.deepEqual([...(f.get(3)![0]!.value as Uint8Array)], [0x68, 0x69]);
  assert.equal(intField(f, 9, 7n), 7n);
  assert.throws(() => decodeMessage(Uint8Array.from([0x1a, 0x05, 0x68])), /runs past the message/);
  assert.throws(() => decodeMessage(Uint8Array.from([0x0b])), /unsupported wire type 3/);
});
