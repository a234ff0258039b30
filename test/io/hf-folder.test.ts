import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ELECTRA_ARCHITECTURES, defaultElectraConfig, defaultLabels, electraConfigText, parseElectraConfig, type ElectraArchitecture,
  type ElectraConfig,
} from '../../src/io/hf-config.js';
import { checkTensors, electraTensorSpec, type TensorSpec } from '../../src/io/electra-names.js';
import { readHfFolder, writeHfFolder, type ModelFolder } from '../../src/io/hf-folder.js';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import { UsageError } from '../../src/errors.js';
import type { TensorMap } from '../../src/io/tensor.js';
import { randomArray } from '../helpers.js';
import { buildTorchCheckpoint, f32Bytes, type TorchTensorSpec } from './builders.js';
import { assertFormatError, scratchDir } from './util.js';

function tinyConfig(architecture: ElectraArchitecture, overrides: Partial<ElectraConfig> = {}): ElectraConfig {
  return defaultElectraConfig({
    architectures: [architecture], vocab_size: 20, embedding_size: 8, hidden_size: 12, num_hidden_layers: 2,
    num_attention_heads: 3, intermediate_size: 24, max_position_embeddings: 16, ...overrides,
  });
}

function randomTensors(spec: TensorSpec[], seed = 1): TensorMap {
  const m: TensorMap = new Map();
  spec.forEach((s, i) => m.set(s.name, { shape: s.shape.slice(), data: randomArray(s.shape.reduce((a, b) => a * b, 1), seed * 1000 + i, 0.1) }));
  return m;
}

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'a', '##s', 'model', 'électra'];

test('config.json: transformers defaults, google/electra-small-discriminator, labels, extras kept', () => {
  const small = parseElectraConfig({
    architectures: ['ElectraForPreTraining'], attention_probs_dropout_prob: 0.1, embedding_size: 128, hidden_act: 'gelu',
    hidden_dropout_prob: 0.1, hidden_size: 256, initializer_range: 0.02, intermediate_size: 1024, layer_norm_eps: 1e-12,
    max_position_embeddings: 512, model_type: 'electra', num_attention_heads: 4, num_hidden_layers: 12, pad_token_id: 0,
    type_vocab_size: 2, vocab_size: 30522,
  }, 'config.json');
  assert.deepEqual(small, defaultElectraConfig());
  const minimal = parseElectraConfig({ model_type: 'electra' }, 'c.json');
  assert.deepEqual(minimal.architectures, []);
  assert.equal(minimal.hidden_size, 256);
  assert.equal(minimal.summary_type, 'first');
  const labelled = parseElectraConfig({
    architectures: ['ElectraForSequenceClassification'], id2label: { 0: 'neg', 1: 'neu', 2: 'pos' }, problem_type: 'single_label_classification',
    transformers_version: '4.40.0',
  }, 'c.json');
  assert.deepEqual(labelled.label2id, { neg: 0, neu: 1, pos: 2 });
  assert.deepEqual(labelled.extra, { problem_type: 'single_label_classification', transformers_version: '4.40.0' });
  const byCount = parseElectraConfig({ model_type: 'electra', num_labels: 5 }, 'c.json');
  assert.deepEqual(byCount.id2label, defaultLabels(5).id2label);
  // Written text: sorted keys, extras included, and it parses back to the same config.
  const text = electraConfigText(labelled);
  const json = JSON.parse(text) as Record<string, unknown>;
  assert.deepEqual(Object.keys(json), Object.keys(json).sort());
  assert.equal(json['model_type'], 'electra');
  assert.equal(json['problem_type'], 'single_label_classification');
  assert.deepEqual(parseElectraConfig(json, 'c.json'), labelled);
});

test('config.json: unknown architectures, other model types and bad fields are rejected clearly', () => {
  assertFormatError(() => parseElectraConfig({ model_type: 'electra', architectures: ['ElectraForCausalLM'] }, 'x/config.json'),
    ['x/config.json', "unsupported architecture 'ElectraForCausalLM'", 'ElectraForPreTraining']);
  assertFormatError(() => parseElectraConfig({ model_type: 'electra', architectures: ['BertForMaskedLM'] }, 'c.json'), ["unsupported architecture 'BertForMaskedLM'"]);
  assertFormatError(() => parseElectraConfig({ model_type: 'bert', architectures: [] }, 'c.json'), ['model_type "bert" is not supported']);
  assertFormatError(() => parseElectraConfig({ hidden_size: 256 }, 'c.json'), ['not recognisably an ELECTRA config']);
  assertFormatError(() => parseElectraConfig({ model_type: 'electra', hidden_size: '256' }, 'c.json'), ['"hidden_size" must be a positive integer, got "256"']);
  assertFormatError(() => parseElectraConfig({ model_type: 'electra', hidden_dropout_prob: 1.5 }, 'c.json'), ['"hidden_dropout_prob" must be a number in [0, 1)']);
  assertFormatError(() => parseElectraConfig({ model_type: 'electra', hidden_size: 100, num_attention_heads: 3 }, 'c.json'), ['not a multiple of num_attention_heads']);
  assertFormatError(() => parseElectraConfig({ model_type: 'electra', position_embedding_type: 'relative_key' }, 'c.json'), ['position_embedding_type "relative_key"']);
  assertFormatError(() => parseElectraConfig({ model_type: 'electra', id2label: { 0: 'a', 2: 'b' } }, 'c.json'), ['"id2label" must be indices 0..1']);
  assertFormatError(() => parseElectraConfig({ model_type: 'electra', id2label: { 0: 'a' }, num_labels: 3 }, 'c.json'), ['"num_labels" is 3 but "id2label" has 1']);
});

test('tensor specs: names and [out, in] shapes per architecture', () => {
  const c = tinyConfig('ElectraForPreTraining');
  const spec = new Map(electraTensorSpec(c).map((s) => [s.name, s.shape]));
  assert.equal(spec.size, 5 + 2 + 2 * 16 + 4);
  assert.deepEqual(spec.get('electra.embeddings.word_embeddings.weight'), [20, 8]);
  assert.deepEqual(spec.get('electra.embeddings_project.weight'), [12, 8]);
  assert.deepEqual(spec.get('electra.encoder.layer.1.intermediate.dense.weight'), [24, 12]);
  assert.deepEqual(spec.get('electra.encoder.layer.1.output.dense.weight'), [12, 24]);
  assert.deepEqual(spec.get('discriminator_predictions.dense_prediction.weight'), [1, 12]);
  const noProject = electraTensorSpec(tinyConfig('ElectraModel', { embedding_size: 12 }));
  assert.ok(!noProject.some((s) => s.name.includes('embeddings_project')));
  const gen = new Map(electraTensorSpec(tinyConfig('ElectraForMaskedLM')).map((s) => [s.name, s.shape]));
  assert.deepEqual(gen.get('generator_predictions.dense.weight'), [8, 12]);
  assert.deepEqual(gen.get('generator_lm_head.bias'), [20]);
  assert.ok(!gen.has('generator_lm_head.weight'), 'tied to the word embeddings');
  assert.ok(new Map(electraTensorSpec(tinyConfig('ElectraForMaskedLM', { tie_word_embeddings: false })).map((s) => [s.name, s.shape])).has('generator_lm_head.weight'));
  const seq = new Map(electraTensorSpec(tinyConfig('ElectraForSequenceClassification', defaultLabels(3))).map((s) => [s.name, s.shape]));
  assert.deepEqual(seq.get('classifier.out_proj.weight'), [3, 12]);
  assert.deepEqual(seq.get('classifier.dense.weight'), [12, 12]);
  const tok = new Map(electraTensorSpec(tinyConfig('ElectraForTokenClassification', defaultLabels(9))).map((s) => [s.name, s.shape]));
  assert.deepEqual(tok.get('classifier.weight'), [9, 12]);
  const qa = new Map(electraTensorSpec(tinyConfig('ElectraForQuestionAnswering')).map((s) => [s.name, s.shape]));
  assert.deepEqual(qa.get('qa_outputs.weight'), [2, 12]);
  const mc = new Map(electraTensorSpec(tinyConfig('ElectraForMultipleChoice')).map((s) => [s.name, s.shape]));
  assert.deepEqual(mc.get('sequence_summary.summary.weight'), [12, 12]);
  assert.deepEqual(mc.get('classifier.weight'), [1, 12]);
});

for (const architecture of ELECTRA_ARCHITECTURES) {
  test(`${architecture}: write a folder, read it back identical`, () => {
    const dir = join(scratchDir('hf'), 'model');
    const config = tinyConfig(architecture, architecture === 'ElectraForTokenClassification' ? defaultLabels(5) : {});
    const folder: ModelFolder = {
      config, tensors: randomTensors(electraTensorSpec(config)), vocab: VOCAB, tokenizer: { do_lower_case: false, extra: {} },
    };
    const written = writeHfFolder(dir, folder);
    assert.deepEqual(written, ['config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer_config.json', 'vocab.txt']);
    const back = readHfFolder(dir);
    assert.equal(back.architecture, architecture);
    assert.deepEqual(back.config, config);
    assert.deepEqual(back.vocab, VOCAB);
    assert.equal(back.tokenizer!.do_lower_case, false);
    assert.equal(back.weightFormat, 'safetensors');
    assert.deepEqual([...back.tensors.keys()].sort(), [...folder.tensors.keys()].sort());
    for (const [name, t] of folder.tensors) {
      assert.deepEqual(back.tensors.get(name)!.shape, t.shape, name);
      assert.deepEqual(back.tensors.get(name)!.data, t.data, name);
    }
    // On disk, names are transformers' state-dict keys.
    const onDisk = [...readSafetensors(join(dir, 'model.safetensors')).tensors.keys()];
    if (architecture === 'ElectraModel') {
      assert.ok(onDisk.includes('embeddings.word_embeddings.weight') && !onDisk.some((n) => n.startsWith('electra.')));
    } else {
      assert.ok(onDisk.includes('electra.embeddings.word_embeddings.weight'));
    }
    const tokConfig = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(tokConfig['do_lower_case'], false);
    assert.equal(tokConfig['tokenizer_class'], 'ElectraTokenizer');
  });
}

test('reading folders as transformers writes them: tied LM head copies, buffers, .bin weights, tokenizer.json', () => {
  const dir = scratchDir('hf-bin');
  const config = tinyConfig('ElectraForMaskedLM');
  const tensors = randomTensors(electraTensorSpec(config), 7);
  const storages = new Map<string, Uint8Array>();
  const specs: TorchTensorSpec[] = [];
  let key = 0;
  for (const [name, t] of tensors) {
    storages.set(String(key), f32Bytes(t.data));
    specs.push({ name, storageKey: String(key), storageClass: 'FloatStorage', storageNumel: t.data.length, offset: 0, size: t.shape, stride: t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1)) });
    key++;
  }
  // The tied head shares the embeddings' storage; older versions also saved position_ids.
  const emb = specs.find((s) => s.name === 'electra.embeddings.word_embeddings.weight')!;
  specs.push({ ...emb, name: 'generator_lm_head.weight' });
  storages.set('pos', new Uint8Array(BigInt64Array.from({ length: 16 }, (_, i) => BigInt(i)).buffer));
  specs.push({ name: 'electra.embeddings.position_ids', storageKey: 'pos', storageClass: 'LongStorage', storageNumel: 16, offset: 0, size: [1, 16], stride: [16, 1] });
  writeFileSync(join(dir, 'pytorch_model.bin'), buildTorchCheckpoint(specs, storages));
  writeFileSync(join(dir, 'config.json'), electraConfigText(config));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({
    version: '1.0', normalizer: { type: 'BertNormalizer', lowercase: true }, model: { type: 'WordPiece', vocab: Object.fromEntries(VOCAB.map((t, i) => [t, i])) },
  }));
  const back = readHfFolder(dir);
  assert.equal(back.weightFormat, 'pytorch');
  assert.ok(!back.tensors.has('generator_lm_head.weight'));
  assert.ok(!back.tensors.has('electra.embeddings.position_ids'));
  assert.equal(back.tensors.size, tensors.size);
  assert.deepEqual(back.tensors.get('generator_lm_head.bias')!.data, tensors.get('generator_lm_head.bias')!.data);
  assert.deepEqual(back.vocab, VOCAB);
  assert.equal(back.tokenizer!.do_lower_case, true);
  assert.equal(back.sourceDtypes.get('electra.embeddings.LayerNorm.weight'), 'float32');

  // Re-saving it as safetensors replaces the .bin (overwrite) and drops the stale tokenizer.json.
  writeHfFolder(dir, back, { overwrite: true });
  assert.deepEqual(readdirSync(dir).sort(), ['config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer_config.json', 'vocab.txt']);
  assert.deepEqual(readHfFolder(dir).tensors.get('electra.encoder.layer.1.output.dense.weight')!.data, tensors.get('electra.encoder.layer.1.output.dense.weight')!.data);
});

test('sharded pytorch_model-0000i-of-0000n.bin folders are read through their index', () => {
  const dir = scratchDir('hf-binshards');
  const config = tinyConfig('ElectraForTokenClassification');
  const tensors = randomTensors(electraTensorSpec(config), 11);
  const names = [...tensors.keys()];
  const halves = [names.slice(0, 20), names.slice(20)];
  const weightMap: Record<string, string> = {};
  halves.forEach((part, k) => {
    const file = `pytorch_model-0000${k + 1}-of-00002.bin`;
    const storages = new Map<string, Uint8Array>();
    const specs: TorchTensorSpec[] = part.map((name, i) => {
      const t = tensors.get(name)!;
      storages.set(String(i), f32Bytes(t.data));
      weightMap[name] = file;
      const stride = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
      return { name, storageKey: String(i), storageClass: 'FloatStorage', storageNumel: t.data.length, offset: 0, size: t.shape, stride };
    });
    writeFileSync(join(dir, file), buildTorchCheckpoint(specs, storages));
  });
  writeFileSync(join(dir, 'pytorch_model.bin.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
  writeFileSync(join(dir, 'config.json'), electraConfigText(config));
  const back = readHfFolder(dir);
  assert.deepEqual(back.weightFiles, ['pytorch_model.bin.index.json', 'pytorch_model-00001-of-00002.bin', 'pytorch_model-00002-of-00002.bin']);
  for (const [name, t] of tensors) assert.deepEqual(back.tensors.get(name)!.data, t.data, name);
  weightMap[names[0]!] = 'pytorch_model-00002-of-00002.bin';
  writeFileSync(join(dir, 'pytorch_model.bin.index.json'), JSON.stringify({ weight_map: weightMap }));
  assertFormatError(() => readHfFolder(dir), [`tensor '${names[0]}' is in this shard but the index does not put it here`], names[0]);
});

test('config without architectures: the head is recognised from the tensor names', () => {
  const dir = join(scratchDir('hf-arch'), 'm');
  const config = tinyConfig('ElectraForQuestionAnswering');
  writeHfFolder(dir, { config, tensors: randomTensors(electraTensorSpec(config)) });
  const json = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  delete json['architectures'];
  writeFileSync(join(dir, 'config.json'), JSON.stringify(json));
  const back = readHfFolder(dir);
  assert.equal(back.architecture, 'ElectraForQuestionAnswering');
  assert.deepEqual(back.config.architectures, ['ElectraForQuestionAnswering']);
});

test('weights that do not fit the config: missing, unexpected and wrong-shape tensors are named', () => {
  const dir = scratchDir('hf-mismatch');
  const config = tinyConfig('ElectraForMaskedLM');
  // A generator of another size: hidden 6 instead of 12.
  const other = tinyConfig('ElectraForMaskedLM', { hidden_size: 6, num_attention_heads: 2, intermediate_size: 12 });
  writeSafetensors(join(dir, 'model.safetensors'), randomTensors(electraTensorSpec(other)));
  writeFileSync(join(dir, 'config.json'), electraConfigText(config));
  const err = assertFormatError(() => readHfFolder(dir), [
    join(dir, 'model.safetensors'), 'ElectraForMaskedLM as configured in config.json (hidden_size 12',
    'electra.embeddings_project.weight is [6, 8], expected [12, 8]', 'generator of another size',
  ], 'electra.embeddings_project.weight');
  assert.match(err.message, /with the wrong shape/);

  const tensors = randomTensors(electraTensorSpec(config));
  tensors.delete('electra.encoder.layer.1.attention.self.key.bias');
  tensors.set('electra.pooler.dense.weight', { shape: [12, 12], data: new Float32Array(144) });
  writeSafetensors(join(dir, 'model.safetensors'), tensors);
  assertFormatError(() => readHfFolder(dir), ['1 missing: electra.encoder.layer.1.attention.self.key.bias [12]', '1 unexpected: electra.pooler.dense.weight [12, 12]']);
  assert.equal(readHfFolder(dir, { validate: false }).tensors.size, tensors.size);

  const problems = checkTensors(tensors, electraTensorSpec(config));
  assert.deepEqual(problems.missing.map((m) => m.name), ['electra.encoder.layer.1.attention.self.key.bias']);
  assert.deepEqual(problems.unexpected.map((u) => u.name), ['electra.pooler.dense.weight']);
  assert.equal(problems.wrongShape.length, 0);

  assert.throws(() => readHfFolder(scratchDir('empty')), (e: unknown) => e instanceof UsageError && /no config.json/.test(e.message));
  const noWeights = scratchDir('noweights');
  writeFileSync(join(noWeights, 'config.json'), electraConfigText(config));
  writeFileSync(join(noWeights, 'tf_model.h5'), 'x');
  assert.throws(() => readHfFolder(noWeights), /no PyTorch weights .* only tf_model.h5/);
});

test('sharded folders, overwrite protection, and no partial output on failure', () => {
  const dir = join(scratchDir('hf-shard'), 'model');
  const config = tinyConfig('ElectraForPreTraining');
  const tensors = randomTensors(electraTensorSpec(config), 3);
  const written = writeHfFolder(dir, { config, tensors }, { maxShardBytes: 2000 });
  assert.ok(written.includes('model.safetensors.index.json'));
  assert.ok(written.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f)).length > 2);
  const back = readHfFolder(dir);
  assert.equal(back.weightFiles[0], 'model.safetensors.index.json');
  for (const [name, t] of tensors) assert.deepEqual(back.tensors.get(name)!.data, t.data, name);

  assert.throws(() => writeHfFolder(dir, { config, tensors }), (e: unknown) => e instanceof UsageError && /already holds a model/.test(e.message));
  // Overwriting with a single file removes the old shards and index.
  writeHfFolder(dir, { config, tensors }, { overwrite: true });
  assert.deepEqual(readdirSync(dir).sort(), ['config.json', 'model.safetensors']);

  // A tensor whose data does not match its shape fails the write: nothing is created.
  const fresh = join(scratchDir('hf-fail'), 'out');
  const bad = new Map(tensors);
  bad.set('electra.embeddings.LayerNorm.bias', { shape: [8], data: new Float32Array(3) });
  assert.throws(() => writeHfFolder(fresh, { config, tensors: bad }, { validate: false }), /holds 8 values but the data has 3/);
  assert.ok(!existsSync(fresh));
  assert.deepEqual(readdirSync(join(fresh, '..')), [], 'no staging folder left behind');
  // Validation failures happen before anything is written.
  const missing = new Map(tensors);
  missing.delete('discriminator_predictions.dense.bias');
  assertFormatError(() => writeHfFolder(fresh, { config, tensors: missing }), ['1 missing: discriminator_predictions.dense.bias']);
  assert.ok(!existsSync(fresh));
});

test('a config.json with a syntax error is named with its line and column; a truncated model.safetensors with the missing bytes', () => {
  const dir = join(scratchDir('hf-bad'), 'model');
  const config = tinyConfig('ElectraForPreTraining');
  writeHfFolder(dir, { config, tensors: randomTensors(electraTensorSpec(config), 4) });
  const good = readFileSync(join(dir, 'config.json'), 'utf8');
  // A trailing comma after the last field, as hand edits leave.
  const lines = good.trimEnd().split('\n');
  lines[lines.length - 2] += ',';
  writeFileSync(join(dir, 'config.json'), lines.join('\n') + '\n');
  assertFormatError(() => readHfFolder(dir), [`config.json: invalid JSON at line ${lines.length} column 1: expected a "quoted" property name, found "}" (a trailing comma?)`]);
  writeFileSync(join(dir, 'config.json'), good);
  const weights = readFileSync(join(dir, 'model.safetensors'));
  writeFileSync(join(dir, 'model.safetensors'), weights.subarray(0, Math.floor(weights.length * 0.6)));
  assertFormatError(() => readHfFolder(dir), [/model\.safetensors: truncated: the header describes \d+ bytes of tensor data but the file has \d+/]);
});
