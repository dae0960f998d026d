/** A metric whose value in the training log is watched for NaN and Infinity. */
export interface WatchedMetric {
  /** The metric's name. */
  readonly name: string;
  /** The metric definition's regex; its first capturing group is the value. */
  readonly regex: string;
}

/** A log line that shows a watched metric at a value that is not finite. */
export interface NonFiniteSighting {
  readonly metric: string;
  readonly line: string;
}

const NON_FINITE_VALUE = '([-+]?(?:[nN][aA][nN]|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?))';

/** The start and end (exclusive) of the first capturing group, or undefined when there is none. */
function firstCapturingGroup(regex: string): { start: number; end: number } | undefined {
  let start: number | undefined;
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < regex.length; i++) {
    const c = regex[i];
    if (c === '\\') {
      i++;
    } else if (inClass) {
      inClass = c !== ']';
    } else if (c === '[') {
      inClass = true;
    } else if (c === '(') {
      if (start !== undefined) {
        depth++;
      } else if (regex[i + 1] !== '?' || /^\?P?<[A-Za-z_]/.test(regex.slice(i + 1))) {
        start = i;
        depth = 1;
      }
    } else if (c === ')' && start !== undefined && --depth === 0) {
      return { start, end: i + 1 };
    }
  }
  return undefined;
}

/** Whether a metric regex has a capturing group, which SageMaker reads the value from. */
export function hasCapturingGroup(regex: string): boolean {
  return firstCapturingGroup(regex) !== undefined;
}

/**
 * The regex that matches a log line where the metric's value is NaN or Infinity: the metric
 * definition's regex with its value group replaced. Python-style named groups are accepted.
 * Returns undefined when the regex has no capturing group or is not valid.
 */
export function nonFiniteRegex(regex: string): RegExp | undefined {
  const group = firstCapturingGroup(regex);
  if (!group) {
    return undefined;
  }
  const source = regex.slice(0, group.start) + NON_FINITE_VALUE + regex.slice(group.end);
  try {
    return new RegExp(source.replace(/\(\?P</g, '(?<'));
  } catch {
    return undefined;
  }
}

/** The first log line in which a watched metric is not finite, if any. */
export function findNonFinite(lines: readonly string[], metrics: readonly WatchedMetric[]): NonFiniteSighting | undefined {
  const patterns = metrics.flatMap((m) => {
    const pattern = nonFiniteRegex(m.regex);
    return pattern ? [{ metric: m.name, pattern }] : [];
  });
  for (const line of lines) {
    const hit = patterns.find((p) => p.pattern.test(line));
    if (hit) {
      return { metric: hit.metric, line: line.trim() };
    }
  }
  return undefined;
}
