// Which predictor a model folder gives, by kind. `electra predict`, `electra fill-mask` and
// `electra serve` open models through this table: fine-tuned task models (classification,
// regression, tagging, QA, multiple choice) and the pre-trained discriminator and masked LM.
import { UsageError } from '../errors.js';
import { loadFinetuned } from '../finetune/inference.js';
import { isFinetunedFolder } from '../finetune/model/checkpoint.js';
import { finetunedPredictor } from '../finetune/predictor.js';
import type { Kernels } from '../kernels/index.js';
import { loadDiscriminator, loadMaskedLM, readPretrainedFolders, type PretrainedFolders } from '../pretrain/load.js';
import { discriminatorPredictor, fillMaskPredictor, type Predictor } from '../pretrain/predictor.js';
import type { TruncationStrategy } from '../tokenizer/tokenizer.js';

/** Backend, batch size and truncation of the predictor openPredictor makes. */
export interface OpenPredictorOptions {
  kernels?: Kernels;
  /** Inputs run together (default 8). */
  maxBatch?: number;
  truncation?: TruncationStrategy;
  /** Candidates per [MASK] for fill-mask (default 5). */
  topK?: number;
  /** "int8": dense layers in int8 (see InferenceModelOptions.quantize). */
  quantize?: 'int8';
  /** The task of a fine-tuned folder that holds several. */
  task?: string;
}

/** A kind of model folder the CLI and the server can run, and how to open it. */
export interface PredictorKind {
  /** The name a command takes (--kind) and reports. */
  name: string;
  /** What it predicts, for usage texts and errors. */
  summary: string;
  /**
   * The predictor for the model at dir, or null when dir holds no model of this kind; `pretrained()`
   * reads dir as pre-trained model folders once for all kinds.
   */
  open(dir: string, options: OpenPredictorOptions, pretrained: () => PretrainedFolders): Predictor | null;
}

function modelOptions(o: OpenPredictorOptions): { kernels?: Kernels; maxBatch?: number; quantize?: 'int8' } {
  return { ...(o.kernels ? { kernels: o.kernels } : {}), ...(o.maxBatch ? { maxBatch: o.maxBatch } : {}), ...(o.quantize ? { quantize: o.quantize } : {}) };
}

function truncation(o: OpenPredictorOptions): { truncation?: TruncationStrategy } {
  return o.truncation ? { truncation: o.truncation } : {};
}

export const PREDICTOR_KINDS: PredictorKind[] = [
  {
    name: 'finetuned',
    summary: 'labels, scores, tags or answers of a fine-tuned model (electra finetune\'s folders, HF ElectraFor{Sequence,Token}Classification, ...QuestionAnswering)',
    open: (dir, o) => (isFinetunedFolder(dir)
      ? finetunedPredictor(loadFinetuned(dir, modelOptions(o)), { ...truncation(o), ...(o.task ? { task: o.task } : {}) }) : null),
  },
  {
    name: 'discriminator',
    summary: 'replaced-token probabilities per token (ElectraForPreTraining)',
    open: (_, o, pretrained) => (pretrained().discriminator ? discriminatorPredictor(loadDiscriminator(pretrained(), modelOptions(o)), truncation(o)) : null),
  },
  {
    name: 'fill-mask',
    summary: 'the top-k tokens at each [MASK] (ElectraForMaskedLM: a generator or a masked-LM model)',
    open: (_, o, pretrained) => (pretrained().generator
      ? fillMaskPredictor(loadMaskedLM(pretrained(), modelOptions(o)), { ...truncation(o), ...(o.topK ? { topK: o.topK } : {}) }) : null),
  },
];

/** Opens dir as one of the named kinds (default: any), the first in the table's order that it holds. */
export function openPredictor(dir: string, options: OpenPredictorOptions & { kinds?: readonly string[] } = {}): { kind: string; predictor: Predictor } {
  const unknown = options.kinds?.find((name) => !PREDICTOR_KINDS.some((k) => k.name === name));
  if (unknown) throw new UsageError(`unknown model kind '${unknown}': one of ${PREDICTOR_KINDS.map((k) => k.name).join(', ')}`);
  const kinds = options.kinds ? PREDICTOR_KINDS.filter((k) => options.kinds!.includes(k.name)) : PREDICTOR_KINDS;
  if (options.task !== undefined && !isFinetunedFolder(dir)) throw new UsageError(`${dir} is not a fine-tuned model folder: a task (--task) is for those`);
  let folders: PretrainedFolders | undefined;
  const pretrained = (): PretrainedFolders => (folders ??= readPretrainedFolders(dir));
  for (const kind of kinds) {
    const predictor = kind.open(dir, options, pretrained);
    if (predictor) return { kind: kind.name, predictor };
  }
  throw new UsageError(`${dir} holds no model for this: expected ${kinds.map((k) => k.summary).join(', or ')}`);
}
