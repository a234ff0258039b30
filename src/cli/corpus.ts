// `electra corpus`: writes the npm-shipped corpora as plain text files for build-pretraining-dataset.
import { corpusNames, type CorpusName } from '../data/corpora.js';
import { exportCorpus } from '../data/corpus-export.js';
import type { Command } from './commands.js';
import { parseFlags, stringFlag } from './parse-options.js';

const HELP = `Usage: electra corpus --name ${corpusNames.join('|')}[,...] --output-dir DIR [--single-file]

Writes a corpus shipped with the npm dependencies as plain text: one sentence (Brown) or paragraph
(State of the Union, Moby Dick) a line, one document per file (NAME-ID.txt), or with --single-file
all documents in NAME.txt with a blank line between documents.
`;

async function run(argv: string[]): Promise<number> {
  let flags;
  try {
    flags = parseFlags(argv, {
      name: { type: 'string' }, 'output-dir': { type: 'string' }, 'single-file': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    });
  } catch (e) {
    process.stderr.write(`electra corpus: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (flags.values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const names = (stringFlag(flags, 'name') ?? '').split(',').map((n) => n.trim()).filter((n) => n !== '');
  const outputDir = stringFlag(flags, 'output-dir');
  const unknown = names.filter((n) => !(corpusNames as readonly string[]).includes(n));
  if (names.length === 0 || !outputDir || unknown.length > 0) {
    const why = unknown.length > 0 ? `unknown corpus '${unknown.join(',')}', expected ${corpusNames.join(', ')}` : '--name and --output-dir are required';
    process.stderr.write(`electra corpus: ${why}\n\n${HELP}`);
    return 2;
  }
  try {
    for (const name of names as CorpusName[]) {
      const r = exportCorpus(name, outputDir, flags.values['single-file'] === true);
      process.stdout.write(`${name}: ${r.documents} documents, ${(r.bytes / 1e6).toFixed(2)} MB in ${r.files.length} file(s) under ${outputDir}\n`);
    }
    return 0;
  } catch (e) {
    process.stderr.write(`electra corpus: ${(e as Error).message}\n`);
    return 1;
  }
}

export const corpusCommand: Command = {
  name: 'corpus',
  summary: 'Write a shipped corpus (brown, sotu, mobydick) as text files',
  run,
};
