// The question-answering tasks: SQuAD 1.1/2.0 and the MRQA sets, read, featurised into windows,
// scored with the official metrics, and post-processed into answers.
import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import { finetuningPaths, type FinetuningHparams } from '../hparams.js';
import { defaultWarn, outputOfKind, type BuiltinTask, type EvaluationEnv, type Task, type TaskContext, type TaskEvaluation } from '../task.js';
import type { HeadStyle } from '../model/head.js';
import type { BatchItem } from '../model/finetuning-model.js';
import type { SavedTask } from '../model/checkpoint.js';
import { readMrqa, readSquad, type QaExample } from './data.js';
import { featurizeQa, type QaFeatures } from './features.js';
import { SpanBasedQaScorer, type QaEvaluationKind, type QaScoredResult } from './scorer.js';
import { applyNullThreshold, postprocessQa, type QaOutputFiles, type QaRawResult } from './postprocess.js';

/** How the scorer reads a head's outputs: HF's head has independent start/end logits and no answerability classifier. */
function qaScorerOptions(hp: FinetuningHparams, v2: boolean, style: HeadStyle): { jointPrediction: boolean; answerableClassifier: boolean } {
  return style === 'hf'
    ? { jointPrediction: false, answerableClassifier: false }
    : { jointPrediction: hp.joint_prediction, answerableClassifier: hp.answerable_classifier && v2 };
}

export class QaTask implements Task<QaExample, QaFeatures, QaScoredResult> {
  readonly kind = 'qa';
  private readonly examples = new Map<string, QaExample[]>();
  private readonly evalFeatureCache = new Map<string, QaFeatures[]>();

  constructor(
    readonly name: string, private readonly ctx: TaskContext,
    readonly format: 'squad' | 'mrqa', readonly v2: boolean,
  ) {}

  get dataFiles(): string {
    return `train${this.format === 'mrqa' ? '.jsonl' : '.json'}, dev...`;
  }

  batchItem(f: QaFeatures, withTargets: boolean): BatchItem {
    return { task: this.name, input: f, target: withTargets ? { startPosition: f.startPosition, endPosition: f.endPosition, isImpossible: f.isImpossible } : null };
  }

  savedTask(style: HeadStyle): SavedTask {
    return { name: this.name, kind: 'qa', style, labels: null };
  }

  /** The head's raw results of a split's windows, in the order of evalFeatures. */
  private rawResults(split: string, env: EvaluationEnv, label: string): { features: QaFeatures[]; results: (QaRawResult & { loss: number })[] } {
    const features = this.evalFeatures(split);
    const outputs = env.predict(features.map((f) => this.batchItem(f, false)), label);
    const results = features.map((f, i) => {
      const o = outputOfKind(this.name, outputs[i], 'qa');
      if (!o.result) throw new Error(`${this.name}: no QA result`);
      return { uniqueId: f.uniqueId, ...o.result, loss: o.loss };
    });
    return { features, results };
  }

  /** The metrics of a split; with paths, the reference's prediction files too. */
  evaluate(split: string, env: EvaluationEnv): TaskEvaluation {
    const hp = env.hparams;
    const { features, results } = this.rawResults(split, env, `evaluating ${this.name} (${split})`);
    const paths = env.paths;
    const scorer = new SpanBasedQaScorer(this.getExamples(split), features, {
      nBestSize: hp.n_best_size, maxAnswerLength: hp.max_answer_length, v2: this.v2, ...qaScorerOptions(hp, this.v2, env.style),
      evaluation: this.evaluation, naThreshold: hp.qa_na_threshold,
      outputFiles: paths ? { predictions: paths.qaPredsFile(this.name), nbest: paths.qaNbestFile(this.name), nullOdds: paths.qaNullOddsFile(this.name) } : undefined,
    });
    for (const r of results) scorer.update(r);
    return { metrics: scorer.getResults(), predictions: new Map() };
  }

  /** Answers by question id (no answer: '' where the null odds pass qa_na_threshold). */
  predictTest(split: string, env: EvaluationEnv): Map<string, unknown> {
    const hp = env.hparams;
    const { features, results } = this.rawResults(split, env, `predicting ${this.name} (${split})`);
    const opts = { nBestSize: hp.n_best_size, maxAnswerLength: hp.max_answer_length, v2: this.v2, ...qaScorerOptions(hp, this.v2, env.style) };
    const preds = postprocessQa(this.getExamples(split), features, results.map(({ loss: _, ...r }) => r), opts);
    return preds.nullOdds ? applyNullThreshold(preds.predictions, preds.nullOdds, hp.qa_na_threshold) : preds.predictions;
  }

  get evaluation(): QaEvaluationKind {
    return this.format === 'mrqa' ? 'mrqa' : this.v2 ? 'squad_v2' : 'squad_v1';
  }

  /** <raw>/<task>/<split>.json (SQuAD) or .jsonl (MRQA). */
  file(split: string): string {
    return join(finetuningPaths(this.ctx.hparams).rawDataDir(this.name), `${split}${this.format === 'mrqa' ? '.jsonl' : '.json'}`);
  }

  getExamples(split: string): QaExample[] {
    const cached = this.examples.get(split);
    if (cached) return cached;
    const opts = { taskName: this.name, split, v2: this.v2 };
    const data = this.format === 'mrqa' ? readMrqa(this.file(split), opts) : readSquad(this.file(split), opts);
    const warn = this.ctx.warn ?? defaultWarn;
    for (const f of data.failures) warn(f);
    if (data.failures.length > 0) warn(`${this.file(split)}: ${data.examples.length} examples created, ${data.failures.length} failures`);
    if (data.examples.length === 0) throw new UsageError(`${this.file(split)}: no questions could be read`);
    const examples = this.ctx.hparams.debug ? data.examples.slice(0, 100) : data.examples;
    this.examples.set(split, examples);
    return examples;
  }

  featurize(example: QaExample, isTraining: boolean): QaFeatures[] {
    const hp = this.ctx.hparams;
    return featurizeQa(this.ctx.tokenizer, example, isTraining, {
      maxSeqLength: hp.max_seq_length, maxQueryLength: hp.max_query_length, docStride: hp.doc_stride,
    });
  }

  /** The evaluation windows of a split (cached: the model runs on them, the scorer reads them). */
  evalFeatures(split: string): QaFeatures[] {
    let features = this.evalFeatureCache.get(split);
    if (!features) {
      features = this.getExamples(split).flatMap((e) => this.featurize(e, false));
      this.evalFeatureCache.set(split, features);
    }
    return features;
  }

  createScorer(split = 'dev', outputFiles?: QaOutputFiles): SpanBasedQaScorer {
    const hp = this.ctx.hparams;
    return new SpanBasedQaScorer(this.getExamples(split), this.evalFeatures(split), {
      nBestSize: hp.n_best_size, maxAnswerLength: hp.max_answer_length, jointPrediction: hp.joint_prediction,
      v2: this.v2, answerableClassifier: hp.answerable_classifier,
      evaluation: this.evaluation, naThreshold: hp.qa_na_threshold, outputFiles,
    });
  }

  /** The reference writes SQuAD 2.0 test predictions only. */
  testSplits(): string[] {
    return this.name === 'squad' ? ['test'] : [];
  }
}

const SQUAD_V2_METRICS = ['HasAns_exact', 'HasAns_f1', 'NoAns_exact', 'NoAns_f1', 'best_exact', 'best_f1', 'exact', 'f1'];
const MRQA_METRICS = ['exact_match', 'f1'];

function mrqa(data: string): BuiltinTask {
  return { info: { kind: 'qa', labels: null, metrics: MRQA_METRICS, data }, dataDir: true, create: (name, ctx) => new QaTask(name, ctx, 'mrqa', false) };
}

/** The family's tasks by name: SQuAD 2.0 and 1.1, and the MRQA sets. */
export const QA_TASKS: Readonly<Record<string, BuiltinTask>> = {
  squad: { info: { kind: 'qa', labels: null, metrics: SQUAD_V2_METRICS, data: 'SQuAD 2.0 JSON' }, dataDir: true, create: (name, ctx) => new QaTask(name, ctx, 'squad', true) },
  squadv1: { info: { kind: 'qa', labels: null, metrics: MRQA_METRICS, data: 'SQuAD 1.1 JSON' }, dataDir: true, create: (name, ctx) => new QaTask(name, ctx, 'squad', false) },
  newsqa: mrqa('MRQA NewsQA jsonl'),
  naturalqs: mrqa('MRQA NaturalQuestions jsonl'),
  triviaqa: mrqa('MRQA TriviaQA jsonl'),
  searchqa: mrqa('MRQA SearchQA jsonl'),
};
