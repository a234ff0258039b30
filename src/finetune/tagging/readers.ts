// Tagging files as people have them: CoNLL columns (one token a line, a blank line between
// sentences) and word/TAG lines (one sentence a line, as the Penn Treebank and Brown ship).
import { existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import { UsageError } from '../../errors.js';
import { lineError, pythonSplit, readTextFile, splitLines } from '../data/text-file.js';
import { readConll, type TaggedSentence } from './conll.js';

export type TaggingFormat = 'conll' | 'word_tag';

export interface TaggingFileOptions {
  /** null: .conll is CoNLL; other files are word/TAG when every token of their first lines has the separator. */
  format: TaggingFormat | null;
  wordColumn: number;
  tagColumn: number;
  /** Between word and tag in word/TAG files; the last one in a token splits it ("1/2/CD" is word 1/2, tag CD). */
  tagSeparator: string;
}

/** A split's file: <dir>/<split>.txt, else <dir>/<split>.conll if that exists. */
export function taggingFile(dir: string, split: string): string {
  const txt = join(dir, `${split}.txt`);
  const conll = join(dir, `${split}.conll`);
  return !existsSync(txt) && existsSync(conll) ? conll : txt;
}

function isWordTag(token: string, separator: string): boolean {
  const i = token.lastIndexOf(separator);
  return i > 0 && i < token.length - separator.length;
}

/** The format of a file: as given, CoNLL for .conll, else word/TAG if every token of its first 50 non-blank lines is one. */
export function taggingFormatOf(file: string, text: string, opts: TaggingFileOptions): TaggingFormat {
  if (opts.format) return opts.format;
  if (extname(file).toLowerCase() === '.conll') return 'conll';
  const sample = splitLines(text).map(pythonSplit).filter((t) => t.length > 0).slice(0, 50);
  return sample.length > 0 && sample.every((tokens) => tokens.every((t) => isWordTag(t, opts.tagSeparator))) ? 'word_tag' : 'conll';
}

/** Sentences of a word/TAG file: one a line, blank lines skipped; a token without a tag names its line and position. */
export function readWordTag(file: string, text: string, separator = '/'): TaggedSentence[] {
  const sentences: TaggedSentence[] = [];
  splitLines(text).forEach((content, i) => {
    const tokens = pythonSplit(content);
    if (tokens.length === 0) return;
    const words: string[] = [];
    const tags: string[] = [];
    tokens.forEach((token, j) => {
      if (!isWordTag(token, separator)) {
        throw lineError(file, i + 1, `token ${j + 1} ${JSON.stringify(token)} is not word${separator}TAG (expected one sentence a line of word${separator}TAG tokens)`);
      }
      const cut = token.lastIndexOf(separator);
      words.push(token.slice(0, cut));
      tags.push(token.slice(cut + separator.length));
    });
    sentences.push({ words, tags, line: i + 1, file, oneLine: true });
  });
  return sentences;
}

/** The sentences of a tagging file in either format. */
export function readTaggedFile(file: string, opts: TaggingFileOptions): TaggedSentence[] {
  if (!existsSync(file)) throw new UsageError(`tagging data file not found: ${file}`);
  const text = readTextFile(file);
  return taggingFormatOf(file, text, opts) === 'word_tag'
    ? readWordTag(file, text, opts.tagSeparator)
    : readConll(file, { wordColumn: opts.wordColumn, tagColumn: opts.tagColumn }, text);
}
