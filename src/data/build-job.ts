// One job of a build (the reference's write_examples(job_id)): its own random stream, a deterministic
// subset of the corpus files, and its own subset of the output shards, filled round-robin.
import { join } from 'node:path';
import { renameSync, writeFileSync, readFileSync, rmSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { ExampleBuilder, type ExampleBuilderStats, type RangeEncoder } from './example-builder.js';
import { PythonRandom } from './python-random.js';
import { ShardWriter, shardFileName, type IdWidth } from './shards.js';
import { TfRecordShardWriter, tfrecordFileName } from './tfrecord-shards.js';
import { drain, isPythonSpace, lineRangeSteps } from './text-lines.js';
import { asDiskFull } from '../io/files.js';

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
  /** Our shards, or the reference's TFRecord files. */
  outputFormat: OutputFormat;
  /** Corpus files in sorted name order. */
  files: CorpusFile[];
}

export type OutputFormat = 'shards' | 'tfrecord';

/** The name of output file `index` of `count` in the plan's format. */
export function outputFileName(plan: Pick<BuildPlan, 'outputFormat'>, index: number, count: number): string {
  return plan.outputFormat === 'tfrecord' ? tfrecordFileName(index, count) : shardFileName(index, count);
}

export interface JobShard {
  file: string;
  examples: number;
  /** File size (TFRecord files, whose completeness is judged by it; shards carry a header). */
  bytes?: number;
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
  try {
    writeFileSync(tmp, data);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw asDiskFull(err, path);
  }
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

/** Text the builder hands out as one unit of tokenizing work (whole small files together, or part of a large one). */
export const UNIT_BYTES = 256 << 10;

/** The lines of plan.files[file] whose first byte lies in [start, end) (end Infinity: to the end of the file). */
export interface UnitSegment {
  file: number;
  start: number;
  end: number;
  /** The segment reaches the end of its file (which ends a document). */
  lastOfFile: boolean;
}

/**
 * A unit of tokenizing work: consecutive segments of one job's files in that job's order. Tokenizing
 * is pure, so any thread may tokenize any unit; the job's example builder then takes the units of
 * its job in order, so that the output does not depend on which thread tokenized what.
 */
export interface WorkUnit {
  jobId: number;
  segments: UnitSegment[];
  /** The job's last unit. */
  lastOfJob: boolean;
}

/** A unit's lines tokenized, as its job's ExampleBuilder takes them. */
export interface TokenizedUnit {
  /** The tokens of the unit's non-blank lines back to back (in buffers of their own, which can move to another thread, unless tokenizeUnit was told not to copy). */
  ids: Int32Array<ArrayBuffer>;
  /** Per line handed on: its token count, or DOCUMENT_END (a blank line, or the end of a file). */
  lineTokens: Int32Array<ArrayBuffer>;
  lineCount: number;
  stats: { files: number; lines: number; bytes: number; skippedLines: number };
  warnings: string[];
}

/** lineTokens' mark of a document end. */
export const DOCUMENT_END = -1;

/** The units of the listed jobs, interleaved by text so that the jobs advance together; each job's random stream after its shuffle. */
export function planUnits(
  plan: Pick<BuildPlan, 'files' | 'numJobs' | 'seed'>, jobIds: readonly number[], unitBytes = UNIT_BYTES,
): { units: WorkUnit[]; randoms: Map<number, PythonRandom> } {
  if (!Number.isSafeInteger(unitBytes) || unitBytes < 1) throw new RangeError(`unitBytes must be a positive integer, got ${unitBytes}`);
  const randoms = new Map<number, PythonRandom>();
  const perJob: { units: WorkUnit[]; bytes: number[] }[] = [];
  for (const jobId of jobIds) {
    const random = jobRandom(plan.seed, jobId);
    const files = plan.files.map((_, i) => i).filter((i) => i % plan.numJobs === jobId);
    random.shuffle(files);
    randoms.set(jobId, random);
    const units: WorkUnit[] = [];
    const bytes: number[] = [];
    let open: WorkUnit | null = null;
    let openBytes = 0;
    const close = (): void => {
      if (open) {
        units.push(open);
        bytes.push(openBytes);
      }
      open = null;
      openBytes = 0;
    };
    for (const file of files) {
      const size = plan.files[file]!.bytes;
      if (size > unitBytes) {
        close();
        for (let start = 0; start < size; start += unitBytes) {
          const last = start + unitBytes >= size;
          units.push({ jobId, segments: [{ file, start, end: last ? Infinity : start + unitBytes, lastOfFile: last }], lastOfJob: false });
          bytes.push(Math.min(unitBytes, size - start));
        }
        continue;
      }
      if (open && openBytes + size > unitBytes) close();
      open ??= { jobId, segments: [], lastOfJob: false };
      open.segments.push({ file, start: 0, end: Infinity, lastOfFile: true });
      openBytes += size;
    }
    close();
    if (units.length === 0) units.push({ jobId, segments: [], lastOfJob: true });
    units[units.length - 1]!.lastOfJob = true;
    perJob.push({ units, bytes });
  }
  // Merge: the next unit is always the one of the job with the least text handed out so far.
  const units: WorkUnit[] = [];
  const next = perJob.map(() => 0);
  const done = perJob.map(() => 0);
  for (;;) {
    let pick = -1;
    for (let k = 0; k < perJob.length; k++) {
      if (next[k]! < perJob[k]!.units.length && (pick < 0 || done[k]! < done[pick]!)) pick = k;
    }
    if (pick < 0) break;
    const j = perJob[pick]!;
    done[pick]! += j.bytes[next[pick]!] ?? 0;
    units.push(j.units[next[pick]!]!);
    next[pick]!++;
  }
  return { units, randoms };
}

/**
 * Tokenizes a unit's lines (the reference strips each line first; blank lines end documents unless
 * the plan ignores them). Without `copy`, the result's arrays are views of this thread's scratch
 * arrays, valid until its next call.
 */
export function tokenizeUnit(
  plan: Pick<BuildPlan, 'files' | 'blanksSeparateDocs' | 'skipInvalidUtf8'>, unit: WorkUnit, tokenizer: PretrainingTokenizer, copy = true,
): TokenizedUnit {
  const lines = new LineTokenizer(tokenizer, plan.blanksSeparateDocs);
  const warnings: string[] = [];
  for (const seg of unit.segments) {
    const file = plan.files[seg.file]!;
    const read = drain(lineRangeSteps(file.path, lines.onLine, {
      skipInvalidUtf8: plan.skipInvalidUtf8,
      onWarning: (m) => warnings.push(m),
      byteRange: seg.start === 0 && seg.end === Infinity ? undefined : { start: seg.start, end: seg.end },
    }));
    if (seg.lastOfFile) lines.endDocument();
    lines.stats.lines += read.lines;
    lines.stats.bytes += read.bytes;
    lines.stats.skippedLines += read.skippedLines;
  }
  return lines.result(copy, warnings);
}

/**
 * Tokenizes lines into this thread's scratch arrays as a TokenizedUnit: each line stripped as the
 * reference strips it; blank lines end documents unless blanksSeparateDocs is off (then they are
 * dropped); endDocument() marks the end of a file (or any document).
 */
export class LineTokenizer {
  readonly stats = { files: 0, lines: 0, bytes: 0, skippedLines: 0 };
  private ids = scratch.ids;
  private idCount = 0;
  private lineTokens = scratch.lineTokens;
  private lineCount = 0;
  private readonly range: (PretrainingTokenizer & RangeEncoder) | null;

  constructor(private readonly tokenizer: PretrainingTokenizer, private readonly blanksSeparateDocs: boolean) {
    this.range = isRangeEncoder(tokenizer) ? tokenizer : null;
  }

  private pushLine(count: number): void {
    if (this.lineCount === this.lineTokens.length) this.lineTokens = scratch.lineTokens = grown(this.lineTokens, this.lineCount + 1);
    this.lineTokens[this.lineCount++] = count;
  }

  private pushIds(from: ArrayLike<number>, count: number): void {
    if (this.idCount + count > this.ids.length) this.ids = scratch.ids = grown(this.ids, this.idCount + count);
    const ids = this.ids;
    for (let k = 0; k < count; k++) ids[this.idCount + k] = from[k]!;
    this.idCount += count;
  }

  /** The line text[start, end) (without its newline). */
  readonly onLine = (text: string, start: number, end: number): void => {
    while (start < end && isPythonSpace(text.charCodeAt(start))) start++;
    while (end > start && isPythonSpace(text.charCodeAt(end - 1))) end--;
    if (start === end) {
      // Without blank-line document breaks, blank lines are dropped; files still end documents.
      if (this.blanksSeparateDocs) this.pushLine(DOCUMENT_END);
      return;
    }
    if (this.range) {
      const count = this.range.encodeIdsRange(text, start, end);
      this.pushIds(this.range.idBuffer, count);
      this.pushLine(count);
    } else {
      const lineIds = this.tokenizer.encodeIds(start === 0 && end === text.length ? text : text.slice(start, end));
      this.pushIds(lineIds, lineIds.length);
      this.pushLine(lineIds.length);
    }
  };

  endDocument(): void {
    this.pushLine(DOCUMENT_END);
    this.stats.files++;
  }

  /** The unit so far: copies of the exact size, or (copy false) views valid until this thread's next tokenizing. */
  result(copy: boolean, warnings: string[] = []): TokenizedUnit {
    const stats = { ...this.stats };
    return copy
      ? { ids: this.ids.slice(0, this.idCount), lineTokens: this.lineTokens.slice(0, this.lineCount), lineCount: this.lineCount, stats, warnings }
      : { ids: this.ids.subarray(0, this.idCount), lineTokens: this.lineTokens.subarray(0, this.lineCount), lineCount: this.lineCount, stats, warnings };
  }
}

const scratch = { ids: new Int32Array(1 << 16), lineTokens: new Int32Array(1 << 12) };

function grown(a: Int32Array<ArrayBuffer>, needed: number): Int32Array<ArrayBuffer> {
  let size = 2 * a.length;
  while (size < needed) size *= 2;
  const b = new Int32Array(size);
  b.set(a);
  return b;
}

/**
 * The example-building side of job j: its ExampleBuilder (with the job's random stream, after its
 * shuffle), its shards filled round-robin (the reference's n_written % len(writers)). The shards
 * appear under their final names only once all are complete; then the sidecar is written.
 */
export class JobWriter {
  private readonly builder: ExampleBuilder;
  private readonly writers: (ShardWriter | TfRecordShardWriter)[];
  private readonly shardIndices: number[];
  private readonly stats = { files: 0, lines: 0, bytes: 0, skippedLines: 0 };
  private written = 0;
  private closed = false;

  constructor(
    private readonly plan: BuildPlan, readonly jobId: number, vocabulary: Pick<PretrainingTokenizer, 'clsId' | 'sepId'>, random: PythonRandom,
  ) {
    this.builder = new ExampleBuilder(null, { maxSeqLength: plan.maxSeqLength, clsId: vocabulary.clsId, sepId: vocabulary.sepId, random });
    this.shardIndices = jobShardIndices(plan, jobId);
    this.writers = this.shardIndices.map((i) => {
      const path = join(plan.outputDir, outputFileName(plan, i, plan.numOutFiles));
      return plan.outputFormat === 'tfrecord'
        ? new TfRecordShardWriter(path, plan.maxSeqLength)
        : new ShardWriter(path, { idWidth: plan.idWidth, maxSeqLength: plan.maxSeqLength, vocabHash: plan.vocabHash, buildHash: plan.buildHash });
    });
  }

  /** Examples written so far. */
  get examples(): number {
    return this.written;
  }

  /** Adds the next unit of this job. */
  add(unit: TokenizedUnit): void {
    const { ids, lineTokens, lineCount } = unit;
    const builder = this.builder;
    let at = 0;
    for (let k = 0; k < lineCount; k++) {
      const count = lineTokens[k]!;
      let example;
      if (count === DOCUMENT_END) example = builder.endDocument();
      else {
        example = builder.addTokens(ids, at, count);
        at += count;
      }
      if (example) {
        this.writers[this.written % this.writers.length]!.write(example.ids, example.length, example.segmentBoundary);
        this.written++;
      }
    }
    const s = unit.stats;
    this.stats.files += s.files;
    this.stats.lines += s.lines;
    this.stats.bytes += s.bytes;
    this.stats.skippedLines += s.skippedLines;
  }

  /** Completes the shards and writes the sidecar (after the job's last unit). */
  finish(): JobResult {
    const plan = this.plan;
    const shards = this.writers.map((w, k): JobShard => {
      const file = outputFileName(plan, this.shardIndices[k]!, plan.numOutFiles);
      const examples = w.finish();
      return w instanceof TfRecordShardWriter ? { file, examples, bytes: w.bytes } : { file, examples };
    });
    this.closed = true;
    const result: JobResult = { buildHash: plan.buildHash, jobId: this.jobId, numJobs: plan.numJobs, stats: { ...this.builder.stats, ...this.stats }, shards };
    writeFileAtomic(join(plan.outputDir, jobFileName(this.jobId, plan.numJobs)), JSON.stringify(result, null, 1) + '\n');
    return result;
  }

  /** Removes the unfinished shards (after an error or an abort). */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.writers) w.abort();
  }
}

/**
 * Runs job j in this thread: shuffles its files with its random stream, tokenizes them unit by unit
 * and builds and writes its examples.
 */
export function runBuildJob(plan: BuildPlan, jobId: number, tokenizer: PretrainingTokenizer, hooks: JobHooks = {}): JobResult {
  const { units, randoms } = planUnits(plan, [jobId]);
  const job = new JobWriter(plan, jobId, tokenizer, randoms.get(jobId)!);
  try {
    for (const unit of units) {
      const t = tokenizeUnit(plan, unit, tokenizer, false);
      for (const w of t.warnings) hooks.onWarning?.(w);
      job.add(t);
      hooks.onProgress?.(t.stats.bytes, job.examples);
    }
    return job.finish();
  } finally {
    job.abort();
  }
}

function isRangeEncoder(t: PretrainingTokenizer): t is PretrainingTokenizer & RangeEncoder {
  return typeof t.encodeIdsRange === 'function' && t.idBuffer instanceof Int32Array;
}

/** Removes a job's sidecar (after its numbers went into the manifest, or when cleaning up). */
export function removeJobResult(outputDir: string, jobId: number, numJobs: number): void {
  rmSync(join(outputDir, jobFileName(jobId, numJobs)), { force: true });
}
