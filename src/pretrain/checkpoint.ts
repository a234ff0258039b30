// Pre-training checkpoints in <model dir>/checkpoint-<step>/:
//   discriminator/           HF ElectraForPreTraining folder (config.json, model.safetensors, vocab.txt, ...)
//   generator/               HF ElectraForMaskedLM folder
//   optimizer.safetensors    AdamW moments per parameter (<name>.adam_m, <name>.adam_v)
//   training_state.json      step, seed, data reader position, hparams (written last)
// Written atomically by io/checkpoint-folders.ts (staging folder, state file last, rename).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readCheckpointState, STATE_FILE, writeCheckpointFolder } from '../io/checkpoint-folders.js';
import { FormatError } from '../errors.js';
import { readHfFolder, writeHfFolder, type LoadedModelFolder } from '../io/hf-folder.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import type { TensorMap } from '../io/tensor.js';
import type { PretrainingDatasetState } from '../data/pretraining-dataset.js';
import type { ElectraPretrainingModel } from '../model/pretraining-model.js';
import type { ParameterSet } from '../nn/params.js';
import type { AdamW } from '../optim/adamw.js';

/** The moment arenas of an AdamW (pre-training's or fine-tuning's layer-wise one). */
export interface AdamMoments {
  m: Float32Array;
  v: Float32Array;
}
import { modelConfigFromHf } from '../model/config.js';
import { hfFolderFor, loadHfWeights, assertSameShape, type HfRole } from './hf-weights.js';

export {
  checkpointDirName, latestCheckpoint, listCheckpoints, removeStaleCheckpointFiles, STATE_FILE, type CheckpointInfo,
} from '../io/checkpoint-folders.js';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const STATE_FORMAT = 'electra-ts-pretraining-state';
export const STATE_VERSION = 1;

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

/** AdamW's moments as tensors <name>.adam_m and <name>.adam_v per parameter. */
export function adamSlots(ps: ParameterSet, moments: AdamMoments): TensorMap {
  const slots: TensorMap = new Map();
  for (const ref of ps.entries) {
    const slice = (a: Float32Array): Float32Array => Float32Array.from(a.subarray(ref.offset, ref.offset + ref.size));
    slots.set(`${ref.name}.adam_m`, { shape: [...ref.shape], data: slice(moments.m) });
    slots.set(`${ref.name}.adam_v`, { shape: [...ref.shape], data: slice(moments.v) });
  }
  return slots;
}

/** Copies the moments adamSlots wrote (read back from `file`) into the optimizer's arenas. */
export function restoreAdamSlots(slots: TensorMap, file: string, ps: ParameterSet, moments: AdamMoments): void {
  for (const ref of ps.entries) {
    for (const [suffix, arena] of [['adam_m', moments.m], ['adam_v', moments.v]] as const) {
      const t = slots.get(`${ref.name}.${suffix}`);
      if (!t || t.data.length !== ref.size) {
        throw new FormatError(file, `${t ? `has ${t.data.length} values for` : 'has no'} '${ref.name}.${suffix}' (expected ${ref.size})`, `${ref.name}.${suffix}`);
      }
      arena.set(t.data, ref.offset);
    }
  }
}

/** Writes checkpoint-<step> atomically, then removes checkpoints beyond `keep`. Returns its folder. */
export function writeCheckpoint(modelDir: string, opts: WriteCheckpointOptions): string {
  const { model, optimizer, state } = opts;
  const ps = model.params;
  const full: TrainingState = { format: STATE_FORMAT, version: STATE_VERSION, numParams: ps.size, ...state };
  return writeCheckpointFolder(modelDir, {
    step: state.step,
    state: full,
    keep: opts.keep,
    ...(opts.onStaged ? { onStaged: opts.onStaged } : {}),
    build: (staging) => {
      const roles: readonly HfRole[] = model.hfModels;
      for (const role of roles) {
        const cfg = role === 'discriminator' ? model.discriminatorConfig! : model.generatorConfig;
        writeHfFolder(join(staging, role), hfFolderFor(ps, cfg, role, opts.vocab, opts.doLowerCase));
      }
      const slots = adamSlots(ps, optimizer);
      for (const ref of ps.entries) {
        // A parameter in no HF model would otherwise be lost.
        if (ref.hfNames.length === 0) slots.set(ref.name, { shape: [...ref.shape], data: Float32Array.from(ref.value) });
      }
      writeSafetensors(join(staging, OPTIMIZER_FILE), slots, { format: 'electra-ts-adamw', step: String(state.step) });
    },
  });
}

export function readTrainingState(dir: string): TrainingState {
  const state = readCheckpointState<TrainingState>(dir, STATE_FORMAT, STATE_VERSION, ['step']);
  if (!Number.isInteger(state.seed)) throw new FormatError(join(dir, STATE_FILE), `"seed" must be an integer, got ${JSON.stringify(state.seed)}`);
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
  const roles: readonly HfRole[] = model.hfModels;
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
      ps.valuesChanged();
    }
  }
  restoreAdamSlots(slots, slotsPath, ps, optimizer);
  optimizer.step = state.step;
  return state;
}
