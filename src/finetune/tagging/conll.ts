// CoNLL-style tagging files (CoNLL-2000 chunking: "word POS chunk" per line, a blank line
// between sentences), read as the reference's _get_labeled_sentences does.
import { forEachFileLine, lineError, pyIndex, pythonSplit, splitLines, type ChunkedReadOptions } from '../data/text-file.js';

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
 * is kept (the reference silently drops it). Without `text`, the file is read in chunks.
 */
export function readConll(file: string, opts: ConllOptions = {}, text?: string, read: ChunkedReadOptions = {}): TaggedSentence[] {
  const reader = new ConllReader(file, opts);
  if (text === undefined) forEachFileLine(file, reader.onLine, read);
  else splitLines(text).forEach((content, i) => reader.onLine(content, i + 1));
  return reader.finish();
}

/** readConll's sentences, a line at a time. */
export class ConllReader {
  private readonly sentences: TaggedSentence[] = [];
  private current: TaggedSentence | null = null;
  private readonly wordColumn: number;
  private readonly tagColumn: number;
  private readonly needed: number;

  constructor(private readonly file: string, opts: ConllOptions = {}) {
    this.wordColumn = opts.wordColumn ?? 0;
    this.tagColumn = opts.tagColumn ?? -1;
    this.needed = Math.max(...[this.wordColumn, this.tagColumn].map((c) => (c < 0 ? -c : c + 1)), 2);
  }

  /** Line `line` (1-based) of the file, without its line break. */
  readonly onLine = (text: string, line: number): void => {
    const fields = pythonSplit(text);
    if (fields.length === 0) {
      if (this.current) this.sentences.push(this.current);
      this.current = null;
      return;
    }
    if (fields[0] === '-DOCSTART-') return;
    const word = pyIndex(fields, this.wordColumn);
    const tag = pyIndex(fields, this.tagColumn);
    if (fields.length < this.needed || word === undefined || tag === undefined) {
      throw lineError(this.file, line, `expected at least ${this.needed} whitespace-separated columns (word ... tag), found ${fields.length}`);
    }
    this.current ??= { words: [], tags: [], line, file: this.file };
    this.current.words.push(word);
    this.current.tags.push(tag);
  };

  /** The sentences, the last one included. */
  finish(): TaggedSentence[] {
    if (this.current) this.sentences.push(this.current);
    this.current = null;
    return this.sentences;
  }
}
