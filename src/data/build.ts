// Directory-level orchestration of a pre-training dataset build: validate, plan the jobs, reuse what
// a previous interrupted run finished, run the rest (worker threads or in this thread), then write
// manifest.json last. Output layout: <outputDir>/manifest.json and <outputDir>/shard-XXXXX-of-NNNNN.bin.
import { createHash } from 'node:crypto';
import { FormatError, UsageError } from '../errors.js';
import { closeSync, existsSync, mkdirSync, openSync, readSync, readdirSync, rmdirSync, rmSync, statSync, type Stats } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  JOB_FILE_PATTERN, JobWriter, UNIT_BYTES, jobFileName, jobShardIndices, planUnits, readJobResult, removeJobResult, tokenizeUnit, writeFileAtomic,
  outputFileName, type BuildPlan, type CorpusFile, type OutputFormat, type CreatePretrainingTokenizer, type JobResult, type JobStats,
  type PretrainingTokenizer, type PretrainingVocabulary, type TokenizedUnit, type TokenizerSettings,
} from './build-job.js';
import { BuildWorkers, UnitClaims } from './build-workers.js';
import { createTokenizer, loadTokenizerModule, vocabularyOf, type TokenizerModule } from './tokenizer-module.js';
import { BuildInterruptedError } from './build-job.js';
import { MANIFEST_FILE, MANIFEST_FORMAT, MANIFEST_FORMAT_VERSION, readManifest, vocabHash, type PretrainingManifest } from './manifest.js';
import { PARTIAL_SUFFIX, SHARD_FILE_PATTERN, SHARD_FORMAT_VERSION, idWidthForVocab, readShardHeader } from './shards.js';
import { TFRECORD_FILE_PATTERN } from './tfrecord-shards.js';

/** A pre-training dataset build: corpus, vocabulary, output folder and the reference's data settings. */
export interface BuildConfig {
  corpusDir: string;
  vocabFile: string;
  outputDir: string;
  maxSeqLength?: number;
  numProcesses?: number;
  blanksSeparateDocs?: boolean;
  lowerCase?: boolean;
  stripAccents?: boolean;
  seed?: number;
  numOutFiles?: number;
  skipInvalidUtf8?: boolean;
  /** 'shards' (ours, default) or 'tfrecord' (the reference's pretrain_data.tfrecord-i-of-n files). */
  outputFormat?: OutputFormat;
}

/** The config with defaults filled in; numOutFiles null means "choose from the corpus size" (autoNumOutFiles). */
export type ResolvedBuildConfig = Omit<Required<BuildConfig>, 'numOutFiles'> & { numOutFiles: number | null };

/** The reference's defaults; seed is ours (the reference is unseeded). */
export const BUILD_DEFAULTS = {
  maxSeqLength: 128,
  numProcesses: 1,
  blanksSeparateDocs: true,
  lowerCase: true,
  stripAccents: true,
  seed: 0,
  skipInvalidUtf8: false,
  outputFormat: 'shards',
} as const;

/** The reference's fixed shard count (ExampleWriter's num_out_files), the most the default chooses. */
export const MAX_DEFAULT_OUT_FILES = 1000;
/** Text per shard the default aims for. */
export const TEXT_BYTES_PER_OUT_FILE = 32 << 20;

/**
 * Default shard count: one per 32 MiB of text, rounded up to a multiple of the process count, at most
 * the reference's 1000 (which it uses whatever the corpus size: a thousand files of a few examples each
 * on small corpora, and a second of file creation on this machine's disks).
 */
export function autoNumOutFiles(corpusBytes: number, numProcesses: number): number {
  const wanted = Math.max(1, Math.ceil(corpusBytes / TEXT_BYTES_PER_OUT_FILE));
  return Math.max(numProcesses, Math.min(MAX_DEFAULT_OUT_FILES, Math.ceil(wanted / numProcesses) * numProcesses));
}

export const MIN_SEQ_LENGTH = 8;
export const MAX_SEQ_LENGTH = 512;

export interface BuildProgress {
  bytesRead: number;
  totalBytes: number;
  examples: number;
  jobsDone: number;
  jobs: number;
}

/** How a dataset build runs (workers, progress, interruption). */
export interface BuildOptions {
  onProgress?: (p: BuildProgress) => void;
  onWarning?: (message: string) => void;
  /**
   * URL of an ES module exporting `createPretrainingTokenizer(settings)`; loaded in this thread and in
   * every worker. Default: BERT WordPiece from the vocab file.
   */
  tokenizerModule?: string;
  /**
   * Do all the work in this thread. Default (false): numProcesses - 1 worker threads help this one
   * tokenize (any thread tokenizes any part of the corpus; this thread builds each job's examples
   * from its parts in order, so the output does not depend on who tokenized what). Either way the
   * event loop runs between units of text, so progress, timers and aborts keep working.
   */
  inProcess?: boolean;
  /**
   * Corpus bytes each worker thread must have to be started (default MIN_BYTES_PER_WORKER): a
   * worker's start (its own isolate, modules, JIT and word cache) costs more than it saves on a small
   * corpus. The output is the same however many threads run; 0 starts numProcesses - 1 workers.
   */
  minBytesPerWorker?: number;
  /** Text per unit of tokenizing work (default UNIT_BYTES); smaller units exercise file splitting in tests. */
  unitBytes?: number;
  /** Aborting stops the workers and removes unfinished files; finished jobs are kept for a rerun. */
  signal?: AbortSignal;
}

/** A finished dataset build: its manifest, folder and how much work ran. */
export interface BuildResult {
  manifest: PretrainingManifest;
  outputDir: string;
  /** True when the directory already held this exact build and nothing ran. */
  alreadyComplete: boolean;
  jobsRun: number;
  /** Threads that tokenized: this one and its workers (see BuildOptions.minBytesPerWorker). */
  threads: number;
  jobsReused: number;
  seconds: number;
}

/**
 * Measured on 2 cores (Zen 5): on Brown + SOTU (17 MB) one worker made the build slower (0.88-0.94x),
 * on twice that corpus it broke even (1.03-1.08x), on five times it paid (1.3-1.4x end to end).
 */
export const MIN_BYTES_PER_WORKER = 32 << 20;

/** Worker threads for a build of `corpusBytes`: numProcesses - 1 at most, one per MIN_BYTES_PER_WORKER. */
export function workerThreadsFor(numProcesses: number, corpusBytes: number, minBytesPerWorker = MIN_BYTES_PER_WORKER): number {
  if (minBytesPerWorker <= 0) return numProcesses - 1;
  return Math.min(numProcesses - 1, Math.floor(corpusBytes / minBytesPerWorker));
}

export const DEFAULT_TOKENIZER_MODULE = new URL('./bert-pretraining-tokenizer.js', import.meta.url).href;

export { BuildInterruptedError };

/** Fills in defaults and checks ranges, with messages naming the flag. */
export function resolveBuildConfig(config: BuildConfig): ResolvedBuildConfig {
  const d = BUILD_DEFAULTS;
  const c: ResolvedBuildConfig = {
    corpusDir: config.corpusDir, vocabFile: config.vocabFile, outputDir: config.outputDir,
    maxSeqLength: config.maxSeqLength ?? d.maxSeqLength, numProcesses: config.numProcesses ?? d.numProcesses,
    blanksSeparateDocs: config.blanksSeparateDocs ?? d.blanksSeparateDocs, lowerCase: config.lowerCase ?? d.lowerCase,
    stripAccents: config.stripAccents ?? d.stripAccents, seed: config.seed ?? d.seed,
    numOutFiles: config.numOutFiles ?? null, skipInvalidUtf8: config.skipInvalidUtf8 ?? d.skipInvalidUtf8,
    outputFormat: config.outputFormat ?? d.outputFormat,
  };
  if (c.outputFormat !== 'shards' && c.outputFormat !== 'tfrecord') throw new UsageError(`--output-format must be shards or tfrecord, got '${String(c.outputFormat)}'`);
  for (const key of ['corpusDir', 'vocabFile', 'outputDir'] as const) {
    if (typeof c[key] !== 'string' || c[key] === '') throw new UsageError(`--${kebab(key)} is required`);
  }
  if (!Number.isInteger(c.maxSeqLength) || c.maxSeqLength < MIN_SEQ_LENGTH || c.maxSeqLength > MAX_SEQ_LENGTH) {
    throw new UsageError(`--max-seq-length must be an integer in [${MIN_SEQ_LENGTH}, ${MAX_SEQ_LENGTH}], got ${c.maxSeqLength}`);
  }
  if (!Number.isInteger(c.numProcesses) || c.numProcesses < 1 || c.numProcesses > 256) {
    throw new UsageError(`--num-processes must be an integer in [1, 256], got ${c.numProcesses}`);
  }
  if (c.numOutFiles !== null && (!Number.isInteger(c.numOutFiles) || c.numOutFiles < c.numProcesses || c.numOutFiles > 100000)) {
    throw new UsageError(`--num-out-files must be an integer in [num-processes=${c.numProcesses}, 100000], got ${c.numOutFiles}`);
  }
  if (!Number.isInteger(c.seed) || c.seed < 0 || c.seed > 0xffffffff) {
    throw new UsageError(`--seed must be an integer in [0, 4294967295], got ${c.seed}`);
  }
  return { ...c, corpusDir: resolve(c.corpusDir), vocabFile: resolve(c.vocabFile), outputDir: resolve(c.outputDir) };
}

function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (m) => '-' + m.toLowerCase());
}

/**
 * Python's sorted() order on names: by code point. JS's default sort compares UTF-16 units, which
 * differs only where a surrogate meets a unit >= U+E000; shifting those two ranges fixes it.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

/** The corpus files (regular files, symlinks followed) in sorted name order; subdirectories are skipped. */
export function listCorpusFiles(corpusDir: string, onWarning?: (m: string) => void): CorpusFile[] {
  let dir: Stats;
  try {
    dir = statSync(corpusDir);
  } catch {
    throw new UsageError(`corpus directory ${corpusDir} does not exist`);
  }
  if (!dir.isDirectory()) throw new UsageError(`corpus directory ${corpusDir} is not a directory`);
  const files: CorpusFile[] = [];
  for (const name of readdirSync(corpusDir).sort(compareCodePoints)) {
    const path = join(corpusDir, name);
    let s: Stats;
    try {
      s = statSync(path);
    } catch (e) {
      throw new FormatError(path, `cannot read corpus file (${(e as Error).message})`);
    }
    if (s.isDirectory()) {
      onWarning?.(`${path}: subdirectory skipped (corpus files must sit directly in --corpus-dir)`);
      continue;
    }
    if (!s.isFile()) throw new FormatError(path, `not a regular file; expected text files in --corpus-dir`);
    refuseArchive(path);
    files.push({ name, path, bytes: s.size, mtimeMs: s.mtimeMs });
  }
  if (files.length === 0) throw new UsageError(`corpus directory ${corpusDir} is empty; expected text files, one sentence or paragraph a line`);
  if (files.every((f) => f.bytes === 0)) throw new UsageError(`corpus directory ${corpusDir} holds only empty files`);
  return files;
}

export { createTokenizer, vocabularyOf };

/** The xz stream magic (OpenWebText's archives) and gzip's. */
const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

/** Whether `path` starts with the xz magic bytes. */
export function isXzFile(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(6);
    return readSync(fd, head, 0, 6, 0) === 6 && head.equals(XZ_MAGIC);
  } finally {
    closeSync(fd);
  }
}

/** A compressed archive in a text corpus gets an error saying so (not "invalid UTF-8 at byte 0"). */
function refuseArchive(path: string): void {
  if (isXzFile(path)) {
    throw new FormatError(path, `an xz-compressed archive, not text: for the OpenWebText archives (DIR/openwebtext/urlsf_subset*.xz) run ` +
      `\`electra build-openwebtext-pretraining-dataset --data-dir DIR\`, which reads them as they are`);
  }
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(2);
    if (readSync(fd, head, 0, 2, 0) === 2 && head.equals(GZIP_MAGIC)) throw new FormatError(path, 'gzip-compressed, not text: decompress it first');
  } finally {
    closeSync(fd);
  }
}


/** Checks that a worker's tokenizer has the plan's vocabulary. */
export function checkTokenizer(plan: BuildPlan, tokenizer: PretrainingTokenizer): void {
  const hash = vocabHash(tokenizer.vocab.tokens);
  if (hash !== plan.vocabHash) throw new Error(`tokenizer vocabulary hash ${hash} differs from the build's ${plan.vocabHash}`);
}

function tokenizerSettings(c: ResolvedBuildConfig): TokenizerSettings {
  return { vocabFile: c.vocabFile, lowerCase: c.lowerCase, stripAccents: c.stripAccents };
}

/** Builds the plan: file list, vocabulary facts and the build hash covering config and corpus. */
export function planBuild(
  c: ResolvedBuildConfig, vocab: PretrainingVocabulary, files: CorpusFile[] = listCorpusFiles(c.corpusDir),
): BuildPlan {
  const vHash = vocabHash(vocab.tokens);
  const idWidth = idWidthForVocab(vocab.tokens.length);
  const numOutFiles = c.numOutFiles ?? autoNumOutFiles(files.reduce((s, f) => s + f.bytes, 0), c.numProcesses);
  const identity = {
    shardFormat: SHARD_FORMAT_VERSION, manifestFormat: MANIFEST_FORMAT_VERSION, vocabHash: vHash,
    maxSeqLength: c.maxSeqLength, lowerCase: c.lowerCase, stripAccents: c.stripAccents,
    blanksSeparateDocs: c.blanksSeparateDocs, seed: c.seed, numProcesses: c.numProcesses,
    numOutFiles, skipInvalidUtf8: c.skipInvalidUtf8, clsId: vocab.clsId, sepId: vocab.sepId,
    ...(c.outputFormat === 'shards' ? {} : { outputFormat: c.outputFormat }),
    files: files.map((f) => [f.name, f.bytes, f.mtimeMs]),
  };
  return {
    outputDir: c.outputDir, maxSeqLength: c.maxSeqLength, numJobs: c.numProcesses, numOutFiles,
    blanksSeparateDocs: c.blanksSeparateDocs, seed: c.seed, skipInvalidUtf8: c.skipInvalidUtf8,
    tokenizer: tokenizerSettings(c), idWidth, vocabHash: vHash, vocabSize: vocab.tokens.length,
    buildHash: createHash('sha256').update(JSON.stringify(identity)).digest('hex'),
    outputFormat: c.outputFormat,
    files,
  };
}

/** True when shard `file` exists, is complete, and belongs to this build with this many examples. */
function shardIsFinished(plan: BuildPlan, file: string, examples: number, bytes?: number): boolean {
  try {
    // A TFRecord file has no header: its name, the sidecar or manifest (which carry the build hash) and its size must agree.
    if (plan.outputFormat === 'tfrecord') return bytes !== undefined && statSync(join(plan.outputDir, file)).size === bytes;
    const h = readShardHeader(join(plan.outputDir, file));
    return h.buildHash === plan.buildHash && h.numExamples === examples && h.maxSeqLength === plan.maxSeqLength;
  } catch {
    return false;
  }
}

/** A finished job of this build found on disk (sidecar plus all its shards), or null. */
function finishedJob(plan: BuildPlan, jobId: number): JobResult | null {
  const r = readJobResult(plan.outputDir, jobId, plan.numJobs, plan.buildHash);
  if (!r) return null;
  const expected = jobShardIndices(plan, jobId).map((i) => outputFileName(plan, i, plan.numOutFiles));
  if (r.shards.length !== expected.length || r.shards.some((s, k) => s.file !== expected[k])) return null;
  return r.shards.every((s) => shardIsFinished(plan, s.file, s.examples, s.bytes)) ? r : null;
}

function manifestIsComplete(plan: BuildPlan): PretrainingManifest | null {
  let m: PretrainingManifest;
  try {
    m = readManifest(plan.outputDir);
  } catch {
    return null;
  }
  if (m.buildHash !== plan.buildHash || m.shards.length !== plan.numOutFiles) return null;
  return m.shards.every((s) => shardIsFinished(plan, s.file, s.examples, s.bytes)) ? m : null;
}

/** Files this builder owns in an output directory (never touches anything else). */
export function ownedFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((name) => {
    const base = name.endsWith(PARTIAL_SUFFIX) ? name.slice(0, -PARTIAL_SUFFIX.length) : name;
    return base === MANIFEST_FILE || SHARD_FILE_PATTERN.test(base) || TFRECORD_FILE_PATTERN.test(base) || JOB_FILE_PATTERN.test(base);
  });
}

/** After bad input or a failure: no output of the build is left (nor the folder, when the build made it and it holds nothing else). */
export function removeBuildOutput(outputDir: string, outputExisted: boolean): void {
  removeOwned(outputDir, new Set());
  if (outputExisted) return;
  try {
    rmdirSync(outputDir);
  } catch {
    // not empty: it holds files that are not ours
  }
}

/** Writes manifest.json last, once every job's files are in place, and drops the job sidecars. */
export function writeManifest(c: ResolvedBuildConfig, plan: BuildPlan, results: JobResult[]): PretrainingManifest {
  const manifest = makeManifest(c, plan, results);
  writeFileAtomic(join(c.outputDir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
  for (let j = 0; j < plan.numJobs; j++) removeJobResult(c.outputDir, j, plan.numJobs);
  return manifest;
}

/** Removes our files in dir except those in keep. */
export function removeOwned(dir: string, keep: ReadonlySet<string>): void {
  for (const name of ownedFiles(dir)) if (!keep.has(name)) rmSync(join(dir, name), { force: true });
}

function sumStats(results: readonly JobResult[]): JobStats {
  const total: JobStats = {
    examples: 0, singleSegmentDraws: 0, withoutSecondSegment: 0, shortTargets: 0, inputTokens: 0,
    keptTokens: 0, truncatedTokens: 0, files: 0, lines: 0, bytes: 0, skippedLines: 0,
  };
  for (const r of results) for (const k of Object.keys(total) as (keyof JobStats)[]) total[k] += r.stats[k];
  return total;
}

export function makeManifest(c: ResolvedBuildConfig, plan: BuildPlan, results: JobResult[]): PretrainingManifest {
  const shards = results.flatMap((r) => r.shards).sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return {
    format: MANIFEST_FORMAT, formatVersion: MANIFEST_FORMAT_VERSION, buildHash: plan.buildHash,
    maxSeqLength: plan.maxSeqLength, dtype: plan.idWidth === 2 ? 'uint16' : 'int32',
    vocab: { hash: plan.vocabHash, size: plan.vocabSize },
    // Effective setting: the reference strips accents only while lower-casing.
    lowerCase: c.lowerCase, stripAccents: c.lowerCase && c.stripAccents, blanksSeparateDocs: c.blanksSeparateDocs,
    seed: c.seed, numProcesses: c.numProcesses, numOutFiles: plan.numOutFiles,
    ...(plan.outputFormat === 'tfrecord' ? { outputFormat: plan.outputFormat } : {}),
    corpus: { files: plan.files.length, bytes: plan.files.reduce((s, f) => s + f.bytes, 0) },
    counts: sumStats(results),
    shards,
  };
}

/**
 * Builds (or finishes) the dataset described by config. Deterministic for a given seed and
 * numProcesses: the same corpus gives byte-identical shards and manifest.
 */
export async function buildPretrainingDataset(config: BuildConfig, options: BuildOptions = {}): Promise<BuildResult> {
  const started = performance.now();
  const c = resolveBuildConfig(config);
  const moduleUrl = options.tokenizerModule ?? DEFAULT_TOKENIZER_MODULE;
  const unitBytes = options.unitBytes;
  if (unitBytes !== undefined && !(Number.isSafeInteger(unitBytes) && unitBytes >= 1)) throw new RangeError(`unitBytes must be a positive integer, got ${unitBytes}`);
  if (!existsSync(c.vocabFile)) throw new UsageError(`vocab file ${c.vocabFile} does not exist`);
  if (!existsSync(c.corpusDir)) throw new UsageError(`corpus directory ${c.corpusDir} does not exist`);
  const minBytesPerWorker = options.minBytesPerWorker ?? MIN_BYTES_PER_WORKER;
  if (!(minBytesPerWorker >= 0)) throw new RangeError(`minBytesPerWorker must be >= 0, got ${minBytesPerWorker}`);
  // Listed first: its size decides the worker count, and a corpus problem is reported before a tokenizer one.
  const files = listCorpusFiles(c.corpusDir, options.onWarning);
  const corpusBytes = files.reduce((sum, f) => sum + f.bytes, 0);
  // The workers start before the tokenizer is loaded, loading their code while this thread plans.
  const workerCount = options.inProcess ? 0 : workerThreadsFor(c.numProcesses, corpusBytes, minBytesPerWorker);
  const workers = workerCount > 0 ? BuildWorkers.start(workerCount, moduleUrl, tokenizerSettings(c)) : null;
  try {
    return await buildWith(c, files, moduleUrl, workers, options, started);
  } finally {
    // Workers still waiting (for a unit, or for a run that never came) must not keep the process alive.
    await workers?.terminate();
  }
}

async function buildWith(
  c: ResolvedBuildConfig, files: CorpusFile[], moduleUrl: string, workers: BuildWorkers | null, options: BuildOptions, started: number,
): Promise<BuildResult> {
  let tokenizer: PretrainingTokenizer;
  let sharedTokenizer: unknown;
  const mod = await loadTokenizerModule(moduleUrl);
  const settings = tokenizerSettings(c);
  if (workers && mod.shareTokenizer) {
    // Built once here, while the workers start; they get it as data instead of loading it again.
    const share = await mod.shareTokenizer(settings);
    sharedTokenizer = share.shared;
    tokenizer = await mod.createPretrainingTokenizer(settings, share.shared);
  } else {
    tokenizer = await mod.createPretrainingTokenizer(settings);
  }
  const plan = planBuild(c, vocabularyOf(tokenizer), files);
  const outputExisted = existsSync(c.outputDir);
  mkdirSync(c.outputDir, { recursive: true });
  const elapsed = (): number => (performance.now() - started) / 1000;

  const complete = manifestIsComplete(plan);
  if (complete) {
    removeOwned(c.outputDir, new Set([MANIFEST_FILE, ...complete.shards.map((s) => s.file)]));
    return { manifest: complete, outputDir: c.outputDir, alreadyComplete: true, jobsRun: 0, jobsReused: 0, threads: 1, seconds: elapsed() };
  }

  // Keep only the finished jobs of this very build; everything else of ours goes (the manifest first).
  rmSync(join(c.outputDir, MANIFEST_FILE), { force: true });
  const results: (JobResult | null)[] = [];
  const keep = new Set<string>();
  for (let j = 0; j < plan.numJobs; j++) {
    const r = finishedJob(plan, j);
    results.push(r);
    if (r) {
      keep.add(jobFileName(j, plan.numJobs));
      for (const s of r.shards) keep.add(s.file);
    }
  }
  removeOwned(c.outputDir, keep);
  const todo = results.flatMap((r, j) => (r ? [] : [j]));
  const reused = plan.numJobs - todo.length;

  const todoJobs = new Set(todo);
  const totalBytes = plan.files.reduce((s, f, i) => s + (todoJobs.has(i % plan.numJobs) ? f.bytes : 0), 0);
  const progress: BuildProgress = { bytesRead: 0, totalBytes, examples: 0, jobsDone: 0, jobs: todo.length };

  try {
    const done = await runJobs(plan, todo, tokenizer, workers, sharedTokenizer, options, progress);
    for (const r of done) results[r.jobId] = r;
    results.forEach((r, j) => {
      if (!r) throw new Error(`build job ${j} ended without reporting a result`);
    });
    const made = sumStats(results as JobResult[]);
    if (made.examples === 0) {
      throw new UsageError(`no examples were built from ${plan.files.length} corpus files (${made.lines} lines read, ${made.skippedLines} skipped): ` +
        'the corpus holds no usable text');
    }
  } catch (e) {
    if (e instanceof BuildInterruptedError) {
      // Finished jobs stay for the rerun; unfinished files go.
      for (const name of ownedFiles(c.outputDir)) if (name.endsWith(PARTIAL_SUFFIX)) rmSync(join(c.outputDir, name), { force: true });
    } else {
      removeBuildOutput(c.outputDir, outputExisted);
    }
    throw e;
  }

  const manifest = writeManifest(c, plan, results as JobResult[]);
  return { manifest, outputDir: c.outputDir, alreadyComplete: false, jobsRun: todo.length, jobsReused: reused, threads: 1 + (workers?.started ?? 0), seconds: elapsed() };
}

/** Longest wait for a worker's result before this thread looks again (a worker's failure also wakes it). */
const RESULT_WAIT_MS = 1000;

/** Time this thread works before it lets its event loop run (progress bar, Ctrl-C, timers). */
const EVENT_LOOP_TURN_MS = 50;

/**
 * Runs the listed jobs. Their units of text are tokenized by whichever thread claims them (this one
 * and the workers); this thread feeds each job's JobWriter the job's units in order, so the output
 * is the same whoever tokenized what. A job's shards and sidecar are written when its last unit is in.
 */
async function runJobs(
  plan: BuildPlan, jobIds: number[], tokenizer: PretrainingTokenizer, workers: BuildWorkers | null, sharedTokenizer: unknown,
  options: BuildOptions, progress: BuildProgress,
): Promise<JobResult[]> {
  const { units, randoms } = planUnits(plan, jobIds, options.unitBytes ?? UNIT_BYTES);
  const jobs = new Map(jobIds.map((j) => [j, new JobWriter(plan, j, tokenizer, randoms.get(j)!)]));
  const threads = 1 + (workers?.size ?? 0);
  // Enough units in flight that no thread waits for this one to take in tokens.
  const claims = new UnitClaims(units.length, 8 * threads);
  const ready = new Map<number, TokenizedUnit | Error>();
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const wakeUp = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const signal = options.signal;
  signal?.addEventListener('abort', wakeUp);
  const finished: JobResult[] = [];
  try {
    workers?.run(plan, units, claims, sharedTokenizer, {
      onUnit: (index, unit) => {
        ready.set(index, unit);
        wakeUp();
      },
      onFailure: (e) => {
        failure ??= e;
        wakeUp();
      },
    });
    let turn = performance.now();
    const check = (): void => {
      if (signal?.aborted) throw new BuildInterruptedError();
      if (failure) throw failure;
    };
    for (let u = 0; u < units.length; u++) {
      while (!ready.has(u)) {
        check();
        const posted = claims.postedCount();
        workers?.receive();
        if (ready.has(u)) break;
        const mine = claims.tryClaim();
        if (mine >= 0) {
          let unit: TokenizedUnit | Error;
          try {
            // The next unit in order is taken in at once: its tokens may stay in this thread's scratch arrays.
            unit = tokenizeUnit(plan, units[mine]!, tokenizer, mine !== u);
          } catch (e) {
            unit = e as Error;
          }
          ready.set(mine, unit);
        } else {
          // Everything left is being tokenized elsewhere: wait for a worker's result (or a failure, or an abort).
          await Promise.race([claims.whenPosted(posted, RESULT_WAIT_MS), new Promise<void>((resolve) => {
            wake = resolve;
          })]);
          wake = null;
          turn = performance.now();
        }
      }
      check();
      const unit = ready.get(u)!;
      ready.delete(u);
      if (unit instanceof Error) throw unit;
      const job = jobs.get(units[u]!.jobId)!;
      for (const w of unit.warnings) options.onWarning?.(w);
      const before = job.examples;
      job.add(unit);
      claims.consumed(u + 1);
      progress.bytesRead += unit.stats.bytes;
      progress.examples += job.examples - before;
      options.onProgress?.(progress);
      if (units[u]!.lastOfJob) {
        check(); // an abort seen in the progress report comes before the job is made final
        finished.push(job.finish());
        progress.jobsDone++;
        options.onProgress?.(progress);
      }
      if (performance.now() - turn >= EVENT_LOOP_TURN_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        turn = performance.now();
      }
    }
    return finished;
  } finally {
    claims.stop();
    signal?.removeEventListener('abort', wakeUp);
    // Stop the workers before unfinished files are removed (by the jobs here and by the caller).
    await workers?.terminate();
    for (const job of jobs.values()) job.abort();
  }
}
