// manifest.json: the small description written last, once every shard of a build is complete.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError, UsageError } from '../errors.js';
import type { JobShard, JobStats } from './build-job.js';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_FORMAT = 'electra-ts-pretraining-shards';
export const MANIFEST_FORMAT_VERSION = 1;

export interface PretrainingManifest {
  format: typeof MANIFEST_FORMAT;
  formatVersion: number;
  /** Identifies config + corpus; shard headers carry the same value. */
  buildHash: string;
  maxSeqLength: number;
  dtype: 'uint16' | 'int32';
  vocab: { hash: string; size: number };
  lowerCase: boolean;
  stripAccents: boolean;
  blanksSeparateDocs: boolean;
  seed: number;
  numProcesses: number;
  numOutFiles: number;
  /** Absent: our shards; 'tfrecord': the reference's TFRecord files. */
  outputFormat?: 'tfrecord';
  corpus: { files: number; bytes: number };
  counts: JobStats;
  /** In shard index order. */
  shards: JobShard[];
}

/** sha256 (hex) of the vocabulary as vocab.txt would hold it: one token a line, trailing newline. */
export function vocabHash(tokens: readonly string[]): string {
  return createHash('sha256').update(tokens.join('\n') + '\n').digest('hex');
}

/** Reads and checks dir/manifest.json; the error says what is missing or wrong. */
export function readManifest(dir: string): PretrainingManifest {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`${path} not found: ${dir} is not a finished pre-training dataset (run or rerun \`electra build-pretraining-dataset\`)`);
  }
  let m: PretrainingManifest;
  try {
    m = JSON.parse(text) as PretrainingManifest;
  } catch (e) {
    throw new FormatError(path, `not valid JSON (${(e as Error).message})`);
  }
  if (m.format !== MANIFEST_FORMAT) throw new FormatError(path, `format '${String(m.format)}', expected '${MANIFEST_FORMAT}'`);
  if (m.formatVersion !== MANIFEST_FORMAT_VERSION) {
    throw new FormatError(path, `format version ${m.formatVersion}, this reader understands ${MANIFEST_FORMAT_VERSION}`);
  }
  if (!Array.isArray(m.shards) || !Number.isInteger(m.maxSeqLength) || typeof m.vocab?.hash !== 'string') {
    throw new FormatError(path, `missing shards, maxSeqLength or vocab.hash`);
  }
  return m;
}
