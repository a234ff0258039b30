// The predictor of a fine-tuned model (`electra predict` and `electra serve` on what `electra
// finetune` writes): one record per input, by the task's kind, checked and tokenized on its own;
// prepared inputs then run together (QA windows and tagging pieces included).
import { InputError } from '../errors.js';
import { textOf } from '../pretrain/inference.js';
import { textRecord, type Predictor, type TextPredictorOptions } from '../pretrain/predictor.js';
import type { HeadKind } from './families.js';
import type { FinetunedModel, PreparedInput, PrepareOptions } from './inference.js';
import { readTaskFile } from './task-file.js';

/** Which task of the folder to run, and how to cut sentence inputs that are too long. */
export interface FinetunedPredictorOptions extends TextPredictorOptions {
  /** The task's name; needed when the folder holds several. */
  task?: string;
}

/** What each kind of task predicts, as the predictor's `task` names it (HF's pipeline names). */
const PIPELINES: Record<HeadKind, string> = {
  classification: 'text-classification', regression: 'text-regression', tagging: 'token-classification',
  qa: 'question-answering', multiple_choice: 'multiple-choice',
};

function objectRecord(record: unknown, expected: string): Record<string, unknown> {
  if (record !== null && typeof record === 'object' && !Array.isArray(record)) return record as Record<string, unknown>;
  throw new InputError(`expected a JSON object ${expected}`);
}

function stringField(r: Record<string, unknown>, name: string, expected: string): string {
  if (typeof r[name] !== 'string') throw new InputError(`expected a "${name}" string field (${expected})`);
  return r[name] as string;
}

function stringList(value: unknown, name: string): string[] {
  if (!Array.isArray(value) || !value.every((w) => typeof w === 'string')) throw new InputError(`"${name}" must be a list of strings`);
  return value as string[];
}

/**
 * A fine-tuned model's predictor, for one of its tasks. Records and results by the task's kind:
 * classification {"text", "text_pair"?} -> {"label", "score", "probabilities"}; regression
 * {"text", "text_pair"?} -> {"score"}; tagging {"text"} or {"words": [...]} -> {"tags": [{"word",
 * "tag", "score", "start"?, "end"?}]}; QA {"question", "context"} -> {"text", "start", "end",
 * "probability", "noAnswerScore", "answerable", "nbest"}; multiple choice {"context", "question"?,
 * "choices": [...]} -> {"choice", "score", "probabilities"}. Offsets are [start, end) in code
 * points. A plain string is the "text" of sentence and tagging tasks.
 */
export function finetunedPredictor(model: FinetunedModel, options: FinetunedPredictorOptions = {}): Predictor<PreparedInput<unknown>, unknown> {
  const task = model.selectTask(options.task);
  const opts: PrepareOptions = { task: task.name, ...(options.truncation ? { truncation: options.truncation } : {}) };
  const prepare = (record: unknown): PreparedInput<unknown> => {
    switch (task.kind) {
      case 'classification':
      case 'regression': {
        const [text, pair] = textOf(textRecord(record));
        return task.kind === 'classification' ? model.prepareClassification(text, pair, opts) : wrap(model.prepareRegression(text, pair, opts), (score) => ({ score }));
      }
      case 'tagging': {
        if (typeof record === 'string') return wrap(model.prepareTagging(record, opts), (tags) => ({ tags }));
        const r = objectRecord(record, 'with a "text" string or a "words" list');
        const sentence = r['words'] !== undefined ? stringList(r['words'], 'words') : stringField(r, 'text', 'or a "words" list');
        return wrap(model.prepareTagging(sentence, opts), (tags) => ({ tags }));
      }
      case 'qa': {
        const r = objectRecord(record, 'with "question" and "context"');
        return model.prepareAnswer(stringField(r, 'question', 'and "context"'), stringField(r, 'context', 'the passage'), opts);
      }
      case 'multiple_choice': {
        const r = objectRecord(record, 'with "context" and "choices"');
        const question = r['question'] === undefined ? '' : stringField(r, 'question', 'optional');
        return model.prepareChoice(stringField(r, 'context', 'and "choices"'), stringList(r['choices'], 'choices'), { ...opts, question });
      }
    }
  };
  return {
    task: `${PIPELINES[task.kind]} (${task.name})`,
    maxBatch: model.maxBatch,
    prepare,
    run: (inputs) => model.runPrepared(inputs),
    readFile: (file, reader) => readTaskFile(file, task, reader),
  };
}

function wrap<R, S>(input: PreparedInput<R>, to: (r: R) => S): PreparedInput<S> {
  return { items: input.items, finish: (outputs) => to(input.finish(outputs)) };
}
