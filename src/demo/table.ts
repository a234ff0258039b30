// The final results table: one row per task, one column per initialisation.
import type { FinetuneSummary, Init } from './finetune.js';

/** How long a pre-trained column trained, and why that long. */
export interface PretrainingLength {
  label: string;
  updates: number;
  planned: number;
  /** e.g. "planned from a budget of 7 min at 34.1 ms/update", "fixed by --updates". */
  reason: string;
}

export interface ResultsTable {
  columns: { init: Init['kind']; label: string }[];
  rows: { task: string; metric: string; scores: (number | null)[] }[];
  pretraining: PretrainingLength[];
}

export function resultsTable(
  runs: readonly FinetuneSummary[], labels: ReadonlyMap<Init['kind'], string>, pretraining: PretrainingLength[] = [],
): ResultsTable {
  const columns = [...labels].map(([init, label]) => ({ init, label }));
  const tasks = [...new Set(runs.map((r) => r.task))];
  const rows = tasks.map((task) => {
    const metric = 'accuracy';
    const scores = columns.map((c) => runs.find((r) => r.task === task && r.init === c.init)?.metrics[metric] ?? null);
    return { task, metric, scores };
  });
  return { columns, rows, pretraining };
}

/** "ELECTRA 7min: 4299 pre-training updates (planned from a budget of 7 min at 97.7 ms/update)" */
export function pretrainingLengthNotes(t: ResultsTable): string[] {
  return (t.pretraining ?? []).map((p) => `${p.label}: ${p.updates} pre-training updates` +
    `${p.updates < p.planned ? ` of ${p.planned} planned (out of time)` : ''} (${p.reason})`);
}

/** Plain-text table for the terminal. */
export function formatTable(t: ResultsTable): string {
  const header = ['task', 'metric', ...t.columns.map((c) => c.label)];
  const body = t.rows.map((r) => [r.task, r.metric, ...r.scores.map((s) => (s === null ? '-' : s.toFixed(2)))]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const fmtRow = (row: string[]): string => row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
  const notes = pretrainingLengthNotes(t);
  return [fmtRow(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(fmtRow), ...(notes.length > 0 ? ['', ...notes] : [])].join('\n');
}

/** The same table in Markdown. */
export function markdownTable(t: ResultsTable): string {
  const header = ['task', 'metric', ...t.columns.map((c) => c.label)];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`];
  for (const r of t.rows) lines.push(`| ${[r.task, r.metric, ...r.scores.map((s) => (s === null ? '-' : s.toFixed(2)))].join(' | ')} |`);
  const notes = pretrainingLengthNotes(t);
  return [...lines, ...(notes.length > 0 ? ['', ...notes.map((n) => `${n}  `)] : [])].join('\n');
}
