// The data summary printed before training: per task and split, the examples, their labels,
// and what max_seq_length cuts (truncated examples, tagged words dropped from training and scores).
import type { AnyTask } from './task.js';

export interface DataSummary {
  /** Examples (sentences for tagging) per label; words per tag for tagging; null where there are none (regression, QA). */
  labels: ReadonlyMap<string, number> | null;
  /** What `labels` counts ('examples' or 'words'). */
  labelUnit?: string;
  /** Examples with tokens cut to fit max_seq_length. */
  truncated: number;
  /** Tagging: words past max_seq_length, neither trained on nor scored. */
  droppedWords?: number;
}

/** Counts per distinct value, in order of first appearance. */
export function countValues(values: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

function percent(n: number, total: number): string {
  return total === 0 ? '0%' : `${((100 * n) / total).toFixed(1)}%`;
}

/** One line describing a split of a task and its features (null: not made). */
export function summaryLine(task: AnyTask, split: string, examples: readonly unknown[], features: readonly unknown[] | null, maxSeqLength: number): string {
  const parts = [`${task.name} ${split}: ${examples.length} examples${features ? `, ${features.length} features` : ''}`];
  const s = features ? task.summarize?.(examples, features) : undefined;
  if (s) {
    if (s.labels) {
      const total = [...s.labels.values()].reduce((a, b) => a + b, 0);
      const shown = [...s.labels].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const list = shown.slice(0, 20).map(([label, n]) => `${label} ${n} (${percent(n, total)})`).join(', ');
      parts.push(`${s.labelUnit ?? 'examples'} per label: ${list}${shown.length > 20 ? `, ... ${shown.length - 20} more` : ''}`);
    }
    parts.push(`${s.truncated} truncated to ${maxSeqLength} tokens`);
    if (s.droppedWords !== undefined && s.droppedWords > 0) {
      parts.push(`${s.droppedWords} words past max_seq_length dropped from training and scores (set split_long_sentences to tag them in windows)`);
    }
  }
  return parts.join('; ');
}
