// Tagging files as people have them: CoNLL columns (one token a line, a blank line between
// sentences) and word/TAG lines (one sentence a line, as the Penn Treebank and Brown ship).
import { existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import { UsageError } from '../../errors.js';
import { forEachFileLine, lineError, pythonSplit, splitLines, type ChunkedReadOptions } from '../data/text-file.js';
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

/** Whether sample lines (the first 50 non-blank ones) are word/TAG: every token has the separator inside. */
function looksWordTag(sample: readonly string[][], separator: string): boolean {
  return sample.length > 0 && sample.every((tokens) => tokens.every((t) => isWordTag(t, separator)));
}

const FORMAT_SAMPLE_LINES = 50;

/** The format of a file: as given, CoNLL for .conll, else word/TAG if every token of its first 50 non-blank lines is one. */
export function taggingFormatOf(file: string, text: string, opts: TaggingFileOptions): TaggingFormat {
  if (opts.format) return opts.format;
  if (extname(file).toLowerCase() === '.conll') return 'conll';
  const sample = splitLines(text).map(pythonSplit).filter((t) => t.length > 0).slice(0, FORMAT_SAMPLE_LINES);
  return looksWordTag(sample, opts.tagSeparator) ? 'word_tag' : 'conll';
}

/** taggingFormatOf for a file read in chunks, only as far as its first 50 non-blank lines. */
function taggingFormatOfFile(file: string, opts: TaggingFileOptions, read: ChunkedReadOptions): TaggingFormat {
  if (opts.format) return opts.format;
  if (extname(file).toLowerCase() === '.conll') return 'conll';
  const sample: string[][] = [];
  forEachFileLine(file, (text) => {
    const tokens = pythonSplit(text);
    if (tokens.length > 0) sample.push(tokens);
    return sample.length < FORMAT_SAMPLE_LINES;
  }, read);
  return looksWordTag(sample, opts.tagSeparator) ? 'word_tag' : 'conll';
}

/** Sentences of a word/TAG file: one a line, blank lines skipped; a token without a tag names its line and position. */
export function readWordTag(file: string, text: string, separator = '/'): TaggedSentence[] {
  const sentences: TaggedSentence[] = [];
  const onLine = wordTagLines(file, separator, sentences);
  splitLines(text).forEach((content, i) => onLine(content, i + 1));
  return sentences;
}

/** A line handler that adds each word/TAG line's sentence to `sentences`. */
function wordTagLines(file: string, separator: string, sentences: TaggedSentence[]): (content: string, line: number) => void {
  return (content, line) => {
    const tokens = pythonSplit(content);
    if (tokens.length === 0) return;
    const words: string[] = [];
    const tags: string[] = [];
    tokens.forEach((token, j) => {
      if (!isWordTag(token, separator)) {
        throw lineError(file, line, `token ${j + 1} ${JSON.stringify(token)} is not word${separator}TAG (expected one sentence a line of word${separator}TAG tokens)`);
      }
      const cut = token.lastIndexOf(separator);
      words.push(token.slice(0, cut));
      tags.push(token.slice(cut + separator.length));
    });
    sentences.push({ words, tags, line, file, oneLine: true });
  };
}

/** The sentences of a tagging file in either format, read in chunks. */
export function readTaggedFile(file: string, opts: TaggingFileOptions, read: ChunkedReadOptions = {}): TaggedSentence[] {
  if (!existsSync(file)) throw new UsageError(`tagging data file not found: ${file}`);
  if (taggingFormatOfFile(file, opts, read) === 'word_tag') {
    const sentences: TaggedSentence[] = [];
    forEachFileLine(file, wordTagLines(file, opts.tagSeparator, sentences), read);
    return sentences;
  }
  return readConll(file, { wordColumn: opts.wordColumn, tagColumn: opts.tagColumn }, undefined, read);
}
