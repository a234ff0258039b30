// `electra predict` and `electra fill-mask`: JSON or plain lines in, one JSON line out each, equal
// to the API's answers one at a time; bad lines stop with exit 2 naming the line.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { loadDiscriminator, loadMaskedLM } from '../../src/pretrain/load.js';
import type { FillMaskCandidate } from '../../src/pretrain/inference.js';
import { cliPath } from '../pretrain/fixtures.js';
import { writeTinyModels } from '../pretrain/tiny-models.js';

const models = writeTinyModels('cli-predict');
after(() => models.cleanup());

function electra(args: string[], input: string): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [cliPath, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('electra predict: replaced-token probabilities per token, one JSON line per input line', () => {
  const input = ['{"text": "the big cat sees a dog ."}', 'a dog', '{"text": "the farmer", "text_pair": "feeds the horse"}', ''].join('\n');
  const r = electra(['predict', '--model', models.discriminatorDir, '--batch-size', '2'], input);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as { tokens: string[]; probs: number[]; offsets: number[][] });
  assert.equal(lines.length, 3);
  const disc = loadDiscriminator(models.discriminatorDir);
  const texts = ['the big cat sees a dog .', 'a dog', { text: 'the farmer', textPair: 'feeds the horse' }];
  lines.forEach((line, i) => {
    const alone = disc.predictText([texts[i]!]);
    assert.deepEqual(line.tokens, alone.encodings[0]!.tokens);
    assert.equal(line.probs.length, line.tokens.length);
    line.probs.forEach((p, j) => assert.ok(Math.abs(p - alone.probs[j]!) < 1e-5, `line ${i} token ${j}`));
  });
  assert.deepEqual(lines[0]!.offsets[1], [0, 3]);
});

test('electra fill-mask: HF pipeline records per input; bad lines stop with exit 2, naming the line', () => {
  const input = '{"text": "the big [MASK] sees a dog ."}\n[MASK] old farmer feeds the [MASK]\n';
  const r = electra(['fill-mask', '--model', models.dir, '--top-k', '2'], input);
  assert.equal(r.code, 0, r.err);
  const [one, two] = r.out.trim().split('\n').map((l) => JSON.parse(l) as unknown);
  const lm = loadMaskedLM(models.generatorDir);
  const expectOne = lm.fillMask('the big [MASK] sees a dog .', { topK: 2 }) as FillMaskCandidate[];
  assert.deepEqual((one as FillMaskCandidate[]).map((c) => [c.token, c.token_str, c.sequence]), expectOne.map((c) => [c.token, c.token_str, c.sequence]));
  (one as FillMaskCandidate[]).forEach((c, i) => assert.ok(Math.abs(c.score - expectOne[i]!.score) < 1e-6));
  assert.equal((two as FillMaskCandidate[][]).length, 2);

  const bad = electra(['fill-mask', '--model', models.generatorDir], '{"text": "a [MASK]"}\n{"text": oops}\n{"text": "a [MASK] dog"}\n');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /stdin line 2: invalid JSON/);
  assert.equal(bad.out.trim().split('\n').length, 1, 'the line before the bad one is answered');
  const noMask = electra(['fill-mask', '--model', models.generatorDir], 'no mask\n');
  assert.equal(noMask.code, 2);
  assert.match(noMask.err, /stdin line 1: no \[MASK\] token to fill/);

  const long = `${new Array(39).fill('dog').join(' ')} [MASK]\n`;
  const tooLong = electra(['fill-mask', '--model', models.generatorDir], long);
  assert.equal(tooLong.code, 2);
  assert.match(tooLong.err, /stdin line 1: input 0 has 42 tokens; the model takes at most 40/);
  // Truncation cuts the end of the text: the leading [MASK] stays.
  const cut = electra(['fill-mask', '--model', models.generatorDir, '--truncation', 'longest_first'], `[MASK] ${long}`);
  assert.equal(cut.code, 0, cut.err);
  assert.equal(electra(['predict', '--model', models.generatorDir], 'a\n').code, 2);
  assert.equal(electra(['fill-mask', '--model', models.dir, '--truncation', 'sideways'], '').code, 2);
});

test('electra predict --quantize int8: the int8 discriminator\'s answers, not the fp32 ones; other values exit 2', () => {
  const input = '{"text": "the big cat sees a dog ."}\n';
  const r = electra(['predict', '--model', models.discriminatorDir, '--quantize', 'int8'], input);
  assert.equal(r.code, 0, r.err);
  const line = JSON.parse(r.out.trim()) as { probs: number[] };
  const int8 = loadDiscriminator(models.discriminatorDir, { quantize: 'int8' }).predictText(['the big cat sees a dog .']);
  const fp32 = loadDiscriminator(models.discriminatorDir).predictText(['the big cat sees a dog .']);
  line.probs.forEach((p, j) => assert.ok(Math.abs(p - int8.probs[j]!) < 1e-6, `token ${j}`));
  assert.ok(line.probs.some((p, j) => p !== fp32.probs[j]), 'int8 answers differ from fp32 somewhere');
  assert.equal(electra(['predict', '--model', models.discriminatorDir, '--quantize', 'int4'], input).code, 2);
});
