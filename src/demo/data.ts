// The demo's data stages: the shipped corpora as text (Brown's fine-tuning dev documents held
// out), a WordPiece vocabulary trained on that text, and the pre-training datasets.
import { availableParallelism } from 'node:os';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { readCorpus, type TextDocument } from '../data/corpora.js';
import { splitSentences, writeDocuments } from '../data/corpus-export.js';
import { buildPretrainingDataset, type BuildResult } from '../data/build.js';
import { brownDocuments } from '../finetune/data/brown.js';
import { writeFileAtomic } from '../io/files.js';
import { trainVocabFromDirectory } from '../tokenizer/trainer.js';
import { Progress } from '../util/progress.js';
import type { DemoScale } from './settings.js';

export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export interface CorpusSummary {
  /** Pre-training text: documents and bytes per corpus. */
  corpora: { name: string; documents: number; bytes: number }[];
  heldout: { documents: number; bytes: number };
}

function brownText(split: 'train' | 'dev', limit: number | null): TextDocument[] {
  const docs = brownDocuments(split);
  return (limit === null ? docs : docs.slice(0, limit)).map((d) => ({
    id: `${d.category}-${d.id}`, lines: d.sentences.map((s) => s.words.join(' ')),
  }));
}

/**
 * Writes the pre-training text to `corpusDir` (Brown's training documents, State of the Union,
 * Moby Dick) and the Brown documents the fine-tuning tasks evaluate on to `heldoutDir`, so the
 * held-out evaluation, the example sentences and the fine-tuning dev sets are text the model
 * never saw in pre-training.
 */
export function writeCorpora(corpusDir: string, heldoutDir: string, scale: DemoScale, stream?: ProgressStream): CorpusSummary {
  rmSync(corpusDir, { recursive: true, force: true });
  rmSync(heldoutDir, { recursive: true, force: true });
  const progress = new Progress({ label: 'corpus', total: 4, unit: 'items', ...(stream ? { stream } : {}) });
  const corpora: CorpusSummary['corpora'] = [];
  const add = (name: string, docs: TextDocument[]): void => {
    const r = writeDocuments(name, docs, corpusDir);
    corpora.push({ name, documents: r.documents, bytes: r.bytes });
    progress.update(corpora.length, name);
  };
  add('brown', brownText('train', scale.corpusDocs.brown));
  // Addresses come as one paragraph a line; the builder packs lines into examples, so split them.
  add('sotu', readCorpus('sotu', scale.corpusDocs.sotu ?? undefined).map((d) => ({ id: d.id, lines: d.lines.flatMap(splitSentences) })));
  add('mobydick', readCorpus('mobydick', scale.corpusDocs.mobydick ?? undefined));
  const held = writeDocuments('brown', brownText('dev', scale.heldoutDocs), heldoutDir);
  progress.update(4, 'held-out brown');
  progress.finish();
  return { corpora, heldout: { documents: held.documents, bytes: held.bytes } };
}

/** Trains the WordPiece vocabulary on the pre-training text and writes vocab.txt atomically. */
export async function trainVocab(corpusDir: string, vocabFile: string, vocabSize: number, stream?: ProgressStream): Promise<number> {
  let progress: Progress | undefined;
  const tokens = await trainVocabFromDirectory(corpusDir, { vocabSize, lowerCase: true, minFrequency: 2, limitAlphabet: 1000 }, (bytes, total) => {
    progress ??= new Progress({ label: 'vocab: counting words', total, unit: 'bytes', ...(stream ? { stream } : {}) });
    progress.update(bytes);
  });
  progress?.finish();
  writeFileAtomic(vocabFile, [tokens.join('\n') + '\n']);
  return tokens.length;
}

/** Builds one pre-training dataset (the builder finishes an interrupted build itself). */
export async function buildDataset(
  label: string, corpusDir: string, vocabFile: string, outputDir: string, maxSeqLength: number, seed: number, stream?: ProgressStream,
): Promise<BuildResult> {
  let progress: Progress | undefined;
  const result = await buildPretrainingDataset({
    corpusDir, vocabFile, outputDir, maxSeqLength, seed, numProcesses: Math.min(2, availableParallelism()),
  }, {
    onProgress: (p) => {
      progress ??= new Progress({ label, total: p.totalBytes, unit: 'bytes', ...(stream ? { stream } : {}) });
      progress.update(p.bytesRead, `${p.examples} examples`);
    },
  });
  progress?.finish(`${result.manifest.counts.examples} examples`);
  return result;
}

export function corpusDirs(outputDir: string): { corpus: string; heldout: string; vocab: string; pretrainData: string; heldoutData: string } {
  return {
    corpus: join(outputDir, 'corpus'),
    heldout: join(outputDir, 'heldout'),
    vocab: join(outputDir, 'vocab.txt'),
    pretrainData: join(outputDir, 'pretrain_tfrecords'),
    heldoutData: join(outputDir, 'heldout_tfrecords'),
  };
}
