// Pair encoding with truncation: HF's strategies against HF itself, ELECTRA/BERT's
// _truncate_seq_pair against its literal loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BertTokenizer, bertUncasedVocab, truncatePair, type Pieces } from '../../src/tokenizer/index.js';
import { bertVocabFile, corpusLines, hfBert } from './reference.js';

function pieces(n: number): Pieces {
  const ids = Array.from({ length: n }, (_, i) => i);
  return { ids, starts: [...ids], ends: ids.map((i) => i + 1), words: [...ids] };
}

test('longest_first removes one token at a time from the longer sequence (the second on ties), as BERT does', () => {
  for (let na = 0; na <= 12; na++) {
    for (let nb = 0; nb <= 12; nb++) {
      for (let budget = 0; budget <= 26; budget++) {
        // ELECTRA's finetune/classification/classification_tasks.py: _truncate_seq_pair
        let la = na;
        let lb = nb;
        while (la + lb > budget) {
          if (la > lb) la--;
          else lb--;
        }
        const a = pieces(na);
        const b = pieces(nb);
        truncatePair(a, b, budget, 'longest_first');
        assert.deepEqual([a.ids.length, b.ids.length], [la, lb], `na=${na} nb=${nb} budget=${budget}`);
      }
    }
  }
});

test('only_first and only_second equal HF truncation on corpus pairs', async () => {
  const vocab = bertUncasedVocab();
  const ours = BertTokenizer.fromVocabFile(bertVocabFile());
  const lines = corpusLines();
  const strategies = [['only_first', 'OnlyFirst'], ['only_second', 'OnlySecond']] as const;
  for (const [mine, theirs] of strategies) {
    for (const maxLength of [8, 16, 37, 64]) {
      const reference = await hfBert(bertVocabFile(), { lowerCase: true }, vocab);
      reference.setTruncation(maxLength, { strategy: theirs as never });
      for (let i = 0; i < 120; i++) {
        const a = lines[i * 31]!;
        const b = lines[i * 31 + 7]!;
        let ref;
        try {
          ref = await reference.encode(a, b);
        } catch {
          ref = undefined;
        }
        if (ref === undefined) {
          assert.throws(() => ours.encode(a, b, { maxLength, truncation: mine }), /too short/, `${mine} ${maxLength} pair ${i} should fail as HF's does`);
          continue;
        }
        const enc = ours.encode(a, b, { maxLength, truncation: mine });
        const what = `${mine} maxLength=${maxLength} pair ${i}`;
        assert.deepEqual(enc.ids, ref.getIds(), what);
        assert.deepEqual(enc.segmentIds, ref.getTypeIds(), what);
        assert.deepEqual(enc.offsets, ref.getOffsets(), what);
        assert.ok(enc.ids.length <= maxLength, what);
      }
    }
  }
});

test('single sequences are cut to maxLength; impossible requests are errors', () => {
  const t = BertTokenizer.fromVocab(bertUncasedVocab());
  const enc = t.encode('one two three four five six', null, { maxLength: 5 });
  assert.deepEqual(enc.tokens, ['[CLS]', 'one', 'two', 'three', '[SEP]']);
  assert.throws(() => t.encode('a b', 'c', { maxLength: 2 }), /too small to hold the special tokens/);
  assert.throws(() => t.encode('a b c d', null, { maxLength: 4, truncation: 'only_second' }), /needs a second sequence/);
});
