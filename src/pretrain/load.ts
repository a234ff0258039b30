// Loading pre-trained weights: our checkpoints, a pre-training model dir (its newest
// checkpoint), or HF folders (ElectraForPreTraining and/or ElectraForMaskedLM, e.g. Google's
// release checkpoints converted with `electra convert`), into the pre-training model or into the
// discriminator alone for inference.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError, UsageError } from '../errors.js';
import { readHfFolder, type LoadedModelFolder } from '../io/hf-folder.js';
import { prepareTfCheckpointFolders, type PrepareTfCheckpointOptions } from '../io/tf-release.js';
import { kernels as defaultKernels, type Kernels } from '../kernels/index.js';
import { modelConfigFromHf, resolvePretrainingConfig, type ElectraConfig, type PretrainingConfig } from '../model/config.js';
import { ElectraPretrainingModel } from '../model/pretraining-model.js';
import { latestCheckpoint, readCheckpointFolders, readTrainingState, STATE_FILE } from './checkpoint.js';
import { Discriminator, MaskedLM, type InferenceModelOptions } from './inference.js';
import { assertSameShape, loadHfWeights, type HfRole, type LoadReport } from './hf-weights.js';

export interface PretrainedFolders {
  /** What was resolved: a checkpoint folder, a folder with discriminator/ and generator/, or an HF folder. */
  dir: string;
  discriminator?: LoadedModelFolder;
  generator?: LoadedModelFolder;
  /** The training state when `dir` is one of our checkpoints. */
  step: number | null;
  hparams: Record<string, unknown> | null;
}

/**
 * Resolves `path` to model folders: a pre-training model dir (newest checkpoint-N), a checkpoint
 * (or any folder with discriminator/ and/or generator/ HF folders), or a single HF folder
 * (ElectraForPreTraining -> discriminator, ElectraForMaskedLM -> generator).
 */
export function readPretrainedFolders(path: string, tf: PrepareTfCheckpointOptions = {}): PretrainedFolders {
  // A TF checkpoint (a release folder or a prefix) is converted once into HF folders beside it.
  path = prepareTfCheckpointFolders(path, tf) ?? path;
  if (!existsSync(path)) throw new UsageError(`${path} does not exist`);
  if (!statSync(path).isDirectory()) throw new UsageError(`${path} is a file; expected a model folder (config.json, model.safetensors, ...) or a pre-training model dir`);
  const sub = (role: HfRole): boolean => existsSync(join(path, role, 'config.json'));
  if (sub('discriminator') || sub('generator')) {
    const folders = readCheckpointFolders(path);
    let step: number | null = null;
    let hparams: Record<string, unknown> | null = null;
    if (existsSync(join(path, STATE_FILE))) {
      const state = readTrainingState(path);
      step = state.step;
      hparams = state.hparams;
    }
    return { dir: path, ...folders, step, hparams };
  }
  if (existsSync(join(path, 'config.json'))) {
    const folder = readHfFolder(path);
    if (folder.architecture === 'ElectraForPreTraining') return { dir: path, discriminator: folder, step: null, hparams: null };
    if (folder.architecture === 'ElectraForMaskedLM') return { dir: path, generator: folder, step: null, hparams: null };
    throw new FormatError(join(path, 'config.json'), `is an ${folder.architecture}; pre-training loads ElectraForPreTraining (discriminator) and ElectraForMaskedLM (generator) folders`);
  }
  const latest = latestCheckpoint(path);
  if (latest) return readPretrainedFolders(latest.dir);
  throw new UsageError(`${path} holds no model: expected an HF model folder (config.json), a folder with discriminator/ and generator/, or a pre-training model dir with checkpoint-N folders`);
}

function checkVocab(folder: LoadedModelFolder, vocab: readonly string[]): void {
  if (!folder.vocab) return;
  const file = join(folder.dir, 'vocab.txt');
  if (folder.vocab.length !== vocab.length) {
    throw new FormatError(file, `has ${folder.vocab.length} tokens but the run's vocabulary has ${vocab.length}: token ids would not match`);
  }
  const i = folder.vocab.findIndex((t, j) => t !== vocab[j]);
  if (i >= 0) throw new FormatError(file, `token ${i} is ${JSON.stringify(folder.vocab[i])} but the run's vocabulary has ${JSON.stringify(vocab[i])} there`);
}

/**
 * Loads init_checkpoint into a freshly initialized pre-training model: every folder must fit the
 * configs the hparams give (the error names the field and the hparam to change), and its vocabulary
 * must be the run's. Parameters no folder holds keep their initialization.
 */
export function loadInitCheckpoint(path: string, model: ElectraPretrainingModel, vocab: readonly string[], notice?: (line: string) => void): LoadReport {
  // Head counts cannot be seen in shapes: a TF checkpoint is converted with the hparams' counts.
  const folders = readPretrainedFolders(path, {
    notice, numAttentionHeads: { discriminator: model.discriminatorConfig?.num_attention_heads, generator: model.generatorConfig.num_attention_heads },
  });
  const disc = model.discriminatorConfig;
  const gen = model.generatorConfig;
  const picked: Partial<Record<HfRole, LoadedModelFolder>> = {};
  if (folders.discriminator) {
    if (!disc) throw new UsageError(`${folders.discriminator.dir} is a discriminator but "electra_objective" is false (masked-LM training has none)`);
    const file = join(folders.discriminator.dir, 'config.json');
    assertSameShape(disc, modelConfigFromHf(folders.discriminator.config, file), file, 'the discriminator does not fit the hparams',
      'set model_size / model_hparam_overrides / embedding_size to match it');
    checkVocab(folders.discriminator, vocab);
    picked.discriminator = folders.discriminator;
  }
  // A uniform generator has no weights: a generator folder has nothing to give it.
  if (folders.generator && model.hfModels.includes('generator')) {
    const file = join(folders.generator.dir, 'config.json');
    const actual = modelConfigFromHf(folders.generator.config, file);
    const hint = disc
      ? `for this generator set "generator_hidden_size": ${actual.hidden_size / disc.hidden_size} and "generator_layers": ${actual.num_hidden_layers / disc.num_hidden_layers}`
      : 'set model_size / model_hparam_overrides to match it';
    assertSameShape(gen, actual, file, 'the generator does not fit the hparams', hint);
    checkVocab(folders.generator, vocab);
    picked.generator = folders.generator;
  }
  return loadHfWeights(model.params, picked);
}

/**
 * A PretrainingConfig for these configs: the discriminator exactly, the generator by the reference's
 * ratios (generator_hidden_size, generator_layers). Its heads, feed-forward width and LayerNorm
 * epsilon need not follow the sizing rule: pass the generator's config as ElectraPretrainingModel's
 * `generator` (loadPretrainingModel does).
 */
export function pretrainingConfigFor(disc: ElectraConfig | null, gen: ElectraConfig, given: Partial<PretrainingConfig> = {}): PretrainingConfig {
  const body = disc ?? gen;
  const cfg = resolvePretrainingConfig({
    model_size: 'base', // no forced embedding size: the folders say it
    electra_objective: disc !== null,
    vocab_size: body.vocab_size,
    embedding_size: body.embedding_size,
    generator_hidden_size: disc ? gen.hidden_size / disc.hidden_size : 1,
    generator_layers: disc ? gen.num_hidden_layers / disc.num_hidden_layers : 1,
    model_hparam_overrides: {
      hidden_size: body.hidden_size, num_hidden_layers: body.num_hidden_layers, num_attention_heads: body.num_attention_heads,
      intermediate_size: body.intermediate_size, hidden_dropout_prob: body.hidden_dropout_prob,
      attention_probs_dropout_prob: body.attention_probs_dropout_prob, max_position_embeddings: body.max_position_embeddings,
      type_vocab_size: body.type_vocab_size, initializer_range: body.initializer_range, layer_norm_eps: body.layer_norm_eps,
    },
    ...given,
  });
  return cfg;
}

export interface LoadPretrainingModelOptions {
  kernels?: Kernels;
  /** Largest batch and sequence length the model will run (default 8 x 128). */
  maxBatch?: number;
  maxSeqLen?: number;
}

export interface LoadedPretrainingModel {
  model: ElectraPretrainingModel;
  config: PretrainingConfig;
  /** The checkpoint's step, or null for HF folders. */
  step: number | null;
  source: PretrainedFolders;
  report: LoadReport;
}

/**
 * Loads a pre-training model (generator + discriminator) from our checkpoint or model dir, or from
 * HF folders (a folder with discriminator/ and generator/ subfolders, e.g. both converted release
 * checkpoints). Both models are needed; the generator must be the discriminator's companion.
 */
export function loadPretrainingModel(path: string, options: LoadPretrainingModelOptions = {}): LoadedPretrainingModel {
  const source = readPretrainedFolders(path);
  if (!source.generator) throw new UsageError(`${source.dir} has no generator (ElectraForMaskedLM) folder: pre-training needs both models`);
  const gen = modelConfigFromHf(source.generator.config, join(source.generator.dir, 'config.json'));
  const disc = source.discriminator ? modelConfigFromHf(source.discriminator.config, join(source.discriminator.dir, 'config.json')) : null;
  if (disc) {
    // The two share one embedding module.
    for (const f of ['vocab_size', 'embedding_size', 'max_position_embeddings', 'type_vocab_size'] as const) {
      if (disc[f] !== gen[f]) {
        throw new FormatError(join(source.generator.dir, 'config.json'), `"${f}" is ${gen[f]} but the discriminator's is ${disc[f]}: they must share the embeddings`);
      }
    }
  }
  const given: Partial<PretrainingConfig> = {};
  if (source.hparams) {
    // Our checkpoint: the run's objective settings (the network comes from the folders).
    for (const key of ['mask_prob', 'gen_weight', 'disc_weight', 'temperature', 'final_temperature', 'max_seq_length', 'max_predictions_per_seq', 'learning_rate',
      'num_train_steps', 'num_warmup_steps', 'lr_decay_power', 'weight_decay_rate'] as const) {
      const v = source.hparams[key];
      if (typeof v === 'number') (given as Record<string, number>)[key] = v;
    }
  }
  const config = pretrainingConfigFor(disc, gen, given);
  // The generator folder's own config (heads, feed-forward width, LayerNorm epsilon may differ from
  // the reference's sizing rule, e.g. an HF generator with 48 hidden units and 2 heads).
  const model = new ElectraPretrainingModel(options.kernels ?? defaultKernels(), config, {
    maxBatch: options.maxBatch ?? 8, maxSeqLen: options.maxSeqLen ?? Math.min(config.max_seq_length, gen.max_position_embeddings),
    generator: gen,
  });
  model.initialize(0);
  const folders: Partial<Record<HfRole, LoadedModelFolder>> = { generator: source.generator };
  if (source.discriminator) folders.discriminator = source.discriminator;
  const report = loadHfWeights(model.params, folders);
  if (report.notLoaded.length > 0) throw new FormatError(source.dir, `no folder holds ${report.notLoaded.join(', ')}`);
  return { model, config, step: source.step, source, report };
}

/** Buffers and batching of the inference models (see InferenceModelOptions). */
export type LoadDiscriminatorOptions = InferenceModelOptions;
/** Buffers and batching of loadMaskedLM (see InferenceModelOptions). */
export type LoadMaskedLMOptions = InferenceModelOptions;

/**
 * Loads the discriminator of a pre-training model dir (newest checkpoint), a checkpoint, or an HF
 * ElectraForPreTraining folder (or folders already read by readPretrainedFolders), for inference.
 */
export function loadDiscriminator(path: string | PretrainedFolders, options: LoadDiscriminatorOptions = {}): Discriminator {
  const source = typeof path === 'string' ? readPretrainedFolders(path) : path;
  const folder = source.discriminator;
  if (!folder) throw new UsageError(`${source.dir} has no discriminator (ElectraForPreTraining) folder`);
  return new Discriminator(modelConfigFromHf(folder.config, join(folder.dir, 'config.json')), folder, options);
}

/**
 * Loads the generator / masked LM of a pre-training model dir (newest checkpoint), a checkpoint, or
 * an HF ElectraForMaskedLM folder, for inference (fill-mask, vocabulary logits).
 */
export function loadMaskedLM(path: string | PretrainedFolders, options: LoadMaskedLMOptions = {}): MaskedLM {
  const source = typeof path === 'string' ? readPretrainedFolders(path) : path;
  const folder = source.generator;
  if (!folder) throw new UsageError(`${source.dir} has no generator / masked LM (ElectraForMaskedLM) folder`);
  return new MaskedLM(modelConfigFromHf(folder.config, join(folder.dir, 'config.json')), folder, options);
}
