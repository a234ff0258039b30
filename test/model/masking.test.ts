// Dynamic masking statistics, Gumbel-max sampling and the discriminator's input corruption.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/nn/random.js';
import { backends } from '../helpers.js';
import {
  CorruptionScratch, corruptInputs, gumbelUniforms, MaskedBatch, maskBatch, numToPredict, sampleGumbelMax,
} from '../../src/model/masking.js';

const SPECIAL = { cls: 101, sep: 102, mask: 103 };

test('number of predictions follows the reference float32 round-half-even arithmetic', () => {
  // 10 * 0.15f rounds to 1.5f in float32, then half-to-even -> 2; 30 * 0.15f -> 4.5f -> 4; 50 -> 7.5000005f -> 8.
  assert.equal(numToPredict(10, 0.15, 19), 2);
  assert.equal(numToPredict(30, 0.15, 19), 4);
  assert.equal(numToPredict(50, 0.15, 19), 8);
  assert.equal(numToPredict(3, 0.15, 19), 1, 'at least one');
  assert.equal(numToPredict(128, 0.15, 19), 19);
  assert.equal(numToPredict(128, 0.25, 19), 19, 'capped at max_predictions_per_seq');
});

test('masking: counts, candidates, 85% [MASK], uniform positions with replacement', () => {
  const B = 16;
  const S = 64;
  const N = Math.trunc((0.15 + 0.005) * S);
  const rng = new Rng(1);
  const ids = new Int32Array(B * S);
  const mask = new Int32Array(B * S);
  const lengths: number[] = [];
  for (let b = 0; b < B; b++) {
    const len = b === 0 ? S : 8 + rng.int(S - 8);
    lengths.push(len);
    for (let p = 0; p < len; p++) {
      mask[b * S + p] = 1;
      ids[b * S + p] = p === 0 ? SPECIAL.cls : p === len - 1 || p === (len >> 1) ? SPECIAL.sep : 1000 + rng.int(5000);
    }
  }
  ids[3 * S + 5] = SPECIAL.mask; // an existing [MASK] is never a candidate
  const out = new MaskedBatch(B, S, N);
  const opts = { maskProb: 0.15, maxPredictionsPerSeq: N, special: SPECIAL };
  const positionHits = new Float64Array(S);
  let maskedSingles = 0;
  let singles = 0;
  const rounds = 300;
  for (let round = 0; round < rounds; round++) {
    maskBatch(ids, mask, B, S, opts, rng, out);
    let r = 0;
    for (let b = 0; b < B; b++) {
      const k = numToPredict(lengths[b]!, 0.15, N);
      const drawn = new Map<number, number>();
      for (let j = 0; j < k; j++, r++) {
        const flat = out.positions[r]!;
        assert.equal(Math.floor(flat / S), b, 'predictions are grouped by sequence');
        const id = ids[flat]!;
        assert.ok(mask[flat] === 1 && id !== SPECIAL.cls && id !== SPECIAL.sep && id !== SPECIAL.mask, 'only candidates');
        assert.equal(out.labels[r], id, 'label is the original token');
        drawn.set(flat, (drawn.get(flat) ?? 0) + 1);
        if (b === 0) positionHits[flat % S]++;
      }
      for (let p = 0; p < S; p++) {
        const flat = b * S + p;
        const c = drawn.get(flat) ?? 0;
        if (c === 0) assert.equal(out.maskedIds[flat], ids[flat], 'undrawn positions unchanged');
        else assert.ok(out.maskedIds[flat] === ids[flat] || out.maskedIds[flat] === SPECIAL.mask);
        if (c === 1) {
          singles++;
          if (out.maskedIds[flat] === SPECIAL.mask) maskedSingles++;
        }
      }
    }
    assert.equal(out.count, r);
  }
  const maskRate = maskedSingles / singles;
  const sd = Math.sqrt(0.85 * 0.15 / singles);
  assert.ok(Math.abs(maskRate - 0.85) < 4 * sd, `[MASK] rate ${maskRate} over ${singles}`);
  // Sequence 0 has 61 candidates (positions 1..62 except the middle [SEP]); each is drawn with probability 1/61.
  const candidates = Array.from({ length: S }, (_, p) => p).filter((p) => p !== 0 && p !== S - 1 && p !== S >> 1);
  const expected = (rounds * N) / candidates.length;
  for (const p of candidates) {
    assert.ok(Math.abs(positionHits[p]! - expected) < 5 * Math.sqrt(expected), `position ${p}: ${positionHits[p]} vs ${expected}`);
  }
  assert.equal(positionHits[0], 0);
  assert.equal(positionHits[S - 1], 0);
});

test('masking is reproducible for a seed and never rewrites position 0', () => {
  const S = 8;
  // No [CLS]: position 0 is a candidate; it may be predicted but is never replaced by [MASK].
  const ids = Int32Array.from([7, 8, 9, 10, 11, 12, 13, 14]);
  const mask = new Int32Array(S).fill(1);
  const opts = { maskProb: 0.9, maxPredictionsPerSeq: 7, special: SPECIAL };
  const a = new MaskedBatch(1, S, 7);
  const b = new MaskedBatch(1, S, 7);
  let zeroPredicted = false;
  for (let seed = 0; seed < 50; seed++) {
    maskBatch(ids, mask, 1, S, opts, new Rng(seed), a);
    maskBatch(ids, mask, 1, S, opts, new Rng(seed), b);
    assert.deepEqual(a.positions, b.positions);
    assert.deepEqual(a.maskedIds, b.maskedIds);
    assert.equal(a.maskedIds[0], 7);
    if (Array.from(a.positions.subarray(0, a.count)).includes(0)) zeroPredicted = true;
  }
  assert.ok(zeroPredicted);
});

test('a sequence without candidates gets no predictions', () => {
  const ids = Int32Array.from([SPECIAL.cls, SPECIAL.sep, 0, 0, SPECIAL.cls, 5, SPECIAL.sep, 0]);
  const mask = Int32Array.from([1, 1, 0, 0, 1, 1, 1, 0]);
  const out = new MaskedBatch(2, 4, 3);
  maskBatch(ids, mask, 2, 4, { maskProb: 0.15, maxPredictionsPerSeq: 3, special: SPECIAL }, new Rng(3), out);
  assert.equal(out.count, 1);
  assert.equal(out.positions[0], 5);
});

test('Gumbel-max sampling follows softmax(logits / temperature) and the reference noise formula', () => {
  const probs = [0.5, 0.3, 0.15, 0.05];
  const rows = 20000;
  const cols = probs.length;
  for (const temperature of [1, 2]) {
    const logits = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let i = 0; i < cols; i++) logits[r * cols + i] = Math.log(probs[i]!) * temperature;
    const samples = new Int32Array(rows);
    const argmax = new Int32Array(rows);
    sampleGumbelMax(logits, rows, cols, temperature, 11, samples, argmax);
    const counts = new Float64Array(cols);
    for (let r = 0; r < rows; r++) counts[samples[r]!]++;
    for (let i = 0; i < cols; i++) {
      const sd = Math.sqrt(rows * probs[i]! * (1 - probs[i]!));
      assert.ok(Math.abs(counts[i]! - rows * probs[i]!) < 4.5 * sd, `T=${temperature} token ${i}: ${counts[i]}`);
      assert.ok(argmax.every((v) => v === 0));
    }
  }
});

test('pruned Gumbel-max equals evaluating the reference noise at every element', () => {
  const rows = 300;
  const cols = 500;
  const rng = new Rng(8);
  const logits = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    // Rows of different spreads, including flat rows (all ties before noise) and one dominant token.
    const spread = [0, 0.01, 1, 5, 30][r % 5]!;
    for (let i = 0; i < cols; i++) logits[r * cols + i] = (rng.uniform() * 2 - 1) * spread;
    if (r % 7 === 0) logits[r * cols + (r % cols)] = 40;
  }
  for (const [temperature, seed] of [[1, 3], [0.5, 4], [3, 5]] as const) {
    const samples = new Int32Array(rows);
    sampleGumbelMax(logits, rows, cols, temperature, seed, samples);
    for (let r = 0; r < rows; r++) {
      const u = gumbelUniforms(seed, r, cols);
      let best = -Infinity;
      let bestIndex = -1;
      for (let i = 0; i < cols; i++) {
        const v = logits[r * cols + i]! / temperature - Math.log(-Math.log(u[i]! + 1e-9) + 1e-9);
        if (v > best) { best = v; bestIndex = i; }
      }
      assert.equal(samples[r], bestIndex, `row ${r}, T=${temperature}`);
    }
  }
  // Different seeds give different streams; rows of one call are different streams too.
  assert.notDeepEqual(gumbelUniforms(1, 0, 8), gumbelUniforms(2, 0, 8));
  assert.notDeepEqual(gumbelUniforms(1, 0, 8), gumbelUniforms(1, 1, 8));
});

test('corruption writes samples like the reference scatter: duplicates floor-averaged, position 0 skipped', () => {
  const S = 6;
  const original = Int32Array.from([50, 51, 52, 53, 54, 55, 60, 61, 62, 63, 64, 65]);
  // Sequence 0: position 2 twice (samples 20, 25), position 3 sampled as itself, position 0 (never written).
  // Sequence 1: position 4 replaced.
  const positions = Int32Array.from([2, 3, 2, 0, 10]);
  const samples = Int32Array.from([20, 53, 25, 99, 7]);
  const outIds = new Int32Array(12);
  const labels = new Float32Array(12);
  const scratch = new CorruptionScratch(12);
  corruptInputs(original, 2, S, positions, samples, 5, outIds, labels, scratch);
  assert.deepEqual(Array.from(outIds), [50, 51, 22, 53, 54, 55, 60, 61, 62, 63, 7, 65]);
  assert.deepEqual(Array.from(labels), [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
  assert.ok(scratch.sums.every((v) => v === 0) && scratch.counts.every((v) => v === 0), 'scratch is left clean');
  // Two duplicate samples that average back to the original are labelled original.
  corruptInputs(original, 2, S, Int32Array.from([1, 1]), Int32Array.from([50, 52]), 2, outIds, labels, scratch);
  assert.equal(outIds[1], 51);
  assert.equal(labels[1], 0);
});

test('disallow_correct: the original token gets -1000 after the temperature, exactly as evaluated element by element', () => {
  const rows = 200;
  const cols = 40;
  const rng = new Rng(12);
  const logits = new Float32Array(rows * cols);
  const labels = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < cols; i++) logits[r * cols + i] = (rng.uniform() * 2 - 1) * 3;
    labels[r] = rng.int(cols);
    // Half the rows make the original token overwhelmingly likely.
    if (r % 2 === 0) logits[r * cols + labels[r]!] = 50;
  }
  const temperature = 0.7;
  const samples = new Int32Array(rows);
  const argmax = new Int32Array(rows);
  sampleGumbelMax(logits, rows, cols, temperature, 9, samples, argmax, 0, labels);
  for (let r = 0; r < rows; r++) {
    const u = gumbelUniforms(9, r, cols);
    let best = -Infinity;
    let bestIndex = -1;
    for (let i = 0; i < cols; i++) {
      const v = logits[r * cols + i]! / temperature - (i === labels[r] ? 1000 : 0) - Math.log(-Math.log(u[i]! + 1e-9) + 1e-9);
      if (v > best) { best = v; bestIndex = i; }
    }
    assert.equal(samples[r], bestIndex, `row ${r}`);
    assert.notEqual(samples[r], labels[r], `row ${r} sampled the original token`);
    if (r % 2 === 0) assert.equal(argmax[r], labels[r], 'the MLM prediction reads the unmodified logits');
  }
});

test('Gumbel-max with a backend\'s candidate pre-pass gives the plain loop\'s samples and argmax, on every backend', () => {
  const rng = new Rng(21);
  const shapes = [[400, 300], [6, 30522]] as const;
  for (const [rows, cols] of shapes) {
    const logits = new Float32Array(rows * cols);
    const labels = new Int32Array(rows);
    for (let r = 0; r < rows; r++) {
      const spread = [0, 1e-3, 1, 4, 30][r % 5]!;
      for (let i = 0; i < cols; i++) logits[r * cols + i] = (rng.uniform() * 2 - 1) * spread;
      labels[r] = rng.int(cols);
      if (r % 7 === 0) logits[r * cols + labels[r]!] = 40;
      if (r % 11 === 3) logits[r * cols + 5] = NaN;
      if (r % 13 === 4) logits[r * cols + 7] = Infinity;
      // All -Infinity: nothing prunes, so the row overflows the pre-pass and runs whole.
      if (r % 17 === 5) logits.fill(-Infinity, r * cols, (r + 1) * cols);
    }
    for (const [temperature, seed, rowOffset, disallow] of [[1, 3, 0, null], [0.5, 4, 9, labels], [3, 5, 0, labels]] as const) {
      const expected = new Int32Array(rows);
      const expectedArgmax = new Int32Array(rows);
      sampleGumbelMax(logits, rows, cols, temperature, seed, expected, expectedArgmax, rowOffset, disallow);
      for (const k of backends()) {
        const label = `${k.name} ${rows}x${cols} T=${temperature}`;
        const samples = new Int32Array(rows);
        const argmax = new Int32Array(rows);
        sampleGumbelMax(logits, rows, cols, temperature, seed, samples, argmax, rowOffset, disallow, k);
        assert.deepEqual(samples, expected, `${label}: samples`);
        assert.deepEqual(argmax, expectedArgmax, `${label}: argmax`);
        // The candidates themselves: every evaluated column listed, with its uniform's numerator.
        const capacity = 256;
        const counts = new Int32Array(rows);
        const columns = new Int32Array(rows * capacity);
        const numerators = new Int32Array(rows * capacity);
        k.gumbelCandidates(logits, rows, cols, 1 / temperature, seed, rowOffset, disallow, argmax, counts, columns, numerators, capacity);
        let overflowed = 0;
        for (let r = 0; r < rows; r++) {
          if (counts[r]! < 0) {
            overflowed++;
            continue;
          }
          const listed = Array.from(columns.subarray(r * capacity, r * capacity + counts[r]!));
          // The argmax column first, then the sample among the rest.
          assert.equal(listed[0], argmax[r], `${label}: row ${r} lists its argmax first`);
          assert.ok(listed.includes(samples[r]!), `${label}: row ${r} sample ${samples[r]} not listed`);
          const u = gumbelUniforms(seed, r + rowOffset, cols);
          for (let j = 0; j < listed.length; j++) assert.equal(numerators[r * capacity + j]! * 5.9604644775390625e-8, u[listed[j]!], `${label}: row ${r} uniform`);
          // A row with one dominant logit (not the disallowed one) lists a few columns, not every
          // column up to its peak.
          const dominant = r % 7 === 0 && r % 11 !== 3 && r % 13 !== 4 && r % 17 !== 5 && !(disallow && disallow[r] === argmax[r]);
          if (dominant && temperature <= 1) {
            assert.ok(listed.length <= 8, `${label}: row ${r} (dominant logit) lists ${listed.length} columns`);
          }
        }
        if (cols === 300) assert.ok(overflowed > 0, `${label}: the all -Infinity rows overflow`);
      }
    }
  }
});
