// The Task abstraction (the reference's finetune/task.py): a task reads its examples, turns them
// into model inputs, names the head it needs, packs its batches, and decodes the model's outputs
// into scores and predictions. The runner and the model see tasks only through this interface.
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import type { BertTokenizer } from '../tokenizer/index.js';
import type { CustomTaskSpec, FinetuningHparams, FinetuningPaths } from './hparams.js';
import type { HeadKind } from './families.js';
import type { MetricList, Scorer } from './scorer.js';
import type { HeadFamily, HeadOutputBase, HeadStyle } from './model/head.js';
import type { BatchItem, ItemOutput } from './model/finetuning-model.js';
import type { SavedTask } from './model/checkpoint.js';
import type { DataSummary } from './summary.js';

export interface TaskContext {
  hparams: FinetuningHparams;
  tokenizer: BertTokenizer;
  /** Receives notes about skipped rows and dropped questions (default: stderr). */
  warn?: (message: string) => void;
}

export type TaskKind = HeadKind;

/** What a task's evaluation runs with. */
export interface EvaluationEnv {
  hparams: FinetuningHparams;
  /** The style of the task's head in the model. */
  style: HeadStyle;
  /** Runs the model over items (in eval mode) and returns their outputs in order. */
  predict(items: BatchItem[], label: string): ItemOutput[];
  /** Where QA tasks write their prediction files (none when absent). */
  paths?: FinetuningPaths;
}

export interface TaskEvaluation {
  metrics: MetricList;
  /**
   * Per example id: classification logits, the regression output, or the tags of the words
   * (QA predictions go to the reference's prediction files instead; empty here).
   */
  predictions: Map<string, unknown>;
}

/** A fine-tuning task: its data, how examples become model inputs, and how results are scored. */
export interface Task<Example, Features, Result> {
  readonly name: string;
  readonly kind: TaskKind;
  /** What its data folder should hold (named when the folder is missing). */
  readonly dataFiles: string;
  getExamples(split: string): Example[];
  /** Model inputs of one example (QA examples give one per window). */
  featurize(example: Example, isTraining: boolean): Features[];
  /** The model input of one feature, with its targets when asked (training, evaluation). */
  batchItem(features: Features, withTargets: boolean): BatchItem;
  /** The task as a model folder records it, with its head's style. */
  savedTask(style: HeadStyle): SavedTask;
  createScorer(split?: string): Scorer<Result>;
  /** Metrics and predictions of a split. */
  evaluate(split: string, env: EvaluationEnv): TaskEvaluation;
  /** Splits to write test predictions for. */
  testSplits(): string[];
  /** Test predictions of a split by id (the reference's test outputs). */
  predictTest(split: string, env: EvaluationEnv): Map<string, unknown>;
  /** Labels and truncation of a split's examples and their features, for the summary before training. */
  summarize?(examples: readonly Example[], features: readonly Features[]): DataSummary;
}

/** Any task, as the runner handles it (without looking at its example and feature types). */
export type AnyTask = Task<unknown, unknown, unknown>;

export interface TaskInfo {
  kind: TaskKind;
  /** The label list (null where it comes from the data). */
  labels: readonly string[] | null;
  /** Metric names the scorer reports. */
  metrics: readonly string[];
  data: string;
}

/** A task the registry knows by name. */
export interface BuiltinTask {
  info: TaskInfo;
  /** Its data sits in <data_dir>/finetuning_data/<task> (not shipped, not configured by an hparam). */
  dataDir: boolean;
  create(name: string, ctx: TaskContext): AnyTask;
}

/** A task family: its heads (HeadFamily) and its tasks by name. */
export interface TaskFamily<Kind extends string, Target, Output extends HeadOutputBase, Options = object>
  extends HeadFamily<Kind, Target, Output, Options> {
  readonly tasks: Readonly<Record<string, BuiltinTask>>;
}

/** The hparam that configures a generic task, or an error saying it is missing. */
export function configuredSpec<T>(name: string, spec: T | null | undefined): T {
  if (!spec) throw new UsageError(`task '${name}' needs its configuration in the '${name}' hparam (files, columns, labels)`);
  return spec;
}

export const defaultWarn = (message: string): void => {
  process.stderr.write(message + '\n');
};

/** The file of a split: as the spec gives it, else <dir>/<split>.<ext>. */
export function specFile(spec: CustomTaskSpec, dir: string, split: string, ext: string): string {
  const given = split === 'train' ? spec.train_file : split === 'dev' ? spec.dev_file : split === 'test' ? spec.test_file : null;
  return given ?? join(dir, `${split}.${ext}`);
}

/** A task spec as a model folder keeps it for reading files like the training files: without its type and file paths. */
export function readerSettings(spec: CustomTaskSpec, resolved: Record<string, unknown> = {}): Record<string, unknown> {
  const { type: _type, train_file: _train, dev_file: _dev, test_file: _test, ...settings } = spec;
  return { ...settings, ...resolved };
}

/** Index of the largest value. */
export function argmax(v: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

/** The output of a head of the given kind, or an error naming the task. */
export function outputOfKind<K extends ItemOutput['kind']>(task: string, o: ItemOutput | undefined, kind: K): Extract<ItemOutput, { kind: K }> {
  if (o?.kind !== kind) throw new Error(`${task}: expected ${kind} outputs, got ${o?.kind ?? 'none'}`);
  return o as Extract<ItemOutput, { kind: K }>;
}
