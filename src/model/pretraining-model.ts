// ELECTRA pre-training: a small generator (masked LM) and the discriminator (replaced token
// detection) sharing one embedding module, as run_pretraining.PretrainingModel. With
// electra_objective false, a full-size masked LM alone (BERT with dynamic masking, no NSP).
// The reference's generator switches (docs/objectives.md): uniform_generator (no generator
// network, uniform replacements), untied_generator_embeddings (the generator's own embeddings),
// untied_generator false (one network, two heads), disallow_correct, two_tower_generator (a cloze
// model, model/two-tower.ts) and electric_objective (Electric: the cloze model's log-probability
// added to the discriminator's logit).
import type { Kernels } from '../kernels/index.js';
import { DropoutSites, siteSeed } from '../nn/dropout.js';
import type { EmbeddingTables } from '../nn/embeddings.js';
import { ParameterSet, Scope } from '../nn/params.js';
import { allocFloats, type DType } from '../nn/tensor.js';
import { CorruptionScratch, corruptInputs, type MaskedBatch, sampleGumbelMax } from './masking.js';
import { type ElectraConfig, type PretrainingConfig, discriminatorConfig, generatorConfig, hasDiscriminator, unsupportedCombination } from './config.js';
import { declareEmbeddingTables, ElectraModel } from './electra-model.js';
import { DiscriminatorHead, GeneratorHead } from './heads.js';
import { TwoTowerClozeGenerator } from './two-tower.js';

/**
 * HF weights that are tied to another parameter and so have no arena slice of their own:
 * ElectraForMaskedLM's output weight is the word-embedding matrix.
 */
export const HF_TIED_WEIGHTS: Readonly<Record<'generator', Readonly<Record<string, string>>>> = {
  generator: { 'generator_lm_head.weight': 'electra.embeddings.word_embeddings.weight' },
};

/** A batch of token sequences, [batch, seqLen] row-major. */
export interface PretrainingInputs {
  inputIds: Int32Array;
  segmentIds: Int32Array;
  /** 1 for real tokens, 0 for padding. */
  inputMask: Int32Array;
  batch: number;
  seqLen: number;
}

export interface PretrainingStepOptions {
  /** Seeds dropout and the generator's sampling for this step. */
  stepSeed: number;
  /** Dropout on (training) or off (evaluation). */
  training: boolean;
  /** Accumulate gradients of the total loss into the parameter set's gradient arena. */
  backward: boolean;
  /** Use these replacement tokens (one per prediction) instead of sampling (gradient checks). */
  fixedSamples?: Int32Array;
  /**
   * One micro-batch of a larger batch (gradient accumulation): the losses are divided by the whole
   * batch's prediction and real-token counts, the sampling continues the whole batch's rows from
   * predictionOffset, and dropout draws from dropoutSeed (default stepSeed).
   */
  slice?: { genDenominator: number; discDenominator: number; predictionOffset: number; dropoutSeed: number };
  /** The generator's sampling temperature for this step (default: the config's temperature). */
  temperature?: number;
}

/** Sums and counts for one batch (see pretrain/eval-metrics.ts for the ratios). Losses are the batch means. */
export interface PretrainingMetrics {
  totalLoss: number;
  /** masked_lm_loss: mean generator cross-entropy over the predictions. */
  genLoss: number;
  /** Two-tower generator: the cloze loss (mean over candidate tokens) the total loss uses instead of genLoss. */
  clozeLoss?: number;
  /** Mean discriminator sigmoid cross-entropy over the real tokens (0 without ELECTRA objective). */
  discLoss: number;
  /** Sum over sequences of each sequence's mean disc loss (the reference's disc_loss eval metric). */
  discExampleLossSum: number;
  examples: number;
  predictions: number;
  /** argmax(generator logits) == original token. */
  mlmCorrect: number;
  /** sampled token == original token. */
  sampledCorrect: number;
  /** Real (non-padding) tokens seen by the discriminator. */
  discTokens: number;
  discCorrect: number;
  /** Predicted replaced (logit > 0) and labelled replaced. */
  discTruePositives: number;
  discPredictedPositives: number;
  discLabelPositives: number;
}

export class ElectraPretrainingModel {
  readonly params = new ParameterSet();
  readonly generatorConfig: ElectraConfig;
  readonly discriminatorConfig: ElectraConfig | null;
  readonly tables: EmbeddingTables;
  /** null with uniform_generator (no generator network). */
  readonly generator: ElectraModel | null;
  readonly generatorHead: GeneratorHead | null;
  /** Electric's generator (two_tower_generator), else null. */
  readonly cloze: TwoTowerClozeGenerator | null;
  /** The HF models a checkpoint of this model holds (no generator with the uniform or two-tower generator). */
  readonly hfModels: readonly ('discriminator' | 'generator')[];
  readonly discriminator: ElectraModel | null;
  readonly discriminatorHead: DiscriminatorHead | null;
  readonly maxBatch: number;
  readonly maxSeqLen: number;

  /** Replacement token per prediction (after a step with the ELECTRA objective). */
  readonly sampledIds: Int32Array;
  /** argmax of the generator logits per prediction. */
  readonly mlmPredictions: Int32Array;
  /** Discriminator input ids [batch, seqLen]. */
  readonly discInputIds: Int32Array;
  /** 1 where the discriminator input differs from the original token. */
  readonly discLabels: Float32Array;
  /** sigmoid(discriminator logit) per token (for AUC); padding included, weight it by the input mask. */
  readonly discProbs: Float32Array;

  private readonly discWeights: Float32Array;
  private readonly dDiscLogits: Float32Array;
  private readonly dDiscHidden: Float32Array | null;
  private readonly dGenHidden: Float32Array;
  private readonly corruption: CorruptionScratch;
  /**
   * The generator's logits at the predictions when no masked-LM head computes them: all zero for
   * the uniform generator, gathered from the cloze logits for the two-tower one.
   */
  private readonly predictionLogits: Float32Array | null;
  private readonly clozeWeights: Float32Array | null;
  /** Electric: stop-gradient log q(discriminator input token) + log(mask_prob / (1 - mask_prob)) per token. */
  private readonly electricShift: Float64Array | null;

  constructor(
    readonly k: Kernels, readonly config: PretrainingConfig,
    shape: {
      maxBatch: number; maxSeqLen: number; dtype?: DType;
      /** The generator's network as given (e.g. by a generator folder's config.json) instead of the reference's sizing rule. */
      generator?: ElectraConfig;
    },
  ) {
    const dtype = shape.dtype ?? 'float32';
    const { maxBatch, maxSeqLen } = shape;
    this.maxBatch = maxBatch;
    this.maxSeqLen = maxSeqLen;
    const T = maxBatch * maxSeqLen;
    const unsupported = unsupportedCombination(config);
    if (unsupported) throw new Error(unsupported);
    const electra = hasDiscriminator(config);
    const uniform = config.uniform_generator;
    const tied = electra && !config.untied_generator;
    const twoTower = config.two_tower_generator;
    const ownEmbeddings = electra && config.untied_generator_embeddings && !tied && !uniform;
    const disc = discriminatorConfig(config);
    const gen = shape.generator ?? generatorConfig(config, disc);
    // Shared embeddings must fit both networks; with its own, the generator need only sample the same vocabulary.
    const mustMatch = ownEmbeddings ? (['vocab_size'] as const) : (['vocab_size', 'embedding_size', 'max_position_embeddings', 'type_vocab_size'] as const);
    for (const f of mustMatch) {
      if (gen[f] !== disc[f]) throw new Error(`the generator's ${f} is ${gen[f]} but the ${ownEmbeddings ? 'discriminator' : 'shared embeddings'}'s is ${disc[f]}`);
    }
    this.generatorConfig = gen;
    this.discriminatorConfig = electra ? disc : null;
    this.hfModels = electra ? (uniform || twoTower ? ['discriminator'] : ['discriminator', 'generator']) : ['generator'];
    const ps = this.params;
    const sites = new DropoutSites();
    const body = { maxBatch, maxSeqLen, dtype };
    // The shared embedding module is written to every HF model that uses it.
    const sharedBy: ('discriminator' | 'generator')[] = !electra ? ['generator'] : uniform || ownEmbeddings || twoTower ? ['discriminator'] : ['discriminator', 'generator'];
    this.tables = declareEmbeddingTables(k, ps, new Scope('electra', 'electra', sharedBy), disc);
    const maxPredictions = maxBatch * config.max_predictions_per_seq;
    const discScope = new Scope('discriminator.electra', 'electra', ['discriminator']);
    let discriminator: ElectraModel | null = null;
    this.cloze = null;
    if (uniform || twoTower) {
      this.generator = null;
      this.generatorHead = null;
      if (twoTower) this.cloze = new TwoTowerClozeGenerator(k, ps, gen, ownEmbeddings ? null : this.tables, body, sites);
    } else {
      let genTables = this.tables;
      let generator: ElectraModel;
      if (tied) {
        // untied_generator false: the reference builds the discriminator in the generator's variable scope with reuse.
        discriminator = new ElectraModel(k, ps, discScope, disc, this.tables, body, sites);
        generator = ps.reuse(() => new ElectraModel(k, ps, new Scope('discriminator.electra', 'electra', ['generator']), gen, this.tables, body, sites));
      } else {
        if (ownEmbeddings) genTables = declareEmbeddingTables(k, ps, new Scope('generator.electra', 'electra', ['generator']), gen);
        generator = new ElectraModel(k, ps, new Scope('generator.electra', 'electra', ['generator']), gen, genTables, body, sites);
      }
      this.generator = generator;
      this.generatorHead = new GeneratorHead(k, ps, new Scope('generator', '', ['generator']), gen, genTables, maxPredictions, dtype);
    }
    if (electra) {
      this.discriminator = discriminator ?? new ElectraModel(k, ps, discScope, disc, this.tables, body, sites);
      this.discriminatorHead = new DiscriminatorHead(k, ps, new Scope('discriminator', '', ['discriminator']), disc, T, dtype);
    } else {
      this.discriminator = null;
      this.discriminatorHead = null;
    }
    ps.allocate(dtype);
    this.predictionLogits = uniform || twoTower ? allocFloats(maxPredictions * gen.vocab_size, dtype) : null;
    this.clozeWeights = twoTower ? allocFloats(T, dtype) : null;
    this.electricShift = config.electric_objective ? new Float64Array(T) : null;
    this.sampledIds = new Int32Array(maxPredictions);
    this.mlmPredictions = new Int32Array(maxPredictions);
    this.discInputIds = new Int32Array(T);
    this.discLabels = allocFloats(T, dtype);
    this.discProbs = allocFloats(T, dtype);
    this.discWeights = allocFloats(T, dtype);
    this.dDiscLogits = allocFloats(T, dtype);
    this.dDiscHidden = electra ? allocFloats(T * disc.hidden_size, dtype) : null;
    this.dGenHidden = allocFloats(this.generator ? T * gen.hidden_size : 0, dtype);
    this.corruption = new CorruptionScratch(T);
  }

  /** Initializes all parameters (truncated normal 0.02, Glorot where the reference uses TF defaults). */
  initialize(seed: number): void {
    this.params.initialize(seed);
  }

  /**
   * One forward pass over a masked batch: generator loss at the predictions (or the cloze loss at
   * every candidate token), sampling of the replacements, discriminator loss over the real tokens;
   * with `backward`, the gradients of total = gen_weight * gen_loss + disc_weight * disc_loss are
   * added to params.grads.
   */
  step(inputs: PretrainingInputs, masked: MaskedBatch, opts: PretrainingStepOptions): PretrainingMetrics {
    const { k, config } = this;
    const { batch, seqLen } = inputs;
    const T = batch * seqLen;
    if (batch > this.maxBatch || seqLen > this.maxSeqLen) throw new Error(`batch ${batch}x${seqLen} exceeds ${this.maxBatch}x${this.maxSeqLen}`);
    const gen = this.generatorConfig;
    const V = gen.vocab_size;
    const M = masked.count;

    // Generator logits at the predictions: the masked LM on the masked input, the cloze model on
    // the unmasked input (gathered), or all zero (uniform).
    const dropoutSeed = opts.slice?.dropoutSeed ?? opts.stepSeed;
    let logits: Float32Array;
    let clozeLogits: Float32Array | null = null;
    if (this.generator && this.generatorHead) {
      const genDropout = this.generator.dropout(opts.training, dropoutSeed);
      const genHidden = this.generator.forward(masked.maskedIds, inputs.segmentIds, inputs.inputMask, batch, seqLen, genDropout);
      logits = this.generatorHead.forward(genHidden, masked.positions, M);
    } else if (this.cloze) {
      clozeLogits = this.cloze.forward(inputs.inputIds, inputs.segmentIds, inputs.inputMask, batch, seqLen, opts.training, dropoutSeed);
      logits = this.predictionLogits!;
      k.embeddingGather(clozeLogits, masked.positions, logits, M, V);
    } else {
      logits = this.predictionLogits!;
      logits.fill(0, 0, M * V);
    }
    // The masked-LM loss trains the generator unless the cloze loss does (or nothing can learn).
    const mlmTrains = this.generator !== null;

    // Samples and predictions read the logits before the loss overwrites them with dlogits.
    const electra = this.discriminator !== null;
    if (electra) {
      if (opts.fixedSamples) {
        this.sampledIds.set(opts.fixedSamples.subarray(0, M));
        argmaxRows(logits, M, V, this.mlmPredictions);
      } else {
        sampleGumbelMax(logits, M, V, opts.temperature ?? config.temperature, siteSeed(opts.stepSeed, 0x5a4d504c), this.sampledIds, this.mlmPredictions,
          opts.slice?.predictionOffset ?? 0, config.disallow_correct ? masked.labels : null, k);
      }
      corruptInputs(inputs.inputIds, batch, seqLen, masked.positions, this.sampledIds, M,
        this.discInputIds, this.discLabels, this.corruption, config.electric_objective);
    } else {
      argmaxRows(logits, M, V, this.mlmPredictions);
    }
    let mlmCorrect = 0;
    let sampledCorrect = 0;
    for (let r = 0; r < M; r++) {
      const label = masked.labels[r]!;
      if (this.mlmPredictions[r] === label) mlmCorrect++;
      if (electra && this.sampledIds[r] === label) sampledCorrect++;
    }
    const genDenominator = opts.slice?.genDenominator ?? M + 1e-6;
    const genSum = k.softmaxCrossEntropy(logits, masked.labels, null, opts.backward && mlmTrains ? logits : null, M, V,
      config.gen_weight / genDenominator);
    const genLoss = genSum / genDenominator;

    let clozeLoss = 0;
    if (clozeLogits) {
      // Electric reads log q of the discriminator's input tokens before the loss overwrites the logits.
      if (this.electricShift) electricShift(clozeLogits, this.discInputIds, T, V, config.mask_prob, this.electricShift);
      const w = this.clozeWeights!;
      let candidates = 0;
      for (let i = 0; i < T; i++) {
        w[i] = masked.candidates[i]!;
        candidates += masked.candidates[i]!;
      }
      const clozeDenominator = candidates + 1e-6;
      clozeLoss = k.softmaxCrossEntropy(clozeLogits, inputs.inputIds, w, opts.backward ? clozeLogits : null, T, V,
        config.gen_weight / clozeDenominator) / clozeDenominator;
    }

    const metrics: PretrainingMetrics = {
      totalLoss: config.gen_weight * (clozeLogits ? clozeLoss : genLoss),
      genLoss,
      ...(clozeLogits ? { clozeLoss } : {}),
      discLoss: 0,
      discExampleLossSum: 0,
      examples: batch,
      predictions: M,
      mlmCorrect,
      sampledCorrect,
      discTokens: 0,
      discCorrect: 0,
      discTruePositives: 0,
      discPredictedPositives: 0,
      discLabelPositives: 0,
    };

    if (electra) {
      const discModel = this.discriminator!;
      const head = this.discriminatorHead!;
      const discDropout = discModel.dropout(opts.training, dropoutSeed);
      const discHidden = discModel.forward(this.discInputIds, inputs.segmentIds, inputs.inputMask, batch, seqLen, discDropout);
      const discLogits = head.forward(discHidden, T);
      const shift = this.electricShift;
      if (shift) for (let i = 0; i < T; i++) discLogits[i] = discLogits[i]! + shift[i]!;
      let tokens = 0;
      for (let b = 0; b < batch; b++) {
        let exampleLoss = 0;
        let exampleTokens = 0;
        for (let i = b * seqLen; i < (b + 1) * seqLen; i++) {
          const w = inputs.inputMask[i] ? 1 : 0;
          this.discWeights[i] = w;
          const x = discLogits[i]!;
          this.discProbs[i] = 1 / (1 + Math.exp(-x));
          if (!w) continue;
          exampleTokens++;
          const pred = x > 0 ? 1 : 0;
          const label = this.discLabels[i]!;
          exampleLoss += Math.max(x, 0) - x * label + Math.log1p(Math.exp(-Math.abs(x)));
          if (pred === label) metrics.discCorrect++;
          metrics.discPredictedPositives += pred;
          metrics.discLabelPositives += label;
          if (pred === 1 && label === 1) metrics.discTruePositives++;
        }
        tokens += exampleTokens;
        metrics.discExampleLossSum += exampleLoss / (exampleTokens + 1e-6);
      }
      const discDenominator = opts.slice?.discDenominator ?? tokens + 1e-6;
      const discSum = k.sigmoidCrossEntropy(discLogits, this.discLabels, this.discWeights,
        opts.backward ? this.dDiscLogits : null, T, config.disc_weight / discDenominator);
      metrics.discTokens = tokens;
      metrics.discLoss = discSum / discDenominator;
      metrics.totalLoss += config.disc_weight * metrics.discLoss;
      if (opts.backward) {
        // The Electric shift is a constant: the head's logit gradient is the sum's.
        head.backward(this.dDiscLogits, this.dDiscHidden!);
        discModel.backward(this.dDiscHidden!);
      }
    }

    if (opts.backward) {
      if (this.generator && this.generatorHead) {
        // `logits` now holds gen_weight / M * (softmax - onehot).
        this.generatorHead.backward(logits, this.dGenHidden, T);
        this.generator.backward(this.dGenHidden);
      } else if (this.cloze && clozeLogits) {
        this.cloze.backward(clozeLogits);
      }
    }
    return metrics;
  }
}

/**
 * Electric's addition to the discriminator's logits (run_pretraining._get_discriminator_output):
 * log_softmax(cloze logits)[token] of each discriminator input token, plus
 * log(mask_prob / (1 - mask_prob)). Computed in float64; it carries no gradient (stop_gradient).
 */
export function electricShift(
  clozeLogits: Float32Array, tokens: Int32Array, rows: number, vocab: number, maskProb: number, out: Float64Array,
): void {
  const prior = Math.log(maskProb / (1 - maskProb));
  for (let r = 0; r < rows; r++) {
    const base = r * vocab;
    let max = -Infinity;
    for (let i = 0; i < vocab; i++) max = Math.max(max, clozeLogits[base + i]!);
    let sum = 0;
    for (let i = 0; i < vocab; i++) sum += Math.exp(clozeLogits[base + i]! - max);
    out[r] = clozeLogits[base + tokens[r]!]! - max - Math.log(sum) + prior;
  }
}

/** Row-wise argmax (first maximum). */
export function argmaxRows(x: Float32Array, rows: number, cols: number, out: Int32Array): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let best = -Infinity;
    let bestIndex = 0;
    for (let i = 0; i < cols; i++) {
      const v = x[base + i]!;
      if (v > best) {
        best = v;
        bestIndex = i;
      }
    }
    out[r] = bestIndex;
  }
}
