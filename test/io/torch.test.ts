import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readTorchStateDict } from '../../src/io/torch.js';
import { encodeBfloat16, encodeFloat16 } from '../../src/io/dtype.js';
import { buildTorchCheckpoint, buildZip, f32Bytes, PickleWriter, pickleStateDict, type TorchTensorSpec } from './builders.js';
import { assertFormatError, scratchDir } from './util.js';

// Fixtures pickled by CPython itself (see fixtures/make_torch_like_fixture.py); the compiled
// test runs from dist/test/io, the fixtures stay in test/io/fixtures.
const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'io', 'fixtures');

for (const proto of [2, 4]) {
  test(`state dict pickled by CPython (protocol ${proto}): views, offsets, float16, Parameter`, () => {
    const sd = readTorchStateDict(join(fixtures, `torch-like-proto${proto}.bin`));
    assert.deepEqual([...sd.tensors.keys()], ['layer.weight', 'layer.weight_t', 'layer.bias', 'half']);
    const w = sd.tensors.get('layer.weight')!;
    assert.deepEqual(w.shape, [3, 2]);
    assert.deepEqual([...w.data], [0, 1, 2, 3, 4, 5]);
    // A transposed view (stride [1, 2]) of the same storage is materialised row-major.
    const wt = sd.tensors.get('layer.weight_t')!;
    assert.deepEqual(wt.shape, [2, 3]);
    assert.deepEqual([...wt.data], [0, 2, 4, 1, 3, 5]);
    // Storage offset 1 into [9, 1.5, -2.25, 9].
    assert.deepEqual([...sd.tensors.get('layer.bias')!.data], [1.5, -2.25]);
    assert.deepEqual([...sd.tensors.get('half')!.data], [0.5, -1, 65504, 2 ** -24]);
    assert.equal(sd.dtypes.get('half'), 'float16');
    assert.equal(sd.dtypes.get('layer.weight'), 'float32');
  });
}

const storages = (): Map<string, Uint8Array> => new Map([
  ['0', f32Bytes([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])],
  ['1', new Uint8Array(encodeFloat16([1, -2, 0.25]).buffer)],
  ['2', new Uint8Array(encodeBfloat16([3, -0.5]).buffer)],
]);
const specs: TorchTensorSpec[] = [
  { name: 'emb.weight', storageKey: '0', storageClass: 'FloatStorage', storageNumel: 12, offset: 0, size: [3, 4], stride: [4, 1] },
  // Column 1 of the same [3, 4] storage: offset 1, stride 4.
  { name: 'column', storageKey: '0', storageClass: 'FloatStorage', storageNumel: 12, offset: 1, size: [3], stride: [4] },
  // A [2, 2] block starting at element 5 with row stride 4.
  { name: 'block', storageKey: '0', storageClass: 'FloatStorage', storageNumel: 12, offset: 5, size: [2, 2], stride: [4, 1] },
  { name: 'half', storageKey: '1', storageClass: 'HalfStorage', storageNumel: 3, offset: 0, size: [3], stride: [1], parameter: true },
  { name: 'bf16', storageKey: '2', storageClass: 'BFloat16Storage', storageNumel: 2, offset: 0, size: [1, 2], stride: [2, 1] },
];

for (const variant of [{}, { deflate: true }, { zip64: true }, { deflate: true, zip64: true, archive: 'pytorch_model' }]) {
  test(`torch zip checkpoints ${JSON.stringify(variant)}: strided views, shared storage, half/bfloat16`, () => {
    const dir = scratchDir('torch');
    const path = join(dir, 'pytorch_model.bin');
    writeFileSync(path, buildTorchCheckpoint(specs, storages(), variant));
    const sd = readTorchStateDict(path);
    assert.deepEqual([...sd.tensors.get('emb.weight')!.data], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    assert.deepEqual([...sd.tensors.get('column')!.data], [1, 5, 9]);
    assert.deepEqual(sd.tensors.get('block')!.shape, [2, 2]);
    assert.deepEqual([...sd.tensors.get('block')!.data], [5, 6, 9, 10]);
    assert.deepEqual([...sd.tensors.get('half')!.data], [1, -2, 0.25]);
    assert.deepEqual([...sd.tensors.get('bf16')!.data], [3, -0.5]);
    const some = readTorchStateDict(path, { filter: (n) => n === 'column' });
    assert.deepEqual([...some.tensors.keys()], ['column']);
  });
}

function writeCheckpoint(name: string, bytes: Uint8Array): string {
  const path = join(scratchDir('torch-bad'), name);
  writeFileSync(path, bytes);
  return path;
}

test('a pickle naming a forbidden global is rejected before anything runs, naming the global', () => {
  for (const [module, name] of [['posix', 'system'], ['builtins', 'eval'], ['torch', 'load'], ['collections', 'deque']]) {
    const p = new PickleWriter(2);
    p.global(module!, name!).mark().str('echo pwned').op(0x74).reduce();
    const path = writeCheckpoint('evil.bin', buildTorchCheckpoint([], new Map(), { pickle: p.stop() }));
    assertFormatError(() => readTorchStateDict(path), [`forbidden global '${module}.${name}'`, 'data.pkl']);
  }
  // Hidden inside an otherwise normal state dict, as a value.
  const pickle = pickleStateDict(specs.slice(0, 1), (p) => {
    p.str('trap').global('subprocess', 'Popen').mark().str('ls').op(0x74).reduce();
  });
  const path = writeCheckpoint('trap.bin', buildTorchCheckpoint(specs.slice(0, 1), storages(), { pickle }));
  assertFormatError(() => readTorchStateDict(path), ["forbidden global 'subprocess.Popen'"]);
});

test('object-building opcodes and non-state-dict contents are rejected', () => {
  const inst = new PickleWriter(2);
  inst.mark().op(0x69); // INST
  assertFormatError(() => readTorchStateDict(writeCheckpoint('inst.bin', buildTorchCheckpoint([], new Map(), { pickle: inst.stop() }))), ['opcode INST is not allowed']);

  const newobj = new PickleWriter(2);
  newobj.global('collections', 'OrderedDict').emptyTuple().op(0x81); // NEWOBJ
  assertFormatError(() => readTorchStateDict(writeCheckpoint('newobj.bin', buildTorchCheckpoint([], new Map(), { pickle: newobj.stop() }))), ['opcode NEWOBJ is not allowed']);

  const list = new PickleWriter(2);
  list.op(0x5d); // a list, not a dict
  assertFormatError(() => readTorchStateDict(writeCheckpoint('list.bin', buildTorchCheckpoint([], new Map(), { pickle: list.stop() }))), ['does not hold a state dict']);

  const nonTensor = pickleStateDict([], (p) => p.str('epoch').int(3));
  assertFormatError(() => readTorchStateDict(writeCheckpoint('int.bin', buildTorchCheckpoint([], new Map(), { pickle: nonTensor }))), ["entry 'epoch' is not a tensor"], 'epoch');

  const cut = pickleStateDict(specs.slice(0, 1));
  assertFormatError(() => readTorchStateDict(writeCheckpoint('cut.bin', buildTorchCheckpoint([], new Map(), { pickle: cut.subarray(0, cut.length - 10) }))), ['truncated pickle']);
});

test('damaged archives and storages are rejected, naming the tensor', () => {
  const good = buildTorchCheckpoint(specs, storages());

  // Flip one byte of storage 0's data: the zip CRC catches it.
  const flipped = Buffer.from(good);
  const at = flipped.indexOf(Buffer.from(f32Bytes([0, 1, 2, 3])));
  flipped[at + 5]! ^= 0x40;
  assertFormatError(() => readTorchStateDict(writeCheckpoint('flip.bin', flipped)), ['CRC-32 mismatch', 'storage data/0', "tensor 'emb.weight'"], 'emb.weight');

  assertFormatError(() => readTorchStateDict(writeCheckpoint('trunc.bin', good.subarray(0, good.length - 30))), ['no zip end-of-central-directory record']);

  // Storage record says 12 elements but the entry has 8.
  const small = storages();
  small.set('0', f32Bytes([0, 1, 2, 3, 4, 5, 6, 7]));
  assertFormatError(() => readTorchStateDict(writeCheckpoint('small.bin', buildTorchCheckpoint(specs, small))), ["storage data/0 of tensor 'emb.weight' (12 x FloatStorage) declares 32 bytes, expected 48"], 'emb.weight');

  // A view reaching past its storage.
  const over: TorchTensorSpec[] = [{ ...specs[0]!, name: 'over', offset: 4, size: [3, 4] }];
  assertFormatError(() => readTorchStateDict(writeCheckpoint('over.bin', buildTorchCheckpoint(over, storages()))), ["tensor 'over' reaches element 16"], 'over');

  const missing = storages();
  missing.delete('2');
  assertFormatError(() => readTorchStateDict(writeCheckpoint('missing.bin', buildTorchCheckpoint(specs, missing))), ["storage data/2 of tensor 'bf16' (2 x BFloat16Storage) is missing"], 'bf16');

  const bigEndian = buildZip([
    { name: 'a/data.pkl', data: pickleStateDict([]) },
    { name: 'a/byteorder', data: new TextEncoder().encode('big') },
  ]);
  assertFormatError(() => readTorchStateDict(writeCheckpoint('be.bin', bigEndian)), ["byteorder 'big'"]);

  const legacy = Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]);
  assertFormatError(() => readTorchStateDict(writeCheckpoint('legacy.bin', legacy)), ['legacy (PyTorch < 1.6)']);

  const script = buildZip([{ name: 'm/constants.pkl', data: pickleStateDict([]) }]);
  assertFormatError(() => readTorchStateDict(writeCheckpoint('script.bin', script)), ['TorchScript archive']);

  assertFormatError(() => readTorchStateDict(writeCheckpoint('text.bin', new TextEncoder().encode('hello world'))), ['not a PyTorch zip checkpoint']);
});

test('the CPython fixtures are what the generator script documents', () => {
  // Guards against the binary fixtures being replaced by something our own writer made.
  const bytes = readFileSync(join(fixtures, 'torch-like-proto4.bin'));
  assert.ok(bytes.includes(Buffer.from([0x80, 0x04, 0x95])), 'protocol 4 pickle with a FRAME opcode');
  assert.ok(readFileSync(join(fixtures, 'torch-like-proto2.bin')).includes(Buffer.from('ccollections\nOrderedDict\n', 'latin1')));
});
