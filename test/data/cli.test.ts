// The `corpus` and `build-pretraining-dataset` commands end to end (flags, exit codes, files).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { splitSentences } from '../../src/data/corpus-export.js';
import { readManifest } from '../../src/data/manifest.js';
import { bertUncasedVocabText } from '../../src/tokenizer/bert-vocab.js';
import { tempDir } from './helpers.js';

const root = tempDir('cli');
after(() => root.cleanup());

test('corpus writes one file per document, or one file with blank lines between documents', async () => {
  assert.equal(await main(['corpus', '--name', 'sotu', '--output-dir', join(root.dir, 'sotu')]), 0);
  const files = readdirSync(join(root.dir, 'sotu'));
  assert.equal(files.length, 233);
  assert.ok(files.includes('sotu-1790_george_washington_n.txt'));
  const first = readFileSync(join(root.dir, 'sotu', 'sotu-1790_george_washington_n.txt'), 'utf8');
  assert.ok(first.startsWith('Fellow-Citizens of the Senate and House of Representatives: In meeting you again I feel much satisfaction'));
  assert.ok(!first.includes('\n\n') && first.split('\n').length > 20, 'sentences one a line, no blank lines inside a document');

  assert.equal(await main(['corpus', '--name', 'mobydick', '--output-dir', join(root.dir, 'md'), '--single-file']), 0);
  const text = readFileSync(join(root.dir, 'md', 'mobydick.txt'), 'utf8');
  assert.equal(text.split('\n\n').length, 139, 'documents separated by one blank line');
  assert.ok(text.includes('Call me Ishmael.'));

  assert.equal(await main(['corpus', '--name', 'nope', '--output-dir', join(root.dir, 'x')]), 2);
  assert.equal(await main(['corpus', '--name', 'brown']), 2);
});

test('splitSentences keeps abbreviations and initials inside sentences', () => {
  assert.deepEqual(splitSentences('Mr. Smith went to Washington. He said "Go." Then U.S. troops left! Why? 1990 came.'),
    ['Mr. Smith went to Washington.', 'He said "Go."', 'Then U.S. troops left!', 'Why?', '1990 came.']);
});

test('build-pretraining-dataset: flags as the reference, last toggle wins, clear usage errors', async () => {
  const vocab = join(root.dir, 'vocab.txt');
  writeFileSync(vocab, bertUncasedVocabText());
  const corpus = join(root.dir, 'md');
  const out = join(root.dir, 'out');
  const base = ['build-pretraining-dataset', '--corpus-dir', corpus, '--vocab-file', vocab, '--output-dir', out, '--quiet'];
  assert.equal(await main([...base, '--max-seq-length', '64', '--num-out-files', '2', '--num-processes', '2',
    '--no-lower-case', '--do-lower-case', '--no-blanks-separate-docs', '--no-strip-accents', '--seed', '7']), 0);
  const m = readManifest(out);
  assert.equal(m.maxSeqLength, 64);
  assert.equal(m.numProcesses, 2);
  assert.equal(m.lowerCase, true);
  assert.equal(m.stripAccents, false);
  assert.equal(m.blanksSeparateDocs, false);
  assert.equal(m.seed, 7);
  assert.deepEqual(readdirSync(out).sort(), ['manifest.json', 'shard-00000-of-00002.bin', 'shard-00001-of-00002.bin']);

  assert.equal(await main([...base.slice(0, -2), join(root.dir, 'o2'), '--max-seq-length', '4']), 2);
  assert.equal(await main([...base.slice(0, -2), join(root.dir, 'o3'), '--max-seq-length', 'abc']), 2);
  assert.equal(await main([...base, '--bogus']), 2);
  assert.equal(await main(['build-pretraining-dataset', '--corpus-dir', join(root.dir, 'none'), '--vocab-file', vocab, '--output-dir', join(root.dir, 'o4')]), 2); // bad input: exit 2, as every command
  for (const d of ['o2', 'o3', 'o4']) assert.equal(existsSync(join(root.dir, d)), false);
});
