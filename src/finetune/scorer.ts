// The Scorer abstraction (the reference's finetune/scorer.py): feed it one result per example,
// then read named metrics in the order the reference reports them.

/** Metric name and value pairs, in report order. */
export type MetricList = [name: string, value: number][];

export interface Scorer<Result> {
  /** Adds one example's result (model outputs plus gold labels). */
  update(result: Result): void;
  /** Mean loss over the results so far. */
  getLoss(): number;
  /** The metrics, names prefixed with `prefix`. */
  getResults(prefix?: string): MetricList;
}

/** "name: value" pairs with two decimals joined by " - ", as the reference logs them. */
export function formatResults(results: MetricList): string {
  return results.map(([k, v]) => `${k}: ${v.toFixed(2)}`).join(' - ');
}

/** Results as a plain object (insertion order kept), e.g. for JSON. */
export function resultsObject(results: MetricList): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of results) out[k] = v;
  return out;
}

export function prefixed(results: MetricList, prefix: string): MetricList {
  return prefix === '' ? results : results.map(([k, v]) => [prefix + k, v]);
}

/** The reference's results.txt: one "task: name: value - ..." line per task and trial. */
export function formatResultsFile(trials: readonly ReadonlyMap<string, MetricList>[]): string {
  let out = '';
  for (const trial of trials) for (const [task, results] of trial) out += `${task}: ${formatResults(results)}\n`;
  return out;
}
