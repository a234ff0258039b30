// A file in a fine-tuned task's training format (CSV/TSV/JSON-lines tables, word/TAG or CoNLL,
// SQuAD JSON or MRQA lines, multiple-choice lines) as the predictor's input records, read by the
// task family's own reader, so `electra predict --input FILE` runs a dev or test file as is.
// Labels in the file are not read: prediction needs none.
import { extname } from 'node:path';
import { UsageError } from '../errors.js';
import { columnIndex, readJsonLines, readTable, tableFormatOf } from './data/table.js';
import { pyIndex, type TsvRow } from './data/text-file.js';
import { loadSentenceExamples, type LabelSpec } from './classification/data.js';
import { detectHeader, type SentenceSpec } from './classification/task.js';
import { readTaggedFile } from './tagging/readers.js';
import { readMrqa, readSquad } from './qa/data.js';
import { readChoiceFile } from './multiple-choice/data.js';
import { parseTaskSpec, type CustomTaskSpec } from './hparams.js';
import type { SavedTask } from './model/checkpoint.js';

/** One input record (as a JSON line gives it to the predictor) and where in the file it is. */
export interface TaskFileInput {
  record: unknown;
  /** "file:line" (or "file: question ID" for SQuAD JSON), for errors. */
  where: string;
}

/**
 * The records of a file in the task's format. `reader` holds the task spec's reader settings
 * (format, delimiter, header, text_a_column, text_b_column, label_column; format, word_column,
 * tag_column, tag_separator), as the task's hparam takes them, each over the task's own (the
 * spec it was trained with, as its folder keeps it; older folders: the spec's defaults).
 * QA files are SQuAD JSON, or MRQA lines when they end in .jsonl; multiple-choice files are
 * their JSON lines. A malformed file is the reader's error (file, line).
 */
export function readTaskFile(file: string, task: SavedTask, reader: unknown = {}): TaskFileInput[] {
  switch (task.kind) {
    case 'classification':
    case 'regression':
      return sentenceInputs(file, task, parseTaskSpec('reader settings', withSaved(task, reader), task.kind) as SentenceSpec);
    case 'tagging': {
      const spec = parseTaskSpec('reader settings', withSaved(task, reader), 'tagging') as Extract<CustomTaskSpec, { type: 'tagging' }>;
      const sentences = readTaggedFile(file, { format: spec.format, wordColumn: spec.word_column, tagColumn: spec.tag_column, tagSeparator: spec.tag_separator });
      return sentences.map((s) => ({ record: { words: s.words }, where: `${file}:${s.line}` }));
    }
    case 'qa': {
      noReaderSettings(reader, task);
      const opts = { taskName: task.name, split: 'test' };
      const data = extname(file).toLowerCase() === '.jsonl' ? readMrqa(file, opts) : readSquad(file, opts);
      return data.examples.map((e) => ({ record: { question: e.question, context: e.context }, where: `${file}: question ${e.id}` }));
    }
    case 'multiple_choice': {
      noReaderSettings(reader, task);
      return readChoiceFile(file, { taskName: task.name, labelled: false })
        .map((e) => ({ record: { context: e.context, question: e.question, choices: e.choices }, where: `${file}:${e.line}` }));
    }
  }
}

/** The given reader settings over the task's saved ones, key by key (an older name replaces its newer one). */
function withSaved(task: SavedTask, reader: unknown): unknown {
  if (!task.reader || reader === null || typeof reader !== 'object' || Array.isArray(reader)) return reader;
  const saved = { ...task.reader };
  if (Object.hasOwn(reader, 'skip_first_line')) delete saved['header'];
  return { ...saved, ...reader };
}

function noReaderSettings(reader: unknown, task: SavedTask): void {
  if (reader !== null && typeof reader === 'object' && Object.keys(reader).length > 0) {
    throw new UsageError(`reader settings are for table and tagging tasks; ${task.name} (${task.kind}) files have one format`);
  }
}

/** Sentence (pair) records of a CSV, TSV or JSON-lines table, by the spec's columns; the label column may be absent. */
function sentenceInputs(file: string, task: SavedTask, spec: SentenceSpec): TaskFileInput[] {
  const labels: LabelSpec = task.kind === 'classification'
    ? { type: 'classification', labels: task.labels ?? [] }
    : { type: 'regression', min: task.targetRange?.[0] ?? 0, max: task.targetRange?.[1] ?? 1 };
  let header: TsvRow | null;
  let rows: TsvRow[];
  if (tableFormatOf(file, spec) === 'jsonl') {
    const keys = [spec.text_a_column, spec.text_b_column].filter((k) => k !== null);
    if (!keys.every((k) => typeof k === 'string')) throw new UsageError(`${file}: JSON lines columns are keys: give text_a_column and text_b_column as key names`);
    ({ header, rows } = readJsonLines(file, keys as string[]));
  } else {
    const all = readTable(file, spec);
    // Header detection reads the label column: only a file whose data rows hold labels there has one to read.
    const named = [spec.text_a_column, spec.text_b_column].some((c) => typeof c === 'string');
    const isLabel = (cell: string | undefined): boolean => cell !== undefined
      && (task.kind === 'classification' ? (task.labels ?? []).includes(cell) : cell.trim() !== '' && Number.isFinite(Number(cell)));
    const labelled = typeof spec.label_column === 'string'
      || (all.length > 1 && all.slice(1).every((r) => isLabel(pyIndex(r.fields, spec.label_column as number))));
    const hasHeader = spec.header ?? (named || (labelled && detectHeader(spec, all, task.labels)));
    header = hasHeader ? all[0] ?? null : null;
    rows = hasHeader ? all.slice(1) : all;
  }
  const layout = {
    textA: columnIndex(spec.text_a_column, header, file, 'text_a_column'),
    textB: spec.text_b_column === null ? null : columnIndex(spec.text_b_column, header, file, 'text_b_column'),
    label: null, skipFirstLine: false,
  };
  const { examples } = loadSentenceExamples(rows, { file, taskName: task.name, layout, labels, shortRows: 'error' });
  return examples.map((e, i) => ({
    record: e.textB === null ? { text: e.textA } : { text: e.textA, text_pair: e.textB },
    where: `${file}:${rows[i]!.line}`,
  }));
}
