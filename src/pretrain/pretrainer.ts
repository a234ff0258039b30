// One pre-training update: fresh dynamic masking, forward/backward of generator and
// discriminator, global-norm clipping and AdamW at the scheduled learning rate. Every random
// stream of an update is derived from (seed, global step), so a resumed run repeats the
// masking, sampling and dropout an uninterrupted run would have used.
import { withPrecision, type Kernels, type Precision } from '../kernels/index.js';
import { mix32 } from '../kernels/rng.js';
import type { PretrainingConfig } from '../model/config.js';
import { ElectraPretrainingModel, type PretrainingInputs, type PretrainingMetrics } from '../model/pretraining-model.js';
import { Rng } from '../nn/random.js';
import type { DType } from '../nn/tensor.js';
import { AdamW, ELECTRA_ADAMW } from '../optim/adamw.js';
import { learningRateAt, type LrSchedule } from '../optim/schedule.js';
import { BERT_SPECIAL_IDS, MaskedBatch, maskBatch, type MaskingOptions, type SpecialTokenIds } from '../model/masking.js';

export interface PretrainerOptions {
  maxBatch: number;
  maxSeqLen: number;
  seed: number;
  special?: SpecialTokenIds;
  dtype?: DType;
  /** bf16: the model's GEMMs take bf16 inputs (fp32 sums); weights, optimizer and the rest stay fp32. Default fp32. */
  precision?: Precision;
}

export interface TrainStepReport {
  /** Global step before this update (the reference's global_step used for its learning rate). */
  step: number;
  learningRate: number;
  /** Gradient norm before clipping. */
  gradNorm: number;
  metrics: PretrainingMetrics;
}

const STREAM_MASKING = 1;
const STREAM_STEP = 2;
const STREAM_EVAL = 3;

export class Pretrainer {
  readonly model: ElectraPretrainingModel;
  readonly optimizer: AdamW;
  readonly masked: MaskedBatch;
  readonly schedule: LrSchedule;
  private readonly masking: MaskingOptions;
  private readonly candidates: Int32Array;

  constructor(readonly k: Kernels, readonly config: PretrainingConfig, readonly opts: PretrainerOptions) {
    this.model = new ElectraPretrainingModel(withPrecision(k, opts.precision ?? 'fp32'), config, { maxBatch: opts.maxBatch, maxSeqLen: opts.maxSeqLen, dtype: opts.dtype });
    this.model.initialize(opts.seed);
    this.optimizer = new AdamW(k, this.model.params, { ...ELECTRA_ADAMW, weightDecayRate: config.weight_decay_rate });
    this.masked = new MaskedBatch(opts.maxBatch, opts.maxSeqLen, config.max_predictions_per_seq);
    this.masking = { maskProb: config.mask_prob, maxPredictionsPerSeq: config.max_predictions_per_seq, special: opts.special ?? BERT_SPECIAL_IDS };
    this.candidates = new Int32Array(opts.maxSeqLen);
    this.schedule = {
      learningRate: config.learning_rate,
      numTrainSteps: config.num_train_steps,
      numWarmupSteps: config.num_warmup_steps,
      lrDecayPower: config.lr_decay_power,
    };
  }

  /** The seed of one random stream of one step. */
  streamSeed(step: number, stream: number): number {
    return mix32((mix32((this.opts.seed ^ Math.imul(step + 1, 0x85ebca6b)) >>> 0) ^ stream) >>> 0);
  }

  trainStep(inputs: PretrainingInputs): TrainStepReport {
    const step = this.optimizer.step;
    this.mask(inputs, this.streamSeed(step, STREAM_MASKING));
    this.model.params.zeroGrads();
    const metrics = this.model.step(inputs, this.masked, { stepSeed: this.streamSeed(step, STREAM_STEP), training: true, backward: true });
    const learningRate = learningRateAt(step, this.schedule);
    const gradNorm = this.optimizer.update(learningRate);
    return { step, learningRate, gradNorm, metrics };
  }

  /** Losses and metrics without dropout or gradients; `index` picks the masking/sampling stream. */
  evalStep(inputs: PretrainingInputs, index: number): PretrainingMetrics {
    const seed = this.streamSeed(index, STREAM_EVAL);
    this.mask(inputs, seed);
    return this.model.step(inputs, this.masked, { stepSeed: seed, training: false, backward: false });
  }

  private mask(inputs: PretrainingInputs, seed: number): void {
    maskBatch(inputs.inputIds, inputs.inputMask, inputs.batch, inputs.seqLen, this.masking, new Rng(seed), this.masked, this.candidates);
  }
}
