// `npm run bench -- dataset-formats`: the other roads in and out of the data pipeline, on the Brown +
// SOTU corpus (one document per file, blank lines not separating documents, as OpenWebText's):
// - the OpenWebText builder on the same documents packed into xz archives vs the plain-text builder
//   on the files, 1 process each, MB of text per second (target: >= 80%), and CPU seconds;
// - reading for training: opening (every CRC and id checked) and serving batches of 128 x 128 from
//   our shards and from the reference's TFRecords, preloaded and read on demand, against what an
//   ELECTRA-Small update consumes on this machine (README: 3,421 tokens/s, batch 32 x 128).
import { xz } from '@napi-rs/lzma';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'tar-stream';
import { buildPretrainingDataset } from '../src/data/build.js';
import { exportCorpus } from '../src/data/corpus-export.js';
import { vocabHash } from '../src/data/manifest.js';
import { buildOpenWebTextDataset } from '../src/data/openwebtext.js';
import { openPretrainingDataset } from '../src/data/pretraining-dataset.js';
import { bertUncasedVocab, bertUncasedVocabText } from '../src/tokenizer/bert-vocab.js';
import { table } from './util.js';

const REPEATS = 5;
const ARCHIVES = 8;
/** ELECTRA-Small training on this machine (README's pretrain bench row). */
const SMALL_TRAINING_TOKENS_PER_S = 3421;

function cpuLine(): string {
  let flags = '';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const f = /^flags\s*:\s*(.*)$/m.exec(info)?.[1]?.split(/\s+/) ?? [];
    flags = ['avx512f', 'avx512_bf16', 'avx512_vnni'].map((x) => `${x} ${f.includes(x) ? 'yes' : 'no'}`).join(', ');
  } catch {
    flags = 'flags unknown';
  }
  return `CPU: ${cpus()[0]?.model ?? 'unknown'} x ${cpus().length}; ${flags}`;
}

/** CPU seconds of this (the main) thread so far (Linux; NaN elsewhere). */
function mainThreadCpuSeconds(): number {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e9;
  } catch {
    return NaN;
  }
}

/** xz at its default preset (as OpenWebText's archives); @napi-rs/lzma 1.4's compressor barely compresses, so the xz tool is preferred. */
async function xzCompress(data: Buffer): Promise<{ bytes: Buffer; by: string }> {
  try {
    return { bytes: execFileSync('xz', ['-c', '-6'], { input: data, maxBuffer: 1 << 30 }), by: 'xz -6' };
  } catch {
    return { bytes: await xz.compress(data), by: '@napi-rs/lzma (little compression)' };
  }
}

async function tarOf(files: { name: string; data: Buffer }[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of p) chunks.push(c as Buffer);
  })();
  for (const f of files) p.entry({ name: f.name, size: f.data.length }, f.data);
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

export async function run(): Promise<void> {
  console.log(cpuLine());
  const dir = mkdtempSync(join(tmpdir(), 'electra-bench-formats-'));
  try {
    const corpus = join(dir, 'corpus');
    exportCorpus('brown', corpus);
    exportCorpus('sotu', corpus);
    const names = readdirSync(corpus).sort();
    const docs = names.map((name) => ({ name, data: readFileSync(join(corpus, name)) }));
    const textMB = docs.reduce((s, d) => s + d.data.length, 0) / 1e6;
    const dataDir = join(dir, 'owt');
    mkdirSync(join(dataDir, 'openwebtext'), { recursive: true });
    writeFileSync(join(dataDir, 'vocab.txt'), bertUncasedVocabText());
    const vocabFile = join(dataDir, 'vocab.txt');
    let compressedMB = 0;
    let compressor = '';
    for (let a = 0; a < ARCHIVES; a++) {
      const { bytes: xzBytes, by } = await xzCompress(await tarOf(docs.filter((_, i) => i % ARCHIVES === a)));
      compressor = by;
      writeFileSync(join(dataDir, 'openwebtext', `urlsf_subset00-${a}_data.xz`), xzBytes);
      compressedMB += xzBytes.length / 1e6;
    }

    // Builders, interleaved, fastest of REPEATS. CPU seconds too: the archives' decompression runs in
    // another thread, so on a loaded machine the wall-clock ratio drifts towards the CPU-time ratio.
    const plainT = { wall: Infinity, cpu: Infinity, main: Infinity };
    const owtT = { wall: Infinity, cpu: Infinity, main: Infinity };
    let examples = 0;
    const timed = async <T>(into: typeof plainT, f: () => Promise<T>): Promise<T> => {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const m0 = mainThreadCpuSeconds();
      const result = await f();
      const c = process.cpuUsage(c0);
      into.wall = Math.min(into.wall, (performance.now() - t0) / 1000);
      into.cpu = Math.min(into.cpu, (c.user + c.system) / 1e6);
      into.main = Math.min(into.main, mainThreadCpuSeconds() - m0);
      return result;
    };
    for (let r = 0; r < REPEATS; r++) {
      const out = join(dir, `plain-${r}`);
      const plain = await timed(plainT, () => buildPretrainingDataset({ corpusDir: corpus, vocabFile, outputDir: out, blanksSeparateDocs: false }, { inProcess: true }));
      examples = plain.manifest.counts.examples;
      rmSync(out, { recursive: true, force: true });
      const owt = await timed(owtT, () => buildOpenWebTextDataset({ dataDir }));
      if (owt.manifest.counts.examples !== examples) throw new Error(`example counts differ: ${owt.manifest.counts.examples} vs ${examples}`);
    }
    const plainBest = plainT.wall;
    const owtBest = owtT.wall;
    console.log(`corpus: Brown + SOTU, ${docs.length} documents, ${textMB.toFixed(2)} MB of text; ${ARCHIVES} xz archives of ${compressedMB.toFixed(2)} MB (${compressor}); ${examples} examples of 128; fastest of ${REPEATS}`);
    console.log(table([
      { builder: 'plain-text, 1 process (text files)', seconds: plainBest, 'MB/s of text': textMB / plainBest, 'CPU s, all threads': plainT.cpu, 'CPU s, main thread': plainT.main },
      { builder: 'OpenWebText, 1 process (xz archives)', seconds: owtBest, 'MB/s of text': textMB / owtBest, 'CPU s, all threads': owtT.cpu, 'CPU s, main thread': owtT.main },
    ]));
    const owtVsPlain = plainBest / owtBest;
    console.log(`OpenWebText builder at ${(owtVsPlain * 100).toFixed(0)}% of the plain-text builder's MB/s (target >= 80%); ` +
      `in CPU time ${(100 * plainT.cpu / owtT.cpu).toFixed(0)}% (all threads: xz decoding included), ${(100 * plainT.main / owtT.main).toFixed(0)}% (main thread)`);

    // Reading: the same examples as shards and as TFRecords.
    const shards = join(dir, 'read-shards');
    const tf = join(dir, 'read-tf');
    await buildPretrainingDataset({ corpusDir: corpus, vocabFile, outputDir: shards }, { inProcess: true });
    await buildPretrainingDataset({ corpusDir: corpus, vocabFile, outputDir: tf, outputFormat: 'tfrecord' }, { inProcess: true });
    const vocab = bertUncasedVocab();
    const bytesOf = (d: string, re: RegExp) => readdirSync(d).filter((n) => re.test(n)).reduce((s, n) => s + statSync(join(d, n)).size, 0);
    const rows: Record<string, string | number>[] = [];
    const reads: Record<string, number> = {};
    for (const [what, spec, bytes] of [
      ['shards', shards, bytesOf(shards, /^shard-/)],
      ['TFRecords', join(tf, 'pretrain_data.tfrecord*'), bytesOf(tf, /^pretrain_data/)],
    ] as const) {
      for (const preload of [true, false]) {
        let openBest = Infinity;
        let serveBest = Infinity;
        let n = 0;
        for (let r = 0; r < REPEATS; r++) {
          const t0 = performance.now();
          const ds = openPretrainingDataset(spec, {
            maxSeqLength: 128, vocabHash: vocabHash(vocab), vocabSize: vocab.length, batchSize: 128, seed: 1, ...(preload ? {} : { preloadBytes: 0 }),
          });
          const t1 = performance.now();
          n = ds.numExamples;
          const batches = Math.max(4, Math.ceil(n / 128));
          for (let b = 0; b < batches; b++) ds.nextBatch();
          const t2 = performance.now();
          ds.close();
          openBest = Math.min(openBest, (t1 - t0) / 1000);
          serveBest = Math.min(serveBest, (t2 - t1) / 1000 / (batches * 128));
        }
        const served = 1 / serveBest;
        reads[`${what === 'shards' ? 'shards' : 'tfrecords'}${preload ? 'Preloaded' : 'OnDemand'}ExamplesPerS`] = Math.round(served);
        rows.push({
          data: `${what}, ${preload ? 'preloaded' : 'read on demand'}`, 'MB on disk': bytes / 1e6, 'open s (all checked)': openBest,
          'open MB/s': bytes / 1e6 / openBest, 'examples/s served': served, 'x training need': served / (SMALL_TRAINING_TOKENS_PER_S / 128),
        });
      }
    }
    console.log(table(rows));
    console.log(`ELECTRA-Small training takes ${(SMALL_TRAINING_TOKENS_PER_S / 128).toFixed(1)} examples of 128 per second here (README pretrain bench); ` +
      'the "x training need" column is how many times that each reader serves');
    console.log(JSON.stringify({
      suite: 'dataset-formats', cpu: cpus()[0]?.model, textMB: Number(textMB.toFixed(3)), examples,
      plainBuild1MBps: Number((textMB / plainBest).toFixed(3)), openWebTextBuild1MBps: Number((textMB / owtBest).toFixed(3)),
      openWebTextVsPlain: Number(owtVsPlain.toFixed(3)),
      openWebTextVsPlainCpu: Number((plainT.cpu / owtT.cpu).toFixed(3)), openWebTextVsPlainMainThreadCpu: Number((plainT.main / owtT.main).toFixed(3)), ...reads,
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
