// Golden values printed by CPython 3.11's `random` module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PythonRandom } from '../../src/data/python-random.js';

test('random() after seed(42) and seed(0) matches CPython', () => {
  assert.equal(new PythonRandom(42).random(), 0.6394267984578837);
  assert.equal(new PythonRandom(0).getrandbits(32), 3626764237);
});

test('a mixed sequence of random, randint, getrandbits and shuffle matches CPython', () => {
  const r = new PythonRandom(12345);
  assert.deepEqual([r.random(), r.random()], [0.41661987254534116, 0.010169169457068361]);
  assert.deepEqual(Array.from({ length: 6 }, () => r.randint(5, 512)), [427, 416, 157, 442, 193, 482]);
  assert.deepEqual([1, 7, 31, 32].map((k) => r.getrandbits(k)), [0, 34, 1215493282, 1873586768]);
  const items = Array.from({ length: 20 }, (_, i) => i);
  r.shuffle(items);
  assert.deepEqual(items, [6, 18, 0, 7, 17, 16, 4, 1, 19, 12, 14, 9, 2, 10, 15, 8, 13, 3, 11, 5]);
});

test('seeds above 2^32 use several key words; state regeneration after 624 draws is right', () => {
  // seed(5 + (3 << 32)) is how job 3 of a seed-5 build is seeded.
  assert.equal(new PythonRandom(5 + 3 * 2 ** 32).random(), 0.15866214341695117);
  const r = new PythonRandom(2 ** 40 + 17);
  assert.equal(r.random(), 0.6614192930187859);
  for (let i = 0; i < 1000; i++) r.random();
  assert.equal(r.random(), 0.5263656986267742);
});

test('bad arguments are refused', () => {
  assert.throws(() => new PythonRandom(-1), /non-negative/);
  assert.throws(() => new PythonRandom(1.5), /non-negative/);
  assert.throws(() => new PythonRandom(1).randint(5, 4), /empty range/);
});
