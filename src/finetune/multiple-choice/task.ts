// The multiple-choice task: JSON-lines questions with their choices (see data.ts), a score per
// choice from HF's ElectraForMultipleChoice head, scored by accuracy.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import { finetuningPaths } from '../hparams.js';
import { argmax, outputOfKind, type BuiltinTask, type EvaluationEnv, type Task, type TaskContext, type TaskEvaluation } from '../task.js';
import type { HeadStyle } from '../model/head.js';
import type { BatchItem } from '../model/finetuning-model.js';
import type { SavedTask } from '../model/checkpoint.js';
import { AccuracyScorer, type ClassificationResult } from '../classification/metrics.js';
import { readChoiceFile, type ChoiceExample } from './data.js';
import { featurizeChoices, type ChoiceFeatures } from './features.js';

export class MultipleChoiceTask implements Task<ChoiceExample, ChoiceFeatures, ClassificationResult> {
  readonly kind = 'multiple_choice';
  readonly dataFiles = 'train.jsonl, dev.jsonl';
  private readonly examples = new Map<string, ChoiceExample[]>();

  constructor(readonly name: string, private readonly ctx: TaskContext) {}

  /** <raw>/<task>/<split>.jsonl. */
  file(split: string): string {
    return join(finetuningPaths(this.ctx.hparams).rawDataDir(this.name), `${split}.jsonl`);
  }

  getExamples(split: string): ChoiceExample[] {
    const cached = this.examples.get(split);
    if (cached) return cached;
    const file = this.file(split);
    let examples = readChoiceFile(file, { taskName: this.name, labelled: split !== 'test' });
    if (examples.length === 0) throw new UsageError(`${file}: no questions could be read`);
    if (this.ctx.hparams.debug) examples = examples.slice(0, 100);
    this.examples.set(split, examples);
    return examples;
  }

  /** Choices per question: those of the training file (or dev's); every split must have as many. */
  get numChoices(): number {
    const split = existsSync(this.file('train')) ? 'train' : 'dev';
    return this.getExamples(split)[0]!.choices.length;
  }

  featurize(example: ChoiceExample): ChoiceFeatures[] {
    const n = this.numChoices;
    if (example.choices.length !== n) {
      throw new UsageError(`task ${this.name}: the question on line ${example.line} has ${example.choices.length} choices, the training data ${n}`);
    }
    return [featurizeChoices(this.ctx.tokenizer, example, this.ctx.hparams.max_seq_length)];
  }

  batchItem(f: ChoiceFeatures, withTargets: boolean): BatchItem {
    return { task: this.name, input: f.choices, target: withTargets ? f.label : null };
  }

  savedTask(style: HeadStyle): SavedTask {
    return { name: this.name, kind: 'multiple_choice', style, labels: null, numChoices: this.numChoices };
  }

  createScorer(): AccuracyScorer {
    return new AccuracyScorer();
  }

  /** The choices' scores by question id. */
  private decode(split: string, env: EvaluationEnv, label: string, scorer: AccuracyScorer | null): Map<string, unknown> {
    const features = this.getExamples(split).map((e) => this.featurize(e)[0]!);
    const outputs = env.predict(features.map((f) => this.batchItem(f, scorer !== null)), label);
    const predictions = new Map<string, unknown>();
    features.forEach((f, i) => {
      const o = outputOfKind(this.name, outputs[i], 'multiple_choice');
      scorer?.update({ loss: o.loss, label: f.label, prediction: argmax(o.logits) });
      predictions.set(f.id, o.logits);
    });
    return predictions;
  }

  evaluate(split: string, env: EvaluationEnv): TaskEvaluation {
    const scorer = this.createScorer();
    const predictions = this.decode(split, env, `evaluating ${this.name} (${split})`, scorer);
    return { metrics: scorer.getResults(), predictions };
  }

  predictTest(split: string, env: EvaluationEnv): Map<string, unknown> {
    return this.decode(split, env, `predicting ${this.name} (${split})`, null);
  }

  testSplits(): string[] {
    return existsSync(this.file('test')) ? ['test'] : [];
  }
}

/** The family's task: <data_dir>/finetuning_data/multiple_choice/{train,dev,test}.jsonl. */
export const MULTIPLE_CHOICE_TASKS: Readonly<Record<string, BuiltinTask>> = {
  multiple_choice: {
    info: { kind: 'multiple_choice', labels: null, metrics: ['accuracy'], data: 'JSON lines: context, choices, label' },
    dataDir: true, create: (name, ctx) => new MultipleChoiceTask(name, ctx),
  },
};
