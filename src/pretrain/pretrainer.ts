// One pre-training update: fresh dynamic masking, forward/backward of generator and
// discriminator, global-norm clipping and AdamW at the scheduled learning rate. Every random
// stream of an update is derived from (seed, global step), so a resumed run repeats the
// masking, sampling and dropout an uninterrupted run would have used. With gradient accumulation
// the batch is masked whole, then run as micro-batches whose gradients add up to the whole batch's
// (each loss divided by the whole batch's counts; sampling continues the whole batch's rows), so
// only a micro-batch's activations are held; dropout draws a fresh stream per micro-batch.
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
  /** The largest batch the model runs at once (with accumulation: the micro-batch). */
  maxBatch: number;
  /** Micro-batches per update (default 1): trainStep takes batches of up to maxBatch x this. */
  accumulationSteps?: number;
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

/**
 * The generator's sampling temperature at global step `step`: temperature, moved linearly to
 * final_temperature at num_train_steps when that is set (then held).
 */
export function samplingTemperature(config: Pick<PretrainingConfig, 'temperature' | 'final_temperature' | 'num_train_steps'>, step: number): number {
  if (config.final_temperature === null) return config.temperature;
  const progress = Math.min(1, Math.max(0, step / config.num_train_steps));
  return config.temperature + (config.final_temperature - config.temperature) * progress;
}

const STREAM_MASKING = 1;
const STREAM_STEP = 2;
const STREAM_EVAL = 3;

export class Pretrainer {
  readonly model: ElectraPretrainingModel;
  readonly optimizer: AdamW;
  readonly masked: MaskedBatch;
  readonly schedule: LrSchedule;
  readonly accumulationSteps: number;
  private readonly microMasked: MaskedBatch;
  private readonly masking: MaskingOptions;
  private readonly candidates: Int32Array;

  constructor(readonly k: Kernels, readonly config: PretrainingConfig, readonly opts: PretrainerOptions) {
    this.model = new ElectraPretrainingModel(withPrecision(k, opts.precision ?? 'fp32'), config, { maxBatch: opts.maxBatch, maxSeqLen: opts.maxSeqLen, dtype: opts.dtype });
    this.model.initialize(opts.seed);
    this.optimizer = new AdamW(k, this.model.params, { ...ELECTRA_ADAMW, weightDecayRate: config.weight_decay_rate });
    this.accumulationSteps = opts.accumulationSteps ?? 1;
    if (!Number.isInteger(this.accumulationSteps) || this.accumulationSteps < 1) throw new RangeError(`accumulationSteps must be a positive integer, got ${this.accumulationSteps}`);
    this.masked = new MaskedBatch(opts.maxBatch * this.accumulationSteps, opts.maxSeqLen, config.max_predictions_per_seq);
    this.microMasked = this.accumulationSteps > 1 ? new MaskedBatch(opts.maxBatch, opts.maxSeqLen, config.max_predictions_per_seq) : this.masked;
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
    const stepSeed = this.streamSeed(step, STREAM_STEP);
    const temperature = samplingTemperature(this.config, step);
    const metrics = this.accumulationSteps === 1
      ? this.model.step(inputs, this.masked, { stepSeed, training: true, backward: true, temperature })
      : this.accumulate(inputs, stepSeed, temperature);
    const learningRate = learningRateAt(step, this.schedule);
    const gradNorm = this.optimizer.update(learningRate);
    return { step, learningRate, gradNorm, metrics };
  }

  /** Forward and backward of the masked batch as accumulationSteps micro-batches; returns the whole batch's metrics. */
  private accumulate(inputs: PretrainingInputs, stepSeed: number, temperature: number): PretrainingMetrics {
    const A = this.accumulationSteps;
    const { batch, seqLen } = inputs;
    if (batch % A !== 0) throw new RangeError(`a batch of ${batch} does not split into ${A} micro-batches`);
    const micro = batch / A;
    if (micro > this.opts.maxBatch) throw new RangeError(`micro-batch ${micro} exceeds the model's ${this.opts.maxBatch}`);
    const all = this.masked;
    let realTokens = 0;
    for (let i = 0; i < batch * seqLen; i++) if (inputs.inputMask[i]) realTokens++;
    const genDenominator = all.count + 1e-6;
    const discDenominator = realTokens + 1e-6;
    let total: PretrainingMetrics | null = null;
    let p = 0; // predictions are in row order: each micro-batch's are a run
    for (let j = 0; j < A; j++) {
      const rows = j * micro * seqLen;
      const end = rows + micro * seqLen;
      const m = this.microMasked;
      const first = p;
      m.maskedIds.set(all.maskedIds.subarray(rows, end));
      while (p < all.count && all.positions[p]! < end) {
        m.positions[p - first] = all.positions[p]! - rows;
        m.labels[p - first] = all.labels[p]!;
        p++;
      }
      m.count = p - first;
      const slice = { inputIds: inputs.inputIds.subarray(rows, end), segmentIds: inputs.segmentIds.subarray(rows, end), inputMask: inputs.inputMask.subarray(rows, end), batch: micro, seqLen };
      const dropoutSeed = j === 0 ? stepSeed : mix32((stepSeed ^ Math.imul(j, 0x27d4eb2f)) >>> 0);
      const r = this.model.step(slice, m, { stepSeed, training: true, backward: true, temperature, slice: { genDenominator, discDenominator, predictionOffset: first, dropoutSeed } });
      if (!total) total = r;
      else {
        for (const key of Object.keys(r) as (keyof PretrainingMetrics)[]) {
          const v = r[key];
          if (v !== undefined) total[key] = (total[key] ?? 0) + v;
        }
      }
    }
    return total!;
  }

  /**
   * Losses and metrics without dropout or gradients; `index` picks the masking/sampling stream. The
   * generator samples at the temperature of the current step (final_temperature after training).
   */
  evalStep(inputs: PretrainingInputs, index: number): PretrainingMetrics {
    const seed = this.streamSeed(index, STREAM_EVAL);
    this.mask(inputs, seed);
    const temperature = samplingTemperature(this.config, this.optimizer.step);
    return this.model.step(inputs, this.masked, { stepSeed: seed, training: false, backward: false, temperature });
  }

  private mask(inputs: PretrainingInputs, seed: number): void {
    maskBatch(inputs.inputIds, inputs.inputMask, inputs.batch, inputs.seqLen, this.masking, new Rng(seed), this.masked, this.candidates);
  }
}
