// Pre-training checkpoints in <model dir>/checkpoint-<step>/:
//   discriminator/           HF ElectraForPreTraining folder (config.json, model.safetensors, vocab.txt, ...)
//   generator/               HF ElectraForMaskedLM folder
//   optimizer.safetensors    AdamW moments per parameter (<name>.adam_m, <name>.adam_v)
//   training_state.json      step, seed, data reader position, hparams (written last)
// A checkpoint is built in a hidden staging folder, every file and folder fsynced, then renamed
// into place, so a crash leaves either the whole checkpoint or a staging folder the next run
// deletes. Old checkpoints are renamed away before deletion for the same reason.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FormatError } from '../io/errors.js';
import { writeFileAtomic } from '../io/files.js';
import { readHfFolder, writeHfFolder, type LoadedModelFolder } from '../io/hf-folder.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import type { TensorMap } from '../io/tensor.js';
import type { PretrainingDatasetState } from '../data/pretraining-dataset.js';
import type { ElectraPretrainingModel } from '../model/pretraining-model.js';
import type { AdamW } from '../optim/adamw.js';
import { hfFolderFor, loadHfWeights, modelConfigFromHf, assertSameShape, type HfRole } from './hf-weights.js';

export const STATE_FILE = 'training_state.json';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const STATE_FORMAT = 'electra-ts-pretraining-state';
export const STATE_VERSION = 1;
const CHECKPOINT_DIR = /^checkpoint-(\d+)$/;
const STAGING_PREFIX = '.checkpoint-';

export interface TrainingState {
  format: typeof STATE_FORMAT;
  version: number;
  /** Updates done (the reference's global_step). */
  step: number;
  /** Every random stream of step s derives from (seed, s): no other RNG state exists. */
  seed: number;
  /** The training data reader's position after `step` batches. */
  data: PretrainingDatasetState | null;
  /** Loss of the last update (for the record). */
  loss: number | null;
  numParams: number;
  /** The run's resolved hparams. */
  hparams: Record<string, unknown>;
}

export interface CheckpointInfo {
  step: number;
  dir: string;
}

export function checkpointDirName(step: number): string {
  return `checkpoint-${step}`;
}

/** Complete checkpoints in modelDir (with a training_state.json), oldest first. */
export function listCheckpoints(modelDir: string): CheckpointInfo[] {
  if (!existsSync(modelDir)) return [];
  const out: CheckpointInfo[] = [];
  for (const name of readdirSync(modelDir)) {
    const m = CHECKPOINT_DIR.exec(name);
    if (!m) continue;
    const dir = join(modelDir, name);
    if (existsSync(join(dir, STATE_FILE))) out.push({ step: Number(m[1]), dir });
  }
  return out.sort((a, b) => a.step - b.step);
}

export function latestCheckpoint(modelDir: string): CheckpointInfo | null {
  return listCheckpoints(modelDir).at(-1) ?? null;
}

/** Deletes staging and half-deleted folders a killed run left behind; returns their names. */
export function removeStaleCheckpointFiles(modelDir: string): string[] {
  if (!existsSync(modelDir)) return [];
  const stale = readdirSync(modelDir).filter((n) => n.startsWith(STAGING_PREFIX));
  for (const name of stale) rmSync(join(modelDir, name), { recursive: true, force: true });
  return stale;
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsyncs every file and folder under dir (files written by other helpers included). */
function fsyncTree(dir: string): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) fsyncTree(path);
    else fsyncPath(path);
  }
  fsyncPath(dir);
}

export interface WriteCheckpointOptions {
  model: ElectraPretrainingModel;
  optimizer: AdamW;
  state: Omit<TrainingState, 'format' | 'version' | 'numParams'>;
  vocab: string[];
  doLowerCase: boolean;
  /** Keep this many newest checkpoints (0: all, as the reference's 0/None). */
  keep: number;
  /** Called once the staging folder holds the model folders, before the state file (crash tests). */
  onStaged?: (stagingDir: string) => void;
}

/** Writes checkpoint-<step> atomically, then removes checkpoints beyond `keep`. Returns its folder. */
export function writeCheckpoint(modelDir: string, opts: WriteCheckpointOptions): string {
  const { model, optimizer, state } = opts;
  mkdirSync(modelDir, { recursive: true });
  const final = join(modelDir, checkpointDirName(state.step));
  const staging = join(modelDir, `${STAGING_PREFIX}${state.step}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(staging);
  try {
    const ps = model.params;
    const roles: HfRole[] = model.discriminatorConfig ? ['discriminator', 'generator'] : ['generator'];
    for (const role of roles) {
      const cfg = role === 'discriminator' ? model.discriminatorConfig! : model.generatorConfig;
      writeHfFolder(join(staging, role), hfFolderFor(ps, cfg, role, opts.vocab, opts.doLowerCase));
    }
    const slots: TensorMap = new Map();
    for (const ref of ps.entries) {
      const slice = (a: Float32Array): Float32Array => Float32Array.from(a.subarray(ref.offset, ref.offset + ref.size));
      slots.set(`${ref.name}.adam_m`, { shape: [...ref.shape], data: slice(optimizer.m) });
      slots.set(`${ref.name}.adam_v`, { shape: [...ref.shape], data: slice(optimizer.v) });
      // A parameter in no HF model would otherwise be lost.
      if (ref.hfNames.length === 0) slots.set(ref.name, { shape: [...ref.shape], data: Float32Array.from(ref.value) });
    }
    writeSafetensors(join(staging, OPTIMIZER_FILE), slots, { format: 'electra-ts-adamw', step: String(state.step) });
    opts.onStaged?.(staging);
    const full: TrainingState = { format: STATE_FORMAT, version: STATE_VERSION, numParams: ps.size, ...state };
    writeFileAtomic(join(staging, STATE_FILE), [JSON.stringify(full, null, 2) + '\n']);
    fsyncTree(staging);
    if (existsSync(final)) retire(modelDir, final);
    renameSync(staging, final);
    fsyncPath(modelDir);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  if (opts.keep > 0) {
    for (const old of listCheckpoints(modelDir).slice(0, -opts.keep)) retire(modelDir, old.dir);
  }
  return final;
}

/** Renames a checkpoint to a staging name first, so a crash mid-delete never leaves a half checkpoint. */
function retire(modelDir: string, dir: string): void {
  const doomed = join(modelDir, `${STAGING_PREFIX}deleting-${randomBytes(4).toString('hex')}`);
  renameSync(dir, doomed);
  fsyncPath(modelDir);
  rmSync(doomed, { recursive: true, force: true });
}

export function readTrainingState(dir: string): TrainingState {
  const path = join(dir, STATE_FILE);
  let state: TrainingState;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as TrainingState;
  } catch (err) {
    throw new FormatError(path, `cannot read the training state: ${(err as Error).message}`);
  }
  if (state.format !== STATE_FORMAT) throw new FormatError(path, `"format" is ${JSON.stringify(state.format)}, expected "${STATE_FORMAT}"`);
  if (state.version !== STATE_VERSION) throw new FormatError(path, `"version" is ${state.version}; this electra-ts reads version ${STATE_VERSION}`);
  if (!Number.isInteger(state.step) || state.step < 0) throw new FormatError(path, `"step" must be a non-negative integer, got ${JSON.stringify(state.step)}`);
  if (!Number.isInteger(state.seed)) throw new FormatError(path, `"seed" must be an integer, got ${JSON.stringify(state.seed)}`);
  return state;
}

/** The HF folders a checkpoint (or any folder with discriminator/ and generator/) holds. */
export function readCheckpointFolders(dir: string): Partial<Record<HfRole, LoadedModelFolder>> {
  const out: Partial<Record<HfRole, LoadedModelFolder>> = {};
  for (const role of ['discriminator', 'generator'] as const) {
    const sub = join(dir, role);
    if (existsSync(join(sub, 'config.json'))) out[role] = readHfFolder(sub);
  }
  return out;
}

/**
 * Restores weights, AdamW moments and step from a checkpoint written by writeCheckpoint for the
 * same model configuration; throws naming the file and field on any mismatch.
 */
export function restoreCheckpoint(dir: string, model: ElectraPretrainingModel, optimizer: AdamW): TrainingState {
  const state = readTrainingState(dir);
  const ps = model.params;
  const folders = readCheckpointFolders(dir);
  const roles: HfRole[] = model.discriminatorConfig ? ['discriminator', 'generator'] : ['generator'];
  for (const role of roles) {
    const folder = folders[role];
    if (!folder) throw new FormatError(join(dir, role), `the checkpoint has no ${role} folder`);
    const cfg = role === 'discriminator' ? model.discriminatorConfig! : model.generatorConfig;
    assertSameShape(cfg, modelConfigFromHf(folder.config, join(folder.dir, 'config.json')), join(folder.dir, 'config.json'),
      `the ${role} of this checkpoint does not fit the hparams`, 'resume with the hparams the run started with, or use another --model-name');
  }
  if (state.numParams !== ps.size) {
    throw new FormatError(join(dir, STATE_FILE), `the checkpoint has ${state.numParams} parameters but the model built from the hparams has ${ps.size}`);
  }
  const report = loadHfWeights(ps, folders);
  const slotsPath = join(dir, OPTIMIZER_FILE);
  const slots = readSafetensors(slotsPath).tensors;
  for (const ref of ps.entries) {
    if (report.notLoaded.includes(ref.name)) {
      const t = slots.get(ref.name);
      if (!t) throw new FormatError(slotsPath, `parameter '${ref.name}' is in neither model folder nor ${OPTIMIZER_FILE}`, ref.name);
      ref.value.set(t.data);
    }
    for (const [suffix, arena] of [['adam_m', optimizer.m], ['adam_v', optimizer.v]] as const) {
      const t = slots.get(`${ref.name}.${suffix}`);
      if (!t || t.data.length !== ref.size) {
        throw new FormatError(slotsPath, `${t ? `has ${t.data.length} values for` : 'has no'} '${ref.name}.${suffix}' (expected ${ref.size})`, `${ref.name}.${suffix}`);
      }
      arena.set(t.data, ref.offset);
    }
  }
  optimizer.step = state.step;
  return state;
}
