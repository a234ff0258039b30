// Pre-training examples as google-research/electra writes them: `pretrain_data.tfrecord-{i}-of-{n}`
// files of tf.train.Examples with int64 features input_ids, input_mask, segment_ids (each of length
// max_seq_length). The writer is the builder's other output format; the reader serves such files
// (ours or the reference's) to the trainer with the ShardReader interface.
import { closeSync, openSync, renameSync } from 'node:fs';
import { basename } from 'node:path';
import { FormatError } from '../errors.js';
import { decodeInt64Example, encodeInt64Example, frameTfRecord, readTfRecordAt, scanTfRecords } from '../io/tfrecord.js';
import { PARTIAL_SUFFIX, discardPartial, writeFully } from './shards.js';

export const TFRECORD_FILE_PATTERN = /^pretrain_data\.tfrecord-\d+-of-\d+$/;

/** The reference's name (no zero padding): `pretrain_data.tfrecord-3-of-1000`. */
export function tfrecordFileName(index: number, count: number): string {
  return `pretrain_data.tfrecord-${index}-of-${count}`;
}

/** Writes one TFRecord file to `<path>.partial`, renamed to path by finish(). */
export class TfRecordShardWriter {
  readonly partialPath: string;
  private fd: number | null = null;
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  private count = 0;
  private closed = false;
  private written = 0;
  private readonly mask: Int32Array;
  private readonly segments: Int32Array;

  constructor(readonly path: string, private readonly maxSeqLength: number) {
    this.partialPath = path + PARTIAL_SUFFIX;
    this.mask = new Int32Array(maxSeqLength);
    this.segments = new Int32Array(maxSeqLength);
  }

  get examples(): number {
    return this.count;
  }

  /** Bytes of the finished file. */
  get bytes(): number {
    return this.written + this.chunkBytes;
  }

  write(ids: Int32Array, length: number, segmentBoundary: number): void {
    const L = this.maxSeqLength;
    if (ids.length !== L) throw new RangeError(`example has ${ids.length} ids, the file holds ${L}`);
    if (!(length >= 1 && length <= L && segmentBoundary >= 1 && segmentBoundary <= length)) {
      throw new RangeError(`bad example: length ${length}, segment boundary ${segmentBoundary} (max length ${L})`);
    }
    if (this.closed) throw new Error(`${basename(this.path)}: write after finish or abort`);
    this.mask.fill(1, 0, length).fill(0, length);
    this.segments.fill(0, 0, segmentBoundary).fill(1, segmentBoundary, length).fill(0, length);
    const padded = ids.subarray(0, L);
    // Padding is written as zeros whatever the caller left there (as the reference pads).
    const idsOut = length === L ? padded : Int32Array.from(padded).fill(0, length);
    const record = frameTfRecord(encodeInt64Example([['input_ids', idsOut], ['input_mask', this.mask], ['segment_ids', this.segments]]));
    this.chunks.push(record);
    this.chunkBytes += record.length;
    this.count++;
    if (this.chunkBytes >= 1 << 16) this.flush();
  }

  private flush(): void {
    if (this.chunkBytes === 0) return;
    this.fd ??= openSync(this.partialPath, 'w');
    const data = Buffer.concat(this.chunks, this.chunkBytes);
    writeFully(this.fd, data, this.written, this.path);
    this.written += data.length;
    this.chunks = [];
    this.chunkBytes = 0;
  }

  finish(): number {
    if (this.closed) throw new Error(`${basename(this.path)}: already finished`);
    this.flush();
    this.fd ??= openSync(this.partialPath, 'w');
    closeSync(this.fd);
    this.fd = null;
    this.closed = true;
    renameSync(this.partialPath, this.path);
    return this.count;
  }

  abort(): void {
    if (this.closed) return;
    this.closed = true;
    this.chunks = [];
    discardPartial(this.fd, this.partialPath);
    this.fd = null;
  }
}

export interface TfRecordReaderOptions {
  /** The run's sequence length: every feature must have this many values. */
  maxSeqLength: number;
  /** Token ids must lie in [0, vocabSize). */
  vocabSize: number;
  /** Keep the decoded examples in memory (else each read decodes its record again). */
  preload: boolean;
}

/**
 * Random access to the examples of one TFRecord file. Opening reads the whole file once: every
 * record's CRCs and features are checked (a bad one is named by file and record index) and the
 * record offsets kept, or, with preload, the decoded examples.
 */
export class TfRecordShardReader {
  readonly numExamples: number;
  /** Bytes the decoded examples take in memory when preloaded. */
  static bytesPerExample(maxSeqLength: number): number {
    return (maxSeqLength + 2) * 4;
  }
  private readonly maxSeqLength: number;
  private readonly vocabSize: number;
  private readonly offsets: number[] = [];
  private readonly lengths: number[] = [];
  private data: Int32Array | null = null;
  private fd: number | null = null;
  private scratch: Buffer = Buffer.alloc(0);
  private readonly decoded: Int32Array;

  constructor(readonly file: string, options: TfRecordReaderOptions) {
    this.maxSeqLength = options.maxSeqLength;
    this.vocabSize = options.vocabSize;
    const L = this.maxSeqLength;
    this.decoded = new Int32Array(L + 2);
    const rows: Int32Array[] = [];
    scanTfRecords(file, (payload, index, loc) => {
      this.decode(payload, index, this.decoded);
      this.offsets.push(loc.offset);
      this.lengths.push(loc.length);
      if (options.preload) rows.push(this.decoded.slice());
    });
    this.numExamples = this.offsets.length;
    if (options.preload) {
      this.data = new Int32Array(this.numExamples * (L + 2));
      rows.forEach((r, i) => this.data!.set(r, i * (L + 2)));
    }
  }

  /** Decodes and checks one record into out = [length, boundary, ids x L]. */
  private decode(payload: Uint8Array, index: number, out: Int32Array): void {
    const L = this.maxSeqLength;
    const where = `record ${index}`;
    let seen = 0;
    let length = -1;
    let boundary = -1;
    let names: string[];
    const check = (name: string, count: number): void => {
      if (count !== L) throw new FormatError(this.file, `${where}: feature '${name}' has ${count} values, expected max_seq_length ${L}`);
    };
    try {
      names = decodeInt64Example(payload, (name, values, count) => {
        if (name === 'input_ids') {
          check(name, count);
          for (let i = 0; i < L; i++) out[2 + i] = values[i]!;
          seen |= 1;
        } else if (name === 'input_mask') {
          check(name, count);
          let n = 0;
          while (n < L && values[n] === 1) n++;
          for (let i = n; i < L; i++) {
            if (values[i] !== 0) throw new FormatError(this.file, `${where}: input_mask[${i}] is ${values[i]}; expected 1s for the tokens, then 0s`);
          }
          length = n;
          seen |= 2;
        } else if (name === 'segment_ids') {
          check(name, count);
          let b = 0;
          while (b < L && values[b] === 0) b++;
          let e = b;
          while (e < L && values[e] === 1) e++;
          for (let i = e; i < L; i++) {
            if (values[i] !== 0) throw new FormatError(this.file, `${where}: segment_ids[${i}] is ${values[i]}; expected 0s, then 1s, then 0s of padding`);
          }
          // boundary: the first 1, or none (one segment); e: the end of the 1s.
          out[0] = b;
          out[1] = e;
          seen |= 4;
        }
      });
    } catch (e) {
      if (e instanceof FormatError) throw e;
      throw new FormatError(this.file, `${where}: ${(e as Error).message}`);
    }
    if (seen !== 7) {
      const missing = ['input_ids', 'input_mask', 'segment_ids'].filter((_, k) => !(seen & (1 << k)));
      throw new FormatError(this.file, `${where}: no ${missing.join(', ')} feature (found ${names.join(', ') || 'none'}); expected int64 features input_ids, input_mask, segment_ids`);
    }
    if (length < 1) throw new FormatError(this.file, `${where}: input_mask has no 1s (an empty example)`);
    const firstOne = out[0]!;
    const endOnes = out[1]!;
    if (firstOne === L) boundary = length; // one segment
    else {
      if (endOnes !== length) throw new FormatError(this.file, `${where}: segment_ids' 1s end at ${endOnes} but input_mask says ${length} tokens`);
      boundary = firstOne;
    }
    if (boundary < 1) throw new FormatError(this.file, `${where}: segment_ids starts with 1; expected [CLS] in segment 0`);
    for (let i = 0; i < length; i++) {
      const id = out[2 + i]!;
      if (!(id >= 0 && id < this.vocabSize)) {
        throw new FormatError(this.file, `${where}: input_ids[${i}] = ${id} is outside the vocabulary [0, ${this.vocabSize})`);
      }
    }
    out.fill(0, 2 + length);
    out[0] = length;
    out[1] = boundary;
  }

  /** Copies example `index` into ids (length maxSeqLength) and returns [length, segmentBoundary]. */
  read(index: number, ids: Int32Array, idsOffset = 0): [number, number] {
    const L = this.maxSeqLength;
    if (!(index >= 0 && index < this.numExamples)) throw new RangeError(`${this.file}: example ${index} out of range [0, ${this.numExamples})`);
    let row: Int32Array;
    if (this.data) {
      row = this.data.subarray(index * (L + 2), (index + 1) * (L + 2));
    } else {
      this.fd ??= openSync(this.file, 'r');
      const loc = { offset: this.offsets[index]!, length: this.lengths[index]! };
      if (this.scratch.length < loc.length + 4) this.scratch = Buffer.allocUnsafe(2 * (loc.length + 4));
      this.decode(readTfRecordAt(this.fd, this.file, index, loc, this.scratch), index, this.decoded);
      row = this.decoded;
    }
    ids.set(row.subarray(2, 2 + L), idsOffset);
    return [row[0]!, row[1]!];
  }

  close(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
  }
}
