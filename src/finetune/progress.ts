// What a fine-tuning run has finished, so that re-running the same command after an
// interruption neither redoes completed trials nor resumes from another run's state:
// <pretrained>/finetuning_models/<tasks>_progress.json records per trial whether its model is
// trained and saved, and its dev results, under fingerprints of everything that shapes them.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FormatError } from '../errors.js';
import { writeFileAtomic } from '../io/files.js';
import type { FinetuningHparams } from './hparams.js';
import { itemInputs, type BatchItem } from './model/finetuning-model.js';
import type { MetricList } from './scorer.js';

export const PROGRESS_FORMAT = 'electra-ts-finetuning-progress';
const PROGRESS_VERSION = 1;

/** Hparams that change neither a trial's training nor its results (num_trials: more trials reuse the done ones). */
const NEUTRAL_HPARAMS = new Set<keyof FinetuningHparams>([
  'num_trials', 'keep_all_models', 'save_checkpoints_steps', 'write_test_outputs', 'n_writes_test', 'log_examples', 'data_dir', 'do_eval',
]);

export interface TrialRecord {
  /** The trial's model is trained and saved in its model folder. */
  trained: boolean;
  /** Dev results and the evaluation fingerprint they were computed under (null: not evaluated). */
  evaluation: { fingerprint: string; results: [task: string, metrics: MetricList][] } | null;
}

export interface RunProgress {
  format: typeof PROGRESS_FORMAT;
  version: number;
  /** Fingerprint of training: hparams, starting weights, training features. */
  fingerprint: string;
  trials: Record<string, TrialRecord>;
}

function hashFile(hash: ReturnType<typeof createHash>, path: string): void {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(1 << 20);
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n <= 0) break;
      hash.update(buffer.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Identifies what a trial's training depends on: the hparams (but NEUTRAL_HPARAMS), the bytes of
 * the starting weights (null: random initialization), and every training feature in order.
 */
export function trainingFingerprint(hp: FinetuningHparams, weightFiles: readonly string[] | null, train: readonly BatchItem[]): string {
  const hash = createHash('sha256');
  const settings = Object.fromEntries(Object.entries(hp).filter(([key]) => !NEUTRAL_HPARAMS.has(key as keyof FinetuningHparams)));
  hash.update(JSON.stringify(settings));
  hash.update(weightFiles === null ? '\0random' : '\0weights');
  for (const file of weightFiles ?? []) hashFile(hash, file);
  for (const item of train) {
    hash.update(`\0${item.task}\0`);
    for (const input of itemInputs(item)) {
      hash.update(new Uint8Array(Int32Array.from(input.inputIds).buffer));
      hash.update(new Uint8Array(Int32Array.from(input.segmentIds).buffer));
    }
    hash.update(JSON.stringify(item.target));
  }
  return hash.digest('hex');
}

/** Identifies a trial's evaluation: its training, the eval settings, and the dev examples. */
export function evaluationFingerprint(training: string, hp: FinetuningHparams, devExamples: readonly unknown[]): string {
  const hash = createHash('sha256');
  hash.update(training);
  hash.update(JSON.stringify({ do_eval: hp.do_eval, eval_batch_size: hp.eval_batch_size }));
  for (const examples of devExamples) hash.update(JSON.stringify(examples));
  return hash.digest('hex');
}

export function progressFile(finetuningModelsDir: string, tasks: readonly string[]): string {
  return join(finetuningModelsDir, `${tasks.join(',')}_progress.json`);
}

/** The recorded progress, or null when there is none. */
export function readProgress(path: string): RunProgress | null {
  if (!existsSync(path)) return null;
  let value: RunProgress;
  try {
    value = JSON.parse(readFileSync(path, 'utf8')) as RunProgress;
  } catch (err) {
    throw new FormatError(path, `cannot read the fine-tuning progress: ${(err as Error).message} (delete the file to start the run over)`);
  }
  if (value.format !== PROGRESS_FORMAT || value.version !== PROGRESS_VERSION || typeof value.fingerprint !== 'string'
    || typeof value.trials !== 'object' || value.trials === null) {
    throw new FormatError(path, `not an electra-ts fine-tuning progress file of version ${PROGRESS_VERSION} (delete it to start the run over)`);
  }
  return value;
}

export function newProgress(fingerprint: string): RunProgress {
  return { format: PROGRESS_FORMAT, version: PROGRESS_VERSION, fingerprint, trials: {} };
}

export function writeProgress(path: string, progress: RunProgress): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, [JSON.stringify(progress, null, 2) + '\n']);
}
