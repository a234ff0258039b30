// Tiny fine-tuning runs on the shipped Brown demo tasks (random initialisation, a small
// encoder, subsets of the data): dev accuracy must clearly beat the majority-class baseline.
// The models they leave, and a tiny SQuAD 2.0 model, then run the README's inference example.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveHparams } from '../../src/finetune/hparams.js';
import { runFinetuning } from '../../src/finetune/runner.js';
import { getTasks, type AnyTask } from '../../src/finetune/tasks.js';
import { loadFinetuned, type FinetunedModel, type PreparedInput } from '../../src/finetune/inference.js';
import { compareInt8, logitRows } from '../../bench/finetune-int8.js';
import type { SentenceExample } from '../../src/finetune/classification/data.js';
import type { TaggingExample } from '../../src/finetune/tagging/features.js';

import { TempDir } from '../finetune/fixtures.js';
import { quiet, writeSquad } from './fixtures.js';

/** One data dir for every run of this file: the README example loads the models they save. */
const data = new TempDir('ft-brown-');
after(() => data.remove());

const TINY = {
  random_init: true,
  model_hparam_overrides: { hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64 },
  embedding_size: 32,
  max_seq_length: 64,
  learning_rate: 2e-3,
  train_batch_size: 16,
  eval_batch_size: 32,
  predict_batch_size: 32,
};

/** Keeps every `trainEvery`-th training and `devEvery`-th dev example that passes `keep`. */
function subset<T>(task: AnyTask, keep: (e: T) => boolean, trainEvery: number, devEvery: number): AnyTask {
  const all = task.getExamples.bind(task) as (split: string) => T[];
  (task as unknown as { getExamples: (split: string) => T[] }).getExamples = (split) => {
    const kept = all(split).filter(keep);
    return kept.filter((_, i) => i % (split === 'train' ? trainEvery : devEvery) === 0);
  };
  return task;
}

/**
 * int8 (dynamic quantization) against fp32 on the dev set of a model just fine-tuned. Issue 19 asks
 * for >= 99% agreement, <= 0.5 point and logits' cosine >= 0.999 at the demo's scale (measured by
 * `npm run bench -- finetune-int8`); this one-layer model on little data gets looser bounds that
 * still catch a broken int8 path (a wrong scale or zero point moves logits far more).
 */
function checkInt8(task: string, dir: string, prepare: (m: FinetunedModel) => PreparedInput<unknown>[], gold: (labels: string[]) => number[]): void {
  const fp32 = loadFinetuned(dir);
  const int8 = loadFinetuned(dir, { quantize: 'int8' });
  const a = logitRows(fp32, prepare(fp32));
  const b = logitRows(int8, prepare(int8));
  assert.ok(a.some((row, i) => row.some((v, j) => v !== b[i]![j])), 'the int8 logits are not the fp32 ones');
  const c = compareInt8(a, b, gold([...fp32.tasks[0]!.labels!]));
  console.log(`${task} int8 vs fp32: ${c.rows} rows, agreement ${(100 * c.agreement).toFixed(2)}%, score ${c.scoreFp32.toFixed(2)} -> ${c.scoreInt8.toFixed(2)}, cosine mean ${c.cosineMean.toFixed(5)} min ${c.cosineMin.toFixed(5)}`);
  assert.ok(c.agreement >= 0.97, `agreement ${c.agreement}`);
  assert.ok(Math.abs(c.scoreDelta) <= 1.5, `score moved ${c.scoreDelta} points`);
  assert.ok(c.cosineMean >= 0.9995 && c.cosineMin >= 0.995, `cosine mean ${c.cosineMean}, min ${c.cosineMin}`);
}

function majorityShare(labels: readonly (string | number)[]): number {
  const counts = new Map<string | number, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return Math.max(...counts.values()) / labels.length;
}

test('brown_genre: a tiny encoder fine-tuned from scratch beats the majority class on dev', () => {
  {
    const genres = new Set(['news', 'religion', 'romance']);
    const { hparams } = resolveHparams({ ...TINY, data_dir: data.path, model_name: 'scratch', task_names: ['brown_genre'], num_train_epochs: 3 });
    let dev: SentenceExample[] = [];
    const result = runFinetuning({
      hparams, log: () => {}, progressStream: quiet,
      makeTasks: (ctx) => getTasks(ctx).map((t) => {
        const s = subset<SentenceExample>(t, (e) => genres.has(String(e.label)), 5, 6);
        dev = s.getExamples('dev') as SentenceExample[];
        return s;
      }),
    });
    const [metrics] = [...result.trials[0]!.values()];
    const accuracy = metrics!.find(([n]) => n === 'accuracy')![1];
    const baseline = 100 * majorityShare(dev.map((e) => e.label));
    assert.ok(dev.length >= 80, `${dev.length} dev passages`);
    console.log(`brown_genre dev accuracy ${accuracy.toFixed(1)}, majority ${baseline.toFixed(1)}`);
    assert.ok(accuracy > baseline + 15, `dev accuracy ${accuracy.toFixed(1)} vs majority ${baseline.toFixed(1)}`);
    assert.ok(existsSync(join(result.modelDirs[0]!, 'model.safetensors')));
    checkInt8('brown_genre', result.modelDirs[0]!, (m) => dev.map((e) => m.prepareClassification(e.textA, null, { truncation: 'longest_first' })),
      (labels) => dev.map((e) => labels.indexOf(String(e.label))));
    assert.match(readFileSync(result.paths.resultsTxt, 'utf8'), /^brown_genre: accuracy: \d+\.\d\d - loss: \d+\.\d\d\n$/);
  }
});

test('brown_pos: a tiny encoder fine-tuned from scratch tags dev words better than the most frequent tag', () => {
  {
    const { hparams } = resolveHparams({ ...TINY, data_dir: data.path, model_name: 'scratch', task_names: ['brown_pos'], num_train_epochs: 3 });
    let dev: TaggingExample[] = [];
    const result = runFinetuning({
      hparams, log: () => {}, progressStream: quiet,
      makeTasks: (ctx) => getTasks(ctx).map((t) => {
        const s = subset<TaggingExample>(t, (e) => e.words.length >= 5 && e.words.length <= 25, 60, 150);
        dev = s.getExamples('dev') as TaggingExample[];
        return s;
      }),
    });
    const accuracy = result.trials[0]!.get('brown_pos')!.find(([n]) => n === 'accuracy')![1];
    const baseline = 100 * majorityShare(dev.flatMap((e) => e.labels));
    console.log(`brown_pos dev accuracy ${accuracy.toFixed(1)}, majority ${baseline.toFixed(1)}`);
    assert.ok(accuracy > baseline + 20, `dev token accuracy ${accuracy.toFixed(1)} vs most frequent tag ${baseline.toFixed(1)}`);
    const tags = JSON.parse(readFileSync(result.paths.testPredictions('brown_pos', 'dev', 1), 'utf8')) as Record<string, string[]>;
    assert.equal(Object.keys(tags).length, dev.length);
    assert.equal(tags[String(dev[0]!.eid)]!.length, dev[0]!.words.length, 'a tag per word of the first dev sentence');
    checkInt8('brown_pos', result.modelDirs[0]!, (m) => dev.map((e) => m.prepareTagging(e.words)),
      () => dev.flatMap((e) => [...e.labels]));
  }
});

test("the README's inference example runs on the models fine-tuned above", () => {
  writeSquad(data);
  const { hparams } = resolveHparams({
    ...TINY, data_dir: data.path, model_name: 'scratch', task_names: ['squad'], max_seq_length: 40, max_query_length: 12, doc_stride: 8,
    num_train_epochs: 1, train_batch_size: 8, beam_size: 5,
  });
  runFinetuning({ hparams, log: () => {}, progressStream: quiet });
  const readme = readFileSync(join(process.cwd(), 'README.md'), 'utf8');
  const block = /<!-- readme-example: finetuned -->\n```js\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'the README has the example');
  const code = block[1]!
    .replace("from 'electra-ts'", `from ${JSON.stringify(pathToFileURL(join(process.cwd(), 'dist', 'src', 'index.js')).href)}`)
    .replace("'demo/models/scratch/finetuning_models'", JSON.stringify(join(data.path, 'models', 'scratch', 'finetuning_models')));
  const script = join(data.path, 'example.mjs');
  writeFileSync(script, code);
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /label: '[a-z_]+',\s+score: 0\.\d+,\s+probabilities: \{\s+adventure: /);
  assert.match(r.stdout, /word: 'The',\s+tag: '[a-z$*.,:'`-]+',\s+score: [\d.e-]+,\s+start: 0,\s+end: 3/);
  assert.match(r.stdout, /text: '[^']*',\s+probability: [\d.e-]+,\s+noAnswerScore: -?[\d.e+-]+,\s+answerable: (true|false),\s+nbest: \[/);
});
