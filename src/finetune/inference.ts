// Inference with a fine-tuned model folder (written by `electra finetune`, or an HF
// ElectraForSequenceClassification / ...ForTokenClassification / ...ForQuestionAnswering
// folder): classify a sentence (pair), tag a sentence, answer a question over a passage.
import type { Kernels } from '../kernels/index.js';
import { join } from 'node:path';
import { FormatError, InputError, UsageError } from '../errors.js';
import { inferenceKernels } from '../pretrain/inference.js';
import { runByLength } from '../pretrain/predictor.js';
import { BertTokenizer, bertUncasedVocab } from '../tokenizer/index.js';
import type { TruncationStrategy } from '../tokenizer/tokenizer.js';
import { DEFAULT_HPARAMS } from './hparams.js';
import { featurizeQa } from './qa/features.js';
import type { TaggingFeatures } from './tagging/features.js';
import { postprocessQa, softmax, type NbestEntry, type QaRawResult } from './qa/postprocess.js';
import type { QaExample } from './qa/data.js';
import type { EncodedInput } from './features/batch.js';
import { FinetuningModel, type BatchItem, type ItemOutput } from './model/finetuning-model.js';
import { outputOfKind } from './task.js';
import { electraQaOptions } from './qa/family.js';
import { featurizeChoices } from './multiple-choice/features.js';
import {
  headSpecsOf, loadWeights, readFinetuningFolder, type FinetuningFolder, type SavedFinetuning, type SavedTask,
} from './model/checkpoint.js';

/** Options of FinetunedModel.load: backend, how many windows run together, int8. */
export interface LoadFinetunedOptions {
  kernels?: Kernels;
  /** Windows (or sentences) run together; default 4. */
  maxBatch?: number;
  /**
   * "int8": dynamic quantization, as for the pre-trained models (InferenceModelOptions.quantize):
   * the encoder's dense layers in int8; attention, LayerNorm, softmax and the task heads in fp32.
   * Default: fp32.
   */
  quantize?: 'int8';
}

/** The result of FinetunedModel.classify: the best label, its probability and every label's. */
export interface Classification {
  label: string;
  /** The label's probability. */
  score: number;
  probabilities: Record<string, number>;
}

/** The answer of FinetunedModel.choose: the most likely choice and every choice's probability. */
export interface Choice {
  /** Index of the most likely choice. */
  choice: number;
  /** Its probability. */
  score: number;
  /** Per choice. */
  probabilities: number[];
}

/** One word tagged by FinetunedModel.tag, with its tag and probability. */
export interface TaggedWord {
  word: string;
  tag: string;
  score: number;
  /** [start, end) of the word in code points of the sentence, when it was given as a string. */
  start?: number;
  end?: number;
}

/** The result of FinetunedModel.answer: the answer text, its probability, the no-answer score and the n-best list. */
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
  /** [start, end) of text in code points of the passage. */
  start: number;
  end: number;
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

/**
 * One input made ready to run: the model inputs it takes (a sentence, tagging pieces, QA windows,
 * one example of choices) and how their outputs make its result.
 */
export interface PreparedInput<R> {
  readonly items: readonly BatchItem[];
  /** The result from the items' outputs, in order. */
  finish(outputs: readonly ItemOutput[]): R;
}

/** Options of the prepare methods: the task (by name) and how to cut inputs that are too long. */
export interface PrepareOptions {
  task?: string;
  /** Cut sentence inputs longer than max_seq_length this way; without it they are an InputError naming length and limit. */
  truncation?: TruncationStrategy;
}

const EVAL = { training: false, stepSeed: 0, backward: false } as const;

function argmax(values: readonly number[]): number {
  let best = 0;
  values.forEach((v, i) => {
    if (v > values[best]!) best = i;
  });
  return best;
}

/** The longest sequence of an item (several for multiple choice). */
function itemLength(item: BatchItem): number {
  const inputs = Array.isArray(item.input) ? (item.input as readonly EncodedInput[]) : [item.input as EncodedInput];
  return Math.max(...inputs.map((i) => i.inputIds.length));
}

/** Whitespace-separated words with their [start, end) in code points. */
function wordsWithOffsets(sentence: string): { word: string; start: number; end: number }[] {
  const out: { word: string; start: number; end: number }[] = [];
  let cp = 0;
  let last = 0;
  for (const m of sentence.matchAll(/\S+/gu)) {
    cp += [...sentence.slice(last, m.index)].length;
    const length = [...m[0]].length;
    out.push({ word: m[0], start: cp, end: cp + length });
    cp += length;
    last = m.index! + m[0].length;
  }
  return out;
}

/** A fine-tuned model folder (ours or an HF ElectraFor* folder) ready to classify, score, tag and answer. */
export class FinetunedModel {
  readonly tasks: readonly SavedTask[];
  readonly settings: SavedFinetuning;

  private constructor(
    readonly dir: string, readonly model: FinetuningModel, readonly tokenizer: BertTokenizer, settings: SavedFinetuning,
    readonly maxBatch: number,
  ) {
    this.settings = settings;
    this.tasks = settings.tasks;
  }

  /** Loads a fine-tuned model folder (in int8 with `quantize: "int8"`). */
  static load(dir: string, opts: LoadFinetunedOptions = {}): FinetunedModel {
    const kernels = inferenceKernels(opts);
    // int8 quantizes the encoder's dense layers; the heads (a few small layers that make the
    // logits) stay fp32, which keeps more predictions equal to fp32's at no measurable cost.
    const headKernels = inferenceKernels({ ...(opts.kernels ? { kernels: opts.kernels } : {}) });
    const folder = readFinetuningFolder(dir);
    if (folder.tasks.length === 0) {
      throw new UsageError(`${dir} holds an ${folder.folder.architecture} without task heads: fine-tune it first (electra finetune)`);
    }
    const settings = folder.saved ?? defaultSettings(folder);
    const maxBatch = Math.max(1, opts.maxBatch ?? 4);
    const model = new FinetuningModel(kernels, folder.modelConfig, headSpecsOf(folder.tasks), {
      maxBatch, maxSeqLen: settings.max_seq_length, qa: settings.qa, headKernels,
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

  /** The task named (or the only one when no name is given); a UsageError listing the folder's tasks otherwise. */
  selectTask(name?: string): SavedTask {
    const all = this.tasks.map((t) => `${t.name} (${t.kind})`).join(', ');
    if (name === undefined) {
      if (this.tasks.length === 1) return this.tasks[0]!;
      throw new UsageError(`${this.dir} holds several tasks: ${all}; name one (--task NAME, or { task })`);
    }
    const task = this.tasks.find((t) => t.name === name);
    if (!task) throw new UsageError(`${this.dir} has no task '${name}'; it has ${all}`);
    return task;
  }

  private task(kinds: readonly SavedTask['kind'][], name: string | undefined, what: string): SavedTask {
    const candidates = this.tasks.filter((t) => kinds.includes(t.kind) && (name === undefined || t.name === name));
    if (candidates.length === 1) return candidates[0]!;
    const all = this.tasks.map((t) => `${t.name} (${t.kind})`).join(', ');
    if (candidates.length === 0) throw new UsageError(`${this.dir} has no ${name ? `task '${name}' for ${what}` : `${what} task`}; it has ${all}`);
    throw new UsageError(`${this.dir} has several ${what} tasks (${all}): pass { task }`);
  }

  /**
   * Runs prepared inputs: their model inputs together, in groups of similar length of at most
   * maxBatch, and gives one result per input, in order.
   */
  runPrepared<R>(inputs: readonly PreparedInput<R>[]): R[] {
    const flat = inputs.flatMap((input) => input.items);
    const outputs = runByLength(flat, itemLength, this.maxBatch, (group) => this.model.run(group, EVAL).outputs);
    let at = 0;
    return inputs.map((input) => {
      const mine = outputs.slice(at, at + input.items.length);
      at += input.items.length;
      return input.finish(mine);
    });
  }

  private one<R>(input: PreparedInput<R>): R {
    return this.runPrepared([input])[0]!;
  }

  /** The task's own max_seq_length (older folders: the folder's, for every task). */
  maxSeqLength(task: SavedTask): number {
    return task.maxSeqLength ?? this.settings.max_seq_length;
  }

  /** A sentence (pair) as the task's input: cut with `truncation`, else too long is an InputError. */
  private encodeSentence(task: SavedTask, text: string, pair: string | null | undefined, truncation: TruncationStrategy | undefined): EncodedInput {
    const max = this.maxSeqLength(task);
    let e;
    try {
      e = this.tokenizer.encode(text, pair || null, truncation ? { maxLength: max, truncation } : {});
    } catch (err) {
      throw new InputError((err as Error).message);
    }
    if (e.ids.length > max) {
      throw new InputError(`the input has ${e.ids.length} tokens; the model takes at most ${max} for task ${task.name} (its max_seq_length): pass truncation "longest_first", "only_first" or "only_second" to cut it`);
    }
    return { inputIds: e.ids, segmentIds: e.segmentIds };
  }

  /** classify, prepared for runPrepared (too long without `truncation`: an InputError). */
  prepareClassification(text: string, pair: string | null | undefined, opts: PrepareOptions = {}): PreparedInput<Classification> {
    const task = this.task(['classification'], opts.task, 'classification');
    const input = this.encodeSentence(task, text, pair, opts.truncation);
    return {
      items: [{ task: task.name, input, target: null }],
      finish: ([out]) => {
        const probs = softmax(outputOfKind(task.name, out, 'classification').logits);
        const best = argmax(probs);
        const labels = task.labels!;
        return { label: labels[best]!, score: probs[best]!, probabilities: Object.fromEntries(labels.map((l, i) => [l, probs[i]!])) };
      },
    };
  }

  /** score, prepared for runPrepared (too long without `truncation`: an InputError). */
  prepareRegression(text: string, pair: string | null | undefined, opts: PrepareOptions = {}): PreparedInput<number> {
    const task = this.task(['regression'], opts.task, 'regression');
    const input = this.encodeSentence(task, text, pair, opts.truncation);
    const [min, max] = task.targetRange ?? [0, 1];
    return {
      items: [{ task: task.name, input, target: null }],
      finish: ([out]) => min + outputOfKind(task.name, out, 'regression').prediction * (max - min),
    };
  }

  /** choose, prepared for runPrepared (a choice pair too long without `truncation`: an InputError). */
  prepareChoice(context: string, choices: readonly string[], opts: PrepareOptions & { question?: string } = {}): PreparedInput<Choice> {
    const task = this.task(['multiple_choice'], opts.task, 'multiple-choice');
    if (choices.length !== task.numChoices) throw new InputError(`task ${task.name} takes ${task.numChoices} choices, got ${choices.length}`);
    const question = opts.question ?? '';
    if (!opts.truncation) for (const c of choices) this.encodeSentence(task, context, question === '' ? c : `${question} ${c}`, undefined);
    const example = { taskName: task.name, eid: 0, id: '0', context, question, choices: [...choices], label: null, line: 0 };
    const f = featurizeChoices(this.tokenizer, example, this.maxSeqLength(task));
    return {
      items: [{ task: task.name, input: f.choices, target: null }],
      finish: ([out]) => {
        const probabilities = softmax(outputOfKind(task.name, out, 'multiple_choice').logits);
        const best = argmax(probabilities);
        return { choice: best, score: probabilities[best]!, probabilities };
      },
    };
  }

  /** tag, prepared for runPrepared: a sentence of any length (in pieces when it needs several inputs). */
  prepareTagging(sentence: string | readonly string[], opts: { task?: string } = {}): PreparedInput<TaggedWord[]> {
    const task = this.task(['tagging'], opts.task, 'tagging');
    const spans = typeof sentence === 'string' ? wordsWithOffsets(sentence) : null;
    const words = spans ? spans.map((s) => s.word) : [...(sentence as readonly string[])];
    const items: BatchItem[] = words.length === 0 ? [] : taggingInputs(this.tokenizer, words, this.maxSeqLength(task))
      .map((f) => ({ task: task.name, input: f, target: { positions: f.labeledPositions, labels: null } }));
    return {
      items,
      finish: (outputs) => outputs.flatMap((o) => outputOfKind(task.name, o, 'tagging').logits).map((l, i) => {
        const p = softmax(l);
        const best = argmax(p);
        const tagged: TaggedWord = { word: words[i]!, tag: task.labels![best]!, score: p[best]! };
        if (spans) [tagged.start, tagged.end] = [spans[i]!.start, spans[i]!.end];
        return tagged;
      }),
    };
  }

  /** answer, prepared for runPrepared: a passage of any length (in doc_stride windows). */
  prepareAnswer(question: string, passage: string, opts: { task?: string } = {}): PreparedInput<Answer> {
    const task = this.task(['qa'], opts.task, 'question-answering');
    if (question.trim() === '') throw new InputError('the question is empty');
    if (passage.trim() === '') throw new InputError('the passage is empty');
    const s = this.settings;
    const example: QaExample = {
      taskName: task.name, eid: 0, id: '0', question, context: passage, answers: [], isImpossible: false, answer: null,
    };
    const features = featurizeQa(this.tokenizer, example, false, {
      maxSeqLength: this.maxSeqLength(task), maxQueryLength: s.max_query_length, docStride: s.doc_stride,
    });
    const electra = task.style === 'electra';
    return {
      items: features.map((f) => ({ task: task.name, input: f, target: null })),
      finish: (outputs) => {
        const results: QaRawResult[] = features.map((f, i) => {
          const o = outputOfKind(task.name, outputs[i], 'qa');
          if (!o.result) throw new Error('expected QA outputs');
          return { uniqueId: f.uniqueId, ...o.result };
        });
        const preds = postprocessQa([example], features, results, {
          nBestSize: s.n_best_size, maxAnswerLength: s.max_answer_length, v2: true,
          jointPrediction: electra && s.qa.jointPrediction, answerableClassifier: electra && s.qa.answerableClassifier,
        });
        const nbest = preds.nbest.get('0')!;
        const bestAt = Math.max(0, nbest.findIndex((e) => e.text !== ''));
        const best = nbest[bestAt]!;
        const [from, to] = preds.spans!.get('0')![bestAt]!;
        const start = [...passage.slice(0, from)].length;
        const noAnswerScore = preds.nullOdds!.get('0')!;
        return {
          text: best.text, probability: best.probability, noAnswerScore, answerable: noAnswerScore <= s.qa_na_threshold, nbest,
          start, end: start + [...passage.slice(from, to)].length,
        };
      },
    };
  }

  /**
   * Class probabilities of a sentence or sentence pair. Input longer than the task's max_seq_length tokens
   * (with [CLS] and [SEP]s) is cut as the reference cuts it: a token at a time from the end of the
   * longer of the two texts.
   */
  classify(text: string, pair?: string | null, opts: { task?: string } = {}): Classification {
    return this.one(this.prepareClassification(text, pair, { ...opts, truncation: 'longest_first' }));
  }

  /** A regression task's prediction, in the units of its training targets (long input cut as in classify). */
  score(text: string, pair?: string | null, opts: { task?: string } = {}): number {
    return this.one(this.prepareRegression(text, pair, { ...opts, truncation: 'longest_first' }));
  }

  /**
   * The most likely of a question's choices (as many as the task was trained with): each choice
   * is read as the pair (context, question + choice), cut as in classify.
   */
  choose(context: string, choices: readonly string[], opts: { question?: string; task?: string } = {}): Choice {
    return this.one(this.prepareChoice(context, choices, { ...opts, truncation: 'longest_first' }));
  }

  /**
   * Tags of a sentence's words (whitespace-separated, with their offsets, or given as a list),
   * predicted at each word's first sub-token. Every word gets a tag: a sentence longer than one
   * input allows (the reference's rule: words + tokens + 1 <= the task's max_seq_length) is tagged in
   * consecutive pieces. No words (an empty string): an empty list.
   */
  tag(sentence: string | readonly string[], opts: { task?: string } = {}): TaggedWord[] {
    return this.one(this.prepareTagging(sentence, opts));
  }

  /**
   * The answer span to a question in a passage. A passage of any length is read in windows of
   * the task's max_seq_length tokens, doc_stride apart (as the reference); a question longer than
   * max_query_length tokens is cut to its first max_query_length. An empty question or passage
   * is an error.
   */
  answer(question: string, passage: string, opts: { task?: string } = {}): Answer {
    return this.one(this.prepareAnswer(question, passage, opts));
  }
}

/** Loads a fine-tuned model folder: FinetunedModel.load (`quantize: "int8"` for int8 inference). */
export function loadFinetuned(dir: string, options: LoadFinetunedOptions = {}): FinetunedModel {
  return FinetunedModel.load(dir, options);
}
