// The reference's SpanBasedQAScorer: collects window results, post-processes them into answers
// (writing the prediction files when asked) and runs the official evaluation of the task.
import { prefixed, type MetricList, type Scorer } from '../scorer.js';
import { evaluateMrqa, evaluateSquadV1, evaluateSquadV2, sortedMetrics } from './metrics.js';
import { goldQuestions, type QaExample } from './data.js';
import type { QaFeatures } from './features.js';
import {
  postprocessQa, writeQaPredictions, type QaOutputFiles, type QaPostprocessOptions, type QaPredictions, type QaRawResult,
} from './postprocess.js';

/** Which official script scores the task: SQuAD 2.0, SQuAD 1.1 or MRQA. */
export type QaEvaluationKind = 'squad_v2' | 'squad_v1' | 'mrqa';

export interface QaScorerOptions extends QaPostprocessOptions {
  evaluation: QaEvaluationKind;
  /** SQuAD 2.0: null odds above this count as "no answer" (qa_na_threshold). */
  naThreshold: number;
  /** Where to write predictions (and n-best, null odds); nothing is written when absent. */
  outputFiles?: QaOutputFiles;
}

export interface QaScoredResult extends QaRawResult {
  loss: number;
}

export class SpanBasedQaScorer implements Scorer<QaScoredResult> {
  private readonly results: QaRawResult[] = [];
  private totalLoss = 0;
  /** The last post-processed predictions (after getResults). */
  lastPredictions: QaPredictions | null = null;
  /** Gold questions without a prediction in the last evaluation. */
  lastMissing: string[] = [];

  constructor(
    private readonly examples: readonly QaExample[], private readonly features: readonly QaFeatures[],
    private readonly opts: QaScorerOptions,
  ) {}

  update(result: QaScoredResult): void {
    this.results.push(result);
    this.totalLoss += result.loss;
  }

  getLoss(): number {
    return this.results.length === 0 ? NaN : this.totalLoss / this.results.length;
  }

  /** The official script's metrics, sorted by name as the reference returns them (no loss). */
  getResults(prefix = ''): MetricList {
    const preds = postprocessQa(this.examples, this.features, this.results, this.opts);
    this.lastPredictions = preds;
    if (this.opts.outputFiles) writeQaPredictions(this.opts.outputFiles, preds);
    const gold = goldQuestions(this.examples);
    const evaluation = this.opts.evaluation === 'squad_v2'
      ? evaluateSquadV2(gold, preds.predictions, { naProbs: preds.nullOdds ?? undefined, naProbThreshold: this.opts.naThreshold })
      : this.opts.evaluation === 'squad_v1'
        ? evaluateSquadV1(gold, preds.predictions)
        : evaluateMrqa(gold, preds.predictions);
    this.lastMissing = evaluation.missing;
    return prefixed(sortedMetrics(evaluation.metrics), prefix);
  }
}
