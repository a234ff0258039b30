// The trainer's view of pre-training data: our shards and/or TFRecord files (see pretraining-inputs.ts),
// checked against the run's config, shuffled across all files with a seeded permutation per epoch
// (no per-example memory), served as fixed-size batches forever (the reference repeats its data and
// drops remainders), and resumable from a serialisable state.
import { createHash } from 'node:crypto';
import { FormatError } from '../errors.js';
import { basename, join } from 'node:path';
import { resolvePretrainingInputs, type InputGroup } from './pretraining-inputs.js';
import { ShardReader, readShardHeader } from './shards.js';
import { TfRecordShardReader } from './tfrecord-shards.js';

/** Options of openPretrainingDataset: expected sequence length and vocabulary, batch size, seed, saved state. */
export interface OpenPretrainingDatasetOptions {
  /** The run's sequence length; shards built with another are refused. */
  maxSeqLength: number;
  /** vocabHash() of the run's vocabulary; shards built with another are refused. */
  vocabHash: string;
  /** The run's vocabulary size: an id outside it is refused, naming file and example (default: a built dataset's). */
  vocabSize?: number;
  /** Notices about the data (e.g. shards without a checksum). */
  onNotice?: (message: string) => void;
  batchSize: number;
  /** Shuffle seed (default 0). */
  seed?: number;
  /** Visit examples in a fresh random order each epoch (default true); false reads them in stored order. */
  shuffle?: boolean;
  /** Resume exactly where a previous reader's getState() left off. */
  state?: PretrainingDatasetState;
  /** Load all shards into memory when they total at most this many bytes (default 1 GiB); else read on demand. */
  preloadBytes?: number;
  /** File descriptors kept open when reading on demand (default 64). */
  maxOpenFiles?: number;
}

/** Where a reader stands: JSON-serialisable; pass it back as options.state to resume. */
export interface PretrainingDatasetState {
  buildHash: string;
  seed: number;
  shuffle: boolean;
  /** Epochs completed. */
  epoch: number;
  /** Examples of the current epoch already served. */
  position: number;
}

/**
 * One batch, row-major [batchSize x maxSeqLength]: ids zero-padded, inputMask 1 on real tokens,
 * segmentIds 0 for `[CLS] A [SEP]` and 1 for `B [SEP]`.
 */
export interface PretrainingBatch {
  batchSize: number;
  maxSeqLength: number;
  inputIds: Int32Array;
  inputMask: Int32Array;
  segmentIds: Int32Array;
  /** Real length of each row. */
  lengths: Int32Array;
  /** Dataset index of each row (stored order across shards). */
  exampleIndices: Uint32Array;
}

export interface DatasetExample {
  ids: Int32Array;
  length: number;
  segmentBoundary: number;
}

const DEFAULT_PRELOAD_BYTES = 1 << 30;

/**
 * Opens pre-training data for a run with the given sequence length and vocabulary: a built dataset's
 * folder, TFRecord files, or a comma-separated list of folders, files and globs (pretrain_tfrecords).
 */
export function openPretrainingDataset(spec: string, options: OpenPretrainingDatasetOptions): PretrainingDataset {
  return new PretrainingDataset(spec, options);
}

/** What every file reader offers the dataset. */
interface ExampleFile {
  readonly file: string;
  readonly numExamples: number;
  read(index: number, ids: Int32Array, idsOffset?: number): [number, number];
  close(): void;
}

/** A built pre-training dataset read as shuffled, resumable batches. */
export class PretrainingDataset {
  /** Identifies the data (a built dataset's build hash, or a hash of the file list); resume states carry it. */
  readonly dataHash: string;
  readonly numExamples: number;
  readonly maxSeqLength: number;
  readonly batchSize: number;
  private readonly shards: ExampleFile[];
  /** starts[k] = dataset index of file k's first example; starts[files] = numExamples. */
  private readonly starts: number[];
  private readonly preloaded: boolean;
  private readonly maxOpenFiles: number;
  private readonly openFiles = new Set<number>();
  private readonly seed: number;
  private readonly shuffle: boolean;
  private epoch: number;
  private position: number;
  private permutation: FeistelPermutation | null = null;

  constructor(readonly spec: string, options: OpenPretrainingDatasetOptions) {
    const groups = resolvePretrainingInputs(spec);
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${options.batchSize}`);
    const L = options.maxSeqLength;
    for (const g of groups) {
      if (!g.manifest) continue;
      const m = g.manifest.manifest;
      const where = join(g.manifest.dir, 'manifest.json');
      if (m.maxSeqLength !== L) {
        throw new FormatError(where, `the dataset was built with max_seq_length ${m.maxSeqLength} but this run uses ${L}; rebuild it or change the run's max_seq_length`);
      }
      if (m.vocab.hash !== options.vocabHash) {
        throw new FormatError(where, `the dataset was built with vocabulary ${m.vocab.hash} but this run's vocabulary is ${options.vocabHash}; rebuild it with this run's vocab file`);
      }
    }
    const vocabSize = options.vocabSize ?? groups.find((g) => g.manifest)?.manifest?.manifest.vocab.size;
    if (vocabSize === undefined) throw new RangeError('vocabSize is required to read TFRecord files or loose shards (they carry no vocabulary)');
    this.maxSeqLength = L;
    this.batchSize = options.batchSize;
    const files = groups.flatMap((g) => g.files);
    const totalBytes = files.reduce((s, f) => s + (f.kind === 'tfrecord' ? f.bytes * 2 : f.bytes), 0);
    this.preloaded = totalBytes <= (options.preloadBytes ?? DEFAULT_PRELOAD_BYTES);
    this.maxOpenFiles = Math.max(1, options.maxOpenFiles ?? 64);
    this.shards = [];
    this.starts = [0];
    for (const g of groups) {
      const entries = g.manifest?.manifest.shards;
      g.files.forEach((f, k) => {
        const reader = this.openFile(f.path, f.kind, options, vocabSize, g);
        if (entries && reader.numExamples !== entries[k]!.examples) {
          throw new FormatError(reader.file, `holds ${reader.numExamples} examples, the manifest says ${entries[k]!.examples}`);
        }
        this.shards.push(reader);
        this.starts.push(this.starts[this.starts.length - 1]! + reader.numExamples);
      });
    }
    this.numExamples = this.starts[this.starts.length - 1]!;
    this.dataHash = dataHashOf(groups, this.shards);
    if (this.numExamples === 0) throw new Error(`${spec}: the data holds no examples`);
    if (this.numExamples > 0xffffffff) throw new Error(`${spec}: more than 2^32 examples are not supported`);
    const state = options.state;
    this.seed = state?.seed ?? options.seed ?? 0;
    this.shuffle = state?.shuffle ?? options.shuffle ?? true;
    if (!Number.isInteger(this.seed) || this.seed < 0 || this.seed > 0xffffffff) throw new RangeError(`seed must be an integer in [0, 2^32), got ${this.seed}`);
    if (state) {
      if (state.buildHash !== this.dataHash) throw new Error(`reader state belongs to dataset build ${state.buildHash}, but ${spec} holds build ${this.dataHash}`);
      if (options.seed !== undefined && options.seed !== state.seed) throw new Error(`reader state has seed ${state.seed} but options.seed is ${options.seed}`);
      if (options.shuffle !== undefined && options.shuffle !== state.shuffle) throw new Error(`reader state has shuffle ${state.shuffle} but options.shuffle is ${options.shuffle}`);
      if (!Number.isInteger(state.epoch) || state.epoch < 0 || !Number.isInteger(state.position) || state.position < 0 || state.position >= this.numExamples) {
        throw new RangeError(`reader state epoch ${state.epoch}, position ${state.position} is outside the dataset's ${this.numExamples} examples`);
      }
    }
    this.epoch = state?.epoch ?? 0;
    this.position = state?.position ?? 0;
  }

  private openFile(path: string, kind: 'shard' | 'tfrecord', options: OpenPretrainingDatasetOptions, vocabSize: number, g: InputGroup): ExampleFile {
    const L = options.maxSeqLength;
    if (kind === 'tfrecord') return new TfRecordShardReader(path, { maxSeqLength: L, vocabSize, preload: this.preloaded });
    // The header's facts first: a shard of another build or vocabulary is named as such, not by its first odd id.
    const h = readShardHeader(path);
    if (h.maxSeqLength !== L) throw new FormatError(path, `shard has max_seq_length ${h.maxSeqLength} but this run uses ${L}`);
    if (h.vocabHash !== options.vocabHash) {
      throw new FormatError(path, `shard was built with vocabulary ${h.vocabHash} but this run's vocabulary is ${options.vocabHash}`);
    }
    if (g.manifest && h.buildHash !== g.manifest.manifest.buildHash) {
      throw new FormatError(path, `shard belongs to build ${h.buildHash}, the manifest to ${g.manifest.manifest.buildHash}; rerun build-pretraining-dataset`);
    }
    if (h.contentCrc32c === null) {
      options.onNotice?.(`${path}: shard format ${h.formatVersion} has no content checksum (built by an older electra-ts); it is read unverified, rebuild it to get one`);
    }
    const reader = new ShardReader(path, { preload: this.preloaded, verify: { vocabSize } });
    return reader;
  }

  /** The state to save with a checkpoint: a reader opened with it serves the very next batch this one would. */
  getState(): PretrainingDatasetState {
    return { buildHash: this.dataHash, seed: this.seed, shuffle: this.shuffle, epoch: this.epoch, position: this.position };
  }

  /** Dataset index of the example served at `position` of `epoch`. */
  exampleAt(epoch: number, position: number): number {
    if (!this.shuffle) return position;
    if (!this.permutation || this.permutation.epoch !== epoch) this.permutation = new FeistelPermutation(this.numExamples, this.seed, epoch);
    return this.permutation.at(position);
  }

  /** The next batchSize examples in the current order, continuing into the next epoch as needed. */
  nextBatch(): PretrainingBatch {
    const B = this.batchSize;
    const L = this.maxSeqLength;
    const batch: PretrainingBatch = {
      batchSize: B, maxSeqLength: L,
      inputIds: new Int32Array(B * L), inputMask: new Int32Array(B * L), segmentIds: new Int32Array(B * L),
      lengths: new Int32Array(B), exampleIndices: new Uint32Array(B),
    };
    for (let b = 0; b < B; b++) {
      const index = this.exampleAt(this.epoch, this.position);
      const [length, boundary] = this.readInto(index, batch.inputIds, b * L);
      batch.lengths[b] = length;
      batch.exampleIndices[b] = index;
      batch.inputMask.fill(1, b * L, b * L + length);
      batch.segmentIds.fill(1, b * L + boundary, b * L + length);
      if (++this.position === this.numExamples) {
        this.position = 0;
        this.epoch++;
      }
    }
    return batch;
  }

  /** Endless batches (see nextBatch). */
  *[Symbol.iterator](): Iterator<PretrainingBatch> {
    for (;;) yield this.nextBatch();
  }

  /** Example `index` in stored order (shard by shard). */
  readExample(index: number): DatasetExample {
    const ids = new Int32Array(this.maxSeqLength);
    const [length, segmentBoundary] = this.readInto(index, ids, 0);
    return { ids, length, segmentBoundary };
  }

  private readInto(index: number, ids: Int32Array, offset: number): [number, number] {
    if (!(Number.isInteger(index) && index >= 0 && index < this.numExamples)) throw new RangeError(`example ${index} outside [0, ${this.numExamples})`);
    // Binary search for the shard holding index.
    let lo = 0;
    let hi = this.shards.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    const shard = this.shards[lo]!;
    if (!this.preloaded) this.touch(lo);
    return shard.read(index - this.starts[lo]!, ids, offset);
  }

  // Keeps at most maxOpenFiles descriptors open, closing the least recently used.
  private touch(k: number): void {
    if (this.openFiles.has(k)) {
      this.openFiles.delete(k);
    } else if (this.openFiles.size >= this.maxOpenFiles) {
      const oldest = this.openFiles.values().next().value as number;
      this.openFiles.delete(oldest);
      this.shards[oldest]!.close();
    }
    this.openFiles.add(k);
  }

  close(): void {
    for (const s of this.shards) s.close();
    this.openFiles.clear();
  }
}

/** One built dataset alone keeps its build hash (older checkpoints resume); otherwise names, sizes and counts. */
function dataHashOf(groups: InputGroup[], files: ExampleFile[]): string {
  if (groups.length === 1 && groups[0]!.manifest) return groups[0]!.manifest.manifest.buildHash;
  const h = createHash('sha256');
  for (const f of files) h.update(`${basename(f.file)}\0${f.numExamples}\n`);
  return h.digest('hex');
}

/**
 * A seeded bijection on [0, n): a balanced Feistel network on the smallest even number of bits that
 * covers n, cycle-walking until the value falls below n. O(1) memory, O(1) expected time per lookup.
 */
export class FeistelPermutation {
  private readonly halfBits: number;
  private readonly halfMask: number;
  private readonly keys: Uint32Array;

  constructor(readonly n: number, seed: number, readonly epoch: number) {
    if (!Number.isInteger(n) || n < 1 || n > 0xffffffff) throw new RangeError(`permutation size must be in [1, 2^32], got ${n}`);
    const bits = Math.max(2, 32 - Math.clz32(n - 1));
    this.halfBits = (bits + 1) >> 1;
    this.halfMask = (1 << this.halfBits) - 1;
    this.keys = new Uint32Array(6);
    let k = mix32(mix32(seed ^ 0x9e3779b9) ^ mix32(epoch + 0x632be5ab));
    for (let r = 0; r < this.keys.length; r++) {
      k = mix32(k + 0x9e3779b9 + r);
      this.keys[r] = k;
    }
  }

  at(i: number): number {
    if (!(Number.isInteger(i) && i >= 0 && i < this.n)) throw new RangeError(`permutation index ${i} outside [0, ${this.n})`);
    let x = i;
    do x = this.encrypt(x);
    while (x >= this.n);
    return x;
  }

  private encrypt(x: number): number {
    const h = this.halfBits;
    const mask = this.halfMask;
    let left = Math.floor(x / (mask + 1));
    let right = x & mask;
    for (let r = 0; r < this.keys.length; r++) {
      const next = (left ^ mix32(right ^ this.keys[r]!)) & mask;
      left = right;
      right = next;
    }
    return left * (1 << h) + right;
  }
}

/** A 32-bit integer hash with good avalanche (lowbias32). */
function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}
