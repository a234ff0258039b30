// Pre-training hyperparameters with the reference's names and defaults
// (configure_pretraining.PretrainingConfig), parsed from `--hparams` (JSON text or a file) and
// checked key by key before any work starts. The model-shaping part is the model branch's
// PretrainingConfig (resolvePretrainingConfig applies the reference's debug and size rules).
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { readHparamsArgument } from '../util/hparams-arg.js';
import { closestName } from '../util/suggest.js';
import { PRECISIONS, type Precision } from '../kernels/precision.js';
import { resolvePretrainingConfig, unsupportedCombination, type ModelHparamOverrides, type PretrainingConfig } from '../model/config.js';

/** Everything `electra pretrain` reads from --hparams, resolved (defaults, debug rules, paths). */
export interface PretrainingHparams extends PretrainingConfig {
  /** <data-dir> of the command line; the other paths default to places under it. */
  data_dir: string;
  do_train: boolean;
  do_eval: boolean;
  /**
   * electra-ts: seeds initialization, data order, masking, sampling and dropout. The reference is
   * unseeded; a fixed seed is what makes an interrupted run resume exactly.
   */
  seed: number;
  /**
   * electra-ts: start from these weights instead of a random initialization: a pre-training model
   * dir or checkpoint (discriminator/ and generator/ HF folders), or one HF ElectraForPreTraining
   * folder (the generator then starts from its shared embeddings and a fresh initialization).
   */
  init_checkpoint: string | null;
  /**
   * electra-ts: "bf16" rounds the inputs of the model's dense GEMMs to bf16 (fp32 sums, as TPUs
   * compute); master weights, optimizer moments, LayerNorm, softmax, GELU and losses stay fp32.
   */
  precision: Precision;
  /**
   * Micro-batches per update (NVIDIA's ELECTRA and HF's name): train_batch_size stays the batch of an
   * update, run train_batch_size / gradient_accumulation_steps examples at a time, so a machine that
   * holds 16 trains with the reference's 128. Checkpoints fall on update boundaries only.
   */
  gradient_accumulation_steps: number;
  /** The data: a folder, a glob such as DIR/pretrain_data.tfrecord*, or a comma-separated list (see data/pretraining-inputs.ts). */
  pretrain_tfrecords: string;
  vocab_file: string;
  model_dir: string;
  results_txt: string;
  /** electra-ts writes JSON where the reference pickles (results_pkl). */
  results_json: string;
}

/** Pre-training hparams with defaults applied, and the reference-only keys that were ignored. */
export interface ResolvedPretrainingHparams {
  hparams: PretrainingHparams;
  /** Reference keys that were given and have no effect on the CPU (TPU settings). */
  ignored: string[];
}

/** Returns null when the value is acceptable, else what was expected. */
type Check = (value: unknown) => string | null;

const bool: Check = (v) => (typeof v === 'boolean' ? null : 'true or false');
const num = (min: number, max = Infinity, minOpen = false): Check => (v) =>
  typeof v === 'number' && Number.isFinite(v) && (minOpen ? v > min : v >= min) && v <= max
    ? null
    : `a number ${minOpen ? '>' : '>='} ${min}${max < Infinity ? ` and <= ${max}` : ''}`;
const int = (min: number, max = Number.MAX_SAFE_INTEGER): Check => (v) =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
    ? null
    : `an integer >= ${min}${max < Number.MAX_SAFE_INTEGER ? ` and <= ${max}` : ''}`;
const nullable = (check: Check): Check => (v) => (v === null ? null : check(v) === null ? null : `${check(v)} or null`);
const str: Check = (v) => (typeof v === 'string' && v !== '' ? null : 'a non-empty string');
const oneOf = (values: readonly string[]): Check => (v) =>
  typeof v === 'string' && values.includes(v) ? null : `one of ${values.map((x) => `"${x}"`).join(', ')}`;
/** A reference switch of which only the default is implemented here. */
const onlyDefault = (dflt: boolean, why: string): Check => (v) =>
  typeof v !== 'boolean' ? 'true or false' : v === dflt ? null : `${dflt} (${why})`;

/** BertConfig fields model_hparam_overrides may set, with their checks. */
const OVERRIDE_CHECKS: Record<keyof ModelHparamOverrides, Check> = {
  hidden_size: int(1),
  num_hidden_layers: int(1),
  num_attention_heads: int(1),
  intermediate_size: int(1),
  hidden_dropout_prob: num(0, 0.999999),
  attention_probs_dropout_prob: num(0, 0.999999),
  max_position_embeddings: int(1),
  type_vocab_size: int(2),
  initializer_range: num(0, Infinity, true),
  vocab_size: int(1),
  layer_norm_eps: num(0, Infinity, true),
};

const overridesCheck: Check = (v) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'an object of BertConfig fields';
  return null; // field by field below, to name the field
};

/** Every accepted key with its check (model_name and data_dir come from the command line). */
const CHECKS = {
  debug: bool,
  do_train: bool,
  do_eval: bool,
  electra_objective: bool,
  electric_objective: bool,
  gen_weight: num(0),
  disc_weight: num(0),
  mask_prob: num(0, 1, true),
  learning_rate: num(0),
  lr_decay_power: num(0),
  weight_decay_rate: num(0),
  num_warmup_steps: int(0),
  iterations_per_loop: int(1),
  save_checkpoints_steps: int(1),
  num_train_steps: int(1),
  num_eval_steps: int(1),
  keep_checkpoint_max: nullable(int(0)),
  model_size: oneOf(['small', 'base', 'large']),
  model_hparam_overrides: overridesCheck,
  embedding_size: nullable(int(1)),
  vocab_size: int(1),
  do_lower_case: bool,
  uniform_generator: bool,
  two_tower_generator: bool,
  untied_generator_embeddings: bool,
  untied_generator: bool,
  generator_layers: num(0, Infinity, true),
  generator_hidden_size: num(0, Infinity, true),
  disallow_correct: bool,
  temperature: num(0, Infinity, true),
  max_seq_length: int(8, 512),
  train_batch_size: int(1),
  eval_batch_size: int(1),
  max_predictions_per_seq: int(1),
  seed: int(0, 0xffffffff),
  gradient_accumulation_steps: int(1, 4096),
  init_checkpoint: nullable(str),
  precision: oneOf(PRECISIONS),
  pretrain_tfrecords: str,
  vocab_file: str,
  model_dir: str,
  results_txt: str,
  results_json: str,
} satisfies Record<string, Check>;

type Key = keyof typeof CHECKS;
const KEYS = Object.keys(CHECKS) as Key[];

/** Reference TPU settings: accepted so reference hparams files load, and ignored. */
const IGNORED: Record<string, Check> = {
  use_tpu: onlyDefault(false, 'electra-ts runs on the CPU'),
  num_tpu_cores: int(1),
  tpu_job_name: nullable(str),
  tpu_name: nullable(str),
  tpu_zone: nullable(str),
  gcp_project: nullable(str),
};

/** Keys of the reference that must not come through --hparams here, with why. */
const REFUSED: Record<string, string> = {
  model_name: 'the model name comes from --model-name',
  data_dir: 'the data dir comes from --data-dir',
  results_pkl: 'electra-ts writes results as JSON: set results_json instead',
};

export { readHparamsArgument } from '../util/hparams-arg.js';

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : `${JSON.stringify(v)} (a ${typeof v})`;
}

function check(where: string, key: string, value: unknown, c: Check): void {
  const expected = c(value);
  if (expected !== null) throw new UsageError(`${where}: "${key}" must be ${expected}, got ${describe(value)}`);
}

function unknownKey(where: string, key: string): UsageError {
  const best = closestName(key, [...KEYS, ...Object.keys(IGNORED)]);
  return new UsageError(`${where}: unknown hparam "${key}"${best ? ` (did you mean "${best}"?)` : ''}`);
}

/**
 * Resolves hparams as the reference does: defaults, the given values, max_predictions_per_seq
 * from mask_prob and max_seq_length, the debug settings, small's embedding size 128, then the given
 * values again; paths default to <data-dir>/pretrain_tfrecords, <data-dir>/vocab.txt and
 * <data-dir>/models/<model-name>. Throws a UsageError naming the key on any bad value.
 */
export function resolvePretrainingHparams(
  user: Record<string, unknown>, dataDir: string, modelName: string, where = '--hparams',
): ResolvedPretrainingHparams {
  if (!/^[A-Za-z0-9._-]+$/.test(modelName) || modelName === '.' || modelName === '..') {
    throw new UsageError(`--model-name must be a plain folder name (letters, digits, '.', '_', '-'), got '${modelName}'`);
  }
  const ignored: string[] = [];
  const given: Partial<Record<Key, unknown>> = {};
  for (const [key, value] of Object.entries(user)) {
    if (key in REFUSED) throw new UsageError(`${where}: "${key}" cannot be set here: ${REFUSED[key]}`);
    const ignoredCheck = IGNORED[key];
    if (ignoredCheck) {
      check(where, key, value, ignoredCheck);
      ignored.push(key);
      continue;
    }
    if (!(KEYS as string[]).includes(key)) throw unknownKey(where, key);
    check(where, key, value, CHECKS[key as Key]);
    given[key as Key] = value;
  }
  const overrides = (given.model_hparam_overrides ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(overrides)) {
    const c = OVERRIDE_CHECKS[key as keyof ModelHparamOverrides];
    if (!c) {
      throw new UsageError(`${where}: model_hparam_overrides."${key}" is not a BertConfig field (expected one of ${Object.keys(OVERRIDE_CHECKS).join(', ')})`);
    }
    check(where, `model_hparam_overrides.${key}`, value, c);
  }

  // The model-shaping keys go through the model's resolver (reference order of defaults and rules).
  const modelKeys = new Set<string>([
    'debug', 'electra_objective', 'gen_weight', 'disc_weight', 'mask_prob', 'learning_rate', 'lr_decay_power', 'weight_decay_rate',
    'num_warmup_steps', 'iterations_per_loop', 'save_checkpoints_steps', 'num_train_steps', 'num_eval_steps', 'keep_checkpoint_max',
    'model_size', 'model_hparam_overrides', 'embedding_size', 'vocab_size', 'do_lower_case', 'generator_layers', 'generator_hidden_size',
    'temperature', 'max_seq_length', 'train_batch_size', 'eval_batch_size', 'max_predictions_per_seq',
    'electric_objective', 'uniform_generator', 'two_tower_generator', 'untied_generator_embeddings', 'untied_generator', 'disallow_correct',
  ]);
  const modelGiven: Record<string, unknown> = { model_name: modelName };
  for (const [k, v] of Object.entries(given)) if (modelKeys.has(k)) modelGiven[k] = k === 'keep_checkpoint_max' && v === null ? 0 : v;
  const config = resolvePretrainingConfig(modelGiven as Partial<PretrainingConfig>);
  const unsupported = unsupportedCombination(config);
  if (unsupported) throw new UsageError(`${where}: ${unsupported}`);

  const modelDir = (given.model_dir as string | undefined) ?? join(dataDir, 'models', modelName);
  const results = join(modelDir, 'results');
  const hp: PretrainingHparams = {
    ...config,
    data_dir: dataDir,
    do_train: true,
    do_eval: false,
    seed: 0,
    gradient_accumulation_steps: 1,
    init_checkpoint: null,
    precision: 'fp32',
    pretrain_tfrecords: join(dataDir, 'pretrain_tfrecords'),
    vocab_file: join(dataDir, 'vocab.txt'),
    model_dir: modelDir,
    results_txt: join(results, 'unsup_results.txt'),
    results_json: join(results, 'unsup_results.json'),
  };
  for (const [k, v] of Object.entries(given)) if (!modelKeys.has(k)) (hp as unknown as Record<string, unknown>)[k] = v;

  if (hp.gradient_accumulation_steps > 1 && hp.two_tower_generator) {
    // The cloze loss is normalised per micro-batch; summing micro-batches would not equal the whole batch's loss.
    throw new UsageError(`${where}: "gradient_accumulation_steps" > 1 is not supported with the two-tower generator (two_tower_generator or electric_objective) yet`);
  }
  if (hp.train_batch_size % hp.gradient_accumulation_steps !== 0) {
    throw new UsageError(`${where}: "train_batch_size" ${hp.train_batch_size} is not a multiple of "gradient_accumulation_steps" ${hp.gradient_accumulation_steps}`);
  }
  if (!hp.do_train && !hp.do_eval) throw new UsageError(`${where}: "do_train" and "do_eval" are both false: there is nothing to do`);
  const maxPositions = hp.model_hparam_overrides.max_position_embeddings ?? 512;
  if (hp.max_seq_length > maxPositions) {
    throw new UsageError(`${where}: "max_seq_length" ${hp.max_seq_length} exceeds max_position_embeddings ${maxPositions}`);
  }
  if (hp.max_predictions_per_seq > hp.max_seq_length) {
    throw new UsageError(`${where}: "max_predictions_per_seq" ${hp.max_predictions_per_seq} exceeds max_seq_length ${hp.max_seq_length}`);
  }
  return { hparams: hp, ignored };
}

/** Parses `--hparams` (absent: all defaults) for <data-dir> and <model-name>. */
export function parsePretrainingHparams(arg: string | undefined, dataDir: string, modelName: string): ResolvedPretrainingHparams {
  if (arg === undefined) return resolvePretrainingHparams({}, dataDir, modelName);
  const { values, source } = readHparamsArgument(arg);
  return resolvePretrainingHparams(values, dataDir, modelName, source);
}

/** The hparams as a JSON object (for the model dir's record of a run). */
export function hparamsJson(hp: PretrainingHparams): Record<string, unknown> {
  return JSON.parse(JSON.stringify(hp)) as Record<string, unknown>;
}
