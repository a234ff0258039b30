// The demo's fine-tuning: the library's `electra finetune` run (runFinetuningAsync) on the Brown demo
// tasks, with evenly spaced subsets of their document-split train and dev sets so that every
// model (pre-trained, masked-LM, random initialisation) is fine-tuned the same way in the budget.
import type { Kernels } from '../kernels/index.js';
import { brownGenreExamples, brownGenres, brownPosSentences, brownPosTags } from '../finetune/data/brown.js';
import { SPAM_LABELS, spamAssassinExamples } from '../finetune/data/spam-assassin.js';
import { resolveHparams } from '../finetune/hparams.js';
import { runFinetuningAsync } from '../finetune/runner.js';
import { resultsObject } from '../finetune/scorer.js';
import { SentenceTask, TaggingTask, type AnyTask, type TaskContext } from '../finetune/tasks.js';
import type { ProgressStream } from './data.js';
import { DemoInterrupted } from './stages.js';
import { modelShape, withOverrides, type DemoScale } from './settings.js';

export const DEMO_TASKS = ['brown_genre', 'brown_pos'] as const;
export type DemoTask = (typeof DEMO_TASKS)[number];
/** The demo's tasks and the out-of-domain e-mail classification the recipe experiments add. */
export type FinetuneTaskName = DemoTask | 'spam_assassin';

/** n items spread evenly over the list (all of it when n >= its length): every genre stays represented. */
export function evenly<T>(items: readonly T[], n: number): T[] {
  if (n >= items.length) return [...items];
  return Array.from({ length: n }, (_, i) => items[Math.floor((i * items.length) / n)]!);
}

function sizes(scale: DemoScale, task: FinetuneTaskName): { train: number; dev: number; epochs: number; learningRate: number } {
  // Both document classifications (genre, spam) take the genre settings.
  return task !== 'brown_pos'
    ? { train: scale.genreTrain, dev: scale.genreDev, epochs: scale.genreEpochs, learningRate: scale.genreLearningRate }
    : { train: scale.posTrain, dev: scale.posDev, epochs: scale.posEpochs, learningRate: scale.posLearningRate };
}

/** The Brown task with the demo's subsets (same examples for every model). */
export function demoTask(task: FinetuneTaskName, ctx: TaskContext, scale: DemoScale, trainExamples?: number): AnyTask {
  const n = { ...sizes(scale, task), ...(trainExamples !== undefined ? { train: trainExamples } : {}) };
  const pick = <T>(split: string, all: T[]): T[] => evenly(all, split === 'train' ? n.train : n.dev);
  if (task === 'brown_genre') {
    return new SentenceTask('brown_genre', ctx, {
      labels: { type: 'classification', labels: brownGenres() }, metric: 'accuracy', testSplits: [],
      read: (split) => pick(split, brownGenreExamples(split, scale.genrePassageWords)),
    });
  }
  if (task === 'spam_assassin') {
    return new SentenceTask('spam_assassin', ctx, {
      labels: { type: 'classification', labels: SPAM_LABELS }, metric: 'accuracy', testSplits: [],
      read: (split) => pick(split, spamAssassinExamples(split)),
    });
  }
  return new TaggingTask('brown_pos', ctx, {
    tokenLevel: true, labels: brownPosTags(), labelSplits: () => [], read: (split) => pick(split, brownPosSentences(split)),
  });
}

export type Init = { kind: 'electra' | 'mlm' | 'electric'; modelName: string; checkpoint: string } | { kind: 'random'; modelName: string };

/** The fine-tuning `--hparams` of one run (the reference's names). */
export function finetuningHparamValues(
  scale: DemoScale, task: FinetuneTaskName, init: Init, vocabFile: string, vocabSize: number, seed: number,
): Record<string, unknown> {
  const shape = modelShape(scale);
  return {
    task_names: [task],
    ...shape,
    vocab_size: vocabSize,
    vocab_file: vocabFile,
    max_seq_length: scale.maxSeqLength,
    learning_rate: sizes(scale, task).learningRate,
    num_train_epochs: sizes(scale, task).epochs,
    train_batch_size: scale.finetuneBatchSize,
    eval_batch_size: 64,
    predict_batch_size: 64,
    seed,
    ...(init.kind === 'random'
      ? { random_init: true }
      // The masked-LM run's encoder is its generator (an ElectraForMaskedLM folder).
      : { init_checkpoint: init.checkpoint }),
  };
}

export interface FinetuneSummary {
  task: FinetuneTaskName;
  init: Init['kind'];
  modelName: string;
  metrics: Record<string, number>;
  trainExamples: number;
  devExamples: number;
  trainSteps: number;
  seconds: number;
  resultsFile: string;
}

export interface DemoFinetuneControl {
  /** When aborted, training stops after the current update and saves a checkpoint (DemoInterrupted is thrown); a rerun resumes it. */
  signal?: AbortSignal;
  /** Called after every update with the updates done. */
  onStep?: (step: number) => void;
  /** The stage name DemoInterrupted reports. */
  stage?: string;
  /** Fine-tuning hparams (the reference's names) that replace the demo's, e.g. learning_rate. */
  hparams?: Record<string, unknown>;
  /** Training examples instead of the scale's (a low-resource setting). */
  trainExamples?: number;
}

export async function demoFinetune(
  outputDir: string, scale: DemoScale, task: FinetuneTaskName, init: Init, vocabFile: string, vocabSize: number, seed: number,
  kernels: Kernels, log: (line: string) => void, progressStream?: ProgressStream, control: DemoFinetuneControl = {},
): Promise<FinetuneSummary> {
  const values = { ...withOverrides(finetuningHparamValues(scale, task, init, vocabFile, vocabSize, seed), control.hparams), data_dir: outputDir, model_name: init.modelName };
  const { hparams } = resolveHparams(values, 'demo fine-tuning hparams');
  const started = performance.now();
  let made: AnyTask | null = null;
  let stepsDone = 0;
  const result = await runFinetuningAsync({
    hparams, kernels, log, ...(progressStream ? { progressStream } : {}), ...(control.signal ? { signal: control.signal } : {}),
    onStep: (_trial, step) => {
      stepsDone = step;
      control.onStep?.(step);
    },
    makeTasks: (ctx) => {
      made = demoTask(task, ctx, scale, control.trainExamples);
      return [made];
    },
  });
  if (result.interrupted) {
    throw new DemoInterrupted(control.stage ?? `finetune-${init.kind}-${task}`, `fine-tuning ${task} from ${init.kind} stopped at update ${stepsDone}, checkpoint saved in ${result.modelDirs[0]}`);
  }
  const metrics = result.median.get(task);
  if (!metrics) throw new Error(`fine-tuning ${task} from ${init.kind} gave no dev results`);
  const t = made as AnyTask | null;
  return {
    task, init: init.kind, modelName: init.modelName, metrics: resultsObject(metrics),
    trainExamples: t ? t.getExamples('train').length : 0, devExamples: t ? t.getExamples('dev').length : 0,
    trainSteps: result.trainSteps, seconds: (performance.now() - started) / 1000, resultsFile: result.paths.resultsJson,
  };
}
