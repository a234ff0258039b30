// `build-openwebtext-pretraining-dataset`, as the reference's build_openwebtext_pretraining_dataset.py:
// <data-dir>/openwebtext/ holds the OpenWebText subsets (each a tar of .txt documents, xz-compressed);
// job j takes the sorted archive names with index % n == j and shuffles them, then shuffles each
// archive's members, with the job's one random stream (which its example builder goes on drawing
// from, as the reference's global random). Each member is one document: its non-blank lines are the
// builder's input (blank lines do not separate documents here). Archives are decompressed in memory
// (@napi-rs/lzma; the next one off this thread while this one is tokenized, see decompressAhead) and
// their tar members read from there (tar-stream): nothing is extracted to disk. Output: <data-dir>/pretrain_tfrecords.
import { xz } from '@napi-rs/lzma';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { isUtf8 } from 'node:buffer';
import { extract } from 'tar-stream';
import { FormatError, UsageError } from '../errors.js';
import { firstInvalidUtf8 } from '../util/text.js';
import {
  BuildInterruptedError, DEFAULT_TOKENIZER_MODULE, compareCodePoints, isXzFile, planBuild, removeBuildOutput, removeOwned, resolveBuildConfig, writeManifest,
  type BuildProgress, type BuildResult,
} from './build.js';
import {
  JobWriter, LineTokenizer, jobRandom, type BuildPlan, type CorpusFile, type JobResult, type OutputFormat,
  type PretrainingTokenizer,
} from './build-job.js';
import { loadTokenizerModule, vocabularyOf } from './tokenizer-module.js';

/** What buildOpenWebTextDataset builds from: the data dir, vocabulary, sequence length, jobs and output format. */
export interface OpenWebTextConfig {
  dataDir: string;
  maxSeqLength?: number;
  numProcesses?: number;
  lowerCase?: boolean;
  stripAccents?: boolean;
  seed?: number;
  numOutFiles?: number;
  outputFormat?: OutputFormat;
}

/** How buildOpenWebTextDataset runs: progress, notices and cancellation. */
export interface OpenWebTextOptions {
  onProgress?: (p: BuildProgress) => void;
  signal?: AbortSignal;
  /** As BuildOptions.tokenizerModule (tests use a whitespace tokenizer). */
  tokenizerModule?: string;
  /** Run the jobs one after another in this thread (default: one worker thread per job when there are several). */
  inProcess?: boolean;
}

/** One archive member: its name and text. */
interface Member {
  name: string;
  bytes: Buffer;
}

/**
 * The regular-file members of a tar held in memory, in archive order. Each member's bytes are a view
 * of `tar` (tar-stream hands a member written in one piece as one chunk): no copy per document.
 */
export function tarMembers(archive: string, tar: Uint8Array): Promise<Member[]> {
  return new Promise((resolve, reject) => {
    const members: Member[] = [];
    const ex = extract();
    // Events rather than async iteration: two promises and a copy per member cost more than the parsing.
    ex.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      const isFile = header.type === 'file' || header.type === 'contiguous-file';
      stream.on('data', (chunk: unknown) => {
        if (isFile) chunks.push(chunk as Buffer);
      });
      stream.on('end', () => {
        if (isFile) members.push({ name: header.name, bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) });
        next();
      });
    });
    ex.on('error', (e: Error) => reject(new FormatError(archive, `not a valid tar archive inside the xz stream (${e.message})`)));
    ex.on('finish', () => resolve(members));
    ex.end(Buffer.from(tar.buffer, tar.byteOffset, tar.byteLength));
  });
}

function decompressSync(path: string): Uint8Array {
  try {
    return xz.decompressSync(readFileSync(path));
  } catch (e) {
    throw new FormatError(path, `xz decompression failed (${(e as Error).message}); the archive is truncated or corrupt`);
  }
}

// The archive is read synchronously so that decoding starts in the pool at once: an awaited read
// would start it only when this thread next yields, after tokenizing the whole current archive.
async function decompress(path: string): Promise<Uint8Array> {
  let compressed: Buffer;
  try {
    compressed = readFileSync(path);
  } catch (e) {
    throw new FormatError(path, `cannot read: ${(e as Error).message}`);
  }
  try {
    return await xz.decompress(compressed);
  } catch (e) {
    throw new FormatError(path, `xz decompression failed (${(e as Error).message}); the archive is truncated or corrupt`);
  }
}

/**
 * Whether the jobs of a build decompress their next archive ahead, in libuv's thread pool, while
 * they tokenize (all jobs of a process share that pool, of UV_THREADPOOL_SIZE threads, default 4):
 * only while every job can have one there. Past that, jobs waiting on the pool would idle their
 * cores, so each decompresses in its own thread.
 */
export function decompressAhead(numJobs: number): boolean {
  const pool = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  return numJobs <= pool;
}

/** The archives of <dataDir>/openwebtext in sorted name order, each checked to be xz. */
export function listArchives(dataDir: string): CorpusFile[] {
  const dir = join(dataDir, 'openwebtext');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UsageError(`${dir} does not exist: put the OpenWebText archives (urlsf_subset*.xz, from openwebtext.tar.xz) there`);
  }
  const files: CorpusFile[] = [];
  for (const name of readdirSync(dir).sort(compareCodePoints)) {
    const path = join(dir, name);
    const s = statSync(path);
    if (!s.isFile()) continue;
    if (!isXzFile(path)) throw new UsageError(`${path} is not an xz archive (expected the OpenWebText subsets, tar files compressed with xz)`);
    files.push({ name, path, bytes: s.size, mtimeMs: s.mtimeMs });
  }
  if (files.length === 0) throw new UsageError(`${dir} holds no archives (expected urlsf_subset*.xz)`);
  return files;
}

/**
 * Job j of plan (whose files are the archives): its archives and their members in the reference's
 * order, built into its output files. Each archive decompresses off this thread while the one
 * before it is tokenized. `report` gets the archive bytes and examples after each archive.
 */
export async function runOpenWebTextJob(
  plan: BuildPlan, j: number, tokenizer: PretrainingTokenizer, report: (bytes: number, examples: number) => void, signal?: AbortSignal,
): Promise<JobResult> {
  const archives = plan.files;
  const random = jobRandom(plan.seed, j);
  const mine = archives.map((_, i) => i).filter((i) => i % plan.numJobs === j);
  random.shuffle(mine);
  const job = new JobWriter(plan, j, tokenizer, random);
  const ahead = decompressAhead(plan.numJobs);
  try {
    let next = ahead && mine.length > 0 ? decompress(archives[mine[0]!]!.path) : null;
    for (let k = 0; k < mine.length; k++) {
      const archive = archives[mine[k]!]!;
      let tar: Uint8Array;
      if (ahead) {
        tar = await next!;
        next = k + 1 < mine.length ? decompress(archives[mine[k + 1]!]!.path) : null;
        next?.catch(() => {}); // reported when awaited
      } else {
        tar = decompressSync(archive.path);
      }
      const members = (await tarMembers(archive.path, tar)).sort((a, b) => compareCodePoints(a.name, b.name));
      random.shuffle(members);
      const before = job.examples;
      for (const m of members) {
        if (signal?.aborted) throw new BuildInterruptedError();
        const bytes = m.bytes;
        if (!isUtf8(bytes)) throw new FormatError(archive.path, `member ${m.name}: invalid UTF-8 at byte offset ${firstInvalidUtf8(bytes)}`);
        let text = bytes.toString('utf8');
        // GFile's readline: lines end at '\n', every '\r' is dropped.
        if (bytes.indexOf(0x0d) >= 0) text = text.replaceAll('\r', '');
        const lines = new LineTokenizer(tokenizer, false);
        let lineCount = 0;
        for (let start = 0; start < text.length;) {
          let end = text.indexOf('\n', start);
          if (end < 0) end = text.length;
          lines.onLine(text, start, end);
          lineCount++;
          start = end + 1;
        }
        lines.endDocument();
        lines.stats.lines = lineCount;
        lines.stats.bytes = bytes.length;
        job.add(lines.result(false));
      }
      report(archive.bytes, job.examples - before);
    }
    return job.finish();
  } finally {
    job.abort();
  }
}

/** Runs job j in a worker thread of its own (see openwebtext-worker.ts). */
function runJobInWorker(
  plan: BuildPlan, j: number, tokenizerModule: string, report: (bytes: number, examples: number) => void, started: Worker[], signal?: AbortSignal,
): Promise<JobResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./openwebtext-worker.js', import.meta.url), { workerData: { plan, jobId: j, tokenizerModule } });
    started.push(worker);
    const onAbort = (): void => {
      void worker.terminate();
      reject(new BuildInterruptedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: { progress?: [number, number]; result?: JobResult; error?: string; badInput?: boolean }) => {
      if (m.progress) report(m.progress[0], m.progress[1]);
      if (m.result) resolve(m.result);
      // The worker's bad-input errors stay bad input (exit status 2).
      if (m.error !== undefined) reject(m.badInput ? new UsageError(m.error) : new Error(m.error));
    });
    worker.once('error', reject);
    worker.once('exit', () => {
      signal?.removeEventListener('abort', onAbort);
      reject(new Error(`OpenWebText job ${j} ended without a result`));
    });
  });
}

/** Builds <dataDir>/pretrain_tfrecords from <dataDir>/openwebtext with <dataDir>/vocab.txt. */
export async function buildOpenWebTextDataset(config: OpenWebTextConfig, options: OpenWebTextOptions = {}): Promise<BuildResult> {
  const started = performance.now();
  const dataDir = config.dataDir;
  const vocabFile = join(dataDir, 'vocab.txt');
  if (!existsSync(vocabFile)) throw new UsageError(`${vocabFile} does not exist (the vocabulary goes at <data-dir>/vocab.txt)`);
  const c = resolveBuildConfig({
    corpusDir: join(dataDir, 'openwebtext'), vocabFile, outputDir: join(dataDir, 'pretrain_tfrecords'),
    maxSeqLength: config.maxSeqLength, numProcesses: config.numProcesses, lowerCase: config.lowerCase, stripAccents: config.stripAccents,
    seed: config.seed, numOutFiles: config.numOutFiles, outputFormat: config.outputFormat, blanksSeparateDocs: false,
  });
  const archives = listArchives(dataDir);
  const moduleUrl = options.tokenizerModule ?? DEFAULT_TOKENIZER_MODULE;
  const mod = await loadTokenizerModule(moduleUrl);
  const tokenizer = await mod.createPretrainingTokenizer({ vocabFile: c.vocabFile, lowerCase: c.lowerCase, stripAccents: c.stripAccents });
  const plan = planBuild(c, vocabularyOf(tokenizer), archives);
  const outputExisted = existsSync(c.outputDir);
  mkdirSync(c.outputDir, { recursive: true });
  // The reference recreates the output folder; we remove only files of ours.
  removeOwned(c.outputDir, new Set());
  const progress: BuildProgress = { bytesRead: 0, totalBytes: archives.reduce((s, a) => s + a.bytes, 0), examples: 0, jobsDone: 0, jobs: plan.numJobs };
  const report = (bytes: number, examples: number): void => {
    progress.bytesRead += bytes;
    progress.examples += examples;
    options.onProgress?.(progress);
  };
  let results: JobResult[];
  try {
    if (plan.numJobs === 1 || options.inProcess) {
      results = [];
      for (let j = 0; j < plan.numJobs; j++) {
        results.push(await runOpenWebTextJob(plan, j, tokenizer, report, options.signal));
        progress.jobsDone++;
      }
    } else {
      // As the reference's processes: one worker thread per job, each with its archives, random stream and files.
      const workers: Worker[] = [];
      try {
        results = await Promise.all(Array.from({ length: plan.numJobs }, (_, j) => runJobInWorker(plan, j, moduleUrl, report, workers, options.signal)));
      } finally {
        // A failed job stops the others before their files are removed.
        await Promise.all(workers.map((w) => w.terminate()));
      }
    }
    if (results.every((r) => r.stats.examples === 0)) throw new UsageError(`no examples were built from the ${archives.length} archives (their documents hold no text)`);
  } catch (e) {
    removeBuildOutput(c.outputDir, outputExisted);
    throw e;
  }
  const manifest = writeManifest(c, plan, results);
  return { manifest, outputDir: c.outputDir, alreadyComplete: false, jobsRun: plan.numJobs, jobsReused: 0, threads: 1, seconds: (performance.now() - started) / 1000 };
}
