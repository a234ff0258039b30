// Fine-tuning hyperparameters with the reference's names and defaults (configure_finetuning.py),
// including its task- and model-size-dependent overrides, parsed from `--hparams` JSON.
import { join } from 'node:path';
import { PRECISIONS } from '../kernels/precision.js';
import { closestName } from '../util/suggest.js';
import { readHparamsArgument as readSharedHparamsArgument } from '../util/hparams-arg.js';
import {
  At, bool, check, folderName, hparamsProblem, int, invalidValue, isPlainObject, key, nullable, num, oneOf, optionalFields, quoteKey, record, Schema, str, strings,
  TPU_SETTINGS, type Field, type SchemaValues, type Type,
} from '../util/schema.js';

export type ModelSize = 'small' | 'base' | 'large';

/** Where a sentence task's files and columns are (shared by classification and regression). */
export interface TableSpec {
  /** Files per split; by default <data_dir>/finetuning_data/<task>/<split>.tsv, .csv or .jsonl (whichever exists). */
  train_file: string | null;
  dev_file: string | null;
  test_file: string | null;
  /** null: a ',' delimiter or a .csv file is CSV (RFC 4180 quoting), .jsonl JSON lines (columns are keys), else TSV (no quoting). */
  format: 'csv' | 'tsv' | 'jsonl' | null;
  /** null: the format's (',' or tab). */
  delimiter: string | null;
  /** true: the first row names the columns; false: it is data; null: detected (a header's label cell is no label). */
  header: boolean | null;
  /** Columns by 0-based index (negative ones count from the end) or by header name. */
  text_a_column: number | string;
  text_b_column: number | string | null;
  label_column: number | string;
  /** Also train on the pair in swapped order. */
  double_unordered: boolean;
}

/** A user-defined sentence(-pair) classification task read from CSV or TSV files. */
export interface ClassificationTaskSpec extends TableSpec {
  type: 'classification';
  /** The label list (ids in this order); by default the sorted labels of the training file. */
  labels: string[] | null;
  metric: 'accuracy' | 'accuracy_f1' | 'f1' | 'mcc';
  /** The positive class for F1; by default the second label (id 1, as the reference). */
  positive_label: string | null;
}

/** A user-defined regression task (Pearson/Spearman). Targets are scaled to (t - min) / (max - min). */
export interface RegressionTaskSpec extends TableSpec {
  type: 'regression';
  min_value: number;
  max_value: number;
}

/** A user-defined tagging task read from CoNLL-style or word/TAG files. */
export interface TaggingTaskSpec {
  type: 'tagging';
  /** Files per split; by default <data_dir>/finetuning_data/<task>/<split>.txt (or .conll). */
  train_file: string | null;
  dev_file: string | null;
  test_file: string | null;
  /** 'conll': a token a line, columns, blank lines between sentences; 'word_tag': a sentence a line of word/TAG tokens; null: detected. */
  format: 'conll' | 'word_tag' | null;
  /** CoNLL columns (0-based, negative ones count from the end). */
  word_column: number;
  tag_column: number;
  /** Between word and tag in word/TAG files (the last one in a token counts). */
  tag_separator: string;
  /** true: one label per word, scored by accuracy; false: BIO chunks, re-encoded as BIOES and scored by entity F1. */
  token_level: boolean;
  /** The label list; by default the sorted tags of all files. */
  labels: string[] | null;
}

export type CustomTaskSpec = ClassificationTaskSpec | RegressionTaskSpec | TaggingTaskSpec;

export { plainFolderName } from '../util/schema.js';

const oneCharacter = check<string>('a single character', (v) => typeof v === 'string' && v.length === 1);
const column = check<number | string>('a column index (integer) or header name (string)', (v) => Number.isSafeInteger(v) || (typeof v === 'string' && v !== ''));
const files = {
  train_file: key(nullable(str), null, 'The training file; null: <data_dir>/finetuning_data/<task>/train.* (whichever exists).'),
  dev_file: key(nullable(str), null, 'The dev file; null: .../dev.*.'),
  test_file: key(nullable(str), null, 'The test file; null: .../test.*.'),
};
const table = {
  ...files,
  format: key(nullable(oneOf(['csv', 'tsv', 'jsonl'])), null, "null: a ',' delimiter or .csv is CSV, .jsonl JSON lines, else TSV."),
  delimiter: key(nullable(oneCharacter), null, "null: the format's (',' or tab)."),
  header: key(nullable(bool), null, 'true: the first row names the columns; null: detected.'),
  text_a_column: key(column, 0, 'The first text: a 0-based index (negative from the end) or a header name.'),
  text_b_column: key(nullable(column), null, 'The second text of a pair, or null.'),
  label_column: key(column, 1, 'The label or target.'),
  double_unordered: key(bool, false, 'Also train on the pair in swapped order.'),
};
/** `skip_first_line` is the older name of `header`. */
const tableOptions = { aliases: { skip_first_line: { to: 'header', type: bool } } };

/** The fields of each user-defined task type, with their defaults. */
export const TASK_SPEC_SCHEMAS = {
  classification: new Schema({
    ...table,
    labels: key(nullable(strings({ nonEmpty: true })), null, 'The label list (ids in this order); null: the sorted labels of the training file.'),
    metric: key(oneOf(['accuracy', 'accuracy_f1', 'f1', 'mcc']), 'accuracy', 'The dev metric.'),
    positive_label: key(nullable(str), null, 'The positive class for F1; null: the second label.'),
  }, tableOptions),
  regression: new Schema({
    ...table,
    min_value: key(num(), 0, 'The smallest target (targets are scaled to [0, 1]).'),
    max_value: key(num(), 1, 'The largest target.'),
  }, tableOptions),
  tagging: new Schema({
    ...files,
    format: key(nullable(oneOf(['conll', 'word_tag'])), null, "'conll': a token a line; 'word_tag': a sentence a line of word/TAG; null: detected."),
    word_column: key(int(), 0, 'CoNLL column of the word.'),
    tag_column: key(int(), -1, 'CoNLL column of the tag.'),
    tag_separator: key(check('a non-empty string without whitespace', (v) => typeof v === 'string' && v !== '' && !/\s/.test(v)), '/', 'Between word and tag in word/TAG files.'),
    token_level: key(bool, true, 'true: a label per word (accuracy); false: BIO chunks scored by entity F1.'),
    labels: key(nullable(strings({ nonEmpty: true })), null, 'The label list; null: the sorted tags of all files.'),
  }),
} satisfies { [T in CustomTaskSpec['type']]: Schema<{ [K in Exclude<keyof Extract<CustomTaskSpec, { type: T }>, 'type'>]: Field<Extract<CustomTaskSpec, { type: T }>[K]> }> };

const TASK_TYPES = Object.keys(TASK_SPEC_SCHEMAS) as CustomTaskSpec['type'][];

/** A user-defined task spec, defaults filled in; `type` may be left out where `implied` says it. */
function taskSpec<T extends CustomTaskSpec['type']>(implied?: T): Type<Extract<CustomTaskSpec, { type: T }>> {
  const expected = implied ? `an object (a ${implied} task spec)` : 'an object (a task spec)';
  return {
    expected,
    parse(v, at, exp) {
      if (!isPlainObject(v)) throw invalidValue(at, exp ?? expected, v);
      const { type: given, ...fields } = v;
      const type = oneOf(TASK_TYPES).parse(given ?? implied, at.key('type'));
      if (implied && type !== implied) throw invalidValue(at.key('type'), `${quoteKey(implied)} here`, given);
      const spec = { type, ...TASK_SPEC_SCHEMAS[type].parse(fields, at) } as CustomTaskSpec;
      if (spec.type === 'regression' && !(spec.max_value > spec.min_value)) {
        throw hparamsProblem(at.source, `${at.key('max_value').name} must be greater than ${at.key('min_value').name}`);
      }
      return spec as Extract<CustomTaskSpec, { type: T }>;
    },
  };
}

/** The keys a task of a multi-task run may set for itself (task_hparams); absent ones are the run's. */
export interface TaskHparams {
  learning_rate?: number;
  num_train_epochs?: number;
  max_seq_length?: number;
  train_batch_size?: number;
}
const TASK_KEYS = ['learning_rate', 'num_train_epochs', 'max_seq_length', 'train_batch_size'] as const;
/** task_hparams: the run's declarations of TASK_KEYS, without defaults (read when parsing: they are declared below). */
const taskOverrides: Type<Record<string, TaskHparams>> = {
  expected: `an object of task names to objects of ${TASK_KEYS.join(', ')}`,
  parse: (v, at, exp) => record(new Schema(optionalFields(Object.fromEntries(TASK_KEYS.map((k) => [k, FINETUNING_SCHEMA.fields[k]])))), taskOverrides.expected)
    .parse(v, at, exp) as Record<string, TaskHparams>,
};

/**
 * Every --hparams key of `electra finetune`: type, the reference's default (configure_finetuning.py;
 * electra-ts's own keys say so) and a one-line doc. Adding a key is one entry here; the type
 * FinetuningHparams follows. Task- and size-dependent defaults are applied by resolveHparams.
 */
export const FINETUNING_SCHEMA = new Schema({
  // general
  model_name: key(folderName, 'electra_small', 'The pre-trained model: <data_dir>/models/<model_name>.'),
  data_dir: key(str, '.', 'Where finetuning_data/, models/ and vocab.txt are.'),
  debug: key(bool, false, 'Debug run: 1 trial, batch 32, 3 epochs, examples logged.'),
  log_examples: key(bool, false, 'Print a few featurized examples.'),
  num_trials: key(int({ min: 1 }), 1, 'Runs with seeds seed, seed + 1, ...'),
  do_train: key(bool, true, 'Fine-tune.'),
  do_eval: key(bool, true, 'Evaluate on the dev set.'),
  keep_all_models: key(bool, true, 'Keep every trial\'s model, not only the last.'),
  // model
  model_size: key(oneOf(['small', 'base', 'large']), 'small', 'small, base or large (large: lr 5e-5, layerwise_lr_decay 0.9; small: embedding_size 128).'),
  task_names: key(strings({ nonEmpty: true }), ['chunk'], 'The tasks, trained jointly when several.'),
  model_hparam_overrides: key(record(check<number | string | boolean>('a number, string or boolean', (v) => ['number', 'string', 'boolean'].includes(typeof v)), 'an object of config fields'), {}, 'BertConfig fields that replace the size\'s.'),
  embedding_size: key(nullable(int({ min: 1 })), null, 'Embedding width; null: the hidden size (small forces 128).'),
  vocab_size: key(int({ min: 1 }), 30522, 'Vocabulary size.'),
  do_lower_case: key(bool, true, 'Lower-case and strip accents.'),
  // training
  learning_rate: key(num({ min: 0, minOpen: true }), 1e-4, 'Peak learning rate (large: 5e-5).'),
  weight_decay_rate: key(num({ min: 0 }), 0.01, 'Decoupled weight decay.'),
  layerwise_lr_decay: key(num(), 0.8, 'Learning rate times decay^depth below the top (large: 0.9); <= 0 disables it.'),
  layerwise_lr_decay_fix_top: key(bool, false, 'electra-ts: the head at depth n+1, so the top layer gets lr * decay (reference issue #51).'),
  num_train_epochs: key(num({ min: 0, minOpen: true }), 3.0, 'Epochs (rte, sts: 10; squad-style QA: 2).'),
  warmup_proportion: key(num({ min: 0, max: 1 }), 0.1, 'Fraction of the steps spent warming up.'),
  save_checkpoints_steps: key(int({ min: 1 }), 1000000, 'Steps between checkpoints.'),
  seed: key(int({ min: 0 }), 1, 'electra-ts: seed of trial 1 (trial t uses seed + t - 1).'),
  gradient_accumulation_steps: key(int({ min: 1, max: 4096 }), 1, 'electra-ts: micro-batches per update (train_batch_size stays the update\'s batch; the model holds one).'),
  precision: key(oneOf(PRECISIONS), 'fp32', 'electra-ts: bf16 rounds the dense GEMMs\' inputs to bf16 (fp32 sums and master weights).'),
  task_hparams: key(taskOverrides, {}, 'electra-ts: per task, its own learning_rate, num_train_epochs, max_seq_length, train_batch_size; given, each batch holds one task.'),
  // writing model outputs
  write_test_outputs: key(bool, false, 'Write test-set predictions.'),
  n_writes_test: key(int({ min: 0 }), 5, 'Trials that write test predictions.'),
  // sizing
  max_seq_length: key(int({ min: 3 }), 128, 'Tokens per example (squad-style QA: 512; chunk: 256).'),
  train_batch_size: key(int({ min: 1 }), 32, 'Examples per update.'),
  eval_batch_size: key(int({ min: 1 }), 32, 'Examples per evaluation batch.'),
  predict_batch_size: key(int({ min: 1 }), 32, 'Examples per prediction batch.'),
  double_unordered: key(bool, true, 'Also train sentence pairs of mrpc and sts in swapped order.'),
  split_long_sentences: key(bool, false, 'electra-ts: split tagging sentences too long for max_seq_length into windows instead of cutting them.'),
  // question answering
  max_query_length: key(int({ min: 1 }), 64, 'Question tokens kept.'),
  doc_stride: key(int({ min: 1 }), 128, 'Stride of the passage windows.'),
  n_best_size: key(int({ min: 1 }), 20, 'Answer candidates per question.'),
  max_answer_length: key(int({ min: 1 }), 30, 'Longest answer in tokens.'),
  answerable_classifier: key(bool, true, 'Learn whether a question is answerable.'),
  answerable_uses_start_logits: key(bool, true, 'The answerable classifier reads the start distribution.'),
  answerable_weight: key(num({ min: 0 }), 0.5, 'Weight of the answerable loss.'),
  joint_prediction: key(bool, true, 'End logits conditioned on the start (beam search).'),
  beam_size: key(int({ min: 1 }), 20, 'Starts kept by the beam search.'),
  qa_na_threshold: key(num(), -2.75, 'No-answer threshold on the answerable score.'),
  // locations (derived from data_dir and model_name unless given)
  vocab_file: key(nullable(str), null, 'null: the model\'s vocab.txt, else <data_dir>/vocab.txt.'),
  init_checkpoint: key(nullable(str), null, 'null: <data_dir>/models/<model_name>.'),
  random_init: key(bool, false, 'electra-ts: start from random weights instead of a pre-trained model.'),
  summary_type: key(oneOf(['first', 'mean']), 'first', "electra-ts: what sentence classification and regression heads read: 'first' the [CLS] state (the reference, transformers); 'mean' the mean of the real tokens' states (head_style 'electra' only)."),
  head_style: key(nullable(oneOf(['electra', 'hf'])), null, "electra-ts: 'electra' (the reference's heads) or 'hf' (transformers'); null: 'hf' when continuing an HF fine-tuned folder."),
  // electra-ts: data without code
  classification: key(nullable(taskSpec('classification')), null, 'electra-ts: configures the generic task named classification.'),
  regression: key(nullable(taskSpec('regression')), null, 'electra-ts: configures the generic task named regression.'),
  tagging: key(nullable(taskSpec('tagging')), null, 'electra-ts: configures the generic task named tagging.'),
  custom_tasks: key(record(taskSpec(), 'an object of task specs'), {}, 'electra-ts: further user-defined tasks by name.'),
}, {
  ignored: {
    ...TPU_SETTINGS,
    iterations_per_loop: key(int({ min: 1 }), 1000, 'Reference TPU setting.'),
    use_tfrecords_if_existing: key(bool, true, 'Reference setting (electra-ts writes no TFRecords).'),
  },
  refused: { write_distill_outputs: 'the reference sets it internally for QA tasks' },
});

/** Fine-tuning hparams, named as in the reference's configure_finetuning.py (see FINETUNING_SCHEMA). */
export type FinetuningHparams = SchemaValues<typeof FINETUNING_SCHEMA['fields']>;

export const DEFAULT_HPARAMS: Readonly<FinetuningHparams> = Object.freeze(FINETUNING_SCHEMA.defaults() as FinetuningHparams);

/** A task spec with defaults filled in; `type` may be left out where `impliedType` says it. */
export function parseTaskSpec(where: string, value: unknown, impliedType?: CustomTaskSpec['type']): CustomTaskSpec {
  return taskSpec(impliedType).parse(value, new At(where));
}

/** The user's hparams: JSON text or the path of a JSON file (see util/hparams-arg.ts). */
export function readHparamsArgument(arg: string): Record<string, unknown> {
  return readSharedHparamsArgument(arg).values;
}

/** Fine-tuning hparams with defaults applied, and the reference-only keys that were ignored. */
export interface ResolvedHparams {
  hparams: FinetuningHparams;
  /** Reference-only keys that were given and have no effect here. */
  ignored: string[];
}

/**
 * The reference's single-task overrides, for its own tasks (it tests names: rte/sts 10 epochs;
 * names containing "squad" or "qa" 512 tokens and 2 epochs, so not naturalqs; chunk 256 tokens).
 * Every other task (generic, custom, demo) gets 3 epochs at the default length.
 */
/** The question-answering tasks built in (a test checks this against the registry). */
export const BUILTIN_QA_TASKS: readonly string[] = ['squad', 'squadv1', 'newsqa', 'naturalqs', 'triviaqa', 'searchqa'];

export const REFERENCE_TASK_DEFAULTS: Readonly<Record<string, { epochs: number; maxSeqLength?: number; qa?: boolean }>> = {
  rte: { epochs: 10 },
  sts: { epochs: 10 },
  squad: { epochs: 2, maxSeqLength: 512, qa: true },
  squadv1: { epochs: 2, maxSeqLength: 512, qa: true },
  newsqa: { epochs: 2, maxSeqLength: 512, qa: true },
  triviaqa: { epochs: 2, maxSeqLength: 512, qa: true },
  searchqa: { epochs: 2, maxSeqLength: 512, qa: true },
  chunk: { epochs: 3, maxSeqLength: 256 },
};

/**
 * Defaults, then the user's values, then the reference's overrides for a single task (above) and
 * for the model size (large: lr 5e-5, decay 0.9; small: embedding size 128), debug settings,
 * and finally the user's values again, so that whatever the user sets wins.
 */
export function resolveHparams(user: Record<string, unknown>, where = 'hparams'): ResolvedHparams {
  const { values: given, ignored } = FINETUNING_SCHEMA.parseGiven(user, new At(where));
  const hp = { ...FINETUNING_SCHEMA.defaults(), ...given } as FinetuningHparams;
  if (hp.task_names.length === 1) {
    const task = hp.task_names[0]!;
    // By the task's type: a user's task named "myqa" is a classification or tagging task.
    const defaults = hp.custom_tasks[task] ? null : REFERENCE_TASK_DEFAULTS[task];
    hp.num_train_epochs = defaults?.epochs ?? 3;
    if (defaults?.maxSeqLength) hp.max_seq_length = defaults.maxSeqLength;
    if (defaults?.qa) hp.write_test_outputs = false;
  }
  if (hp.model_size === 'large') {
    hp.learning_rate = 5e-5;
    hp.layerwise_lr_decay = 0.9;
  } else if (hp.model_size === 'small') hp.embedding_size = 128;
  if (hp.debug) {
    hp.save_checkpoints_steps = 1000000;
    hp.num_trials = 1;
    hp.train_batch_size = 32;
    hp.num_train_epochs = 3;
    hp.log_examples = true;
  }
  Object.assign(hp, given);
  checkConsistency(where, hp);
  return { hparams: hp, ignored };
}

/** The hparams one task of the run trains with: the run's, with its task_hparams entry over them. */
export function taskHparams(hp: FinetuningHparams, task: string): FinetuningHparams {
  const own = hp.task_hparams[task];
  return own ? { ...hp, ...own } : hp;
}

function checkConsistency(where: string, hp: FinetuningHparams): void {
  // The key a task's value comes from: its task_hparams entry, or the run's.
  const source = (task: string, name: keyof TaskHparams): string => quoteKey(hp.task_hparams[task]?.[name] !== undefined ? `task_hparams.${task}.${name}` : name);
  const qaTask = hp.task_names.find((t) => !hp.custom_tasks[t] && BUILTIN_QA_TASKS.includes(t) && hp.max_query_length + 3 >= taskHparams(hp, t).max_seq_length);
  if (qaTask) {
    throw hparamsProblem(where, `'max_query_length' (${hp.max_query_length}) leaves no room for the passage in ${source(qaTask, 'max_seq_length')} (${taskHparams(hp, qaTask).max_seq_length})`);
  }
  if (new Set(hp.task_names).size !== hp.task_names.length) throw hparamsProblem(where, `'task_names' lists a task twice`);
  for (const task of Object.keys(hp.task_hparams)) {
    if (hp.task_names.includes(task)) continue;
    const hint = closestName(task, hp.task_names, 3);
    throw hparamsProblem(where, `'task_hparams' names '${task}', which is not in 'task_names' (${hp.task_names.join(', ')})${hint ? `: did you mean '${hint}'?` : ''}`);
  }
  for (const task of hp.task_names) {
    const batch = taskHparams(hp, task).train_batch_size;
    if (batch % hp.gradient_accumulation_steps !== 0) {
      throw hparamsProblem(where, `${source(task, 'train_batch_size')} ${batch} is not a multiple of 'gradient_accumulation_steps' ${hp.gradient_accumulation_steps}`);
    }
  }
}

/** Parses `--hparams` (JSON text or a .json file) and resolves the defaults. */
export function parseHparams(arg: string | undefined): ResolvedHparams {
  if (arg === undefined) return resolveHparams({});
  const { values, source } = readSharedHparamsArgument(arg);
  return resolveHparams(values, source);
}

/** Where the reference keeps inputs and outputs, under <data_dir>. */
export interface FinetuningPaths {
  /** <data_dir>/finetuning_data/<task> */
  rawDataDir(task: string): string;
  /** The model's vocab.txt, else <data_dir>/vocab.txt (the caller checks which exists). */
  vocabCandidates: string[];
  /** The pre-trained model: <data_dir>/models/<model_name>. */
  pretrainedModelDir: string;
  /** <pretrained>/finetuning_models/<tasks>_model (trial t appends _t). */
  modelDir: string;
  resultsTxt: string;
  /** The reference pickles results; electra-ts writes JSON. */
  resultsJson: string;
  qaPredsFile(task: string): string;
  qaNullOddsFile(task: string): string;
  qaNbestFile(task: string): string;
  qaEvalFile(task: string): string;
  testPredictions(task: string, split: string, trial: number): string;
}

export function finetuningPaths(hp: FinetuningHparams): FinetuningPaths {
  const pretrained = join(hp.data_dir, 'models', hp.model_name);
  const tasks = hp.task_names.join(',');
  const results = join(pretrained, 'results');
  const qaDir = join(results, `${tasks}_qa`);
  return {
    rawDataDir: (task) => join(hp.data_dir, 'finetuning_data', task),
    vocabCandidates: hp.vocab_file ? [hp.vocab_file] : [join(pretrained, 'vocab.txt'), join(hp.data_dir, 'vocab.txt')],
    pretrainedModelDir: hp.init_checkpoint ?? pretrained,
    modelDir: join(pretrained, 'finetuning_models', `${tasks}_model`),
    resultsTxt: join(results, `${tasks}_results.txt`),
    resultsJson: join(results, `${tasks}_results.json`),
    qaPredsFile: (task) => join(qaDir, `${task}_preds.json`),
    qaNullOddsFile: (task) => join(qaDir, `${task}_null_odds.json`),
    qaNbestFile: (task) => join(qaDir, `${task}_nbest.json`),
    qaEvalFile: (task) => join(qaDir, `${task}_eval.json`),
    testPredictions: (task, split, trial) => join(pretrained, 'test_predictions', `${task}_${split}_${trial}_predictions.json`),
  };
}
