// Pre-training hyperparameters with the reference's names and defaults
// (configure_pretraining.PretrainingConfig), parsed from `--hparams` (JSON text or a file) and
// checked key by key before any work starts. The model-shaping part is the model branch's
// PretrainingConfig (resolvePretrainingConfig applies the reference's debug and size rules).
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { readHparamsArgument } from '../util/hparams-arg.js';
import {
  At, bool, derivedKey, hparamsProblem, int, key, nonEmptyStr, nullable, num, oneOf, optionalKey, plainFolderName, Schema, TPU_SETTINGS, type Field, type SchemaValues,
} from '../util/schema.js';
import { PRECISIONS } from '../kernels/precision.js';
import {
  PRETRAINING_CONFIG_KEYS, resolvePretrainingConfig, unsupportedCombination, type ModelHparamOverrides, type PretrainingConfig,
} from '../model/config.js';

type PretrainingValues = SchemaValues<typeof PRETRAINING_SCHEMA['fields']>;

/**
 * Everything `electra pretrain` reads from --hparams, resolved (defaults, debug rules, paths): the
 * model-shaping keys as model/config.ts's PretrainingConfig, the others as PRETRAINING_SCHEMA declares.
 */
export interface PretrainingHparams extends PretrainingConfig, Omit<PretrainingValues, keyof PretrainingConfig> {
  /** <data-dir> of the command line; the other paths default to places under it. */
  data_dir: string;
}

/** Pre-training hparams with defaults applied, and the reference-only keys that were ignored. */
export interface ResolvedPretrainingHparams {
  hparams: PretrainingHparams;
  /** Reference keys that were given and have no effect on the CPU (TPU settings). */
  ignored: string[];
}

/** BertConfig fields model_hparam_overrides may set; absent ones come from model_size. */
export const MODEL_OVERRIDES_SCHEMA = new Schema({
  hidden_size: optionalKey(int({ min: 1 }), 'Width of the encoder.'),
  num_hidden_layers: optionalKey(int({ min: 1 }), 'Encoder layers.'),
  num_attention_heads: optionalKey(int({ min: 1 }), 'Attention heads per layer.'),
  intermediate_size: optionalKey(int({ min: 1 }), 'Width of the feed-forward layer.'),
  hidden_dropout_prob: optionalKey(num({ min: 0, max: 0.999999 }), 'Dropout after embeddings, attention output and feed-forward.'),
  attention_probs_dropout_prob: optionalKey(num({ min: 0, max: 0.999999 }), 'Dropout on attention probabilities.'),
  max_position_embeddings: optionalKey(int({ min: 1 }), 'Longest sequence the position embeddings cover.'),
  type_vocab_size: optionalKey(int({ min: 2 }), 'Segment (token type) ids.'),
  initializer_range: optionalKey(num({ min: 0, minOpen: true }), 'Standard deviation of the truncated-normal initialization.'),
  vocab_size: optionalKey(int({ min: 1 }), 'Vocabulary size of the model (vocab_size above sets it too).'),
  layer_norm_eps: optionalKey(num({ min: 0, minOpen: true }), 'LayerNorm epsilon.'),
} satisfies { [K in keyof Required<ModelHparamOverrides>]: Field<NonNullable<ModelHparamOverrides[K]>> }, { expected: 'an object of BertConfig fields' });

const positive = num({ min: 0, minOpen: true });
const paths = (where: string): string => `<data_dir>/${where}`;

/**
 * Every --hparams key of `electra pretrain`: type, the reference's default, a one-line doc
 * (configure_pretraining.py; electra-ts's own keys say so). Adding a key is one entry here
 * (and, for a model-shaping key, a field of model/config.ts's PretrainingConfig).
 */
export const PRETRAINING_SCHEMA = new Schema({
  debug: key(bool, false, 'Tiny debug run: batch 8, 20 steps, eval batch 4, 2 eval steps.'),
  do_train: key(bool, true, 'Pre-train.'),
  do_eval: key(bool, false, 'Evaluate the newest checkpoint on held-out data.'),
  electra_objective: key(bool, true, 'ELECTRA (replaced-token detection); false trains a BERT-style masked LM.'),
  electric_objective: key(bool, false, 'Electric (energy-based cloze); implies two_tower_generator.'),
  gen_weight: key(num({ min: 0 }), 1.0, 'Weight of the generator (masked-LM) loss.'),
  disc_weight: key(num({ min: 0 }), 50.0, 'Weight of the discriminator loss.'),
  mask_prob: key(num({ min: 0, max: 1, minOpen: true }), 0.15, 'Fraction of tokens masked.'),
  learning_rate: key(num({ min: 0 }), 5e-4, 'Peak learning rate.'),
  lr_decay_power: key(num({ min: 0 }), 1.0, 'Power of the polynomial decay to 0 (1: linear).'),
  weight_decay_rate: key(num({ min: 0 }), 0.01, 'Decoupled weight decay (not on LayerNorm weights or biases).'),
  num_warmup_steps: key(int({ min: 0 }), 10000, 'Linear warm-up steps.'),
  iterations_per_loop: key(int({ min: 1 }), 200, 'Steps between metric lines.'),
  save_checkpoints_steps: key(int({ min: 1 }), 1000, 'Steps between checkpoints.'),
  num_train_steps: key(int({ min: 1 }), 1000000, 'Training steps (updates).'),
  num_eval_steps: key(int({ min: 1 }), 100, 'Evaluation batches.'),
  keep_checkpoint_max: key(nullable(int({ min: 0 })), 5, 'Checkpoints kept (0 or null: all).'),
  model_size: key(oneOf(['small', 'base', 'large']), 'small', 'Discriminator size: small, base or large.'),
  model_hparam_overrides: key(MODEL_OVERRIDES_SCHEMA, {}, 'BertConfig fields that replace the size\'s.'),
  embedding_size: key(nullable(int({ min: 1 })), null, 'Embedding width; null: the hidden size (small forces 128).'),
  vocab_size: key(int({ min: 1 }), 30522, 'Vocabulary size; must match vocab_file.'),
  do_lower_case: key(bool, true, 'Lower-case and strip accents; must match the data.'),
  uniform_generator: key(bool, false, 'No generator network: replacements drawn uniformly from the vocabulary.'),
  two_tower_generator: key(bool, false, 'The generator is a two-tower cloze model.'),
  untied_generator_embeddings: key(bool, false, 'The generator has its own embeddings.'),
  untied_generator: key(bool, true, 'false: generator and discriminator are one network with two heads.'),
  generator_layers: key(positive, 1.0, 'Generator depth as a fraction of the discriminator\'s.'),
  generator_hidden_size: key(positive, 0.25, 'Generator width as a fraction of the discriminator\'s.'),
  disallow_correct: key(bool, false, 'The generator may not sample the original token.'),
  temperature: key(positive, 1.0, 'Temperature of the generator\'s sampling.'),
  final_temperature: key(nullable(positive), null, 'electra-ts: the sampling temperature at the last update, reached linearly from temperature (null: temperature throughout).'),
  max_seq_length: key(int({ min: 8, max: 512 }), 128, 'Tokens per example; must match the data.'),
  train_batch_size: key(int({ min: 1 }), 128, 'Examples per update.'),
  eval_batch_size: key(int({ min: 1 }), 128, 'Examples per evaluation batch.'),
  max_predictions_per_seq: derivedKey(int({ min: 1 }), 'int((mask_prob + 0.005) * max_seq_length) = 19', 'Most masked positions per example.'),
  seed: key(int({ min: 0, max: 0xffffffff }), 0, 'electra-ts: seeds initialization, data order, masking and dropout (the reference is unseeded).'),
  gradient_accumulation_steps: key(int({ min: 1, max: 4096 }), 1, 'electra-ts: micro-batches per update (train_batch_size stays the update\'s batch).'),
  init_checkpoint: key(nullable(nonEmptyStr), null, 'electra-ts: start from these weights (a model dir, checkpoint or HF folder).'),
  precision: key(oneOf(PRECISIONS), 'fp32', 'electra-ts: bf16 rounds the dense GEMMs\' inputs to bf16 (fp32 sums and master weights).'),
  pretrain_tfrecords: derivedKey(nonEmptyStr, paths('pretrain_tfrecords'), 'The data: a folder, a glob or a comma-separated list.'),
  vocab_file: derivedKey(nonEmptyStr, paths('vocab.txt'), 'The WordPiece vocabulary.'),
  model_dir: derivedKey(nonEmptyStr, paths('models/<model_name>'), 'Where checkpoints, metrics and results go.'),
  results_txt: derivedKey(nonEmptyStr, '<model_dir>/results/unsup_results.txt', 'Evaluation results as text.'),
  results_json: derivedKey(nonEmptyStr, '<model_dir>/results/unsup_results.json', 'Evaluation results as JSON (the reference pickles results_pkl).'),
}, {
  ignored: TPU_SETTINGS,
  refused: {
    model_name: 'the model name comes from --model-name',
    data_dir: 'the data dir comes from --data-dir',
    results_pkl: 'electra-ts writes results as JSON: set results_json instead',
  },
});

export { readHparamsArgument } from '../util/hparams-arg.js';

/**
 * Resolves hparams as the reference does: defaults, the given values, max_predictions_per_seq
 * from mask_prob and max_seq_length, the debug settings, small's embedding size 128, then the given
 * values again; paths default to <data-dir>/pretrain_tfrecords, <data-dir>/vocab.txt and
 * <data-dir>/models/<model-name>. Throws a UsageError naming the key on any bad value.
 */
export function resolvePretrainingHparams(
  user: Record<string, unknown>, dataDir: string, modelName: string, where = '--hparams',
): ResolvedPretrainingHparams {
  const nameProblem = plainFolderName(modelName);
  if (nameProblem) throw new UsageError(`--model-name must be ${nameProblem}, got '${modelName}'`);
  const { values: given, ignored } = PRETRAINING_SCHEMA.parseGiven(user, new At(where));
  // The model-shaping keys go through the model's resolver (reference order of defaults and rules).
  const modelKeys = new Set<string>(PRETRAINING_CONFIG_KEYS);
  const modelGiven: Record<string, unknown> = { model_name: modelName };
  for (const [k, v] of Object.entries(given)) if (modelKeys.has(k)) modelGiven[k] = k === 'keep_checkpoint_max' && v === null ? 0 : v;
  const config = resolvePretrainingConfig(modelGiven as Partial<PretrainingConfig>);
  const unsupported = unsupportedCombination(config);
  if (unsupported) throw hparamsProblem(where, unsupported);

  const modelDir = given.model_dir ?? join(dataDir, 'models', modelName);
  const results = join(modelDir, 'results');
  const ownDefaults = Object.fromEntries(Object.entries(PRETRAINING_SCHEMA.defaults()).filter(([k]) => !modelKeys.has(k)));
  const hp = {
    ...config,
    data_dir: dataDir,
    ...ownDefaults,
    pretrain_tfrecords: join(dataDir, 'pretrain_tfrecords'),
    vocab_file: join(dataDir, 'vocab.txt'),
    model_dir: modelDir,
    results_txt: join(results, 'unsup_results.txt'),
    results_json: join(results, 'unsup_results.json'),
  } as PretrainingHparams;
  for (const [k, v] of Object.entries(given)) if (!modelKeys.has(k)) (hp as unknown as Record<string, unknown>)[k] = v;

  if (hp.gradient_accumulation_steps > 1 && hp.two_tower_generator) {
    // The cloze loss is normalised per micro-batch; summing micro-batches would not equal the whole batch's loss.
    throw hparamsProblem(where, `'gradient_accumulation_steps' > 1 is not supported with the two-tower generator (two_tower_generator or electric_objective) yet`);
  }
  if (hp.train_batch_size % hp.gradient_accumulation_steps !== 0) {
    throw hparamsProblem(where, `'train_batch_size' ${hp.train_batch_size} is not a multiple of 'gradient_accumulation_steps' ${hp.gradient_accumulation_steps}`);
  }
  if (!hp.do_train && !hp.do_eval) throw hparamsProblem(where, `'do_train' and 'do_eval' are both false: there is nothing to do`);
  const maxPositions = hp.model_hparam_overrides.max_position_embeddings ?? 512;
  if (hp.max_seq_length > maxPositions) {
    throw hparamsProblem(where, `'max_seq_length' ${hp.max_seq_length} exceeds 'max_position_embeddings' ${maxPositions}`);
  }
  if (hp.max_predictions_per_seq > hp.max_seq_length) {
    throw hparamsProblem(where, `'max_predictions_per_seq' ${hp.max_predictions_per_seq} exceeds 'max_seq_length' ${hp.max_seq_length}`);
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
