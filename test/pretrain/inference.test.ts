// The inference surface: padded batches with an attention mask equal one sequence at a time,
// buffers grow past their first shape up to max_position_embeddings, too-long inputs are refused
// unless truncation is asked for, hidden states (embeddings + every layer) match a float64 JS
// model, and fill-mask matches a float64 reference computed here.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { jsKernels } from '../../src/kernels/index.js';
import { ElectraDiscriminator } from '../../src/model/discriminator.js';
import { ElectraMaskedLM } from '../../src/model/masked-lm.js';
import { loadDiscriminator, loadMaskedLM, loadPretrainingModel } from '../../src/pretrain/load.js';
import { decodeTokens, type FillMaskCandidate } from '../../src/pretrain/inference.js';
import { assertClose } from '../helpers.js';
import { writeTinyModels } from './tiny-models.js';

const models = writeTinyModels('inference');
after(() => models.cleanup());

const texts = ['the big cat sees a dog .', 'a dog', ['the old farmer feeds the horse', 'the horse likes the farmer'] as [string, string],
  'the small bird near the river and the green tree watches a quiet child .'];

test('a padded batch gives what each sequence gives alone; the buffers grow; chunks of maxBatch', () => {
  // Buffers start at 2 x 4: every call below outgrows them.
  const disc = loadDiscriminator(models.discriminatorDir, { maxBatch: 2, maxSeqLen: 4 });
  const batch = disc.predictText(texts, { outputHiddenStates: true });
  const S = batch.seqLen;
  const H = batch.hiddenSize;
  assert.equal(batch.batch, 4);
  assert.equal(S, Math.max(...batch.encodings.map((e) => e.ids.length)));
  assert.equal(batch.hiddenStates!.length, 3);
  assert.ok(disc.bufferShape.maxSeqLen >= S && disc.bufferShape.maxBatch === 2);
  batch.encodings.forEach((enc, b) => {
    const n = enc.ids.length;
    assert.deepEqual([...batch.attentionMask.subarray(b * S, (b + 1) * S)], [...new Array<number>(n).fill(1), ...new Array<number>(S - n).fill(0)]);
    const alone = disc.predictText([texts[b]!], { outputHiddenStates: true });
    assert.equal(alone.seqLen, n);
    assertClose(batch.logits.subarray(b * S, b * S + n), alone.logits, 2e-5, 1e-4, `logits ${b}`);
    assertClose(batch.probs.subarray(b * S, b * S + n), alone.probs, 2e-6, 1e-4, `probs ${b}`);
    for (let l = 0; l < 3; l++) {
      assertClose(batch.hiddenStates![l]!.subarray(b * S * H, (b * S + n) * H), alone.hiddenStates![l]!, 2e-5, 1e-4, `hidden_states[${l}] ${b}`);
    }
    assertClose(batch.lastHiddenState.subarray(b * S * H, (b * S + n) * H), alone.hiddenStates![2]!, 0, 0, 'last = hidden_states[-1]');
  });
  // The pair's second segment has token type 1.
  assert.equal(batch.encodings[2]!.segmentIds.at(-1), 1);

  // HF-style rows: explicit padding (any ids) under attention mask 0 changes nothing.
  const ids = batch.encodings[1]!.ids;
  const padded = disc.predict({ inputIds: [[...ids, 7, 9, 9]], attentionMask: [[...ids.map(() => 1), 0, 0, 0]] });
  assertClose(padded.probs.subarray(0, ids.length), disc.predictText([texts[1]!]).probs, 2e-6, 1e-4, 'masked padding');
  // The existing per-sequence API agrees.
  const [r] = disc.discriminate([ids]);
  assertClose(r!.probs, padded.probs.subarray(0, ids.length), 2e-6, 1e-4, 'discriminate');
});

test('lengths up to max_position_embeddings run; longer is an error unless truncation is asked for', () => {
  const disc = loadDiscriminator(models.discriminatorDir, { maxBatch: 2, maxSeqLen: 8 });
  const long = new Array(38).fill('dog').join(' '); // 40 tokens with [CLS] and [SEP]: the limit
  assert.equal(disc.predictText([long]).seqLen, 40);
  assert.throws(() => disc.predictText([long + ' cat']), /input 0 has 41 tokens; the model takes at most 40 \(max_position_embeddings\)/);
  assert.throws(() => disc.discriminateText(long + ' cat'), /41 tokens/);
  assert.throws(() => disc.predict({ inputIds: [new Array<number>(41).fill(5)] }), /41 tokens; the model takes at most 40/);
  const cut = disc.predictText([long + ' cat'], { truncation: 'longest_first' });
  assert.equal(cut.seqLen, 40);
  assert.deepEqual(cut.encodings[0]!.tokens.slice(-2), ['dog', '[SEP]']);
  // only_second keeps all of the first text.
  const pair = disc.predictText([['a cat', long]], { truncation: 'only_second', maxLength: 12 });
  assert.deepEqual(pair.encodings[0]!.tokens, ['[CLS]', 'a', 'cat', '[SEP]', ...new Array(7).fill('dog'), '[SEP]']);
  assert.throws(() => disc.predictText(['a'], { maxLength: 41 }), /maxLength 41 is outside \[2, 40\]/);
  assert.throws(() => disc.predict({ inputIds: [[2, 999]] }), /token id 999 is outside the vocabulary/);
  assert.throws(() => disc.predict({ inputIds: [[2, 3]], attentionMask: [[1]] }), /2 input ids but 1 attention mask values/);
});

test('hidden states (embeddings output + every layer) match the float64 JS model, and survive the next call', () => {
  const disc = loadDiscriminator(models.discriminatorDir, { maxBatch: 3 });
  const out = disc.predictText(texts.slice(0, 3), { outputHiddenStates: true });
  const keep = out.hiddenStates!.map((h) => h.slice());
  disc.predictText(['a quiet horse'], { outputHiddenStates: true });
  keep.forEach((h, i) => assert.deepEqual(out.hiddenStates![i], h, 'a later call leaves earlier results alone'));

  const { batch: B, seqLen: S } = out;
  const f64 = new ElectraDiscriminator(jsKernels, disc.config, { maxBatch: B, maxSeqLen: S, dtype: 'float64' });
  f64.params.params.set(disc.model.params.params);
  const ids = new Int32Array(B * S);
  const segs = new Int32Array(B * S);
  out.encodings.forEach((e, b) => { ids.set(e.ids, b * S); segs.set(e.segmentIds, b * S); });
  const ref = f64.forward(ids, segs, out.attentionMask, B, S);
  const refStates = f64.allHiddenStates();
  assert.equal(refStates.length, out.hiddenStates!.length);
  const H = out.hiddenSize;
  out.encodings.forEach((e, b) => {
    const n = e.ids.length;
    refStates.forEach((h, l) => assertClose(out.hiddenStates![l]!.subarray(b * S * H, (b * S + n) * H), h.subarray(b * S * H, (b * S + n) * H), 1e-4, 1e-4, `hidden_states[${l}] row ${b}`));
    assertClose(out.logits.subarray(b * S, b * S + n), ref.logits.subarray(b * S, b * S + n), 1e-4, 1e-4, `logits row ${b}`);
  });
});

/** Float64 fill-mask for one text, written here from HF's pipeline: softmax at the mask, top k. */
function referenceFillMask(lm: ReturnType<typeof loadMaskedLM>, text: string, topK: number): { id: number; score: number }[][] {
  const [enc] = lm.encode([text]);
  const n = enc!.ids.length;
  const f64 = new ElectraMaskedLM(jsKernels, lm.config, { maxBatch: 1, maxSeqLen: n, dtype: 'float64' });
  f64.params.params.set(lm.model.params.params);
  const masks = enc!.ids.flatMap((id, p) => (id === lm.tokenizer!.maskId ? [p] : []));
  const V = lm.config.vocab_size;
  const logits = new Float64Array(masks.length * V) as unknown as Float32Array;
  f64.forward(Int32Array.from(enc!.ids), Int32Array.from(enc!.segmentIds), new Int32Array(n).fill(1), 1, n, Int32Array.from(masks), logits);
  return masks.map((_, m) => {
    const row = Array.from(logits.subarray(m * V, (m + 1) * V));
    const max = Math.max(...row);
    const z = row.reduce((s, x) => s + Math.exp(x - max), 0);
    return row.map((x, id) => ({ id, score: Math.exp(x - max) / z })).sort((a, b) => b.score - a.score || a.id - b.id).slice(0, topK);
  });
}

test('fillMask: top-k tokens and probabilities at each [MASK], as HF pipeline returns them, equal a float64 reference', () => {
  const lm = loadMaskedLM(models.generatorDir, { maxBatch: 2, maxSeqLen: 4 });
  const single = lm.fillMask('the big [MASK] sees a dog .', { topK: 3 }) as FillMaskCandidate[];
  assert.equal(single.length, 3);
  const ref = referenceFillMask(lm, 'the big [MASK] sees a dog .', 3)[0]!;
  single.forEach((c, i) => {
    assert.deepEqual(Object.keys(c), ['score', 'token', 'token_str', 'sequence']);
    assert.equal(c.token, ref[i]!.id);
    assert.ok(Math.abs(c.score - ref[i]!.score) < 1e-5, `score ${c.score} vs ${ref[i]!.score}`);
    assert.equal(c.token_str, models.vocab[c.token]);
    const expected = decodeTokens(['the', 'big', models.vocab[c.token]!, 'sees', 'a', 'dog', '.'].filter((t) => !/^\[(PAD|UNK|CLS|SEP|MASK)\]$/.test(t)));
    assert.equal(c.sequence, expected);
  });
  assert.ok(single[0]!.score >= single[1]!.score && single[1]!.score >= single[2]!.score);

  // Two masks: one list per mask; the sequences keep the special tokens (as HF does for several masks).
  const text = '[MASK] old farmer feeds the [MASK]';
  const multi = lm.fillMask(text, { topK: 2 }) as FillMaskCandidate[][];
  const refs = referenceFillMask(lm, text, 2);
  assert.equal(multi.length, 2);
  multi.forEach((list, m) => list.forEach((c, i) => {
    assert.equal(c.token, refs[m]![i]!.id);
    assert.ok(Math.abs(c.score - refs[m]![i]!.score) < 1e-5);
    assert.ok(c.sequence.startsWith('[CLS]') && c.sequence.endsWith(' [SEP]') && c.sequence.includes('[MASK]'), c.sequence);
  }));
  // Batched with other texts (padding, a chunk of 2 then 1) gives the same.
  const batched = lm.fillMaskBatch(['a dog [MASK] .', text, 'the big [MASK] sees a dog .'], { topK: 3 });
  assert.deepEqual((batched[2] as FillMaskCandidate[]).map((c) => c.token), single.map((c) => c.token));
  (batched[2] as FillMaskCandidate[]).forEach((c, i) => assert.ok(Math.abs(c.score - single[i]!.score) < 1e-6));
  assert.throws(() => lm.fillMask('no mask here'), /input 0 has no \[MASK\] token/);
  assert.throws(() => lm.fillMask('a [MASK]', { topK: 0 }), /topK must be a positive integer/);
});

test('decodeTokens follows HF BERT decode with clean-up', () => {
  assert.equal(decodeTokens(['the', 'cat', '##s', 'do', 'n', "'", 't', ',', 'see', '.']), "the cats don't, see.");
  assert.equal(decodeTokens(['[CLS]', 'a', '[SEP]']), '[CLS] a [SEP]');
});

test("loadPretrainingModel honours the generator folder's heads, feed-forward width and LayerNorm epsilon", () => {
  // Hidden 48 with 2 heads: the reference's sizing rule would give 1 head and 192 wide.
  const pair = writeTinyModels('gen-config', { hidden_size: 32, num_attention_heads: 2, intermediate_size: 64 },
    { hidden_size: 48, num_attention_heads: 2, intermediate_size: 100, layer_norm_eps: 1e-7, num_hidden_layers: 1 });
  try {
    const loaded = loadPretrainingModel(pair.dir, { maxBatch: 1, maxSeqLen: 12 });
    const gen = loaded.model.generatorConfig;
    assert.deepEqual([gen.hidden_size, gen.num_attention_heads, gen.intermediate_size, gen.layer_norm_eps, gen.num_hidden_layers], [48, 2, 100, 1e-7, 1]);
    assert.equal(loaded.model.discriminatorConfig!.num_attention_heads, 2);
    // The pre-training model's generator computes what the folder's masked LM computes.
    const lm = loadMaskedLM(pair.generatorDir);
    const [enc] = lm.encode(['the big [MASK] sees a dog .']);
    const n = enc!.ids.length;
    const V = lm.config.vocab_size;
    const positions = Int32Array.from({ length: n }, (_, i) => i);
    const m = loaded.model;
    const hidden = m.generator!.forward(Int32Array.from(enc!.ids), new Int32Array(n), new Int32Array(n).fill(1), 1, n, m.generator!.dropout(false, 0));
    const logits = m.generatorHead!.forward(hidden, positions, n);
    const expected = lm.predict({ inputIds: [enc!.ids] }).logits;
    assertClose(logits.subarray(0, n * V), expected, 1e-4, 1e-4, 'generator logits');
  } finally {
    pair.cleanup();
  }
});

test('loadPretrainingModel refuses a generator that cannot share the embeddings, naming the field', () => {
  const pair = writeTinyModels('gen-misfit', {}, { max_position_embeddings: 32 });
  try {
    assert.throws(() => loadPretrainingModel(pair.dir), /generator\/config\.json: "max_position_embeddings" is 32 but the discriminator's is 40/);
  } finally {
    pair.cleanup();
  }
});
