// Answer normalisation and token overlap shared by the official SQuAD and MRQA scripts, with
// Python 3's string semantics: str.split() whitespace, string.punctuation (ASCII only) and
// Unicode-aware \b around the articles.

import { pythonSplit } from '../data/text-file.js';

export { pythonSplit };

/** Python's string.punctuation. */
const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

// Python's \b in a str pattern: word characters are letters, numbers and '_' of any script.
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

/** Lower-case, drop ASCII punctuation, replace articles a/an/the by spaces, collapse whitespace. */
export function normalizeAnswer(s: string): string {
  let text = s.toLowerCase();
  let kept = '';
  for (const ch of text) if (!PUNCTUATION.has(ch)) kept += ch;
  text = kept.replace(ARTICLES, ' ');
  return pythonSplit(text).join(' ');
}

/** Number of tokens the two lists share, counted as multisets (Counter & Counter). */
export function sharedTokenCount(a: readonly string[], b: readonly string[]): number {
  const counts = new Map<string, number>();
  for (const t of a) counts.set(t, (counts.get(t) ?? 0) + 1);
  let same = 0;
  for (const t of b) {
    const c = counts.get(t) ?? 0;
    if (c > 0) {
      same++;
      counts.set(t, c - 1);
    }
  }
  return same;
}

/** Token F1 of the v1.1 / MRQA scripts: 0 when no token is shared (including both empty). */
export function tokenF1(prediction: string, groundTruth: string): number {
  const predTokens = pythonSplit(normalizeAnswer(prediction));
  const goldTokens = pythonSplit(normalizeAnswer(groundTruth));
  const same = sharedTokenCount(predTokens, goldTokens);
  if (same === 0) return 0;
  const precision = same / predTokens.length;
  const recall = same / goldTokens.length;
  return (2 * precision * recall) / (precision + recall);
}

/** Exact match after normalisation, as 0 or 1. */
export function exactMatch(prediction: string, groundTruth: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(groundTruth) ? 1 : 0;
}

export function maxOverGroundTruths(
  metric: (prediction: string, groundTruth: string) => number, prediction: string, groundTruths: readonly string[],
): number {
  if (groundTruths.length === 0) throw new Error('no ground-truth answers to compare with');
  let best = -Infinity;
  for (const g of groundTruths) best = Math.max(best, metric(prediction, g));
  return best;
}
