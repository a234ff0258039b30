// CoNLL-style tagging files (CoNLL-2000 chunking: "word POS chunk" per line, a blank line
// between sentences), read as the reference's _get_labeled_sentences does.
import { lineError, pyIndex, pythonSplit, readTextFile, splitLines } from '../data/text-file.js';

export interface TaggedSentence {
  words: string[];
  tags: string[];
  /** 1-based line of the sentence's first word (word i is on line + i), for error messages. */
  line: number;
  /** The file it was read from, for error messages. */
  file?: string;
  /** The whole sentence is on `line` (word/TAG files). */
  oneLine?: boolean;
}

/** "file:line" of a sentence's word i (for error messages). */
export function wordLocation(s: TaggedSentence, i: number): string {
  const line = s.oneLine ? s.line : s.line + i;
  return s.file ? `${s.file}:${line}${s.oneLine ? ` (word ${i + 1})` : ''}` : `line ${line}`;
}

export interface ConllOptions {
  /** Column of the word (default 0, the first). */
  wordColumn?: number;
  /** Column of the tag (default -1, the last). */
  tagColumn?: number;
}

/**
 * Sentences of a CoNLL file: whitespace-separated columns, blank lines between sentences,
 * -DOCSTART- lines ignored. Unlike the reference, a last sentence without a blank line after it
 * is kept (the reference silently drops it).
 */
export function readConll(file: string, opts: ConllOptions = {}, text = readTextFile(file)): TaggedSentence[] {
  const wordColumn = opts.wordColumn ?? 0;
  const tagColumn = opts.tagColumn ?? -1;
  const needed = Math.max(...[wordColumn, tagColumn].map((c) => (c < 0 ? -c : c + 1)), 2);
  const sentences: TaggedSentence[] = [];
  let current: TaggedSentence | null = null;
  splitLines(text).forEach((text, i) => {
    const fields = pythonSplit(text);
    if (fields.length === 0) {
      if (current) sentences.push(current);
      current = null;
      return;
    }
    if (fields[0] === '-DOCSTART-') return;
    const word = pyIndex(fields, wordColumn);
    const tag = pyIndex(fields, tagColumn);
    if (fields.length < needed || word === undefined || tag === undefined) {
      throw lineError(file, i + 1, `expected at least ${needed} whitespace-separated columns (word ... tag), found ${fields.length}`);
    }
    current ??= { words: [], tags: [], line: i + 1, file };
    current.words.push(word);
    current.tags.push(tag);
  });
  if (current) sentences.push(current);
  return sentences;
}
