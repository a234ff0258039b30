// A WordPiece vocabulary: vocab.txt, one entry per line, the line number being the id.
import { readFileSync } from 'node:fs';
import { FormatError, UsageError } from '../errors.js';

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;
export type SpecialToken = (typeof SPECIAL_TOKENS)[number];

export class Vocab {
  readonly tokens: readonly string[];
  readonly size: number;
  /** Token -> id; built on first use for a vocabulary made by Vocab.trusted. */
  private ids: Map<string, number> | null;

  /** `source` names where the tokens came from, for error messages. */
  constructor(tokens: readonly string[], source = 'vocabulary') {
    const ids = new Map<string, number>();
    tokens.forEach((token, id) => {
      const first = ids.get(token);
      if (first !== undefined) throw duplicateEntryError(source, token, id, first);
      ids.set(token, id);
    });
    const missing = SPECIAL_TOKENS.filter((t) => !ids.has(t));
    if (missing.length > 0) throw missingSpecialsError(source, missing);
    this.tokens = Object.freeze([...tokens]);
    this.size = tokens.length;
    this.ids = ids;
  }

  /**
   * A vocabulary already validated elsewhere (e.g. by the thread that sent its tokens): nothing is
   * checked or indexed until idOf is first called, so a worker thread gets it at no cost.
   */
  static trusted(tokens: readonly string[]): Vocab {
    const vocab = Object.create(Vocab.prototype) as { tokens: readonly string[]; size: number; ids: Map<string, number> | null };
    vocab.tokens = Object.isFrozen(tokens) ? tokens : Object.freeze([...tokens]);
    vocab.size = tokens.length;
    vocab.ids = null;
    return vocab as unknown as Vocab;
  }

  /** Reads vocab.txt; like the reference, trailing whitespace (including '\r') of each line is dropped. */
  static fromFile(path: string): Vocab {
    return new Vocab(readVocabFile(path), path);
  }

  idOf(token: string): number | undefined {
    if (this.ids === null) {
      const ids = new Map<string, number>();
      this.tokens.forEach((t, id) => ids.set(t, id));
      this.ids = ids;
    }
    return this.ids.get(token);
  }

  tokenOf(id: number): string {
    const token = this.tokens[id];
    if (token === undefined) throw new RangeError(`token id ${id} is outside the vocabulary (size ${this.size})`);
    return token;
  }

  /** The vocab.txt text for these tokens. */
  toText(): string {
    return this.tokens.join('\n') + '\n';
  }
}

/** The tokens of vocab.txt, unchecked; like the reference, trailing whitespace (including '\r') of each line is dropped. */
export function readVocabFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw code === 'ENOENT' ? new UsageError(`vocab file not found: ${path}`) : new FormatError(path, `cannot read vocab file: ${(err as Error).message}`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new FormatError(path, 'empty vocab file');
  for (let i = 0; i < lines.length; i++) lines[i] = lines[i]!.trimEnd();
  return lines;
}

/** The error for token `id` repeating token `first` (lines are 1-based). */
export function duplicateEntryError(source: string, token: string, id: number, first: number): Error {
  return new FormatError(source, `duplicate entry ${JSON.stringify(token)} on line ${id + 1} (first on line ${first + 1})`);
}

export function missingSpecialsError(source: string, missing: readonly string[]): Error {
  return new FormatError(source, `missing special token(s) ${missing.join(' ')}`);
}
