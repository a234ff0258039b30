// Inference with a fine-tuned model folder (written by `electra finetune`, or an HF
// ElectraForSequenceClassification / ...ForTokenClassification / ...ForQuestionAnswering
// folder): classify a sentence (pair), tag a sentence, answer a question over a passage.
import { kernels as defaultKernels, type Kernels } from '../kernels/index.js';
import { join } from 'node:path';
import { FormatError, UsageError } from '../errors.js';
import { BertTokenizer, bertUncasedVocab } from '../tokenizer/index.js';
import { DEFAULT_HPARAMS } from './hparams.js';
import { featurizeQa } from './qa/features.js';
import type { TaggingFeatures } from './tagging/features.js';
import { postprocessQa, softmax, type NbestEntry, type QaRawResult } from './qa/postprocess.js';
import type { QaExample } from './qa/data.js';
import { FinetuningModel, type BatchItem, type ItemOutput } from './model/finetuning-model.js';
import { outputOfKind } from './task.js';
import { electraQaOptions } from './qa/family.js';
import { featurizeChoices } from './multiple-choice/features.js';
import {
  headSpecsOf, loadWeights, readFinetuningFolder, type FinetuningFolder, type SavedFinetuning, type SavedTask,
} from './model/checkpoint.js';

export interface LoadFinetunedOptions {
  kernels?: Kernels;
  /** Windows (or sentences) run together; default 4. */
  maxBatch?: number;
}

export interface Classification {
  label: string;
  /** The label's probability. */
  score: number;
  probabilities: Record<string, number>;
}

export interface Choice {
  /** Index of the most likely choice. */
  choice: number;
  /** Its probability. */
  score: number;
  /** Per choice. */
  probabilities: number[];
}

export interface TaggedWord {
  word: string;
  tag: string;
  score: number;
}

export interface Answer {
  /** The best span (the reference's best non-empty prediction). */
  text: string;
  /** Its probability among the n-best spans. */
  probability: number;
  /** The no-answer score (higher: more likely unanswerable). */
  noAnswerScore: number;
  /** noAnswerScore is at most the model's threshold (qa_na_threshold; 0 for HF heads). */
  answerable: boolean;
  nbest: NbestEntry[];
}

/**
 * Tagging inputs for any number of words: consecutive pieces of the sentence, each exactly as
 * featurizeTagging builds it for those words when they fit (the reference's rule, with a slot
 * per word in reserve: before each word, words + 2 + tokens so far + 1 <= maxSeqLength, and the
 * word's tokens fit), so a sentence that fits gets the very input of training. A word too long
 * for an input by itself gets one of its own with its sub-tokens cut (its tag is read at the first).
 */
export function taggingInputs(tokenizer: BertTokenizer, words: readonly string[], maxSeqLength: number): TaggingFeatures[] {
  const out: TaggingFeatures[] = [];
  let ids: number[][] = [];
  let tokens = 1; // [CLS]
  const flush = (): void => {
    if (ids.length === 0) return;
    const inputIds = [tokenizer.clsId];
    const labeledPositions: number[] = [];
    for (const pieces of ids) {
      labeledPositions.push(inputIds.length);
      inputIds.push(...pieces.slice(0, Math.max(0, maxSeqLength - 1 - inputIds.length)));
    }
    inputIds.push(tokenizer.sepId);
    out.push({ eid: 0, inputIds, segmentIds: inputIds.map(() => 1), labeledPositions, labels: labeledPositions.map(() => 0) });
    ids = [];
    tokens = 1;
  };
  for (const word of words) {
    const pieces = tokenizer.pieces(word).ids;
    const fits = ids.length + 1 + 2 + tokens + 1 <= maxSeqLength && tokens + pieces.length + 1 <= maxSeqLength;
    if (!fits) flush();
    ids.push(pieces);
    tokens += pieces.length;
  }
  flush();
  return out;
}

/** Settings of folders without electra-ts information (HF fine-tuned models), from the reference defaults. */
function defaultSettings(folder: FinetuningFolder): SavedFinetuning {
  const hp = DEFAULT_HPARAMS;
  return {
    tasks: folder.tasks, max_seq_length: Math.min(512, folder.modelConfig.max_position_embeddings),
    max_query_length: hp.max_query_length, doc_stride: hp.doc_stride, n_best_size: hp.n_best_size,
    max_answer_length: hp.max_answer_length, qa_na_threshold: 0,
    qa: electraQaOptions(hp),
  };
}

export class FinetunedModel {
  readonly tasks: readonly SavedTask[];
  readonly settings: SavedFinetuning;

  private constructor(
    readonly dir: string, readonly model: FinetuningModel, readonly tokenizer: BertTokenizer, settings: SavedFinetuning,
    private readonly maxBatch: number,
  ) {
    this.settings = settings;
    this.tasks = settings.tasks;
  }

  /** Loads a fine-tuned model folder. */
  static load(dir: string, opts: LoadFinetunedOptions = {}): FinetunedModel {
    const folder = readFinetuningFolder(dir);
    if (folder.tasks.length === 0) {
      throw new UsageError(`${dir} holds an ${folder.folder.architecture} without task heads: fine-tune it first (electra finetune)`);
    }
    const settings = folder.saved ?? defaultSettings(folder);
    const maxBatch = opts.maxBatch ?? 4;
    const model = new FinetuningModel(opts.kernels ?? defaultKernels(), folder.modelConfig, headSpecsOf(folder.tasks), {
      maxBatch, maxSeqLen: settings.max_seq_length, qa: settings.qa,
    });
    const report = loadWeights(model, folder);
    if (report.freshHeads.length > 0) throw new UsageError(`${dir}: no weights for the ${report.freshHeads.join(', ')} head(s)`);
    const vocab = folder.folder.vocab ?? bertUncasedVocab();
    if (vocab.length !== folder.modelConfig.vocab_size) {
      const where = folder.folder.vocab ? join(dir, 'vocab.txt') : `${dir} (no vocab.txt: BERT's uncased vocabulary)`;
      throw new FormatError(where, `has ${vocab.length} tokens but config.json says vocab_size ${folder.modelConfig.vocab_size}: the vocabulary is not this model's`);
    }
    const tokenizer = BertTokenizer.fromVocab(vocab, { lowerCase: folder.folder.tokenizer?.do_lower_case ?? true });
    return new FinetunedModel(dir, model, tokenizer, settings, maxBatch);
  }

  private task(kinds: readonly SavedTask['kind'][], name: string | undefined, what: string): SavedTask {
    const candidates = this.tasks.filter((t) => kinds.includes(t.kind) && (name === undefined || t.name === name));
    if (candidates.length === 1) return candidates[0]!;
    const all = this.tasks.map((t) => `${t.name} (${t.kind})`).join(', ');
    if (candidates.length === 0) throw new UsageError(`${this.dir} has no ${name ? `task '${name}' for ${what}` : `${what} task`}; it has ${all}`);
    throw new UsageError(`${this.dir} has several ${what} tasks (${all}): pass { task }`);
  }

  private run(items: BatchItem[]): ItemOutput[] {
    const out: ItemOutput[] = [];
    for (let i = 0; i < items.length; i += this.maxBatch) {
      out.push(...this.model.run(items.slice(i, i + this.maxBatch), { training: false, stepSeed: 0, backward: false }).outputs);
    }
    return out;
  }

  private encodePair(text: string, pair: string | null | undefined): BatchItem['input'] {
    const e = this.tokenizer.encode(text, pair || null, { maxLength: this.settings.max_seq_length, truncation: 'longest_first' });
    return { inputIds: e.ids, segmentIds: e.segmentIds };
  }

  /**
   * Class probabilities of a sentence or sentence pair. Input longer than max_seq_length tokens
   * (with [CLS] and [SEP]s) is cut as the reference cuts it: a token at a time from the end of the
   * longer of the two texts.
   */
  classify(text: string, pair?: string | null, opts: { task?: string } = {}): Classification {
    const task = this.task(['classification'], opts.task, 'classification');
    const o = outputOfKind(task.name, this.run([{ task: task.name, input: this.encodePair(text, pair), target: null }])[0], 'classification');
    const probs = softmax(o.logits);
    let best = 0;
    probs.forEach((p, i) => {
      if (p > probs[best]!) best = i;
    });
    const labels = task.labels!;
    return { label: labels[best]!, score: probs[best]!, probabilities: Object.fromEntries(labels.map((l, i) => [l, probs[i]!])) };
  }

  /** A regression task's prediction, in the units of its training targets (long input cut as in classify). */
  score(text: string, pair?: string | null, opts: { task?: string } = {}): number {
    const task = this.task(['regression'], opts.task, 'regression');
    const o = outputOfKind(task.name, this.run([{ task: task.name, input: this.encodePair(text, pair), target: null }])[0], 'regression');
    const [min, max] = task.targetRange ?? [0, 1];
    return min + o.prediction * (max - min);
  }

  /**
   * The most likely of a question's choices (as many as the task was trained with): each choice
   * is read as the pair (context, question + choice), cut as in classify.
   */
  choose(context: string, choices: readonly string[], opts: { question?: string; task?: string } = {}): Choice {
    const task = this.task(['multiple_choice'], opts.task, 'multiple-choice');
    if (choices.length !== task.numChoices) throw new UsageError(`${this.dir}: task ${task.name} takes ${task.numChoices} choices, got ${choices.length}`);
    const example = { taskName: task.name, eid: 0, id: '0', context, question: opts.question ?? '', choices: [...choices], label: null, line: 0 };
    const f = featurizeChoices(this.tokenizer, example, this.settings.max_seq_length);
    const o = outputOfKind(task.name, this.run([{ task: task.name, input: f.choices, target: null }])[0], 'multiple_choice');
    const probabilities = softmax(o.logits);
    let best = 0;
    probabilities.forEach((p, i) => {
      if (p > probabilities[best]!) best = i;
    });
    return { choice: best, score: probabilities[best]!, probabilities };
  }

  /**
   * Tags of a sentence's words (whitespace-separated, or given as a list), predicted at each
   * word's first sub-token. Every word gets a tag: a sentence longer than one input allows (the
   * reference's rule: words + tokens + 1 <= max_seq_length) is tagged in consecutive pieces.
   * No words (an empty string): an empty list.
   */
  tag(sentence: string | readonly string[], opts: { task?: string } = {}): TaggedWord[] {
    const task = this.task(['tagging'], opts.task, 'tagging');
    const words = typeof sentence === 'string' ? sentence.split(/\s+/).filter((w) => w !== '') : [...sentence];
    if (words.length === 0) return [];
    const items: BatchItem[] = taggingInputs(this.tokenizer, words, this.settings.max_seq_length)
      .map((f) => ({ task: task.name, input: f, target: { positions: f.labeledPositions, labels: null } }));
    const logits = this.run(items).flatMap((o) => outputOfKind(task.name, o, 'tagging').logits);
    return logits.map((l, i) => {
      const p = softmax(l);
      let best = 0;
      p.forEach((v, j) => {
        if (v > p[best]!) best = j;
      });
      return { word: words[i]!, tag: task.labels![best]!, score: p[best]! };
    });
  }

  /**
   * The answer span to a question in a passage. A passage of any length is read in windows of
   * max_seq_length tokens, doc_stride apart (as the reference); a question longer than
   * max_query_length tokens is cut to its first max_query_length. An empty question or passage
   * is an error.
   */
  answer(question: string, passage: string, opts: { task?: string } = {}): Answer {
    const task = this.task(['qa'], opts.task, 'question-answering');
    if (question.trim() === '') throw new UsageError('answer(): the question is empty');
    if (passage.trim() === '') throw new UsageError('answer(): the passage is empty');
    const s = this.settings;
    const example: QaExample = {
      taskName: task.name, eid: 0, id: '0', question, context: passage, answers: [], isImpossible: false, answer: null,
    };
    const features = featurizeQa(this.tokenizer, example, false, {
      maxSeqLength: s.max_seq_length, maxQueryLength: s.max_query_length, docStride: s.doc_stride,
    });
    const outputs = this.run(features.map((f) => ({ task: task.name, input: f, target: null })));
    const results: QaRawResult[] = features.map((f, i) => {
      const o = outputOfKind(task.name, outputs[i], 'qa');
      if (!o.result) throw new Error('expected QA outputs');
      return { uniqueId: f.uniqueId, ...o.result };
    });
    const electra = task.style === 'electra';
    const preds = postprocessQa([example], features, results, {
      nBestSize: s.n_best_size, maxAnswerLength: s.max_answer_length, v2: true,
      jointPrediction: electra && s.qa.jointPrediction, answerableClassifier: electra && s.qa.answerableClassifier,
    });
    const nbest = preds.nbest.get('0')!;
    const best = nbest.find((e) => e.text !== '') ?? nbest[0]!;
    const noAnswerScore = preds.nullOdds!.get('0')!;
    return { text: best.text, probability: best.probability, noAnswerScore, answerable: noAnswerScore <= s.qa_na_threshold, nbest };
  }
}
