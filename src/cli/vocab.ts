// `electra vocab`: trains a WordPiece vocab.txt from a directory of text files.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../io/files.js';
import type { Command } from './commands.js';
import { intValue, parseFlags, requireValue } from './flags.js';
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
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(usage);
      return 0;
    }
    const flags = parseFlags('vocab', argv, {
      values: ['corpus-dir', 'vocab-size', 'output', 'min-frequency', 'limit-alphabet'],
      booleans: ['lower-case'],
    });
    const corpusDir = requireValue('vocab', flags, 'corpus-dir');
    const output = requireValue('vocab', flags, 'output');
    const vocabSize = intValue('vocab', flags, 'vocab-size', undefined, 5);
    const minFrequency = intValue('vocab', flags, 'min-frequency', 2, 1);
    const limitAlphabet = intValue('vocab', flags, 'limit-alphabet', 1000, 1);
    const lowerCase = flags.booleans.get('lower-case') ?? true;
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
