// The OpenWebText builder on archives made here from the Brown corpus (tar written by hand from the
// ustar layout, then xz-compressed): the examples equal those the plain-text builder makes from the
// same documents as files; bad archives, and archives handed to the plain-text builder, are named.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { xz } from '@napi-rs/lzma';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPretrainingDataset } from '../../src/data/build.js';
import { exportCorpus } from '../../src/data/corpus-export.js';
import { buildOpenWebTextDataset, decompressAhead } from '../../src/data/openwebtext.js';
import { openPretrainingDataset } from '../../src/data/pretraining-dataset.js';
import { vocabHash } from '../../src/data/manifest.js';
import { bertUncasedVocab, bertUncasedVocabText } from '../../src/tokenizer/bert-vocab.js';
import { readShards, tempDir } from './helpers.js';

/** A tar archive (ustar headers, 512-byte blocks, two zero blocks at the end). */
function tar(files: { name: string; data: Buffer }[]): Buffer {
  const blocks: Buffer[] = [];
  for (const f of files) {
    const h = Buffer.alloc(512);
    h.write(f.name, 0, 100, 'utf8');
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(f.data.length.toString(8).padStart(11, '0') + '\0', 124);
    h.write('00000000000\0', 136);
    h.write('        ', 148); // checksum field counts as spaces
    h.write('0', 156); // regular file
    h.write('ustar\0' + '00', 257, 'latin1');
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    blocks.push(h, f.data, Buffer.alloc((512 - (f.data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

let root: { dir: string; cleanup: () => void };
let docs: { name: string; data: Buffer }[];

before(() => {
  root = tempDir('owt');
  const brown = join(root.dir, 'brown');
  exportCorpus('brown', brown);
  // 14 documents; the CRLF and blank lines of one exercise the line rules.
  docs = readdirSync(brown).sort().slice(0, 14).map((name) => ({ name, data: readFileSync(join(brown, name)) }));
  docs[3] = { name: docs[3]!.name, data: Buffer.from(docs[3]!.data.toString('utf8').replaceAll('\n', '\r\n\n')) };
});
after(() => root.cleanup());

/** Runs f as if libuv's pool had `threads` threads (the builder then decompresses in each job's own thread when jobs outnumber them). */
async function withPoolSize<T>(threads: number, f: () => Promise<T>): Promise<T> {
  const saved = process.env.UV_THREADPOOL_SIZE;
  process.env.UV_THREADPOOL_SIZE = String(threads);
  try {
    return await f();
  } finally {
    if (saved === undefined) delete process.env.UV_THREADPOOL_SIZE;
    else process.env.UV_THREADPOOL_SIZE = saved;
  }
}

function owtDataDir(name: string, archives: { name: string; members: typeof docs }[]): string {
  const dataDir = join(root.dir, name);
  mkdirSync(join(dataDir, 'openwebtext'), { recursive: true });
  writeFileSync(join(dataDir, 'vocab.txt'), bertUncasedVocabText());
  for (const a of archives) writeFileSync(join(dataDir, 'openwebtext', a.name), xz.compressSync(tar(a.members)));
  return dataDir;
}

test('examples from xz archives equal those from the same documents as plain files (2 jobs in worker threads or in this one; shards and TFRecords)', async () => {
  // Job j of both builders gets the same documents in the same order before its shuffle:
  // the plain builder every 2nd sorted file, the archive builder every 2nd sorted archive.
  const dataDir = owtDataDir('owt', [
    { name: 'urlsf_subset00-1_data.xz', members: docs.filter((_, i) => i % 2 === 0).reverse() }, // member order in the tar does not matter
    { name: 'urlsf_subset00-2_data.xz', members: docs.filter((_, i) => i % 2 === 1) },
  ]);
  const plainCorpus = join(root.dir, 'plain');
  mkdirSync(plainCorpus);
  for (const d of docs) writeFileSync(join(plainCorpus, d.name), d.data);
  const settings = { maxSeqLength: 64, numProcesses: 2, numOutFiles: 4, seed: 3 };
  const plain = await buildPretrainingDataset({
    corpusDir: plainCorpus, vocabFile: join(dataDir, 'vocab.txt'), outputDir: join(root.dir, 'plain-out'), blanksSeparateDocs: false, ...settings,
  }, { inProcess: true });
  const owt = await buildOpenWebTextDataset({ dataDir, ...settings });
  assert.equal(owt.outputDir, join(dataDir, 'pretrain_tfrecords'));
  assert.ok(plain.manifest.counts.examples > 50);
  assert.equal(owt.manifest.counts.examples, plain.manifest.counts.examples);
  assert.equal(owt.manifest.counts.files, docs.length, 'one document per member');
  assert.deepEqual(readShards(owt.outputDir), readShards(plain.outputDir));
  // More jobs than the pool has threads: each job decompresses in its own thread, to the same examples.
  const own = await withPoolSize(1, async () => {
    assert.equal(decompressAhead(2), false);
    return buildOpenWebTextDataset({ dataDir, ...settings }, { inProcess: true });
  });
  assert.deepEqual(readShards(own.outputDir), readShards(plain.outputDir));

  // The reference's TFRecords from the same archives, the jobs run one after another in this thread: the same examples.
  const tf = await buildOpenWebTextDataset({ dataDir, ...settings, outputFormat: 'tfrecord' }, { inProcess: true });
  assert.ok(existsSync(join(tf.outputDir, 'pretrain_data.tfrecord-3-of-4')));
  assert.ok(!readdirSync(tf.outputDir).some((n) => n.startsWith('shard-')), 'the rebuild removed the old shards');
  const vocab = bertUncasedVocab();
  const read = (spec: string) => {
    const ds = openPretrainingDataset(spec, { maxSeqLength: 64, vocabHash: vocabHash(vocab), vocabSize: vocab.length, batchSize: 1, shuffle: false });
    const rows = Array.from({ length: ds.numExamples }, (_, i) => Array.from(ds.readExample(i).ids));
    ds.close();
    return rows;
  };
  assert.deepEqual(read(join(tf.outputDir, 'pretrain_data.tfrecord*')), read(plain.outputDir));
});

test('bad archives are named; archives given to the plain-text builder are recognised; a build of no examples fails', async () => {
  const good = xz.compressSync(tar(docs.slice(0, 2)));
  const truncated = owtDataDir('truncated', []);
  writeFileSync(join(truncated, 'openwebtext', 'urlsf_subset01-1_data.xz'), good.subarray(0, good.length - 40));
  await assert.rejects(buildOpenWebTextDataset({ dataDir: truncated }), /urlsf_subset01-1_data\.xz: xz decompression failed .* truncated or corrupt/);
  await withPoolSize(1, () => assert.rejects(buildOpenWebTextDataset({ dataDir: truncated, numProcesses: 2 }, { inProcess: true }),
    /urlsf_subset01-1_data\.xz: xz decompression failed .* truncated or corrupt/));
  assert.equal(existsSync(join(truncated, 'pretrain_tfrecords')), false, 'nothing left behind');

  const notXz = owtDataDir('not-xz', []);
  writeFileSync(join(notXz, 'openwebtext', 'readme.txt'), 'hello\n');
  await assert.rejects(buildOpenWebTextDataset({ dataDir: notXz }), /readme\.txt is not an xz archive/);

  const notTar = owtDataDir('not-tar', []);
  writeFileSync(join(notTar, 'openwebtext', 'urlsf_subset02-1_data.xz'), xz.compressSync(Buffer.from('plain text, not a tar archive\n'.repeat(40))));
  await assert.rejects(buildOpenWebTextDataset({ dataDir: notTar }), /urlsf_subset02-1_data\.xz: not a valid tar archive/);

  const badUtf8 = owtDataDir('bad-utf8', [
    { name: 'urlsf_subset03-1_data.xz', members: [{ name: 'doc.txt', data: Buffer.from([0x61, 0x0a, 0xff, 0x62]) }] },
    { name: 'urlsf_subset03-2_data.xz', members: docs.slice(0, 3) },
  ]);
  await assert.rejects(buildOpenWebTextDataset({ dataDir: badUtf8 }), /urlsf_subset03-1_data\.xz: member doc\.txt: invalid UTF-8 at byte offset 2/);
  // The same from a worker thread (2 jobs): the other job is stopped and nothing is left.
  await assert.rejects(buildOpenWebTextDataset({ dataDir: badUtf8, numProcesses: 2 }), /urlsf_subset03-1_data\.xz: member doc\.txt: invalid UTF-8 at byte offset 2/);
  assert.equal(existsSync(join(badUtf8, 'pretrain_tfrecords')), false, 'nothing left behind');

  // The plain-text builder pointed at the archives: said so, with or without skipping bad lines.
  const archives = owtDataDir('as-text', [{ name: 'urlsf_subset04-1_data.xz', members: docs.slice(0, 2) }]);
  for (const skipInvalidUtf8 of [false, true]) {
    await assert.rejects(buildPretrainingDataset({ corpusDir: join(archives, 'openwebtext'), vocabFile: join(archives, 'vocab.txt'), outputDir: join(archives, 'out'), skipInvalidUtf8 }),
      /urlsf_subset04-1_data\.xz: an xz-compressed archive, not text: .*electra build-openwebtext-pretraining-dataset --data-dir DIR/);
  }
  // Skipping every line is no success.
  const junk = join(root.dir, 'junk');
  mkdirSync(junk);
  writeFileSync(join(junk, 'a.bin'), Buffer.from([0xff, 0xfe, 0x0a, 0xc3, 0x28, 0x0a]));
  await assert.rejects(buildPretrainingDataset({ corpusDir: junk, vocabFile: join(archives, 'vocab.txt'), outputDir: join(root.dir, 'junk-out'), skipInvalidUtf8: true }, { inProcess: true }),
    /no examples were built from 1 corpus files \(2 lines read, 2 skipped\)/);
  assert.equal(existsSync(join(root.dir, 'junk-out')), false);
});
