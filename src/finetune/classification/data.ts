// Sentence(-pair) classification and regression data: the GLUE TSV layouts exactly as the
// reference's classification_tasks.py reads them, and user-defined column layouts.
import { join } from 'node:path';
import { lineError, pyIndex, readTsv, type TsvRow } from '../data/text-file.js';

export interface SentenceExample {
  taskName: string;
  /** The reference's example id: the row's index (after the header), plus an offset for augmented copies. */
  eid: number;
  textA: string;
  /** The second sentence; null (or '') for single-sentence tasks. */
  textB: string | null;
  /** A label from the task's label list, or a regression target. */
  label: string | number;
}

/** Where the fields are: 0-based column indices, negative ones counting from the end (as Python). */
export interface ColumnLayout {
  textA: number;
  textB: number | null;
  /** null: the split has no labels (test sets); every example gets the dummy label. */
  label: number | null;
  skipFirstLine: boolean;
}

export type LabelSpec =
  | { type: 'classification'; labels: readonly string[] }
  | { type: 'regression'; min: number; max: number };

export interface SkippedRow {
  line: number;
  message: string;
}

export interface SentenceData {
  examples: SentenceExample[];
  /** Rows the reference would skip (it logs and drops rows it cannot index). */
  skipped: SkippedRow[];
}

export const GLUE_TASK_NAMES = ['cola', 'sst', 'mrpc', 'sts', 'qqp', 'mnli', 'qnli', 'rte'] as const;
export type GlueTaskName = (typeof GLUE_TASK_NAMES)[number];

/** The reference gives test and diagnostic rows a dummy label (the first label, or 0.0). */
export function isUnlabelledSplit(split: string): boolean {
  return split.includes('test') || split.includes('diagnostic');
}

/** The file of a GLUE split: mnli's "dev" is dev_matched.tsv (dev_mismatched and test_* are named as is). */
export function glueFile(taskDir: string, task: GlueTaskName, split: string): string {
  return join(taskDir, `${task === 'mnli' && split === 'dev' ? 'dev_matched' : split}.tsv`);
}

/** Column layouts of the GLUE distribution, per task and split, as the reference indexes them. */
export function glueLayout(task: GlueTaskName, split: string): ColumnLayout {
  const test = isUnlabelledSplit(split);
  switch (task) {
    case 'cola': // train/dev: source, label, original label, sentence (no header); test: index, sentence
      return split === 'test'
        ? { textA: 1, textB: null, label: null, skipFirstLine: true }
        : { textA: 3, textB: null, label: test ? null : 1, skipFirstLine: false };
    case 'sst': // sentence, label; test: index, sentence
      return test ? { textA: 1, textB: null, label: null, skipFirstLine: true } : { textA: 0, textB: null, label: 1, skipFirstLine: true };
    case 'mrpc': // Quality, #1 ID, #2 ID, #1 String, #2 String
      return { textA: 3, textB: 4, label: test ? null : 0, skipFirstLine: true };
    case 'sts': // ..., sentence1, sentence2, score; test has no score column
      return split === 'test'
        ? { textA: -2, textB: -1, label: null, skipFirstLine: true }
        : { textA: -3, textB: -2, label: test ? null : -1, skipFirstLine: true };
    case 'qqp': // id, qid1, qid2, question1, question2, is_duplicate; test: id, question1, question2
      return split === 'test'
        ? { textA: 1, textB: 2, label: null, skipFirstLine: true }
        : { textA: 3, textB: 4, label: test ? null : 5, skipFirstLine: true };
    case 'mnli': // sentence1 and sentence2 in columns 8 and 9, gold_label last; diagnostic: index, sentence1, sentence2
      return split === 'diagnostic'
        ? { textA: 1, textB: 2, label: null, skipFirstLine: true }
        : { textA: 8, textB: 9, label: test ? null : -1, skipFirstLine: true };
    case 'qnli': // index, question, sentence, label
    case 'rte': // index, sentence1, sentence2, label
      return { textA: 1, textB: 2, label: test ? null : 3, skipFirstLine: true };
  }
}

export interface LoadSentenceOptions {
  file: string;
  taskName: string;
  layout: ColumnLayout;
  labels: LabelSpec;
  /** Added to every eid (the reference offsets the swapped copies by the number of examples). */
  eidOffset?: number;
  /** Swap the two sentences (double_unordered augmentation). */
  swap?: boolean;
  /** A row too short for the layout: skipped and reported (the reference, GLUE) or an error (users' files). */
  shortRows?: 'skip' | 'error';
}

/**
 * Examples from TSV rows, as the reference's _load_glue: rows too short for the layout are
 * skipped (and reported); a label outside the task's label list or a regression target that is
 * not a number in [min, max] is an error naming the file and line.
 */
export function loadSentenceExamples(rows: readonly TsvRow[], opts: LoadSentenceOptions): SentenceData {
  const { layout, labels, file, taskName } = opts;
  const offset = opts.eidOffset ?? 0;
  const examples: SentenceExample[] = [];
  const skipped: SkippedRow[] = [];
  const used = [layout.textA, layout.textB, layout.label].filter((c): c is number => c !== null);
  const needed = Math.max(...used.map((c) => (c < 0 ? -c : c + 1)));
  rows.forEach((row, i) => {
    if (i === 0 && layout.skipFirstLine) {
      // A header is never a valid label; a first line with one means the header is probably missing.
      const first = layout.label === null ? undefined : pyIndex(row.fields, layout.label);
      if (first !== undefined && looksLikeLabel(first, labels)) {
        skipped.push({
          line: row.line,
          message: `${file}:${row.line}: skipped as the header line, but its label column holds ${JSON.stringify(first)}, a valid ${taskName} label: does the file lack its header?`,
        });
      }
      return;
    }
    const eid = i - (layout.skipFirstLine ? 1 : 0) + offset;
    let textA = pyIndex(row.fields, layout.textA);
    let textB = layout.textB === null ? null : pyIndex(row.fields, layout.textB);
    const rawLabel = layout.label === null ? null : pyIndex(row.fields, layout.label);
    if (textA === undefined || textB === undefined || rawLabel === undefined) {
      if (opts.shortRows === 'error') {
        const columns = [['text_a_column', layout.textA], ['text_b_column', layout.textB], ['label_column', layout.label]]
          .filter(([, c]) => c !== null).map(([n, c]) => `${n} ${c}`).join(', ');
        throw lineError(file, row.line, `expected at least ${needed} columns (${columns}), found ${row.fields.length}`);
      }
      skipped.push({
        line: row.line,
        message: `${file}:${row.line}: expected at least ${needed} tab-separated columns for ${taskName}, found ${row.fields.length}; row skipped`,
      });
      return;
    }
    const label = rawLabel === null ? dummyLabel(labels) : parseLabel(rawLabel, labels, file, row.line, taskName);
    if (opts.swap && textB !== null) [textA, textB] = [textB, textA];
    examples.push({ taskName, eid, textA, textB, label });
  });
  return { examples, skipped };
}

function looksLikeLabel(raw: string, spec: LabelSpec): boolean {
  if (spec.type === 'classification') return spec.labels.includes(raw);
  const v = raw.trim() === '' ? NaN : Number(raw.trim());
  return Number.isFinite(v) && v >= spec.min && v <= spec.max;
}

function dummyLabel(labels: LabelSpec): string | number {
  return labels.type === 'classification' ? labels.labels[0]! : 0;
}

function parseLabel(raw: string, spec: LabelSpec, file: string, line: number, task: string): string | number {
  if (spec.type === 'classification') {
    if (!spec.labels.includes(raw)) {
      throw lineError(file, line, `label ${JSON.stringify(raw)} is not one of ${spec.labels.map((l) => JSON.stringify(l)).join(', ')} for ${task}`);
    }
    return raw;
  }
  const value = raw.trim() === '' ? NaN : Number(raw.trim());
  if (!Number.isFinite(value)) throw lineError(file, line, `expected a number as the ${task} target, found ${JSON.stringify(raw)}`);
  if (value < spec.min || value > spec.max) throw lineError(file, line, `${task} target ${value} is outside [${spec.min}, ${spec.max}]`);
  return value;
}

export interface ReadSentenceFileOptions extends Omit<LoadSentenceOptions, 'file' | 'eidOffset' | 'swap'> {
  /** Also add every example with its sentences swapped (the reference's double_unordered, train only). */
  doubleUnordered?: boolean;
  maxLines?: number;
}

/** Reads one TSV file into examples, with the swapped copies after the originals when asked. */
export function readSentenceFile(file: string, opts: ReadSentenceFileOptions): SentenceData {
  const rows = readTsv(file, opts.maxLines);
  const base = { file, taskName: opts.taskName, layout: opts.layout, labels: opts.labels };
  const data = loadSentenceExamples(rows, base);
  if (opts.doubleUnordered) {
    const swapped = loadSentenceExamples(rows, { ...base, eidOffset: data.examples.length, swap: true });
    data.examples.push(...swapped.examples);
  }
  return data;
}
