/** Endpoint weights as modelship shows and compares them: whole percentages per variant. */

/** Whole percentages of relative weights (SageMaker's weights need not add up to anything). */
export function percentages(weights: Readonly<Record<string, number>>): Record<string, number> {
  const total = Object.values(weights).reduce((sum, w) => sum + w, 0);
  return Object.fromEntries(Object.entries(weights).map(([v, w]) => [v, total > 0 ? Math.round((100 * w) / total) : 0]));
}

/** Whether two sets of weights give every variant the same weight (a variant missing from one has 0). */
export function sameWeights(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  return Object.keys({ ...a, ...b }).every((v) => (a[v] ?? 0) === (b[v] ?? 0));
}
