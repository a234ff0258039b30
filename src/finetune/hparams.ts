// Fine-tuning hyperparameters with the reference's names and defaults (configure_finetuning.py),
// including its task- and model-size-dependent overrides, parsed from `--hparams` JSON.
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { PRECISIONS, type Precision } from '../kernels/precision.js';
import { readHparamsArgument as readSharedHparamsArgument } from '../util/hparams-arg.js';
import { closestName } from '../util/suggest.js';

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

/** The hparams a task of a multi-task run may set for itself (task_hparams). */
export type TaskHparams = Partial<Pick<FinetuningHparams, 'learning_rate' | 'num_train_epochs' | 'max_seq_length' | 'train_batch_size'>>;

/** Fine-tuning hparams, named as in the reference's configure_finetuning.py. */
export interface FinetuningHparams {
  // general
  model_name: string;
  data_dir: string;
  debug: boolean;
  log_examples: boolean;
  num_trials: number;
  do_train: boolean;
  do_eval: boolean;
  keep_all_models: boolean;
  // model
  model_size: ModelSize;
  task_names: string[];
  model_hparam_overrides: Record<string, number | string | boolean>;
  /** null: the hidden size (small models force 128). */
  embedding_size: number | null;
  vocab_size: number;
  do_lower_case: boolean;
  // training
  learning_rate: number;
  weight_decay_rate: number;
  /** Layer-wise learning-rate decay; <= 0 disables it. */
  layerwise_lr_decay: number;
  /**
   * electra-ts: give the task head depth n+1 instead of the reference's n+2, so the top encoder
   * layer gets lr * decay rather than lr * decay^2 (google-research/electra issue #51).
   */
  layerwise_lr_decay_fix_top: boolean;
  num_train_epochs: number;
  warmup_proportion: number;
  save_checkpoints_steps: number;
  /** electra-ts: seed of trial 1 (trial t uses seed + t - 1). */
  seed: number;
  /** electra-ts: each update runs its batch as this many micro-batches (the model holds one), gradients summed. */
  gradient_accumulation_steps: number;
  /** electra-ts: 'bf16' gives the model's GEMMs bf16 inputs (fp32 sums); weights, optimizer and the rest stay fp32. */
  precision: Precision;
  /** electra-ts: per-task learning_rate, num_train_epochs, max_seq_length, train_batch_size (default: the keys above); given, batches hold one task each. */
  task_hparams: Record<string, TaskHparams>;
  // writing model outputs
  write_test_outputs: boolean;
  n_writes_test: number;
  // sizing
  max_seq_length: number;
  train_batch_size: number;
  eval_batch_size: number;
  predict_batch_size: number;
  double_unordered: boolean;
  /** electra-ts: split tagging sentences too long for max_seq_length into windows (every word tagged and scored) instead of dropping their last words, as the reference. */
  split_long_sentences: boolean;
  // question answering
  max_query_length: number;
  doc_stride: number;
  n_best_size: number;
  max_answer_length: number;
  answerable_classifier: boolean;
  answerable_uses_start_logits: boolean;
  answerable_weight: number;
  joint_prediction: boolean;
  beam_size: number;
  qa_na_threshold: number;
  // locations (derived from data_dir and model_name unless given)
  vocab_file: string | null;
  init_checkpoint: string | null;
  /** electra-ts: start from randomly initialised weights instead of a pre-trained model. */
  random_init: boolean;
  /**
   * electra-ts: 'electra' for the reference's task heads, 'hf' for transformers' ElectraFor*
   * heads; null picks 'hf' when continuing from an HF fine-tuned folder of the same kind of task.
   */
  head_style: 'electra' | 'hf' | null;
  // electra-ts: data without code
  /** Configures the generic task named `classification`. */
  classification: ClassificationTaskSpec | null;
  /** Configures the generic task named `regression`. */
  regression: RegressionTaskSpec | null;
  /** Configures the generic task named `tagging`. */
  tagging: TaggingTaskSpec | null;
  /** Further user-defined tasks by name. */
  custom_tasks: Record<string, CustomTaskSpec>;
}

export const DEFAULT_HPARAMS: Readonly<FinetuningHparams> = Object.freeze({
  model_name: 'electra_small',
  data_dir: '.',
  debug: false,
  log_examples: false,
  num_trials: 1,
  do_train: true,
  do_eval: true,
  keep_all_models: true,
  model_size: 'small',
  task_names: ['chunk'],
  model_hparam_overrides: {},
  embedding_size: null,
  vocab_size: 30522,
  do_lower_case: true,
  learning_rate: 1e-4,
  weight_decay_rate: 0.01,
  layerwise_lr_decay: 0.8,
  layerwise_lr_decay_fix_top: false,
  num_train_epochs: 3.0,
  warmup_proportion: 0.1,
  save_checkpoints_steps: 1000000,
  seed: 1,
  gradient_accumulation_steps: 1,
  precision: 'fp32',
  task_hparams: {},
  write_test_outputs: false,
  n_writes_test: 5,
  max_seq_length: 128,
  train_batch_size: 32,
  eval_batch_size: 32,
  predict_batch_size: 32,
  double_unordered: true,
  split_long_sentences: false,
  max_query_length: 64,
  doc_stride: 128,
  n_best_size: 20,
  max_answer_length: 30,
  answerable_classifier: true,
  answerable_uses_start_logits: true,
  answerable_weight: 0.5,
  joint_prediction: true,
  beam_size: 20,
  qa_na_threshold: -2.75,
  vocab_file: null,
  init_checkpoint: null,
  random_init: false,
  head_style: null,
  classification: null,
  regression: null,
  tagging: null,
  custom_tasks: {},
});

/** Reference settings for TPUs and TFRecords: accepted (so reference hparams files load) and ignored. */
const IGNORED_REFERENCE_KEYS: Record<string, Check> = {
  use_tpu: (v, key) => (v === false ? null : v === true ? `'${key}': electra-ts runs on the CPU; TPUs are not supported` : 'true or false'),
  num_tpu_cores: integerCheck(1),
  tpu_job_name: nullableString,
  tpu_name: nullableString,
  tpu_zone: nullableString,
  gcp_project: nullableString,
  iterations_per_loop: integerCheck(1),
  use_tfrecords_if_existing: booleanCheck,
};

/** Returns null when value is acceptable, else the expected type (or a full message starting with a quote). */
type Check = (value: unknown, key: string) => string | null;

function booleanCheck(v: unknown): string | null {
  return typeof v === 'boolean' ? null : 'true or false';
}
function numberCheck(v: unknown): string | null {
  return typeof v === 'number' && Number.isFinite(v) ? null : 'a number';
}
function positiveNumber(v: unknown): string | null {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? null : 'a number > 0';
}
function integerCheck(min: number): Check {
  return (v) => (typeof v === 'number' && Number.isInteger(v) && v >= min ? null : `an integer >= ${min}`);
}
function anyInteger(v: unknown): string | null {
  return typeof v === 'number' && Number.isInteger(v) ? null : 'an integer';
}
function stringCheck(v: unknown): string | null {
  return typeof v === 'string' ? null : 'a string';
}
function nullableString(v: unknown): string | null {
  return v === null || typeof v === 'string' ? null : 'a string or null';
}
function oneOf(values: readonly string[]): Check {
  return (v) => (typeof v === 'string' && values.includes(v) ? null : `one of ${values.map((x) => `'${x}'`).join(', ')}`);
}
function stringList(v: unknown): string | null {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? null : 'a list of strings';
}
function nonEmptyStringList(v: unknown): string | null {
  return stringList(v) === null && (v as string[]).length > 0 ? null : 'a non-empty list of strings';
}
function nullableStringList(v: unknown): string | null {
  return v === null || nonEmptyStringList(v) === null ? null : 'a non-empty list of strings or null';
}
function proportion(v: unknown): string | null {
  return typeof v === 'number' && v >= 0 && v <= 1 ? null : 'a number in [0, 1]';
}
function scalarRecord(v: unknown): string | null {
  if (!isPlainObject(v)) return 'an object';
  return Object.values(v).every((x) => ['number', 'string', 'boolean'].includes(typeof x)) ? null : 'an object of numbers, strings or booleans';
}
function oneCharacter(v: unknown): string | null {
  return typeof v === 'string' && v.length === 1 ? null : 'a single character';
}

/** A folder name under <data_dir>/models, never a path out of it: null, or what was expected. */
export function plainFolderName(v: unknown): string | null {
  return typeof v === 'string' && /^[A-Za-z0-9._-]+$/.test(v) && v !== '.' && v !== '..'
    ? null
    : "a plain folder name (letters, digits, '.', '_', '-')";
}

const CHECKS: Record<keyof FinetuningHparams, Check> = {
  model_name: plainFolderName,
  data_dir: stringCheck,
  debug: booleanCheck,
  log_examples: booleanCheck,
  num_trials: integerCheck(1),
  do_train: booleanCheck,
  do_eval: booleanCheck,
  keep_all_models: booleanCheck,
  model_size: oneOf(['small', 'base', 'large']),
  task_names: nonEmptyStringList,
  model_hparam_overrides: scalarRecord,
  embedding_size: (v) => (v === null || integerCheck(1)(v, '') === null ? null : 'an integer >= 1 or null'),
  vocab_size: integerCheck(1),
  do_lower_case: booleanCheck,
  learning_rate: positiveNumber,
  weight_decay_rate: (v) => (typeof v === 'number' && v >= 0 ? null : 'a number >= 0'),
  layerwise_lr_decay: numberCheck,
  layerwise_lr_decay_fix_top: booleanCheck,
  num_train_epochs: positiveNumber,
  warmup_proportion: proportion,
  save_checkpoints_steps: integerCheck(1),
  seed: integerCheck(0),
  gradient_accumulation_steps: integerCheck(1),
  precision: oneOf(PRECISIONS),
  task_hparams: () => null, // checked key by key below
  write_test_outputs: booleanCheck,
  n_writes_test: integerCheck(0),
  max_seq_length: integerCheck(3),
  train_batch_size: integerCheck(1),
  eval_batch_size: integerCheck(1),
  predict_batch_size: integerCheck(1),
  double_unordered: booleanCheck,
  split_long_sentences: booleanCheck,
  max_query_length: integerCheck(1),
  doc_stride: integerCheck(1),
  n_best_size: integerCheck(1),
  max_answer_length: integerCheck(1),
  answerable_classifier: booleanCheck,
  answerable_uses_start_logits: booleanCheck,
  answerable_weight: (v) => (typeof v === 'number' && v >= 0 ? null : 'a number >= 0'),
  joint_prediction: booleanCheck,
  beam_size: integerCheck(1),
  qa_na_threshold: numberCheck,
  vocab_file: nullableString,
  init_checkpoint: nullableString,
  random_init: booleanCheck,
  head_style: (v) => (v === null || v === 'electra' || v === 'hf' ? null : "'electra', 'hf' or null"),
  classification: () => null, // task specs are checked field by field below
  regression: () => null,
  tagging: () => null,
  custom_tasks: () => null,
};

const HPARAM_NAMES = Object.keys(CHECKS) as (keyof FinetuningHparams)[];

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list (${JSON.stringify(v).slice(0, 40)})`;
  if (typeof v === 'object') return 'an object';
  return `${JSON.stringify(v)} (a ${typeof v})`;
}

function checkValue(where: string, key: string, value: unknown, check: Check): void {
  const expected = check(value, key);
  if (expected === null) return;
  if (expected.startsWith("'")) throw new UsageError(`${where}: ${expected}`);
  throw new UsageError(`${where}: '${key}' must be ${expected}, got ${describeValue(value)}`);
}

function unknownKey(where: string, key: string, known: readonly string[]): UsageError {
  const hint = closestName(key, known, 3);
  return new UsageError(`${where}: unknown hparam '${key}'${hint ? ` (did you mean '${hint}'?)` : ''}`);
}

function columnRef(v: unknown): string | null {
  return anyInteger(v) === null || (typeof v === 'string' && v !== '') ? null : 'a column index (integer) or header name (string)';
}
function nullableColumnRef(v: unknown): string | null {
  return v === null || columnRef(v) === null ? null : 'a column index (integer), header name (string) or null';
}

const SENTENCE_SPEC_CHECKS: Record<string, Check> = {
  train_file: nullableString,
  dev_file: nullableString,
  test_file: nullableString,
  format: (v) => (v === null || v === 'csv' || v === 'tsv' || v === 'jsonl' ? null : "'csv', 'tsv', 'jsonl' or null"),
  delimiter: (v) => (v === null || oneCharacter(v) === null ? null : 'a single character or null'),
  header: (v) => (v === null || typeof v === 'boolean' ? null : 'true, false or null'),
  /** The older name of `header` (true or false). */
  skip_first_line: booleanCheck,
  text_a_column: columnRef,
  text_b_column: nullableColumnRef,
  label_column: columnRef,
  double_unordered: booleanCheck,
};

const SPEC_CHECKS: Record<CustomTaskSpec['type'], Record<string, Check>> = {
  classification: {
    ...SENTENCE_SPEC_CHECKS,
    labels: nullableStringList,
    metric: oneOf(['accuracy', 'accuracy_f1', 'f1', 'mcc']),
    positive_label: nullableString,
  },
  regression: { ...SENTENCE_SPEC_CHECKS, min_value: numberCheck, max_value: numberCheck },
  tagging: {
    train_file: nullableString,
    dev_file: nullableString,
    test_file: nullableString,
    format: (v) => (v === null || v === 'conll' || v === 'word_tag' ? null : "'conll', 'word_tag' or null"),
    word_column: anyInteger,
    tag_column: anyInteger,
    tag_separator: (v) => (typeof v === 'string' && v !== '' && !/\s/.test(v) ? null : 'a non-empty string without whitespace'),
    token_level: booleanCheck,
    labels: nullableStringList,
  },
};

const SPEC_DEFAULTS: { [T in CustomTaskSpec['type']]: Extract<CustomTaskSpec, { type: T }> } = {
  classification: {
    type: 'classification', train_file: null, dev_file: null, test_file: null, format: null, delimiter: null, header: null,
    text_a_column: 0, text_b_column: null, label_column: 1, labels: null, metric: 'accuracy', positive_label: null,
    double_unordered: false,
  },
  regression: {
    type: 'regression', train_file: null, dev_file: null, test_file: null, format: null, delimiter: null, header: null,
    text_a_column: 0, text_b_column: null, label_column: 1, min_value: 0, max_value: 1, double_unordered: false,
  },
  tagging: {
    type: 'tagging', train_file: null, dev_file: null, test_file: null, format: null, word_column: 0, tag_column: -1, tag_separator: '/',
    token_level: true, labels: null,
  },
};

/** A task spec with defaults filled in; `type` may be left out where the key already says it. */
export function parseTaskSpec(where: string, value: unknown, impliedType?: CustomTaskSpec['type']): CustomTaskSpec {
  if (!isPlainObject(value)) throw new UsageError(`${where} must be an object, got ${describeValue(value)}`);
  const type = value.type ?? impliedType;
  if (type !== 'classification' && type !== 'regression' && type !== 'tagging') {
    throw new UsageError(`${where}: 'type' must be one of 'classification', 'regression', 'tagging', got ${describeValue(type)}`);
  }
  if (impliedType && type !== impliedType) throw new UsageError(`${where}: 'type' must be '${impliedType}' here, got '${String(type)}'`);
  const checks = SPEC_CHECKS[type];
  const spec: Record<string, unknown> = { ...SPEC_DEFAULTS[type] };
  for (const [key, v] of Object.entries(value)) {
    if (key === 'type') continue;
    const check = checks[key];
    if (!check) throw unknownKey(where, key, Object.keys(checks));
    checkValue(where, key, v, check);
    if (key === 'skip_first_line') {
      if (Object.hasOwn(value, 'header')) throw new UsageError(`${where}: give 'header' or its older name 'skip_first_line', not both`);
      spec.header = v;
    } else spec[key] = v;
  }
  if (type === 'regression' && !((spec.max_value as number) > (spec.min_value as number))) {
    throw new UsageError(`${where}: 'max_value' must be greater than 'min_value'`);
  }
  return spec as unknown as CustomTaskSpec;
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
  const ignored: string[] = [];
  const given: Partial<FinetuningHparams> = {};
  for (const [key, value] of Object.entries(user)) {
    const ignoredCheck = IGNORED_REFERENCE_KEYS[key];
    if (ignoredCheck) {
      checkValue(where, key, value, ignoredCheck);
      ignored.push(key);
      continue;
    }
    if (!(HPARAM_NAMES as string[]).includes(key)) {
      if (key === 'write_distill_outputs') throw new UsageError(`${where}: unknown hparam '${key}' (the reference sets it internally for QA tasks)`);
      throw unknownKey(where, key, HPARAM_NAMES);
    }
    const name = key as keyof FinetuningHparams;
    checkValue(where, key, value, CHECKS[name]);
    (given as Record<string, unknown>)[name] = parseSpecial(where, name, value);
  }

  const hp: FinetuningHparams = { ...structuredClone(DEFAULT_HPARAMS) as FinetuningHparams, ...given };
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

function parseSpecial(where: string, name: keyof FinetuningHparams, value: unknown): unknown {
  if (name === 'classification' || name === 'regression' || name === 'tagging') {
    return value === null ? null : parseTaskSpec(`${where}: '${name}'`, value, name);
  }
  if (name === 'custom_tasks') {
    if (!isPlainObject(value)) throw new UsageError(`${where}: 'custom_tasks' must be an object of task specs, got ${describeValue(value)}`);
    const out: Record<string, CustomTaskSpec> = {};
    for (const [task, spec] of Object.entries(value)) out[task] = parseTaskSpec(`${where}: custom_tasks.${task}`, spec);
    return out;
  }
  if (name === 'task_hparams') return parseTaskHparams(where, value);
  if (Array.isArray(value)) return [...value];
  if (isPlainObject(value)) return { ...value };
  return value;
}

const TASK_HPARAM_KEYS: readonly (keyof TaskHparams)[] = ['learning_rate', 'num_train_epochs', 'max_seq_length', 'train_batch_size'];

function parseTaskHparams(where: string, value: unknown): Record<string, TaskHparams> {
  if (!isPlainObject(value)) throw new UsageError(`${where}: 'task_hparams' must be an object {"<task>": {"learning_rate": ...}}, got ${describeValue(value)}`);
  const out: Record<string, TaskHparams> = {};
  for (const [task, keys] of Object.entries(value)) {
    const at = `${where}: task_hparams.${task}`;
    if (!isPlainObject(keys)) throw new UsageError(`${at} must be an object, got ${describeValue(keys)}`);
    for (const [key, v] of Object.entries(keys)) {
      if (!(TASK_HPARAM_KEYS as string[]).includes(key)) throw unknownKey(at, key, TASK_HPARAM_KEYS);
      checkValue(at, key, v, CHECKS[key as keyof TaskHparams]);
    }
    out[task] = { ...keys } as TaskHparams;
  }
  return out;
}

/** The hparams one task of the run trains with: the run's, with its task_hparams entry over them. */
export function taskHparams(hp: FinetuningHparams, task: string): FinetuningHparams {
  const own = hp.task_hparams[task];
  return own ? { ...hp, ...own } : hp;
}

function checkConsistency(where: string, hp: FinetuningHparams): void {
  const qaTask = hp.task_names.find((t) => !hp.custom_tasks[t] && BUILTIN_QA_TASKS.includes(t) && hp.max_query_length + 3 >= taskHparams(hp, t).max_seq_length);
  if (qaTask) {
    const length = taskHparams(hp, qaTask).max_seq_length;
    throw new UsageError(`${where}: max_query_length (${hp.max_query_length}) leaves no room for the passage in max_seq_length (${length}${hp.task_hparams[qaTask]?.max_seq_length ? `, task_hparams.${qaTask}` : ''})`);
  }
  if (new Set(hp.task_names).size !== hp.task_names.length) throw new UsageError(`${where}: task_names lists a task twice`);
  for (const task of Object.keys(hp.task_hparams)) {
    if (hp.task_names.includes(task)) continue;
    const hint = closestName(task, hp.task_names, 3);
    throw new UsageError(`${where}: task_hparams names '${task}', which is not in task_names (${hp.task_names.join(', ')})${hint ? `: did you mean '${hint}'?` : ''}`);
  }
  for (const task of hp.task_names) {
    const { train_batch_size: batch } = taskHparams(hp, task);
    if (batch % hp.gradient_accumulation_steps !== 0) {
      throw new UsageError(`${where}: "train_batch_size" ${batch}${hp.task_hparams[task]?.train_batch_size ? ` (task_hparams.${task})` : ''} is not a multiple of "gradient_accumulation_steps" ${hp.gradient_accumulation_steps}`);
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
