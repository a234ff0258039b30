// Readers that trust a size field: a hostile header must be refused before memory is spent on it,
// so memory stays proportional to the honest data whatever the header says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants as zlib, deflateRawSync } from 'node:zlib';
import { readTorchStateDict } from '../../src/io/torch.js';
import { snappyUncompress } from '../../src/io/snappy.js';
import { readSSTable } from '../../src/io/sstable.js';
import { readShardHeader, ShardReader, SHARD_FORMAT_VERSION, SHARD_HEADER_BYTES, SHARD_MAGIC } from '../../src/data/shards.js';
import { ByteWriter, buildZip, f32Bytes, pickleStateDict, type ZipInput } from './builders.js';
import { crc32c, maskCrc32c } from '../../src/io/checksum.js';
import { assertFormatError, scratchDir } from './util.js';

const dir = scratchDir('hostile');
const MiB = 1 << 20;

/** A raw deflate stream that really inflates to `mib` MiB of zeros (about 1 KiB per MiB). */
function zerosBomb(mib: number): Uint8Array {
  // A sync-flushed chunk ends byte-aligned and not final, so copies of it chain into one stream.
  const chunk = deflateRawSync(Buffer.alloc(MiB), { finishFlush: zlib.Z_SYNC_FLUSH });
  const end = deflateRawSync(Buffer.alloc(0));
  return new Uint8Array(Buffer.concat([...new Array<Buffer>(mib).fill(chunk), end]));
}

/** pytorch_model.bin whose one 4-float tensor's storage entry is `storage` (size and CRC as declared). */
function torchFile(name: string, storage: ZipInput['raw'], deflate: boolean): string {
  const pkl = pickleStateDict([{ name: 'w', storageKey: '0', storageClass: 'FloatStorage', storageNumel: 4, offset: 0, size: [4], stride: [1] }]);
  const path = join(dir, name);
  writeFileSync(path, buildZip([
    { name: 'archive/data.pkl', data: pkl },
    { name: 'archive/data/0', data: new Uint8Array(0), deflate, raw: storage },
  ]));
  return path;
}

test('a zip bomb storage (4 floats declared as 384 MiB, and really inflating to it) is refused before inflating', () => {
  const bomb = zerosBomb(384);
  const path = torchFile('bomb.bin', { body: bomb, size: 384 * MiB, crc: 0 }, true);
  // A fresh process, so that its peak memory is the reader's alone.
  const reader = new URL('../../src/io/torch.js', import.meta.url).href;
  const script = `import { readTorchStateDict } from ${JSON.stringify(reader)};
    let message = 'no error';
    try { readTorchStateDict(${JSON.stringify(path)}); } catch (e) { message = e.message; }
    process.stdout.write(JSON.stringify({ message, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const { message, maxRssMiB } = JSON.parse(r.stdout) as { message: string; maxRssMiB: number };
  // Inflating would take the process past 384 MiB; a reader that refuses first stays near Node's own size.
  assert.ok(maxRssMiB < 200, `peak memory ${maxRssMiB.toFixed(0)} MiB: the storage was inflated before its size was checked`);
  assert.match(message, /storage data\/0 of tensor 'w' \(4 x FloatStorage\) declares 402653184 bytes, expected 16/);
});

test('declared sizes that the entry cannot hold are refused, naming what was declared', () => {
  // Stored: 2 GiB declared, 1 KiB present.
  const stored = torchFile('stored.bin', { body: new Uint8Array(1024), size: 2 ** 31, crc: 0 }, false);
  assertFormatError(() => readTorchStateDict(stored), ["declares 2147483648 bytes, expected 16"], 'w');
  // Deflated: 2 GiB is what the tensor needs, but 1 KiB of deflate cannot make it.
  const pkl = pickleStateDict([{ name: 'big', storageKey: '0', storageClass: 'FloatStorage', storageNumel: 2 ** 29, offset: 0, size: [2 ** 29], stride: [1] }]);
  const liar = join(dir, 'liar.bin');
  writeFileSync(liar, buildZip([
    { name: 'archive/data.pkl', data: pkl },
    { name: 'archive/data/0', data: new Uint8Array(0), deflate: true, raw: { body: new Uint8Array(deflateRawSync(Buffer.alloc(1024, 7))), size: 2 ** 31, crc: 0 } },
  ]));
  assertFormatError(() => readTorchStateDict(liar), ['declares 2147483648 bytes, more than deflate can produce from its'], 'big');
  // data.pkl is capped: 1 GiB declared for the pickle is refused before reading it.
  const hugePickle = join(dir, 'pickle.bin');
  writeFileSync(hugePickle, buildZip([{ name: 'archive/data.pkl', data: new Uint8Array(0), deflate: true, raw: { body: zerosBomb(1), size: 2 ** 30, crc: 0 } }]));
  assertFormatError(() => readTorchStateDict(hugePickle), ['archive/data.pkl declares 1073741824 bytes, more than the 268435456 allowed']);
  // An honest deflated state dict still reads.
  const ok = join(dir, 'ok.bin');
  writeFileSync(ok, buildZip([
    { name: 'archive/data.pkl', data: pickleStateDict([{ name: 'w', storageKey: '0', storageClass: 'FloatStorage', storageNumel: 4, offset: 0, size: [4], stride: [1] }]), deflate: true },
    { name: 'archive/data/0', data: f32Bytes([1, 2, 3, 4]), deflate: true },
  ]));
  assert.deepEqual([...readTorchStateDict(ok).tensors.get('w')!.data], [1, 2, 3, 4]);
});

test('snappy: a stated length beyond what the compressed bytes can hold is refused before allocating', () => {
  // Varint 0xfffffff0 (about 4 GiB), then one 4-byte literal.
  const lie = new ByteWriter().varint(0xfffffff0).u8(3 << 2).bytes([1, 2, 3, 4]).finish();
  assert.throws(() => snappyUncompress(lie), /stated length 4294967280 is more than 5 compressed bytes can hold \(at most 107\)/);
  // The densest honest stream (a literal, then 3-byte copies of 64) is within the bound and decodes.
  const dense = new ByteWriter().varint(1 + 64 * 10).u8(0).u8(9);
  for (let i = 0; i < 10; i++) dense.u8((63 << 2) | 2).u16(1);
  assert.deepEqual(snappyUncompress(dense.finish()), new Uint8Array(641).fill(9));

  // The same lie in a TensorBundle index block surfaces as a FormatError naming the file.
  const block = lie;
  const table = new ByteWriter().bytes(block).u8(1);
  const withType = new Uint8Array(block.length + 1);
  withType.set(block);
  withType[block.length] = 1;
  table.u32(maskCrc32c(crc32c(withType)));
  const footer = new ByteWriter().varint(0).varint(0).varint(0).varint(block.length);
  while (footer.length < 40) footer.u8(0);
  footer.u64(0xdb4775248b80fb57n);
  table.bytes(footer.finish());
  assertFormatError(() => readSSTable('x.index', table.finish()), ['the index block at offset 0: bad snappy data: stated length 4294967280']);
});

test('a shard header with an absurd max_seq_length is refused before a record is allocated', () => {
  const header = Buffer.alloc(SHARD_HEADER_BYTES);
  header.write(SHARD_MAGIC, 0, 'latin1');
  header.writeUInt32LE(SHARD_FORMAT_VERSION, 8);
  header.writeUInt32LE(4, 12);
  header.writeUInt32LE(0xffffffff, 16); // a 16 GiB record, with no examples: the file size agrees
  header.writeUInt32LE(SHARD_HEADER_BYTES, 20);
  header.writeBigUInt64LE(0n, 24);
  const path = join(dir, 'shard-00000-of-00001.bin');
  writeFileSync(path, header);
  assert.throws(() => readShardHeader(path), /max_seq_length 4294967295, expected 1\.\.65536/);
  assert.throws(() => new ShardReader(path, { preload: false }), /max_seq_length 4294967295/);
});
