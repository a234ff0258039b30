// A tiny pre-training data dir (vocab.txt + pretrain_tfrecords built by the real builder) and
// tiny-model hparams, for the loop, checkpoint and loading tests.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPretrainingDataset } from '../../src/data/build.js';
import { Rng } from '../../src/nn/random.js';
import { readCorpus } from '../../src/data/corpora.js';
import { writeDocuments } from '../../src/data/corpus-export.js';
import { bertUncasedVocabText } from '../../src/tokenizer/bert-vocab.js';

/** The repository root (tests run from dist/test/pretrain). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const cliPath = join(repoRoot, 'bin', 'electra.js');

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `electra-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const NOUNS = ['cat', 'dog', 'bird', 'fish', 'horse', 'child', 'farmer', 'teacher', 'river', 'tree', 'house', 'garden'];
const VERBS = ['sees', 'likes', 'finds', 'follows', 'watches', 'helps', 'calls', 'feeds'];
const ADJECTIVES = ['big', 'small', 'old', 'young', 'quiet', 'happy', 'green', 'dark'];
const OTHERS = ['the', 'a', 'and', 'near', 'with', '.', ','];

/** vocab.txt of the tiny corpus: the BERT specials, the words, a few unused pieces. */
export function tinyVocab(): string[] {
  return ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...OTHERS, ...NOUNS, ...VERBS, ...ADJECTIVES, '##s', '##ly', '[unused0]'];
}

/** Sentences "the big cat sees a dog ." in documents of a few lines each. */
function tinyCorpus(docs: number, seed: number): string {
  const rng = new Rng(seed);
  const pick = (xs: string[]): string => xs[rng.int(xs.length)]!;
  const out: string[] = [];
  for (let d = 0; d < docs; d++) {
    const lines = 3 + rng.int(4);
    for (let l = 0; l < lines; l++) {
      out.push(`${pick(['the', 'a'])} ${pick(ADJECTIVES)} ${pick(NOUNS)} ${pick(VERBS)} ${pick(['the', 'a'])} ${pick(NOUNS)} ${pick(['near', 'with'])} the ${pick(NOUNS)} .`);
    }
    out.push('');
  }
  return out.join('\n');
}

export interface TinyDataDir {
  dataDir: string;
  vocab: string[];
  cleanup: () => void;
}

/** <dir>/vocab.txt and <dir>/pretrain_tfrecords (max_seq_length 32) from a generated corpus. */
export async function makeTinyDataDir(prefix: string, maxSeqLength = 32): Promise<TinyDataDir> {
  const t = tempDir(prefix);
  const corpus = join(t.dir, 'corpus');
  mkdirSync(corpus);
  writeFileSync(join(corpus, 'a.txt'), tinyCorpus(40, 1));
  writeFileSync(join(corpus, 'b.txt'), tinyCorpus(40, 2));
  const vocab = tinyVocab();
  const vocabFile = join(t.dir, 'vocab.txt');
  writeFileSync(vocabFile, vocab.join('\n') + '\n');
  await buildPretrainingDataset(
    { corpusDir: corpus, vocabFile, outputDir: join(t.dir, 'pretrain_tfrecords'), maxSeqLength },
    { inProcess: true },
  );
  return { dataDir: t.dir, vocab, cleanup: t.cleanup };
}

/** A tiny ELECTRA (hidden 32, 2 layers; generator hidden 16) for the tiny vocabulary. */
export function tinyHparams(vocabSize: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model_size: 'small',
    embedding_size: 16,
    model_hparam_overrides: { hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 64 },
    generator_hidden_size: 0.5,
    vocab_size: vocabSize,
    max_seq_length: 32,
    train_batch_size: 4,
    eval_batch_size: 4,
    num_train_steps: 12,
    num_warmup_steps: 2,
    learning_rate: 2e-3,
    save_checkpoints_steps: 4,
    keep_checkpoint_max: 2,
    iterations_per_loop: 1,
    seed: 7,
    ...extra,
  };
}

/**
 * The "it must learn" setup: the first 100 Brown documents, the bert-base-uncased vocabulary and
 * a 32-token dataset built by the real builder in dataDir, and the debug model's hparams for
 * 200 updates with a held-out evaluation (temperature 3 keeps the generator's samples varied).
 */
export async function makeBrownDataDir(dataDir: string): Promise<Record<string, unknown>> {
  const corpus = join(dataDir, 'corpus');
  writeDocuments('brown', readCorpus('brown').slice(0, 100), corpus);
  writeFileSync(join(dataDir, 'vocab.txt'), bertUncasedVocabText());
  await buildPretrainingDataset({ corpusDir: corpus, vocabFile: join(dataDir, 'vocab.txt'), outputDir: join(dataDir, 'pretrain_tfrecords'), maxSeqLength: 32 }, { inProcess: true });
  return {
    debug: true, max_seq_length: 32, learning_rate: 5e-4, num_warmup_steps: 20, num_train_steps: 200, save_checkpoints_steps: 200,
    temperature: 3, do_eval: true, num_eval_steps: 10, eval_batch_size: 16, iterations_per_loop: 10, seed: 1,
  };
}
