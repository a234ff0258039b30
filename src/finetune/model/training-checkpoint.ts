// Fine-tuning checkpoints in <trial model dir>/checkpoint-<step>/ (every save_checkpoints_steps):
//   model.safetensors        every parameter under the FinetuningModel's names
//   optimizer.safetensors    the layer-wise AdamW's moments (<name>.adam_m, <name>.adam_v)
//   training_state.json      trial, step, data position, run fingerprint (written last)
// Written atomically (io/checkpoint-folders.ts). The trial's shuffles and dropout derive from
// (seed, epoch) and (seed, step), so step and data position are the whole random state.
import { join } from 'node:path';
import { readCheckpointState, STATE_FILE, writeCheckpointFolder } from '../../io/checkpoint-folders.js';
import { FormatError } from '../../errors.js';
import { readSafetensors, writeSafetensors } from '../../io/safetensors.js';
import type { TensorMap } from '../../io/tensor.js';
import { adamSlots, OPTIMIZER_FILE, restoreAdamSlots } from '../../pretrain/checkpoint.js';
import type { FinetuningModel } from './finetuning-model.js';
import type { AdamW } from '../../optim/adamw.js';

export const MODEL_FILE = 'model.safetensors';
export const FINETUNING_STATE_FORMAT = 'electra-ts-finetuning-state';
export const FINETUNING_STATE_VERSION = 1;

export interface FinetuningTrainingState {
  format: typeof FINETUNING_STATE_FORMAT;
  version: number;
  trial: number;
  seed: number;
  /** Updates done (the reference's global_step). */
  step: number;
  /** Updates the trial makes in all. */
  trainSteps: number;
  /** Data position: the epoch (from 1) whose batches are being read, and how many of them are done. */
  epoch: number;
  batchInEpoch: number;
  /** That epoch's summed loss and examples so far (its progress line reports their ratio). */
  epochLossSum: number;
  epochExamples: number;
  /** Identifies the run's settings, data and starting weights: a checkpoint of another run is not resumed. */
  fingerprint: string;
  numParams: number;
}

export type TrainingPosition = Omit<FinetuningTrainingState, 'format' | 'version' | 'numParams'>;

/** Writes checkpoint-<step> into the trial's model folder, keeping only the newest. */
export function writeFinetuningCheckpoint(
  dir: string, model: FinetuningModel, optimizer: AdamW, position: TrainingPosition, onStaged?: () => void,
): string {
  const ps = model.params;
  const state: FinetuningTrainingState = {
    format: FINETUNING_STATE_FORMAT, version: FINETUNING_STATE_VERSION, ...position, numParams: ps.size,
  };
  return writeCheckpointFolder(dir, {
    step: position.step,
    state,
    keep: 1,
    ...(onStaged ? { onStaged } : {}),
    build: (staging) => {
      const weights: TensorMap = new Map(ps.entries.map((ref) => [ref.name, { shape: [...ref.shape], data: Float32Array.from(ref.value) }]));
      writeSafetensors(join(staging, MODEL_FILE), weights, { format: 'electra-ts-finetuning', step: String(position.step) });
      writeSafetensors(join(staging, OPTIMIZER_FILE), adamSlots(ps, optimizer), { format: 'electra-ts-adamw', step: String(position.step) });
    },
  });
}

export function readFinetuningState(dir: string): FinetuningTrainingState {
  const state = readCheckpointState<FinetuningTrainingState>(dir, FINETUNING_STATE_FORMAT, FINETUNING_STATE_VERSION,
    ['trial', 'seed', 'step', 'trainSteps', 'epoch', 'batchInEpoch', 'epochExamples', 'numParams']);
  if (typeof state.fingerprint !== 'string') throw new FormatError(join(dir, STATE_FILE), '"fingerprint" must be a string');
  return state;
}

/** Restores weights, moments and the optimizer's step from a checkpoint of the same model. */
export function restoreFinetuningCheckpoint(dir: string, model: FinetuningModel, optimizer: AdamW): FinetuningTrainingState {
  const state = readFinetuningState(dir);
  const ps = model.params;
  if (state.numParams !== ps.size) {
    throw new FormatError(join(dir, STATE_FILE), `the checkpoint has ${state.numParams} parameters but the model built from the hparams has ${ps.size}`);
  }
  const weightsPath = join(dir, MODEL_FILE);
  const weights = readSafetensors(weightsPath).tensors;
  for (const ref of ps.entries) {
    const t = weights.get(ref.name);
    if (!t || t.data.length !== ref.size) {
      throw new FormatError(weightsPath, `${t ? `has ${t.data.length} values for` : 'has no'} '${ref.name}' (expected ${ref.size})`, ref.name);
    }
    ref.value.set(t.data);
  }
  const slotsPath = join(dir, OPTIMIZER_FILE);
  restoreAdamSlots(readSafetensors(slotsPath).tensors, slotsPath, ps, optimizer);
  optimizer.step = state.step;
  return state;
}
