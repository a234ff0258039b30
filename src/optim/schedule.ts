// The reference learning-rate schedule (model/optimization.create_optimizer):
// polynomial decay to 0 over num_train_steps, times a linear warmup factor; warmup and decay
// overlap. The update applied when `globalStep` updates have been done already uses
// lr(globalStep), so the very first update (step 0) has learning rate 0 when warming up.

export interface LrSchedule {
  learningRate: number;
  numTrainSteps: number;
  numWarmupSteps: number;
  /** 1 = linear decay. */
  lrDecayPower: number;
  /** Fine-tuning: warmup = max(warmupSteps, warmupProportion * numTrainSteps). */
  warmupProportion?: number;
}

export function learningRateAt(globalStep: number, s: LrSchedule): number {
  const step = Math.min(globalStep, s.numTrainSteps);
  const decayed = s.numTrainSteps > 0 ? s.learningRate * Math.pow(1 - step / s.numTrainSteps, s.lrDecayPower) : s.learningRate;
  const warmup = Math.max(s.numTrainSteps * (s.warmupProportion ?? 0), s.numWarmupSteps);
  // TF computes min(1, step / warmup); with warmup 0 that is min(1, inf or nan) -> no warmup.
  const warmupFactor = warmup > 0 ? Math.min(1, globalStep / warmup) : 1;
  return decayed * warmupFactor;
}
