// "Did you mean" hints for misspelt names (flags, commands, hparams).

/** Levenshtein distance. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The candidate closest to `name`, or null when none is close: within a third of the name's
 * length (at least `minDistance`). '_' and '-' count as the same, so --data_dir finds --data-dir.
 */
export function closestName(name: string, candidates: Iterable<string>, minDistance = 2): string | null {
  const norm = (s: string): string => s.toLowerCase().replace(/_/g, '-');
  let best: string | null = null;
  let bestDistance = Math.max(minDistance, Math.floor(name.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(norm(name), norm(c));
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}
