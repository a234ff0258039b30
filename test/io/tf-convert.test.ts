import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertTfCheckpoint, mapTfVariable } from '../../src/io/tf-electra.js';
import { TfCheckpoint } from '../../src/io/tf-checkpoint.js';
import { writeTfCheckpoint, type TfWriteTensor } from '../../src/io/tf-checkpoint-writer.js';
import { defaultElectraConfig, electraConfigText } from '../../src/io/hf-config.js';
import { electraTensorSpec } from '../../src/io/electra-names.js';
import { readHfFolder } from '../../src/io/hf-folder.js';
import { randomArray, runCli } from '../helpers.js';
import { buildTensorBundle, f32Bytes, type BundleTensor } from './builders.js';
import { assertFormatError, scratchDir } from './util.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bertFixture = join(repoRoot, 'test', 'fixtures', 'tf-checkpoint', 'bert_model.ckpt');

interface Sizes { H: number; L: number; I: number }
const V = 30, P = 16, T = 2;
const DISC: Sizes = { H: 16, L: 2, I: 32 };
const GEN: Sizes = { H: 12, L: 2, I: 24 };

/** The variables google-research/electra's run_pretraining.py saves, with TF shapes ([in, out] kernels). */
function referenceVariables(
  options: { E?: number; untiedGeneratorEmbeddings?: boolean; extra?: Array<[string, number[]]> } = {},
): Map<string, { shape: number[]; data: Float32Array }> {
  const E = options.E ?? 8;
  const vars = new Map<string, { shape: number[]; data: Float32Array }>();
  let seed = 1;
  const add = (name: string, shape: number[]): void => {
    vars.set(name, { shape, data: randomArray(shape.reduce((a, b) => a * b, 1), seed++, 0.5) });
  };
  const embeddings = (scope: string): void => {
    add(`${scope}/embeddings/word_embeddings`, [V, E]);
    add(`${scope}/embeddings/position_embeddings`, [P, E]);
    add(`${scope}/embeddings/token_type_embeddings`, [T, E]);
    add(`${scope}/embeddings/LayerNorm/gamma`, [E]);
    add(`${scope}/embeddings/LayerNorm/beta`, [E]);
  };
  const encoder = (scope: string, s: Sizes): void => {
    // The reference adds the projection only when the embedding width differs from hidden_size.
    if (E !== s.H) {
      add(`${scope}/embeddings_project/kernel`, [E, s.H]);
      add(`${scope}/embeddings_project/bias`, [s.H]);
    }
    for (let l = 0; l < s.L; l++) {
      const p = `${scope}/encoder/layer_${l}`;
      for (const m of ['query', 'key', 'value']) {
        add(`${p}/attention/self/${m}/kernel`, [s.H, s.H]);
        add(`${p}/attention/self/${m}/bias`, [s.H]);
      }
      add(`${p}/attention/output/dense/kernel`, [s.H, s.H]);
      add(`${p}/attention/output/dense/bias`, [s.H]);
      add(`${p}/attention/output/LayerNorm/gamma`, [s.H]);
      add(`${p}/attention/output/LayerNorm/beta`, [s.H]);
      add(`${p}/intermediate/dense/kernel`, [s.H, s.I]);
      add(`${p}/intermediate/dense/bias`, [s.I]);
      add(`${p}/output/dense/kernel`, [s.I, s.H]);
      add(`${p}/output/dense/bias`, [s.H]);
      add(`${p}/output/LayerNorm/gamma`, [s.H]);
      add(`${p}/output/LayerNorm/beta`, [s.H]);
    }
  };
  embeddings('electra');
  if (options.untiedGeneratorEmbeddings) embeddings('generator');
  encoder('electra', DISC);
  encoder('generator', GEN);
  add('discriminator_predictions/dense/kernel', [DISC.H, DISC.H]);
  add('discriminator_predictions/dense/bias', [DISC.H]);
  add('discriminator_predictions/dense_1/kernel', [DISC.H, 1]);
  add('discriminator_predictions/dense_1/bias', [1]);
  add('generator_predictions/dense/kernel', [GEN.H, E]);
  add('generator_predictions/dense/bias', [E]);
  add('generator_predictions/LayerNorm/gamma', [E]);
  add('generator_predictions/LayerNorm/beta', [E]);
  add('generator_predictions/output_bias', [V]);
  for (const [name, shape] of options.extra ?? []) add(name, shape);
  return vars;
}

/** Writes the variables (plus adam_m/adam_v slots and global_step) as a TF checkpoint; returns its prefix. */
function writeCheckpoint(dir: string, vars: Map<string, { shape: number[]; data: Float32Array }>, withVocab = true): string {
  const tensors: BundleTensor[] = [];
  for (const [name, v] of vars) {
    tensors.push({ name, dtype: 'float32', shape: v.shape, bytes: f32Bytes(v.data) });
    tensors.push({ name: `${name}/adam_m`, dtype: 'float32', shape: v.shape, bytes: f32Bytes(v.data.map((x) => x / 10)) });
    tensors.push({ name: `${name}/adam_v`, dtype: 'float32', shape: v.shape, bytes: f32Bytes(v.data.map((x) => x * x)) });
  }
  tensors.push({ name: 'global_step', dtype: 'int64', shape: [], bytes: new Uint8Array(BigInt64Array.from([1000000n]).buffer) });
  const { index, data } = buildTensorBundle(tensors, { blockSize: 1024 });
  const prefix = join(dir, 'model.ckpt-1000000');
  writeFileSync(`${prefix}.index`, index);
  writeFileSync(`${prefix}.data-00000-of-00001`, data);
  writeFileSync(join(dir, 'checkpoint'), 'model_checkpoint_path: "model.ckpt-1000000"\n');
  if (withVocab) writeFileSync(join(dir, 'vocab.txt'), Array.from({ length: V }, (_, i) => (i === 0 ? '[PAD]' : `tok${i}`)).join('\n') + '\n');
  return prefix;
}

/** TF kernel [in, out] element (i, o) equals HF weight [out, in] element (o, i). */
function assertTransposed(hf: { shape: number[]; data: Float32Array }, tf: { shape: number[]; data: Float32Array }, what: string): void {
  const [inDim, outDim] = tf.shape as [number, number];
  assert.deepEqual(hf.shape, [outDim, inDim], what);
  for (let i = 0; i < inDim; i++) {
    for (let o = 0; o < outDim; o++) assert.equal(hf.data[o * inDim + i], tf.data[i * outDim + o], `${what} (${i}, ${o})`);
  }
}

test('name mapping follows the reference scopes', () => {
  const map = (name: string, role: 'discriminator' | 'generator', own = false): string => {
    const v = mapTfVariable(name, role, own);
    return v.kind === 'map' ? `${v.mapping.hfName}${v.mapping.transpose ? ' (T)' : ''}` : v.kind === 'skip' ? `skip: ${v.reason}` : 'unknown';
  };
  assert.equal(map('electra/encoder/layer_11/attention/self/query/kernel', 'discriminator'), 'electra.encoder.layer.11.attention.self.query.weight (T)');
  assert.equal(map('electra/encoder/layer_0/output/LayerNorm/gamma', 'discriminator'), 'electra.encoder.layer.0.output.LayerNorm.weight');
  assert.equal(map('electra/embeddings/LayerNorm/beta', 'discriminator'), 'electra.embeddings.LayerNorm.bias');
  assert.equal(map('electra/embeddings/word_embeddings', 'generator'), 'electra.embeddings.word_embeddings.weight');
  assert.equal(map('electra/embeddings/word_embeddings', 'generator', true), 'skip: belongs to the discriminator (the generator has its own embeddings)');
  assert.equal(map('generator/embeddings_project/kernel', 'generator'), 'electra.embeddings_project.weight (T)');
  assert.equal(map('electra/embeddings_project/kernel', 'generator'), 'skip: belongs to the discriminator');
  assert.equal(map('discriminator_predictions/dense_1/kernel', 'discriminator'), 'discriminator_predictions.dense_prediction.weight (T)');
  assert.equal(map('generator_predictions/output_bias', 'generator'), 'generator_lm_head.bias');
  assert.equal(map('generator_predictions/LayerNorm/gamma', 'generator'), 'generator_predictions.LayerNorm.weight');
  assert.equal(map('generator/encoder/layer_0/intermediate/dense/bias/adam_v', 'generator'), 'skip: optimizer slot');
  assert.equal(map('global_step', 'discriminator'), 'skip: training state');
  assert.equal(map('generator_ltr/encoder/layer_0/output/dense/kernel', 'discriminator'), 'skip: belongs to the two-tower cloze generator (Electric), which has no HF model');
  assert.equal(map('cloze_predictions/output_bias', 'generator'), 'skip: belongs to the two-tower cloze generator (Electric), which has no HF model');
  assert.equal(map('bert/pooler/dense/kernel', 'discriminator'), 'unknown');
  assert.equal(map('electra/encoder/layer_0/attention/self/query/weights', 'discriminator'), 'unknown');
});

test('discriminator: all tensors mapped, kernels transposed, config inferred, slots skipped', () => {
  const vars = referenceVariables();
  const prefix = writeCheckpoint(scratchDir('conv'), vars);
  const r = convertTfCheckpoint(prefix);
  const { config, tensors } = r.folder;
  assert.deepEqual(config, defaultElectraConfig({
    architectures: ['ElectraForPreTraining'], vocab_size: V, embedding_size: 8, hidden_size: DISC.H, num_hidden_layers: DISC.L,
    num_attention_heads: 1, intermediate_size: DISC.I, max_position_embeddings: P, type_vocab_size: T,
  }));
  assert.match(r.notes.join('\n'), /num_attention_heads 1 = max\(1, hidden_size \/ 64\)/);
  assert.equal(tensors.size, electraTensorSpec(config).length);
  assert.equal(r.mapped.size, tensors.size);
  assert.equal([...r.skipped.values()].filter((w) => w === 'optimizer slot').length, 2 * vars.size);
  assert.equal(r.skipped.get('global_step'), 'training state');
  assert.equal(r.skipped.get('generator_predictions/output_bias'), 'belongs to the generator');
  assert.deepEqual(tensors.get('electra.embeddings.word_embeddings.weight')!.data, vars.get('electra/embeddings/word_embeddings')!.data);
  assert.deepEqual(tensors.get('electra.encoder.layer.1.output.LayerNorm.weight')!.data, vars.get('electra/encoder/layer_1/output/LayerNorm/gamma')!.data);
  assertTransposed(tensors.get('electra.encoder.layer.1.intermediate.dense.weight')!, vars.get('electra/encoder/layer_1/intermediate/dense/kernel')!, 'intermediate');
  assertTransposed(tensors.get('electra.embeddings_project.weight')!, vars.get('electra/embeddings_project/kernel')!, 'embeddings_project');
  assertTransposed(tensors.get('discriminator_predictions.dense_prediction.weight')!, vars.get('discriminator_predictions/dense_1/kernel')!, 'dense_prediction');

  const heads = convertTfCheckpoint(prefix, { numAttentionHeads: 4 });
  assert.equal(heads.folder.config.num_attention_heads, 4);
});

test('generator: shared embeddings from electra/, its own projection and encoder, output_bias as lm head bias', () => {
  const vars = referenceVariables();
  const prefix = writeCheckpoint(scratchDir('conv-gen'), vars);
  const r = convertTfCheckpoint(prefix, { role: 'generator' });
  const { config, tensors } = r.folder;
  assert.deepEqual(config.architectures, ['ElectraForMaskedLM']);
  assert.equal(config.hidden_size, GEN.H);
  assert.equal(config.intermediate_size, GEN.I);
  assert.equal(config.embedding_size, 8);
  assert.equal(tensors.size, electraTensorSpec(config).length);
  assert.deepEqual(tensors.get('electra.embeddings.position_embeddings.weight')!.data, vars.get('electra/embeddings/position_embeddings')!.data);
  assertTransposed(tensors.get('electra.embeddings_project.weight')!, vars.get('generator/embeddings_project/kernel')!, 'generator projection');
  assertTransposed(tensors.get('electra.encoder.layer.0.attention.self.value.weight')!, vars.get('generator/encoder/layer_0/attention/self/value/kernel')!, 'value');
  assertTransposed(tensors.get('generator_predictions.dense.weight')!, vars.get('generator_predictions/dense/kernel')!, 'generator_predictions.dense');
  assert.deepEqual(tensors.get('generator_lm_head.bias')!.data, vars.get('generator_predictions/output_bias')!.data);
  assert.ok(!tensors.has('generator_lm_head.weight'), 'tied to the word embeddings');
  assert.equal(r.skipped.get('electra/encoder/layer_0/attention/self/query/kernel'), 'belongs to the discriminator');

  // Base/large-style: embedding width = discriminator hidden size, so only the generator projects.
  const wide = referenceVariables({ E: DISC.H });
  const widePrefix = writeCheckpoint(scratchDir('conv-wide'), wide);
  const wideDisc = convertTfCheckpoint(widePrefix);
  assert.equal(wideDisc.folder.config.embedding_size, DISC.H);
  assert.ok(!wideDisc.folder.tensors.has('electra.embeddings_project.weight'));
  const wideGen = convertTfCheckpoint(widePrefix, { role: 'generator' });
  assert.deepEqual(wideGen.folder.tensors.get('electra.embeddings_project.weight')!.shape, [GEN.H, DISC.H]);
  assert.deepEqual(wideGen.folder.tensors.get('generator_predictions.dense.weight')!.shape, [DISC.H, GEN.H]);

  const untied = referenceVariables({ untiedGeneratorEmbeddings: true });
  const u = convertTfCheckpoint(writeCheckpoint(scratchDir('conv-untied'), untied), { role: 'generator' });
  assert.deepEqual(u.folder.tensors.get('electra.embeddings.word_embeddings.weight')!.data, untied.get('generator/embeddings/word_embeddings')!.data);
});

test('a config of another size, unknown variables and BERT checkpoints are refused, naming the tensors', () => {
  const dir = scratchDir('conv-bad');
  const prefix = writeCheckpoint(dir, referenceVariables());
  const wrong = defaultElectraConfig({ vocab_size: V, embedding_size: 8, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 1, intermediate_size: 32, max_position_embeddings: P });
  assertFormatError(() => convertTfCheckpoint(prefix, { role: 'generator', config: wrong }), [
    'the generator (ElectraForMaskedLM, hidden_size 32',
    "electra.embeddings_project.weight (TF 'generator/embeddings_project/kernel') is [12, 8], expected [32, 8]",
  ], 'electra.embeddings_project.weight');

  const extra = writeCheckpoint(scratchDir('conv-extra'), referenceVariables({ extra: [['electra/pooler/dense/kernel', [DISC.H, DISC.H]], ['task_head/weights', [2, 2]]] }));
  assertFormatError(() => convertTfCheckpoint(extra), ['1 variables are not part of an ELECTRA model: task_head/weights', '--ignore-unknown']);
  assertFormatError(() => convertTfCheckpoint(extra, { ignoreUnknown: true }), ["1 unexpected: electra.pooler.dense.weight (TF 'electra/pooler/dense/kernel') [16, 16]"]);

  assertFormatError(() => convertTfCheckpoint(bertFixture), ['no ELECTRA discriminator variables found', 'bert/embeddings/LayerNorm/beta']);
});

test('electra convert writes HF folders that read back with the converted tensors', async () => {
  const ckptDir = scratchDir('cli-ckpt');
  const vars = referenceVariables();
  writeCheckpoint(ckptDir, vars);
  const outDir = join(scratchDir('cli-out'), 'electra-tiny-discriminator');
  // The folder form: the `checkpoint` state file names the newest checkpoint; vocab.txt is picked up beside it.
  const { code, out } = await runCli(['convert', '--tf-checkpoint', ckptDir, '--output-dir', outDir]);
  assert.equal(code, 0);
  assert.match(out, /converted 43 tensors to ElectraForPreTraining; skipped 164 \(optimizer slot\), 39 \(belongs to the generator\), 1 \(training state\)/);
  assert.match(out, /num_attention_heads 1/);
  const disc = readHfFolder(outDir);
  assert.equal(disc.architecture, 'ElectraForPreTraining');
  assert.equal(disc.vocab!.length, V);
  assert.equal(disc.tokenizer!.do_lower_case, true);
  const direct = convertTfCheckpoint(ckptDir);
  for (const [name, t] of direct.folder.tensors) assert.deepEqual(disc.tensors.get(name)!.data, t.data, name);
  const configJson = JSON.parse(readFileSync(join(outDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(configJson['model_type'], 'electra');
  assert.deepEqual(configJson['architectures'], ['ElectraForPreTraining']);

  const genDir = join(scratchDir('cli-gen'), 'gen');
  const cfgPath = join(ckptDir, 'gen-config.json');
  writeFileSync(cfgPath, electraConfigText(defaultElectraConfig({
    architectures: ['ElectraForMaskedLM'], vocab_size: V, embedding_size: 8, hidden_size: GEN.H, num_hidden_layers: GEN.L,
    num_attention_heads: 3, intermediate_size: GEN.I, max_position_embeddings: P,
  })));
  const gen = await runCli(['convert', '--tf-checkpoint', join(ckptDir, 'model.ckpt-1000000.index'), '--output-dir', genDir,
    '--generator', '--config', cfgPath, '--no-lower-case', '--max-shard-size', '2KB']);
  assert.equal(gen.code, 0);
  const g = readHfFolder(genDir);
  assert.equal(g.architecture, 'ElectraForMaskedLM');
  assert.equal(g.config.num_attention_heads, 3);
  assert.equal(g.tokenizer!.do_lower_case, false);
  assert.ok(existsSync(join(genDir, 'model.safetensors.index.json')), 'sharded at 2KB');

  // Usage errors: missing flags (exit 2), a vocabulary of the wrong size, an existing model folder.
  const missing = await runCli(['convert', '--output-dir', genDir]);
  assert.equal(missing.code, 2);
  const badVocab = join(ckptDir, 'small-vocab.txt');
  writeFileSync(badVocab, 'a\nb\n');
  // Bad input exits 2 with the command and the problem named.
  const wrongVocab = await runCli(['convert', '--tf-checkpoint', ckptDir, '--output-dir', join(scratchDir('cli-x'), 'x'), '--vocab-file', badVocab]);
  assert.equal(wrongVocab.code, 2);
  assert.match(wrongVocab.err, /^electra convert: .*small-vocab\.txt has 2 tokens but the checkpoint's vocab_size is 30/);
  const existing = await runCli(['convert', '--tf-checkpoint', ckptDir, '--output-dir', outDir]);
  assert.equal(existing.code, 2);
  assert.match(existing.err, /already holds a model/);
  assert.equal((await runCli(['convert', '--tf-checkpoint', ckptDir, '--output-dir', outDir, '--overwrite'])).code, 0);
});

test('the TensorBundle writer: a real TF checkpoint (139 tensors, float32 and an int64 scalar) rewritten reads back identically', () => {
  const source = new TfCheckpoint(bertFixture);
  const tensors = new Map<string, TfWriteTensor>();
  for (const [name, e] of source.entries) {
    const v = source.readValues(name);
    if (e.dtype === 'int64') tensors.set(name, { shape: [], int64: (v.values as BigInt64Array)[0]! });
    else tensors.set(name, { shape: v.shape, data: v.values as Float32Array });
  }
  const out = scratchDir('tf-writer');
  writeTfCheckpoint(out, 'rewritten.ckpt', tensors);
  assert.match(readFileSync(join(out, 'checkpoint'), 'utf8'), /^model_checkpoint_path: "rewritten\.ckpt"$/m);
  const back = new TfCheckpoint(out);
  back.verify(); // every tensor's stored CRC-32C
  assert.deepEqual([...back.entries.keys()], [...source.entries.keys()]);
  for (const name of source.entries.keys()) {
    const a = source.readValues(name);
    const b = back.readValues(name);
    assert.deepEqual(b.shape, a.shape, name);
    assert.equal(b.dtype, a.dtype, name);
    assert.deepEqual(b.values, a.values, name);
  }
  assert.equal(back.header.numShards, 1);
  source.close();
  back.close();
});
