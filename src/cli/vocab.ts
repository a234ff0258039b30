// `electra vocab`: trains a WordPiece vocab.txt from a directory of text files.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { checkOutputFile, writeFileAtomic } from '../io/files.js';
import type { Command } from './commands.js';
import { booleanFlag, intFlag, readCommandFlags, requiredString } from './parse-options.js';
import { trainVocabFromDirectory } from '../tokenizer/trainer.js';
import { Progress } from '../util/progress.js';

const usage = `Usage: electra vocab --corpus-dir DIR --vocab-size N --output vocab.txt [options]

Trains a WordPiece vocabulary (BERT vocab.txt format, special tokens first) from every file
under DIR, read line by line.

Options:
  --corpus-dir DIR       directory of UTF-8 text files (searched recursively)
  --vocab-size N         entries in the vocabulary, special tokens included
  --output FILE          where to write vocab.txt
  --no-lower-case        keep case (and accents) as in a cased model
  --min-frequency F      never merge pairs seen fewer than F times (default 2)
  --limit-alphabet A     keep the A most frequent characters (default 1000)
`;

export const vocabCommand: Command = {
  name: 'vocab',
  summary: 'Train a WordPiece vocab.txt from a corpus directory',
  async run(argv) {
    const flags = readCommandFlags(argv, {
      command: 'vocab', usage, required: [['corpus-dir'], ['vocab-size'], ['output']],
      options: {
        'corpus-dir': { type: 'string' }, 'vocab-size': { type: 'string' }, output: { type: 'string' },
        'lower-case': { type: 'boolean', negatable: true }, 'min-frequency': { type: 'string' }, 'limit-alphabet': { type: 'string' },
      },
    });
    if (typeof flags === 'number') return flags;
    const corpusDir = requiredString(flags, 'corpus-dir');
    const output = requiredString(flags, 'output');
    const vocabSize = intFlag(flags, 'vocab-size', { min: 5 })!; // required above
    const minFrequency = intFlag(flags, 'min-frequency', { min: 1 }) ?? 2;
    const limitAlphabet = intFlag(flags, 'limit-alphabet', { min: 1 }) ?? 1000;
    const lowerCase = booleanFlag(flags, 'lower-case', true);
    checkOutputFile(output, '--output'); // before the training, which may take a while
    let counting: Progress | undefined;
    let merging: Progress | undefined;
    const tokens = await trainVocabFromDirectory(corpusDir, {
      vocabSize, lowerCase, minFrequency, limitAlphabet,
      onMerge: (size) => {
        if (!merging) {
          counting?.finish();
          merging = new Progress({ label: 'merging', total: vocabSize });
        }
        merging.update(size);
      },
    }, (bytes, total) => {
      counting ??= new Progress({ label: 'counting words', total, unit: 'bytes' });
      counting.update(bytes);
    });
    counting?.finish();
    merging?.finish();
    mkdirSync(dirname(output), { recursive: true });
    writeFileAtomic(output, [tokens.join('\n') + '\n']);
    process.stderr.write(`wrote ${output}: ${tokens.length} entries${tokens.length < vocabSize ? ` (fewer than ${vocabSize}: no pair left with frequency >= ${minFrequency})` : ''}\n`);
    return 0;
  },
};
