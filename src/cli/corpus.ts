// `electra corpus`: writes the npm-shipped corpora as plain text files for build-pretraining-dataset.
import { corpusNames, type CorpusName } from '../data/corpora.js';
import { exportCorpus } from '../data/corpus-export.js';
import type { Command } from './commands.js';
import { checkOutputFolder } from '../io/files.js';
import { exitStatusFor } from './exit-status.js';
import { booleanFlag, readCommandFlags, requiredString } from './parse-options.js';

const HELP = `Usage: electra corpus --name ${corpusNames.join('|')}[,...] --output-dir DIR [--single-file]

Writes a corpus shipped with the npm dependencies as plain text: one sentence (Brown) or paragraph
(State of the Union, Moby Dick) a line, one document per file (NAME-ID.txt), or with --single-file
all documents in NAME.txt with a blank line between documents.
`;

async function run(argv: string[]): Promise<number> {
  const flags = readCommandFlags(argv, {
    command: 'corpus', usage: HELP, required: [['name', 'output-dir']],
    options: { name: { type: 'string' }, 'output-dir': { type: 'string' }, 'single-file': { type: 'boolean' } },
  });
  if (typeof flags === 'number') return flags;
  const names = requiredString(flags, 'name').split(',').map((n) => n.trim()).filter((n) => n !== '');
  const outputDir = requiredString(flags, 'output-dir');
  const unknown = names.filter((n) => !(corpusNames as readonly string[]).includes(n));
  if (names.length === 0 || unknown.length > 0) {
    const what = names.length === 0 ? '--name lists no corpus' : `unknown corpus '${unknown.join(',')}'`;
    process.stderr.write(`electra corpus: ${what}, expected ${corpusNames.join(', ')}\n\n${HELP}`);
    return 2;
  }
  try {
    checkOutputFolder(outputDir, '--output-dir');
    for (const name of names as CorpusName[]) {
      const r = exportCorpus(name, outputDir, booleanFlag(flags, 'single-file', false));
      process.stdout.write(`${name}: ${r.documents} documents, ${(r.bytes / 1e6).toFixed(2)} MB in ${r.files.length} file(s) under ${outputDir}\n`);
    }
    return 0;
  } catch (e) {
    process.stderr.write(`electra corpus: ${(e as Error).message}\n`);
    return exitStatusFor(e);
  }
}

export const corpusCommand: Command = {
  name: 'corpus',
  summary: 'Write a shipped corpus (brown, sotu, mobydick) as text files',
  run,
};
