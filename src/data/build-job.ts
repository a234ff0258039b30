// One job of a build (the reference's write_examples(job_id)): its own random stream, a deterministic
// subset of the corpus files, and its own subset of the output shards, filled round-robin.
import { join } from 'node:path';
import { renameSync, writeFileSync, readFileSync, rmSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { ExampleBuilder, type ExampleBuilderStats, type RangeEncoder } from './example-builder.js';
import { PythonRandom } from './python-random.js';
import { ShardWriter, shardFileName, type IdWidth } from './shards.js';
import { drain, isPythonSpace, lineRangeSteps } from './text-lines.js';

/** What the builder needs from a tokenizer: WordPiece ids without specials, and the vocabulary. */
export interface PretrainingTokenizer {
  encodeIds(text: string): number[];
  /** Optional fast path (see RangeEncoder): the ids of text[start, end) into idBuffer; returns their count. */
  encodeIdsRange?(text: string, start: number, end: number): number;
  readonly idBuffer?: Int32Array;
  readonly vocab: { readonly size: number; readonly tokens: readonly string[] };
  readonly clsId: number;
  readonly sepId: number;
}

/** The vocabulary facts a build plan needs (cheaper to load than a whole tokenizer). */
export interface PretrainingVocabulary {
  readonly tokens: readonly string[];
  readonly clsId: number;
  readonly sepId: number;
}

/** Settings a tokenizer module receives to build its tokenizer (in the main thread and in each worker). */
export interface TokenizerSettings {
  vocabFile: string;
  lowerCase: boolean;
  stripAccents: boolean;
}

/**
 * A tokenizer module exports this function (the default module builds BERT's WordPiece tokenizer).
 * `shared` is what the module's shareTokenizer returned in the main thread, when it has one.
 */
export type CreatePretrainingTokenizer = (settings: TokenizerSettings, shared?: unknown) => PretrainingTokenizer | Promise<PretrainingTokenizer>;
/**
 * A tokenizer module may also export this: the main thread then builds the tokenizer once and hands
 * `shared` (anything postMessage can send; SharedArrayBuffers are not even copied) to every worker's
 * createPretrainingTokenizer, instead of each worker loading the vocabulary itself.
 */
export type ShareTokenizer = (settings: TokenizerSettings) => SharedTokenizer | Promise<SharedTokenizer>;

export interface SharedTokenizer {
  vocabulary: PretrainingVocabulary;
  shared: unknown;
}

/** Thrown when a build is aborted (Ctrl-C): finished jobs stay for the rerun. */
export class BuildInterruptedError extends Error {
  constructor() {
    super('build interrupted; finished jobs are kept, rerun the same command to complete it');
    this.name = 'BuildInterruptedError';
  }
}

export interface CorpusFile {
  name: string;
  path: string;
  bytes: number;
  mtimeMs: number;
}

/** Everything a job needs, serialisable for a worker thread. */
export interface BuildPlan {
  outputDir: string;
  maxSeqLength: number;
  numJobs: number;
  numOutFiles: number;
  blanksSeparateDocs: boolean;
  seed: number;
  skipInvalidUtf8: boolean;
  tokenizer: TokenizerSettings;
  idWidth: IdWidth;
  vocabHash: string;
  vocabSize: number;
  buildHash: string;
  /** Corpus files in sorted name order. */
  files: CorpusFile[];
}

export interface JobShard {
  file: string;
  examples: number;
}

export interface JobStats extends ExampleBuilderStats {
  files: number;
  lines: number;
  bytes: number;
  skippedLines: number;
}

/** What a finished job leaves in its sidecar file. */
export interface JobResult {
  buildHash: string;
  jobId: number;
  numJobs: number;
  stats: JobStats;
  shards: JobShard[];
}

export interface JobHooks {
  /** After each chunk read: bytes just consumed, examples written so far by this job. */
  onProgress?: (bytes: number, examples: number) => void;
  onWarning?: (message: string) => void;
}

/** The random stream of job j: Python's random.seed(seed + j * 2^32), so job 0 matches random.seed(seed). */
export function jobRandom(seed: number, jobId: number): PythonRandom {
  return new PythonRandom(seed + jobId * 0x100000000);
}

/** Files of job j before its shuffle: every numJobs-th file of the sorted list, starting at j. */
export function jobFiles(plan: Pick<BuildPlan, 'files' | 'numJobs'>, jobId: number): CorpusFile[] {
  return plan.files.filter((_, i) => i % plan.numJobs === jobId);
}

/** Shard indices of job j: every numJobs-th of numOutFiles, starting at j. */
export function jobShardIndices(plan: Pick<BuildPlan, 'numOutFiles' | 'numJobs'>, jobId: number): number[] {
  const out: number[] = [];
  for (let i = jobId; i < plan.numOutFiles; i += plan.numJobs) out.push(i);
  return out;
}

export function jobFileName(jobId: number, numJobs: number): string {
  const width = Math.max(5, String(numJobs).length);
  return `job-${String(jobId).padStart(width, '0')}-of-${String(numJobs).padStart(width, '0')}.json`;
}

export const JOB_FILE_PATTERN = /^job-\d+-of-\d+\.json$/;

/** Writes a file under a temporary name, syncs it, then renames it into place. */
export function writeFileAtomic(path: string, data: string): void {
  const tmp = `${path}.partial`;
  writeFileSync(tmp, data);
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** The finished job's record if its sidecar exists and belongs to this build, else null. */
export function readJobResult(outputDir: string, jobId: number, numJobs: number, buildHash: string): JobResult | null {
  let parsed: JobResult;
  try {
    parsed = JSON.parse(readFileSync(join(outputDir, jobFileName(jobId, numJobs)), 'utf8')) as JobResult;
  } catch {
    return null;
  }
  return parsed.buildHash === buildHash && parsed.jobId === jobId && parsed.numJobs === numJobs ? parsed : null;
}

/**
 * Runs job j: shuffles its files with its random stream, feeds every line to an ExampleBuilder, and
 * writes the examples round-robin into its shards (the reference's n_written % len(writers)). The
 * shards appear under their final names only once all are complete; then the sidecar is written.
 */
export function runBuildJob(plan: BuildPlan, jobId: number, tokenizer: PretrainingTokenizer, hooks: JobHooks = {}): JobResult {
  return drain(buildJobSteps(plan, jobId, tokenizer, hooks));
}

/**
 * runBuildJob one chunk of text at a time (see lineRangeSteps), for a caller that must keep its event
 * loop running. Ended early (return()), it removes its unfinished shards.
 */
export function* buildJobSteps(plan: BuildPlan, jobId: number, tokenizer: PretrainingTokenizer, hooks: JobHooks = {}): Generator<void, JobResult, void> {
  const random = jobRandom(plan.seed, jobId);
  const files = jobFiles(plan, jobId);
  random.shuffle(files);
  // A tokenizer that can tokenize a line where it lies in the file's text is given as it is.
  const encoder = isRangeEncoder(tokenizer) ? tokenizer : (text: string): number[] => tokenizer.encodeIds(text);
  const builder = new ExampleBuilder(encoder, {
    maxSeqLength: plan.maxSeqLength, clsId: tokenizer.clsId, sepId: tokenizer.sepId, random,
  });
  const shardIndices = jobShardIndices(plan, jobId);
  const writers = shardIndices.map((i) => new ShardWriter(join(plan.outputDir, shardFileName(i, plan.numOutFiles)), {
    idWidth: plan.idWidth, maxSeqLength: plan.maxSeqLength, vocabHash: plan.vocabHash, buildHash: plan.buildHash,
  }));
  const stats = { files: 0, lines: 0, bytes: 0, skippedLines: 0 };
  let written = 0;
  const emit = (text: string, start: number, end: number): void => {
    const example = builder.addLineRange(text, start, end);
    if (example) {
      writers[written % writers.length]!.write(example.ids, example.length, example.segmentBoundary);
      written++;
    }
  };
  const blanksSeparateDocs = plan.blanksSeparateDocs;
  let finished = false;
  try {
    for (const file of files) {
      const read = yield* lineRangeSteps(file.path, (text, start, end) => {
        // Without blank-line document breaks, blank lines are dropped; files still end documents.
        if (!blanksSeparateDocs && isBlank(text, start, end)) return;
        emit(text, start, end);
      }, {
        skipInvalidUtf8: plan.skipInvalidUtf8,
        onWarning: hooks.onWarning,
        onBytes: (n) => hooks.onProgress?.(n, written),
      });
      emit('', 0, 0);
      stats.files++;
      stats.lines += read.lines;
      stats.bytes += read.bytes;
      stats.skippedLines += read.skippedLines;
    }
    const shards = writers.map((w, k) => ({ file: shardFileName(shardIndices[k]!, plan.numOutFiles), examples: w.finish() }));
    const result: JobResult = { buildHash: plan.buildHash, jobId, numJobs: plan.numJobs, stats: { ...builder.stats, ...stats }, shards };
    writeFileAtomic(join(plan.outputDir, jobFileName(jobId, plan.numJobs)), JSON.stringify(result, null, 1) + '\n');
    finished = true;
    return result;
  } finally {
    // An error, or the caller ending the steps early.
    if (!finished) for (const w of writers) w.abort();
  }
}

function isRangeEncoder(t: PretrainingTokenizer): t is PretrainingTokenizer & RangeEncoder {
  return typeof t.encodeIdsRange === 'function' && t.idBuffer instanceof Int32Array;
}

/** True when text[start, end) holds only what Python's str.strip() removes. */
function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isPythonSpace(text.charCodeAt(i))) return false;
  return true;
}

/** Removes a job's sidecar (after its numbers went into the manifest, or when cleaning up). */
export function removeJobResult(outputDir: string, jobId: number, numJobs: number): void {
  rmSync(join(outputDir, jobFileName(jobId, numJobs)), { force: true });
}
