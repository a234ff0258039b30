// The tokenizer bench's text: every line of the Brown corpus and the State of the Union addresses.
import { readCorpus } from '../src/data/corpora.js';

export function benchTexts(): string[] {
  const lines: string[] = [];
  for (const name of ['brown', 'sotu'] as const) for (const doc of readCorpus(name)) lines.push(...doc.lines);
  return lines;
}
