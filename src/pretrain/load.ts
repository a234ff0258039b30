// Loading pre-trained weights: our checkpoints, a pre-training model dir (its newest
// checkpoint), or HF folders (ElectraForPreTraining and/or ElectraForMaskedLM, e.g. Google's
// release checkpoints converted with `electra convert`), into the pre-training model or into the
// discriminator alone for inference.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError, UsageError } from '../errors.js';
import { readHfFolder, type LoadedModelFolder } from '../io/hf-folder.js';
import { kernels as defaultKernels, withPrecision, type Kernels } from '../kernels/index.js';
import { modelConfigFromHf, resolvePretrainingConfig, type ElectraConfig, type PretrainingConfig } from '../model/config.js';
import { ElectraDiscriminator } from '../model/discriminator.js';
import { ElectraPretrainingModel } from '../model/pretraining-model.js';
import { BertTokenizer } from '../tokenizer/tokenizer.js';
import { latestCheckpoint, readCheckpointFolders, readTrainingState, STATE_FILE } from './checkpoint.js';
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
export function readPretrainedFolders(path: string): PretrainedFolders {
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
export function loadInitCheckpoint(path: string, model: ElectraPretrainingModel, vocab: readonly string[]): LoadReport {
  const folders = readPretrainedFolders(path);
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
  if (folders.generator) {
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

/** A PretrainingConfig whose discriminator and generator are exactly these configs. */
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
    for (const key of ['mask_prob', 'gen_weight', 'disc_weight', 'temperature', 'max_seq_length', 'max_predictions_per_seq', 'learning_rate',
      'num_train_steps', 'num_warmup_steps', 'lr_decay_power', 'weight_decay_rate'] as const) {
      const v = source.hparams[key];
      if (typeof v === 'number') (given as Record<string, number>)[key] = v;
    }
  }
  const config = pretrainingConfigFor(disc, gen, given);
  const model = new ElectraPretrainingModel(options.kernels ?? defaultKernels(), config, {
    maxBatch: options.maxBatch ?? 8, maxSeqLen: options.maxSeqLen ?? Math.min(config.max_seq_length, gen.max_position_embeddings),
  });
  model.initialize(0);
  const folders: Partial<Record<HfRole, LoadedModelFolder>> = { generator: source.generator };
  if (source.discriminator) folders.discriminator = source.discriminator;
  const report = loadHfWeights(model.params, folders);
  if (report.notLoaded.length > 0) throw new FormatError(source.dir, `no folder holds ${report.notLoaded.join(', ')}`);
  return { model, config, step: source.step, source, report };
}

export interface DiscriminateOptions {
  /** Segment (token type) ids per sequence; default all 0. */
  segmentIds?: ArrayLike<number>[];
}

/** The discriminator's view of one sequence. */
export interface DiscriminatorResult {
  /** P(token was replaced) per token. */
  probs: Float32Array;
  logits: Float32Array;
  /** Last-layer hidden states, [length, hiddenSize] row-major. */
  hidden: Float32Array;
  hiddenSize: number;
}

export interface LoadDiscriminatorOptions {
  kernels?: Kernels;
  /**
   * "int8": dynamic quantization for inference: Linear weights int8 per output channel, each
   * row of activations quantized to u8 at run time, int32 sums; attention products, LayerNorm
   * and softmax stay fp32. Default: fp32.
   */
  quantize?: 'int8';
  /** Sequences run at once (default 8). */
  maxBatch?: number;
  /** Longest sequence (default 128, at most max_position_embeddings). */
  maxSeqLen?: number;
}

/** A pre-trained discriminator (ElectraForPreTraining) for replaced-token detection and features. */
export class Discriminator {
  readonly model: ElectraDiscriminator;
  readonly tokenizer: BertTokenizer | null;

  constructor(
    readonly config: ElectraConfig, readonly folder: LoadedModelFolder, options: LoadDiscriminatorOptions = {},
  ) {
    const maxSeqLen = Math.min(options.maxSeqLen ?? 128, config.max_position_embeddings);
    if (options.quantize !== undefined && options.quantize !== 'int8') {
      throw new UsageError(`quantize must be "int8" or left out, got ${JSON.stringify(options.quantize)}`);
    }
    const k = options.kernels ?? defaultKernels();
    this.model = new ElectraDiscriminator(options.quantize === 'int8' ? withPrecision(k, 'int8') : k, config,
      { maxBatch: options.maxBatch ?? 8, maxSeqLen });
    const report = loadHfWeights(this.model.params, { discriminator: folder });
    if (report.notLoaded.length > 0) throw new FormatError(folder.dir, `missing ${report.notLoaded.join(', ')}`);
    if (folder.vocab && folder.vocab.length !== config.vocab_size) {
      throw new FormatError(join(folder.dir, 'vocab.txt'), `has ${folder.vocab.length} tokens but config.json says vocab_size ${config.vocab_size}: the vocabulary is not this model's`);
    }
    this.tokenizer = folder.vocab ? BertTokenizer.fromVocab(folder.vocab, { lowerCase: folder.tokenizer?.do_lower_case ?? true }) : null;
  }

  get maxBatch(): number {
    return this.model.body.shape.maxBatch;
  }

  get maxSeqLen(): number {
    return this.model.body.shape.maxSeqLen;
  }

  /** Runs the discriminator on token-id sequences (each with its own [CLS] ... [SEP]), in batches. */
  discriminate(sequences: ArrayLike<number>[], options: DiscriminateOptions = {}): DiscriminatorResult[] {
    const H = this.config.hidden_size;
    const V = this.config.vocab_size;
    const out: DiscriminatorResult[] = [];
    for (let start = 0; start < sequences.length; start += this.maxBatch) {
      const chunk = sequences.slice(start, start + this.maxBatch);
      const S = Math.max(1, ...chunk.map((s) => s.length));
      if (S > this.maxSeqLen) throw new RangeError(`a sequence has ${S} tokens; this discriminator was loaded for at most ${this.maxSeqLen} (maxSeqLen)`);
      const B = chunk.length;
      const ids = new Int32Array(B * S);
      const segs = new Int32Array(B * S);
      const mask = new Int32Array(B * S);
      chunk.forEach((seq, b) => {
        const segIds = options.segmentIds?.[start + b];
        if (segIds && segIds.length !== seq.length) {
          throw new RangeError(`sequence ${start + b}: ${seq.length} token ids but ${segIds.length} segment ids`);
        }
        for (let p = 0; p < seq.length; p++) {
          const seg = segIds?.[p] ?? 0;
          if (!Number.isInteger(seg) || seg < 0 || seg >= this.config.type_vocab_size) {
            throw new RangeError(`sequence ${start + b}, position ${p}: segment id ${seg} is outside [0, ${this.config.type_vocab_size})`);
          }
          const id = seq[p]!;
          if (!Number.isInteger(id) || id < 0 || id >= V) throw new RangeError(`sequence ${start + b}, position ${p}: token id ${id} is outside the vocabulary [0, ${V})`);
          ids[b * S + p] = id;
          segs[b * S + p] = seg;
          mask[b * S + p] = 1;
        }
      });
      const r = this.model.forward(ids, segs, mask, B, S);
      chunk.forEach((seq, b) => {
        const n = seq.length;
        out.push({
          probs: r.probs.slice(b * S, b * S + n),
          logits: r.logits.slice(b * S, b * S + n),
          hidden: r.hidden.slice(b * S * H, (b * S + n) * H),
          hiddenSize: H,
        });
      });
    }
    return out;
  }

  /**
   * Tokenizes text with the folder's vocabulary ([CLS] text [SEP]) and runs the discriminator.
   * Text longer than maxSeqLen tokens is cut at the end (the result's tokens show what was read).
   */
  discriminateText(text: string): DiscriminatorResult & { tokens: string[]; ids: number[] } {
    if (!this.tokenizer) throw new UsageError(`${this.folder.dir} has no vocab.txt: pass token ids to discriminate()`);
    const enc = this.tokenizer.encode(text, null, { maxLength: this.maxSeqLen });
    const [r] = this.discriminate([enc.ids]);
    return { ...r!, tokens: enc.tokens, ids: enc.ids };
  }
}

/**
 * Loads the discriminator of a pre-training model dir (newest checkpoint), a checkpoint, or an HF
 * ElectraForPreTraining folder, for inference.
 */
export function loadDiscriminator(path: string, options: LoadDiscriminatorOptions = {}): Discriminator {
  const source = readPretrainedFolders(path);
  const folder = source.discriminator;
  if (!folder) throw new UsageError(`${source.dir} has no discriminator (ElectraForPreTraining) folder`);
  return new Discriminator(modelConfigFromHf(folder.config, join(folder.dir, 'config.json')), folder, options);
}
