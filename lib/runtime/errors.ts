/**
 * The one error modelship throws for invalid input, so callers can catch it and tests can
 * match it. It carries every problem found, not just the first.
 */
export class ModelshipError extends Error {
  /** Each problem found, one sentence each. */
  public readonly problems: readonly string[];

  constructor(context: string, problems: readonly string[]) {
    super(problems.length === 1
      ? `${context}: ${problems[0]}`
      : `${context}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ModelshipError';
    this.problems = problems;
  }
}

/** Throws one `ModelshipError` listing every problem, or returns when there are none. */
export function throwIfProblems(context: string, problems: readonly string[]): void {
  if (problems.length > 0) {
    throw new ModelshipError(context, problems);
  }
}

/** Renders a received value for an error message: strings quoted, everything else as JSON. */
export function formatValue(value: unknown): string {
  if (value === undefined) {
    return 'nothing';
  }
  if (typeof value === 'string') {
    return `'${value}'`;
  }
  return JSON.stringify(value) ?? String(value);
}
