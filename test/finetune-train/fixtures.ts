// Shared by the fine-tuning run tests: a tiny encoder, small GLUE / SQuAD 2.0 files in the
// public formats, and a pre-trained ElectraForPreTraining folder as pre-training writes it.
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { jsKernels } from '../../src/kernels/index.js';
import { ElectraDiscriminator } from '../../src/model/discriminator.js';
import type { ElectraConfig } from '../../src/model/config.js';
import { defaultElectraConfig } from '../../src/io/hf-config.js';
import { writeHfFolder } from '../../src/io/hf-folder.js';
import { bertUncasedVocab } from '../../src/tokenizer/index.js';
import { type TempDir, tsv } from '../finetune/fixtures.js';
import { Rng } from '../../src/nn/random.js';
import { FinetuningModel, type HeadSpec } from '../../src/finetune/model/finetuning-model.js';
import type { SavedFinetuning, SavedTask } from '../../src/finetune/model/checkpoint.js';
import type { ElectraQaOptions } from '../../src/finetune/qa/head.js';

/** Discards progress bars. */
export const quiet = new Writable({ write: (_chunk, _enc, done) => done() });

export const ENCODER: ElectraConfig = {
  vocab_size: 30522, embedding_size: 16, hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64,
  hidden_act: 'gelu', hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1, max_position_embeddings: 128,
  type_vocab_size: 2, initializer_range: 0.02, layer_norm_eps: 1e-12,
};
/** The hparams that describe ENCODER. */
export const SIZE = {
  model_hparam_overrides: { hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 128 },
  embedding_size: 16,
};

export const WORDS = ['the', 'cat', 'dog', 'sat', 'ran', 'on', 'a', 'mat', 'house', 'red', 'big', 'small', 'river', 'city', 'old', 'man'];
export function sentence(i: number, n = 6): string {
  return Array.from({ length: n }, (_, j) => WORDS[(i * 7 + j * 3) % WORDS.length]).join(' ') + '.';
}

export function writeGlue(dir: TempDir): void {
  const rte = (from: number, n: number, labelled: boolean): string => tsv([
    labelled ? ['index', 'sentence1', 'sentence2', 'label'] : ['index', 'sentence1', 'sentence2'],
    ...Array.from({ length: n }, (_, i) => {
      const row = [String(i), sentence(from + i), sentence(from + i + (i % 2))];
      return labelled ? [...row, i % 2 ? 'not_entailment' : 'entailment'] : row;
    }),
  ]);
  dir.write('finetuning_data/rte/train.tsv', rte(0, 12, true));
  dir.write('finetuning_data/rte/dev.tsv', rte(100, 6, true));
  dir.write('finetuning_data/rte/test.tsv', rte(200, 3, false));
  const mrpc = (from: number, n: number, labelled: boolean): string => tsv([
    [labelled ? 'Quality' : 'index', '#1 ID', '#2 ID', '#1 String', '#2 String'],
    ...Array.from({ length: n }, (_, i) => [labelled ? String(i % 2) : String(i), String(1000 + i), String(2000 + i), sentence(from + i, 8), sentence(from + 2 * i, 7)]),
  ]);
  dir.write('finetuning_data/mrpc/train.tsv', mrpc(0, 10, true));
  dir.write('finetuning_data/mrpc/dev.tsv', mrpc(50, 6, true));
  dir.write('finetuning_data/mrpc/test.tsv', mrpc(80, 2, false));
}

export function writeSquad(dir: TempDir): void {
  const paragraph = (k: number): unknown => {
    const context = `The ${WORDS[k % 16]} river flows through the old city of Avalon${k}. It was named by Marta in ${1800 + k}.`;
    const year = String(1800 + k);
    return {
      context,
      qas: [
        { id: `q${k}a`, question: 'Who named the river?', is_impossible: false, answers: [{ text: 'Marta', answer_start: context.indexOf('Marta') }] },
        { id: `q${k}b`, question: 'When was it named?', is_impossible: false, answers: [{ text: year, answer_start: context.indexOf(year) }] },
        { id: `q${k}c`, question: 'Who crossed the bridge?', is_impossible: true, answers: [], plausible_answers: [] },
      ],
    };
  };
  const file = (from: number, n: number): string => JSON.stringify({
    version: 'v2.0', data: [{ title: 'Rivers', paragraphs: Array.from({ length: n }, (_, i) => paragraph(from + i)) }],
  });
  dir.write('finetuning_data/squad/train.json', file(0, 4));
  dir.write('finetuning_data/squad/dev.json', file(10, 2));
}

/** An HF ElectraForPreTraining folder, as pre-training writes it, at models/<name>/checkpoint-3/discriminator. */
export function writePretrained(dir: TempDir, name: string): string {
  const disc = new ElectraDiscriminator(jsKernels, ENCODER, { maxBatch: 1, maxSeqLen: 8 });
  disc.params.initialize(1);
  const tensors = new Map(disc.params.hfStateDict('discriminator').map(({ name: n, ref }) => [n, { shape: [...ref.shape], data: Float32Array.from(ref.value) }]));
  const out = join(dir.path, 'models', name, 'checkpoint-3', 'discriminator');
  writeHfFolder(out, { config: defaultElectraConfig({ ...ENCODER, architectures: ['ElectraForPreTraining'] }), tensors, vocab: bertUncasedVocab() });
  return out;
}


// Saved fine-tuned folders for the inference tests: one task of each kind on ENCODER.
export const QA: ElectraQaOptions = { jointPrediction: true, beamSize: 4, answerableClassifier: true, answerableUsesStartLogits: true, answerableWeight: 0.5 };
export const TASKS: SavedTask[] = [
  { name: 'rte', kind: 'classification', style: 'electra', labels: ['entailment', 'not_entailment'] },
  { name: 'sts', kind: 'regression', style: 'electra', labels: null, targetRange: [0, 5] },
  { name: 'pos', kind: 'tagging', style: 'electra', labels: ['at', 'nn', 'vb', 'jj'], tokenLevel: true },
  { name: 'squad', kind: 'qa', style: 'electra', labels: null },
];

/** What inference needs for these tasks at max_seq_length 32 (QA windows doc_stride 8 apart). */
export function saved(tasks: SavedTask[]): SavedFinetuning {
  return { tasks, max_seq_length: 32, max_query_length: 12, doc_stride: 8, n_best_size: 5, max_answer_length: 6, qa_na_threshold: -2.75, qa: QA };
}

/** A model with random (not tiny) weights so outputs differ between inputs. */
export function randomModel(specs: HeadSpec[], seed: number): FinetuningModel {
  const model = new FinetuningModel(jsKernels, ENCODER, specs, { maxBatch: 4, maxSeqLen: 48, qa: QA });
  model.initialize(seed);
  const rng = new Rng(seed + 1);
  const p = model.params.params;
  for (let i = 0; i < p.length; i++) p[i] += (rng.uniform() * 2 - 1) * 0.05;
  return model;
}
