// "Did you mean …?" for mistyped input names, flags and inputs-file keys, by edit distance.
// Never suggests a name further than two edits away: a wrong guess is worse than none.

/** The candidate closest to `word` within `maxDistance` edits, ignoring case, `-` and `_`; ties go to the first. */
export function nearestName(word: string, candidates: readonly string[], maxDistance = 2): string | undefined {
  const target = normalise(word);
  let best: string | undefined;
  let bestDistance = maxDistance + 1;
  for (const candidate of candidates) {
    const d = levenshtein(target, normalise(candidate));
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

// `max-rows`, `max_rows` and `maxRows` are the same name to a person typing it.
function normalise(name: string): string {
  return name.toLowerCase().replace(/[-_]/g, "");
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length];
}
