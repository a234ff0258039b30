// What the demo runs: its options and the two scales (the real demo, and a smoke-test scale
// that exercises every stage in seconds).
import type { Kernels } from '../kernels/index.js';

/** Demo settings: output folder, time budget in minutes, seed, quick mode. */
export interface DemoOptions {
  /** Where everything goes (default ./electra-demo). */
  outputDir?: string;
  /** Pre-training budget in minutes (default 7); the step count is derived from a measured step time. */
  minutes?: number;
  /**
   * A fixed number of pre-training updates instead of the time budget, so that the results do not
   * depend on how fast (or busy) the machine is.
   */
  updates?: number;
  /** Also pre-train a masked-LM model (BERT's objective) for the ELECTRA run's FLOPs and fine-tune it the same way. */
  compareMlm?: boolean;
  /** Also pre-train Electric (the reference's electric_objective) for the ELECTRA run's FLOPs and fine-tune it the same way. */
  compareElectric?: boolean;
  /**
   * Pre-training precision (the `precision` hparam): 'auto' (default) takes bf16 where the CPU runs
   * VDPBF16PS faster than FMA (about 1.3x the updates in a time budget, the same held-out curve) and
   * fp32 elsewhere, and with `updates` (the same results on any machine) fp32.
   */
  precision?: DemoPrecision;
  /** Seeds pre-training (initialisation, data order, masking) and the fine-tuning trials (default 1). */
  seed?: number;
  /** A few documents and examples and a tiny model: every stage in seconds (for tests). */
  quick?: boolean;
  /** One-line stage results (default: stdout). */
  log?: (line: string) => void;
  /** Where the progress bars are drawn (default stderr; they redraw in place on a terminal only). */
  progressStream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  kernels?: Kernels;
  /**
   * When aborted (Ctrl-C), the stage in progress stops after its current update (pre-training and
   * fine-tuning save a checkpoint; other stages finish first) and runDemo rejects with
   * DemoInterrupted; rerunning resumes from there.
   */
  signal?: AbortSignal;
  /** Called after every fine-tuning update with the stage's name and the updates done. */
  onFinetuneStep?: (stage: string, step: number) => void;
}

export const DEMO_PRECISIONS = ['auto', 'fp32', 'bf16'] as const;
export type DemoPrecision = (typeof DEMO_PRECISIONS)[number];

export interface DemoScale {
  name: 'demo' | 'quick';
  /** Documents of each corpus (null: all); Brown counts only its training documents. */
  corpusDocs: { brown: number | null; sotu: number | null; mobydick: number | null };
  /** Held-out Brown documents (the fine-tuning dev documents) turned into the held-out eval set. */
  heldoutDocs: number | null;
  vocabSize: number;
  maxSeqLength: number;
  /** Words per genre passage (whole sentences), so that a passage fits maxSeqLength tokens. */
  genrePassageWords: number;
  hiddenSize: number;
  numLayers: number;
  /** Generator width as a fraction of the discriminator's (the paper: 1/4 to 1/2 works best). */
  generatorHiddenSize: number;
  /**
   * The generator's sampling temperature (the reference's `temperature`, default 1). Hotter samples
   * are easier to spot: in a few minutes they get the discriminator learning, where at 1 it spends
   * the budget calling every token original.
   */
  temperature: number;
  trainBatchSize: number;
  learningRate: number;
  /** Held-out evaluations over the run (checkpoints), besides step 0. */
  evalPoints: number;
  evalBatches: number;
  evalBatchSize: number;
  /** Fine-tuning: examples (evenly spaced over the document-split sets), epochs and learning rates. */
  genreTrain: number;
  genreDev: number;
  posTrain: number;
  posDev: number;
  genreEpochs: number;
  posEpochs: number;
  genreLearningRate: number;
  posLearningRate: number;
  finetuneBatchSize: number;
  /** Example sentences shown with the discriminator's probabilities. */
  examples: number;
}

/**
 * The demo's scale. Sequences of 64 tokens in batches of 16: in a few minutes of two cores, the
 * number of updates is what gets the discriminator past its start (where it calls every token
 * original); 128-token batches of 32 cost about four times as much per update. Vocabulary: an 8192-entry WordPiece trained on the pre-training corpus rather
 * than BERT's 30522 entries: at this model size the generator's softmax over the vocabulary is a
 * large part of an update (a fifth of its FLOPs at 8k entries, half at 30k), and most of
 * BERT's entries never occur in 3M tokens of text, so their embeddings would stay untrained.
 */
export const DEMO_SCALE: DemoScale = {
  name: 'demo',
  corpusDocs: { brown: null, sotu: null, mobydick: null },
  heldoutDocs: null,
  vocabSize: 8192,
  maxSeqLength: 64,
  genrePassageWords: 45,
  hiddenSize: 128,
  numLayers: 2,
  generatorHiddenSize: 0.5,
  temperature: 3,
  trainBatchSize: 16,
  learningRate: 1e-3,
  evalPoints: 6,
  evalBatches: 16,
  evalBatchSize: 32,
  genreTrain: 2000,
  genreDev: 1000,
  // Low-resource tagging: with thousands of tagged sentences random initialisation learns the words
  // itself and catches up with minutes of pre-training; with 100, the dev score shows what the
  // pre-trained model knows about words those sentences never show.
  posTrain: 100,
  posDev: 1500,
  // Genre: the paper's fine-tuning learning rate for ELECTRA-Small, over more epochs; at 1e-3 for 3
  // epochs the pre-trained model scored 2 to 8 points below random initialisation.
  genreEpochs: 6,
  posEpochs: 20,
  genreLearningRate: 3e-4,
  posLearningRate: 1e-3,
  finetuneBatchSize: 32,
  examples: 4,
};

export const QUICK_SCALE: DemoScale = {
  name: 'quick',
  corpusDocs: { brown: 12, sotu: 3, mobydick: 6 },
  heldoutDocs: 3,
  vocabSize: 1200,
  maxSeqLength: 64,
  genrePassageWords: 45,
  hiddenSize: 32,
  numLayers: 1,
  generatorHiddenSize: 0.5,
  temperature: 3,
  trainBatchSize: 8,
  learningRate: 1e-3,
  evalPoints: 2,
  evalBatches: 2,
  evalBatchSize: 8,
  genreTrain: 48,
  genreDev: 32,
  posTrain: 48,
  posDev: 32,
  genreEpochs: 1,
  posEpochs: 1,
  genreLearningRate: 3e-4,
  posLearningRate: 3e-4,
  finetuneBatchSize: 16,
  examples: 2,
};

export const DEFAULT_MINUTES = 7;
export const DEFAULT_OUTPUT_DIR = 'electra-demo';
export const DEFAULT_SEED = 1;

/** The shape fields both pre-training and fine-tuning hparams take. */
export function modelShape(scale: DemoScale): {
  model_size: 'small'; embedding_size: number; vocab_size: number;
  model_hparam_overrides: { hidden_size: number; num_hidden_layers: number; num_attention_heads: number; intermediate_size: number };
} {
  return {
    model_size: 'small',
    embedding_size: scale.hiddenSize,
    vocab_size: scale.vocabSize,
    model_hparam_overrides: {
      hidden_size: scale.hiddenSize,
      num_hidden_layers: scale.numLayers,
      num_attention_heads: Math.max(1, Math.floor(scale.hiddenSize / 64)),
      intermediate_size: 4 * scale.hiddenSize,
    },
  };
}

/** Hparams with overrides applied; model_hparam_overrides merge field by field (a dropout override keeps the shape). */
export function withOverrides(base: Record<string, unknown>, over: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!over) return base;
  const inner = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null ? v as Record<string, unknown> : {});
  const merged = { ...base, ...over };
  if ('model_hparam_overrides' in over) merged['model_hparam_overrides'] = { ...inner(base['model_hparam_overrides']), ...inner(over['model_hparam_overrides']) };
  return merged;
}
