// `electra tokenize` and `electra vocab` as a user runs them (child processes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BertTokenizer } from '../../src/tokenizer/index.js';
import { bertVocabFile, corpusLines } from './reference.js';

// dist/test/tokenizer -> package root
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
function electra(args: string[], input = ''): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'electra.js'), ...args], { input, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('tokenize: one JSON object per stdin line, as the library encodes it (uncased and cased)', () => {
  const input = [...corpusLines().slice(0, 40), '', 'Héllo 😀 wörld!', 'emoji 👍🏽 and 日本'];
  for (const cased of [false, true]) {
    const r = electra(['tokenize', '--vocab-file', bertVocabFile(), ...(cased ? ['--no-lower-case'] : [])], input.join('\n') + '\n');
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { ids: number[]; tokens: string[]; offsets: number[][] });
    assert.equal(out.length, input.length);
    const tokenizer = BertTokenizer.fromVocabFile(bertVocabFile(), { lowerCase: !cased });
    input.forEach((line, i) => {
      const enc = tokenizer.encode(line);
      assert.deepEqual(out[i], { ids: enc.ids, tokens: enc.tokens, offsets: enc.offsets });
    });
  }
});

test('tokenize --pair reads tab-separated pairs; malformed lines and missing flags are clear errors', () => {
  const r = electra(['tokenize', '--vocab-file', bertVocabFile(), '--pair'], 'Who won?\tThe home team won.\n');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { tokens: string[]; segmentIds: number[]; offsets: number[][] };
  assert.deepEqual(out.tokens, ['[CLS]', 'who', 'won', '?', '[SEP]', 'the', 'home', 'team', 'won', '.', '[SEP]']);
  assert.deepEqual(out.segmentIds, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
  assert.deepEqual(out.offsets[6], [4, 8]);
  const bad = electra(['tokenize', '--vocab-file', bertVocabFile(), '--pair'], 'ok\tfine\nno tab here\n');
  assert.equal(bad.status, 2); // bad input, found while streaming
  assert.match(bad.stderr, /stdin line 2: expected "A<TAB>B"/);
  assert.match(electra(['tokenize']).stderr, /--vocab-file is required/);
  assert.match(electra(['tokenize', '--vocab-file', '/no/such/vocab.txt']).stderr, /vocab file not found/);
  assert.match(electra(['tokenize', '--vocab-file', bertVocabFile(), '--bogus']).stderr, /unknown option '--bogus'/);
});

test('vocab: trains from a corpus directory, writes vocab.txt, one final progress line off a terminal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'electra-cli-'));
  mkdirSync(join(dir, 'corpus'));
  writeFileSync(join(dir, 'corpus', 'part1.txt'), corpusLines().slice(0, 3000).join('\n'));
  writeFileSync(join(dir, 'corpus', 'part2.txt'), corpusLines().slice(3000, 5000).join('\n'));
  const output = join(dir, 'vocab.txt');
  const r = electra(['vocab', '--corpus-dir', join(dir, 'corpus'), '--vocab-size', '1500', '--output', output]);
  assert.equal(r.status, 0, r.stderr);
  const lines = readFileSync(output, 'utf8').split('\n');
  assert.equal(lines.pop(), '');
  assert.equal(lines.length, 1500);
  assert.deepEqual(lines.slice(0, 5), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  assert.match(r.stderr, /^counting words \[#+\] 100\.0% /);
  assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('counting words')).length, 1);
  assert.match(r.stderr, /\nmerging \[#+\] 100\.0% 1500\/1500 /);
  assert.match(r.stderr, /wrote .*vocab\.txt: 1500 entries/);
  const cased = electra(['vocab', '--corpus-dir', join(dir, 'corpus'), '--vocab-size', '1500', '--output', output + '.cased', '--no-lower-case']);
  assert.equal(cased.status, 0, cased.stderr);
  assert.ok(readFileSync(output + '.cased', 'utf8').split('\n').includes('The'));
  assert.match(electra(['vocab', '--corpus-dir', dir, '--output', output]).stderr, /--vocab-size is required/);
  assert.match(electra(['vocab', '--corpus-dir', dir, '--vocab-size', 'ten', '--output', output]).stderr, /--vocab-size must be an integer/);
});
