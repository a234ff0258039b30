// Model and pre-training hyperparameters. Field names follow the reference
// (configure_pretraining.PretrainingConfig) and HuggingFace's ElectraConfig, so configs
// and checkpoints read the same as upstream ones.
import { FormatError } from '../errors.js';
import { defaultElectraConfig, type ElectraArchitecture, type ElectraConfig as HfConfig } from '../io/hf-config.js';

/** HuggingFace ElectraConfig fields (the subset that shapes the network). */
export interface ElectraConfig {
  vocab_size: number;
  embedding_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: 'gelu';
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  initializer_range: number;
  layer_norm_eps: number;
}

export type ModelSize = 'small' | 'base' | 'large';

/** BertConfig fields that model_hparam_overrides may set (as in the reference). */
export type ModelHparamOverrides = Partial<Pick<ElectraConfig,
  'hidden_size' | 'num_hidden_layers' | 'num_attention_heads' | 'intermediate_size' | 'hidden_dropout_prob'
  | 'attention_probs_dropout_prob' | 'max_position_embeddings' | 'type_vocab_size' | 'initializer_range'
  | 'vocab_size' | 'layer_norm_eps'>>;

/** The reference's PretrainingConfig (fields this package implements). */
export interface PretrainingConfig {
  model_name: string;
  debug: boolean;
  electra_objective: boolean;
  /** Electric (energy-based cloze) objective; implies two_tower_generator. */
  electric_objective: boolean;
  gen_weight: number;
  disc_weight: number;
  mask_prob: number;
  learning_rate: number;
  lr_decay_power: number;
  weight_decay_rate: number;
  num_warmup_steps: number;
  iterations_per_loop: number;
  save_checkpoints_steps: number;
  num_train_steps: number;
  num_eval_steps: number;
  keep_checkpoint_max: number;
  model_size: ModelSize;
  model_hparam_overrides: ModelHparamOverrides;
  /** null: the hidden size (small forces 128). */
  embedding_size: number | null;
  vocab_size: number;
  do_lower_case: boolean;
  /** No generator network: replacements are drawn uniformly from the vocabulary. */
  uniform_generator: boolean;
  /** The generator is a two-tower (left-to-right + right-to-left) cloze model. */
  two_tower_generator: boolean;
  /** The generator has its own embeddings (its hidden size wide) instead of the discriminator's. */
  untied_generator_embeddings: boolean;
  /** false: generator and discriminator are one (discriminator-sized) network with two heads. */
  untied_generator: boolean;
  generator_layers: number;
  generator_hidden_size: number;
  /** The generator may not sample the original token (its logit gets -1000). */
  disallow_correct: boolean;
  temperature: number;
  /**
   * electra-ts: the sampling temperature at the last update, reached linearly from `temperature`
   * over num_train_steps; null (default, the reference): `temperature` throughout.
   */
  final_temperature: number | null;
  max_seq_length: number;
  train_batch_size: number;
  eval_batch_size: number;
  /** Default int((mask_prob + 0.005) * max_seq_length). */
  max_predictions_per_seq: number;
}

const DEFAULTS: Omit<PretrainingConfig, 'model_name' | 'max_predictions_per_seq'> = {
  debug: false,
  electra_objective: true,
  electric_objective: false,
  gen_weight: 1.0,
  disc_weight: 50.0,
  mask_prob: 0.15,
  learning_rate: 5e-4,
  lr_decay_power: 1.0,
  weight_decay_rate: 0.01,
  num_warmup_steps: 10000,
  iterations_per_loop: 200,
  save_checkpoints_steps: 1000,
  num_train_steps: 1000000,
  num_eval_steps: 100,
  keep_checkpoint_max: 5,
  model_size: 'small',
  model_hparam_overrides: {},
  embedding_size: null,
  vocab_size: 30522,
  do_lower_case: true,
  uniform_generator: false,
  two_tower_generator: false,
  untied_generator_embeddings: false,
  untied_generator: true,
  generator_layers: 1.0,
  generator_hidden_size: 0.25,
  disallow_correct: false,
  temperature: 1.0,
  final_temperature: null,
  max_seq_length: 128,
  train_batch_size: 128,
  eval_batch_size: 128,
};

/** The keys resolvePretrainingConfig takes (besides model_name). */
export const PRETRAINING_CONFIG_KEYS: readonly (keyof PretrainingConfig)[] = [...Object.keys(DEFAULTS) as (keyof PretrainingConfig)[], 'max_predictions_per_seq'];

/** Python 3's round(): halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Resolves a pre-training config as the reference does: defaults, the given values,
 * max_predictions_per_seq from mask_prob and max_seq_length, debug-mode batch sizes and
 * steps, small's embedding size 128, then the given values again (they win).
 */
export function resolvePretrainingConfig(given: Partial<PretrainingConfig> & { model_name?: string } = {}): PretrainingConfig {
  for (const key of Object.keys(given)) {
    if (!(key in DEFAULTS) && key !== 'model_name' && key !== 'max_predictions_per_seq') throw new Error(`Unknown hparam ${key}`);
  }
  const merged = { model_name: 'electra', ...DEFAULTS, ...given } as PretrainingConfig;
  merged.max_predictions_per_seq = Math.trunc((merged.mask_prob + 0.005) * merged.max_seq_length);
  if (merged.debug) {
    merged.train_batch_size = 8;
    merged.num_train_steps = 20;
    merged.eval_batch_size = 4;
    merged.iterations_per_loop = 1;
    merged.num_eval_steps = 2;
  }
  if (merged.model_size === 'small') merged.embedding_size = 128;
  // Electric needs the two-tower generator (configure_pretraining; given values still win).
  if (merged.electric_objective) merged.two_tower_generator = true;
  const cfg = { ...merged, ...given } as PretrainingConfig;
  if (!['small', 'base', 'large'].includes(cfg.model_size)) throw new Error(`Unknown model size ${cfg.model_size}`);
  return cfg;
}

const SIZES: Record<ModelSize, { hidden_size: number; num_hidden_layers: number }> = {
  small: { hidden_size: 256, num_hidden_layers: 12 },
  base: { hidden_size: 768, num_hidden_layers: 12 },
  large: { hidden_size: 1024, num_hidden_layers: 24 },
};

/** The discriminator's (and a BERT-objective MLM's) architecture (training_utils.get_bert_config). */
export function discriminatorConfig(cfg: PretrainingConfig): ElectraConfig {
  // The reference's BertConfig defaults are transformers' ElectraConfig defaults: one table.
  const d = modelConfigFromHf(defaultElectraConfig(), 'transformers defaults');
  const args: Omit<ElectraConfig, 'embedding_size'> = {
    vocab_size: cfg.vocab_size,
    ...SIZES[cfg.model_size],
    num_attention_heads: 0,
    intermediate_size: 0,
    hidden_act: d.hidden_act,
    hidden_dropout_prob: d.hidden_dropout_prob,
    attention_probs_dropout_prob: d.attention_probs_dropout_prob,
    max_position_embeddings: d.max_position_embeddings,
    type_vocab_size: d.type_vocab_size,
    initializer_range: d.initializer_range,
    layer_norm_eps: d.layer_norm_eps,
    ...cfg.model_hparam_overrides,
  };
  // Heads and feed-forward width follow the (possibly overridden) hidden size unless overridden too.
  args.num_attention_heads = Math.max(1, Math.floor(args.hidden_size / 64));
  args.intermediate_size = 4 * args.hidden_size;
  Object.assign(args, cfg.model_hparam_overrides);
  if (cfg.debug) {
    // PretrainingModel's debug shrink (applied after the overrides in the reference).
    args.num_hidden_layers = 3;
    args.hidden_size = 144;
    args.intermediate_size = 144 * 4;
    args.num_attention_heads = 4;
  }
  const embedding_size = cfg.embedding_size ?? args.hidden_size;
  return { ...args, embedding_size };
}

/** Whether the reference's PretrainingModel trains a discriminator (ELECTRA or Electric). */
export function hasDiscriminator(cfg: PretrainingConfig): boolean {
  return cfg.electra_objective || cfg.electric_objective;
}

/**
 * The generator's architecture (run_pretraining.get_generator_config); the discriminator's own
 * config for the masked-LM objective and for untied_generator false (one shared network). With
 * untied_generator_embeddings the generator's embeddings are its hidden size wide.
 */
export function generatorConfig(cfg: PretrainingConfig, disc: ElectraConfig = discriminatorConfig(cfg)): ElectraConfig {
  if (!hasDiscriminator(cfg) || !cfg.untied_generator) return { ...disc };
  const hidden = roundHalfEven(disc.hidden_size * cfg.generator_hidden_size);
  return {
    ...disc,
    embedding_size: cfg.untied_generator_embeddings ? hidden : disc.embedding_size,
    hidden_size: hidden,
    num_hidden_layers: roundHalfEven(disc.num_hidden_layers * cfg.generator_layers),
    intermediate_size: 4 * hidden,
    num_attention_heads: Math.max(1, Math.floor(hidden / 64)),
  };
}

/**
 * Combinations the reference cannot run (its PretrainingModel fails on them), as a sentence, or
 * null: a two-tower generator needs a separate generator network and a learned one.
 */
export function unsupportedCombination(cfg: PretrainingConfig): string | null {
  if (cfg.electric_objective && !cfg.two_tower_generator) return "'electric_objective' needs 'two_tower_generator': true (its log-probability term comes from the cloze model)";
  if (cfg.two_tower_generator && cfg.uniform_generator) return "'two_tower_generator' (or 'electric_objective') and 'uniform_generator' exclude each other";
  if (cfg.two_tower_generator && !cfg.untied_generator) return "'two_tower_generator' (or 'electric_objective') needs 'untied_generator': true";
  if (cfg.two_tower_generator && !hasDiscriminator(cfg)) return "'two_tower_generator' needs 'electra_objective' or 'electric_objective'";
  if (cfg.uniform_generator && !cfg.untied_generator) return "'uniform_generator' has no generator to share weights with: it needs 'untied_generator': true";
  if (cfg.uniform_generator && !hasDiscriminator(cfg)) return "'uniform_generator' needs 'electra_objective' or 'electric_objective' (a masked LM has nothing to learn from it)";
  return null;
}

/**
 * The config.json of a model with this network and HF class (transformers' defaults for the
 * rest; `extra` keys and labels may be given in `more`).
 */
export function hfConfigFromModel(cfg: ElectraConfig, architecture: ElectraArchitecture, more: Partial<HfConfig> = {}): HfConfig {
  return defaultElectraConfig({
    architectures: [architecture],
    vocab_size: cfg.vocab_size,
    embedding_size: cfg.embedding_size,
    hidden_size: cfg.hidden_size,
    num_hidden_layers: cfg.num_hidden_layers,
    num_attention_heads: cfg.num_attention_heads,
    intermediate_size: cfg.intermediate_size,
    hidden_act: cfg.hidden_act,
    hidden_dropout_prob: cfg.hidden_dropout_prob,
    attention_probs_dropout_prob: cfg.attention_probs_dropout_prob,
    max_position_embeddings: cfg.max_position_embeddings,
    type_vocab_size: cfg.type_vocab_size,
    initializer_range: cfg.initializer_range,
    layer_norm_eps: cfg.layer_norm_eps,
    ...more,
  });
}

/** The network-shaping fields of an HF config.json as the model's config; `file` names it in errors. */
export function modelConfigFromHf(c: HfConfig, file: string): ElectraConfig {
  // transformers' "gelu" is the exact erf GELU the model implements.
  if (c.hidden_act !== 'gelu') throw new FormatError(file, `"hidden_act" is "${c.hidden_act}"; electra-ts implements "gelu" (exact, as ELECTRA)`);
  return {
    vocab_size: c.vocab_size,
    embedding_size: c.embedding_size,
    hidden_size: c.hidden_size,
    num_hidden_layers: c.num_hidden_layers,
    num_attention_heads: c.num_attention_heads,
    intermediate_size: c.intermediate_size,
    hidden_act: 'gelu',
    hidden_dropout_prob: c.hidden_dropout_prob,
    attention_probs_dropout_prob: c.attention_probs_dropout_prob,
    max_position_embeddings: c.max_position_embeddings,
    type_vocab_size: c.type_vocab_size,
    initializer_range: c.initializer_range,
    layer_norm_eps: c.layer_norm_eps,
  };
}
