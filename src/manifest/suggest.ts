/**
 * "Did you mean …?" for misspelt keys, columns and enum values. A typo should cost the
 * user one glance at the error, not a trip to the docs.
 */

/** Edit distance (insert, delete, substitute), two-row dynamic programming. */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/**
 * The closest candidate within distance 2, compared case-insensitively so that
 * `Prompt` or `ASPECT_RATIO` are caught too; ties go to the earlier candidate. Short
 * words need a closer match (at most one edit per two characters): otherwise '4:3'
 * would be "corrected" to '1:1'.
 */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = levenshtein(w, c.toLowerCase());
    if (d < bestDistance && 2 * d <= w.length) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** ` did you mean 'x'?` or '' — ready to append to a message. */
export function suggestionSuffix(word: string, candidates: readonly string[]): string {
  const s = didYouMean(word, candidates);
  return s === undefined ? '' : `; did you mean '${s}'?`;
}
