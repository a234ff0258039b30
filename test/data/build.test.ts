// Directory-level behaviour: determinism, worker threads, resuming, cleaning up, clear errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  BuildInterruptedError, MIN_BYTES_PER_WORKER, buildPretrainingDataset, listCorpusFiles, planBuild, resolveBuildConfig, vocabularyOf, workerThreadsFor,
  type BuildConfig,
} from '../../src/data/build.js';
import { runBuildJob } from '../../src/data/build-job.js';
import { createPretrainingTokenizer } from '../../src/data/bert-pretraining-tokenizer.js';
import { readCorpus } from '../../src/data/corpora.js';
import { writeDocuments } from '../../src/data/corpus-export.js';
import { bertUncasedVocabText } from '../../src/tokenizer/bert-vocab.js';
import { tempDir } from './helpers.js';

let root: { dir: string; cleanup: () => void };
let corpusDir: string;
let vocabFile: string;

before(() => {
  root = tempDir('build');
  corpusDir = join(root.dir, 'corpus');
  writeDocuments('brown', readCorpus('brown', 10), corpusDir);
  writeDocuments('sotu', readCorpus('sotu').slice(0, 1), corpusDir);
  vocabFile = join(root.dir, 'vocab.txt');
  writeFileSync(vocabFile, bertUncasedVocabText());
});
after(() => root.cleanup());

function config(outputDir: string, extra: Partial<BuildConfig> = {}): BuildConfig {
  return { corpusDir, vocabFile, outputDir: join(root.dir, outputDir), maxSeqLength: 64, numOutFiles: 4, seed: 3, ...extra };
}

/** name -> bytes of every file in dir. */
function snapshot(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f))]));
}

function assertSameFiles(a: string, b: string): void {
  const x = snapshot(a);
  const y = snapshot(b);
  assert.deepEqual([...x.keys()], [...y.keys()]);
  for (const [name, bytes] of x) assert.ok(bytes.equals(y.get(name)!), `${name} differs`);
}

test('two runs with one seed are byte-identical; another seed gives other shards', async () => {
  const a = await buildPretrainingDataset(config('det-a'));
  await buildPretrainingDataset(config('det-b'));
  assertSameFiles(a.outputDir, join(root.dir, 'det-b'));
  assert.deepEqual(readdirSync(a.outputDir).sort(), ['manifest.json', ...a.manifest.shards.map((s) => s.file)]);
  assert.equal(a.manifest.shards.length, 4);
  assert.ok(a.manifest.counts.examples > 300, `examples: ${a.manifest.counts.examples}`);
  const other = await buildPretrainingDataset(config('det-c', { seed: 4 }), { inProcess: true });
  assert.ok(!readFileSync(join(other.outputDir, 'shard-00000-of-00004.bin')).equals(readFileSync(join(a.outputDir, 'shard-00000-of-00004.bin'))));
});

test('worker threads and in-process jobs write the same bytes (2 jobs)', async () => {
  const w = await buildPretrainingDataset(config('p2-workers', { numProcesses: 2 }), { minBytesPerWorker: 0 });
  const p = await buildPretrainingDataset(config('p2-inproc', { numProcesses: 2 }), { inProcess: true });
  assertSameFiles(w.outputDir, p.outputDir);
  assert.equal(w.jobsRun, 2);
  assert.equal(w.threads, 2);
  assert.equal(p.threads, 1);
});

test('the output does not depend on who tokenizes what: small units (parts of files) on 2 and 3 threads give the bytes of one thread', async () => {
  for (const numProcesses of [2, 3]) {
    const one = await buildPretrainingDataset(config(`units-one-${numProcesses}`, { numProcesses, numOutFiles: 6 }), { inProcess: true });
    // Units of a few kB: most files are split into ranges, read by different threads.
    const split = await buildPretrainingDataset(config(`units-split-${numProcesses}`, { numProcesses, numOutFiles: 6 }), { unitBytes: 2500, minBytesPerWorker: 0 });
    assertSameFiles(split.outputDir, one.outputDir);
    const splitHere = await buildPretrainingDataset(config(`units-here-${numProcesses}`, { numProcesses, numOutFiles: 6 }), { unitBytes: 999, inProcess: true });
    assertSameFiles(splitHere.outputDir, one.outputDir);
  }
});

test('workers start under node flags they refuse (V8 flags, --input-type): the build still runs and matches', async () => {
  const out = join(root.dir, 'flags');
  const buildModule = new URL('../../src/data/build.js', import.meta.url).href;
  const script = `import { buildPretrainingDataset } from ${JSON.stringify(buildModule)};
    await buildPretrainingDataset(${JSON.stringify({ ...config('flags', { numProcesses: 2 }), outputDir: out })}, { minBytesPerWorker: 0 });`;
  const run = spawnSync(process.execPath, ['--max-old-space-size=2048', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const w = await buildPretrainingDataset(config('flags-ref', { numProcesses: 2 }));
  assertSameFiles(out, w.outputDir);
});

test('corpus files are listed in code-point order (as Python sorts names), not UTF-16 order', async () => {
  const { dir, cleanup } = tempDir('order');
  try {
    const names = ['b', 'a\u{1F600}', 'a\uFF21', 'a\uE000x', 'a\uD7FF', 'a', 'ab', '\u{10000}', '\uFFFD'];
    for (const name of names) writeFileSync(join(dir, name), 'x\n');
    const byCodePoint = (x: string, y: string): number => {
      const a = [...x].map((c) => c.codePointAt(0)!);
      const b = [...y].map((c) => c.codePointAt(0)!);
      for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
      return a.length - b.length;
    };
    const listed = listCorpusFiles(dir).map((f) => f.name);
    assert.deepEqual(listed, [...names].sort(byCodePoint));
    assert.notDeepEqual(listed, [...names].sort(), 'the UTF-16 order differs here');
  } finally {
    cleanup();
  }
});

test('a rerun after a crash keeps the finished job, discards partial and stale files, and ends identical', async () => {
  const reference = await buildPretrainingDataset(config('resume-ref', { numProcesses: 2 }), { inProcess: true });
  const cfg = config('resume', { numProcesses: 2 });
  const resolved = resolveBuildConfig(cfg);
  const tokenizer = createPretrainingTokenizer({ vocabFile, lowerCase: true, stripAccents: true });
  const plan = planBuild(resolved, vocabularyOf(tokenizer));
  mkdirSync(resolved.outputDir, { recursive: true });
  runBuildJob(plan, 0, tokenizer); // job 0 finished before the "crash"
  writeFileSync(join(resolved.outputDir, 'shard-00001-of-00004.bin.partial'), 'half-written');
  writeFileSync(join(resolved.outputDir, 'shard-00000-of-00009.bin'), 'from an older build');
  writeFileSync(join(resolved.outputDir, 'notes.txt'), 'not ours');
  const kept = statSync(join(resolved.outputDir, 'shard-00000-of-00004.bin')).mtimeMs;

  const r = await buildPretrainingDataset(cfg, { inProcess: true });
  assert.equal(r.jobsReused, 1);
  assert.equal(r.jobsRun, 1);
  assert.equal(statSync(join(resolved.outputDir, 'shard-00000-of-00004.bin')).mtimeMs, kept, 'finished shard reused, not rewritten');
  assert.ok(existsSync(join(resolved.outputDir, 'notes.txt')), 'files that are not ours stay');
  writeFileSync(join(reference.outputDir, 'notes.txt'), 'not ours');
  assertSameFiles(resolved.outputDir, reference.outputDir);

  const again = await buildPretrainingDataset(cfg, { inProcess: true });
  assert.equal(again.alreadyComplete, true);
  assert.equal(again.jobsRun, 0);
});

test('an interrupted build leaves no shard that looks complete unless its job finished; rerunning completes it', async () => {
  const reference = await buildPretrainingDataset(config('int-ref', { numProcesses: 2 }), { inProcess: true });
  const cfg = config('int', { numProcesses: 2 });
  const controller = new AbortController();
  await assert.rejects(
    buildPretrainingDataset(cfg, { signal: controller.signal, onProgress: () => controller.abort(), minBytesPerWorker: 0 }),
    (e: unknown) => e instanceof BuildInterruptedError,
  );
  const out = resolveBuildConfig(cfg).outputDir;
  const left = readdirSync(out);
  assert.ok(!left.includes('manifest.json'), 'no manifest after an interruption');
  assert.ok(!left.some((f) => f.endsWith('.partial')), `no partial files: ${left.join(' ')}`);
  // Whatever shards exist belong to finished jobs, recorded in their job files.
  const jobs = left.filter((f) => f.startsWith('job-'));
  assert.equal(left.filter((f) => f.startsWith('shard-')).length, jobs.length * 2);
  const r = await buildPretrainingDataset(cfg);
  assert.equal(r.jobsReused, jobs.length);
  assertSameFiles(out, reference.outputDir);
});

test('a job on the calling thread aborted mid-job removes its unfinished shards; the rerun writes the same bytes', async () => {
  const here = await buildPretrainingDataset(config('one-here', { numOutFiles: 2 }));
  // Aborted after the first file: the job stops between two files, its open shards are removed.
  const cfg = config('one-abort', { numOutFiles: 2 });
  const controller = new AbortController();
  let reports = 0;
  await assert.rejects(
    buildPretrainingDataset(cfg, {
      signal: controller.signal,
      onProgress: (p) => {
        reports++;
        if (p.bytesRead > 0) controller.abort();
      },
    }),
    (e: unknown) => e instanceof BuildInterruptedError,
  );
  assert.ok(reports >= 1);
  assert.deepEqual(readdirSync(resolveBuildConfig(cfg).outputDir), [], 'no shard, partial or job file is left');
  const r = await buildPretrainingDataset(cfg);
  assert.equal(r.jobsReused, 0);
  assertSameFiles(r.outputDir, here.outputDir);
});

test('changing a setting rebuilds and removes the old shard set', async () => {
  await buildPretrainingDataset(config('change'), { inProcess: true });
  const r = await buildPretrainingDataset(config('change', { numOutFiles: 3 }), { inProcess: true });
  assert.equal(r.alreadyComplete, false);
  assert.deepEqual(readdirSync(r.outputDir).sort(), ['manifest.json', 'shard-00000-of-00003.bin', 'shard-00001-of-00003.bin', 'shard-00002-of-00003.bin']);
});

test('invalid UTF-8 fails naming file and offset and leaves no output; the skip flag warns and goes on', async () => {
  const bad = join(root.dir, 'bad-corpus');
  mkdirSync(bad);
  writeFileSync(join(bad, 'a.txt'), 'A fine sentence.\nAnother one.\n');
  writeFileSync(join(bad, 'b.txt'), Buffer.concat([Buffer.from('Good line.\nBad '), Buffer.from([0xff, 0xfe]), Buffer.from(' line.\nGood again.\n')]));
  const cfg = { ...config('bad-out', { numProcesses: 2 }), corpusDir: bad };
  await assert.rejects(buildPretrainingDataset(cfg, { minBytesPerWorker: 0 }), /b\.txt: invalid UTF-8 at byte offset 15 \(line 2\)/);
  assert.equal(existsSync(cfg.outputDir), false, 'the output directory it created is gone');
  // The same file as job 0 (on the calling thread, job 1 in a worker): its own error, no output either.
  const badFirst = join(root.dir, 'bad-first');
  mkdirSync(badFirst);
  writeFileSync(join(badFirst, 'a.txt'), readFileSync(join(bad, 'b.txt')));
  writeFileSync(join(badFirst, 'b.txt'), 'A fine sentence.\n'.repeat(5000));
  const cfg0 = { ...config('bad-first-out', { numProcesses: 2 }), corpusDir: badFirst };
  await assert.rejects(buildPretrainingDataset(cfg0, { minBytesPerWorker: 0 }), /a\.txt: invalid UTF-8 at byte offset 15 \(line 2\)/);
  assert.equal(existsSync(cfg0.outputDir), false, 'the output directory it created is gone');

  const warnings: string[] = [];
  const r = await buildPretrainingDataset({ ...cfg, skipInvalidUtf8: true }, { inProcess: true, onWarning: (w) => warnings.push(w) });
  assert.equal(r.manifest.counts.skippedLines, 1);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /b\.txt: invalid UTF-8 at byte offset 15 \(line 2\); line skipped/);
});

test('bad configuration and corpus problems give clear errors before anything is written', async () => {
  const empty = join(root.dir, 'empty-corpus');
  mkdirSync(empty);
  await assert.rejects(buildPretrainingDataset({ ...config('e1'), corpusDir: join(root.dir, 'nope') }), /corpus directory .*nope does not exist/);
  await assert.rejects(buildPretrainingDataset({ ...config('e2'), corpusDir: empty }), /empty-corpus is empty/);
  await assert.rejects(buildPretrainingDataset(config('e3', { maxSeqLength: 4 })), /--max-seq-length must be an integer in \[8, 512\], got 4/);
  await assert.rejects(buildPretrainingDataset(config('e4', { maxSeqLength: 513 })), /\[8, 512\], got 513/);
  await assert.rejects(buildPretrainingDataset(config('e5', { numProcesses: 3, numOutFiles: 2 })), /--num-out-files must be .* got 2/);
  await assert.rejects(buildPretrainingDataset({ ...config('e6'), vocabFile: join(root.dir, 'missing.txt') }), /vocab file .*missing\.txt does not exist/);
  const dangling = join(root.dir, 'dangling-corpus');
  mkdirSync(dangling);
  writeFileSync(join(dangling, 'ok.txt'), 'text\n');
  symlinkSync(join(root.dir, 'gone.txt'), join(dangling, 'link.txt'));
  await assert.rejects(buildPretrainingDataset({ ...config('e7'), corpusDir: dangling }), /link\.txt: cannot read corpus file/);
  for (const d of ['e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7']) assert.equal(existsSync(join(root.dir, d)), false, `${d} not created`);
});

test('worker threads: one per MIN_BYTES_PER_WORKER of corpus, at most num-processes - 1; a small corpus builds on one thread with the same bytes', async () => {
  assert.equal(workerThreadsFor(4, 0), 0);
  assert.equal(workerThreadsFor(4, MIN_BYTES_PER_WORKER - 1), 0);
  assert.equal(workerThreadsFor(4, MIN_BYTES_PER_WORKER), 1);
  assert.equal(workerThreadsFor(4, 3.5 * MIN_BYTES_PER_WORKER), 3);
  assert.equal(workerThreadsFor(4, 100 * MIN_BYTES_PER_WORKER), 3);
  assert.equal(workerThreadsFor(3, 10, 0), 2, 'a threshold of 0 starts every worker');
  assert.equal(workerThreadsFor(1, 100 * MIN_BYTES_PER_WORKER), 0);
  const small = await buildPretrainingDataset(config('small-default', { numProcesses: 2 }));
  assert.equal(small.threads, 1);
  const forced = await buildPretrainingDataset(config('small-forced', { numProcesses: 2 }), { minBytesPerWorker: 0 });
  assert.equal(forced.threads, 2);
  assertSameFiles(small.outputDir, forced.outputDir);
  await assert.rejects(buildPretrainingDataset(config('small-bad'), { minBytesPerWorker: -1 }), /minBytesPerWorker must be >= 0, got -1/);
});
