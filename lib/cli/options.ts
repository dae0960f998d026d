import { formatValue } from '../runtime/errors';
import { CliError, EXIT } from './errors';

/**
 * Reading command-line values: commander hands them over as strings (or `true` for a flag given
 * without its optional value). A bad value is bad input: exit 2, naming the option, the rule and
 * the value received.
 */

/** What a numeric option accepts. */
export interface NumberRule {
  /** Smallest value allowed. @default - no lower limit */
  readonly min?: number;
  /** Largest value allowed. @default - no upper limit */
  readonly max?: number;
  /** Whether `min` itself is excluded (a value must be greater than it). @default false */
  readonly exclusiveMin?: boolean;
  /** Whole numbers only. @default false */
  readonly integer?: boolean;
}

function describeRule(rule: NumberRule): string {
  const kind = rule.integer ? 'an integer' : 'a number';
  if (rule.min !== undefined && rule.max !== undefined && !rule.exclusiveMin) {
    return `${kind} from ${rule.min} to ${rule.max}`;
  }
  const parts = [
    ...(rule.min !== undefined ? [`${rule.exclusiveMin ? 'greater than' : 'at least'} ${rule.min}`] : []),
    ...(rule.max !== undefined ? [`at most ${rule.max}`] : []),
  ];
  return parts.length > 0 ? `${kind} ${parts.join(' and ')}` : kind;
}

/**
 * Reads a command-line value as a number that follows `rule`; a bad one is bad input naming
 * `label` (e.g. `--weight`, or "the weight of 'candidate' in --weights"), the rule and the value.
 */
export function checkNumber(label: string, value: unknown, rule: NumberRule): number {
  const parsed = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  const ok = Number.isFinite(parsed)
    && (!rule.integer || Number.isInteger(parsed))
    && (rule.min === undefined || (rule.exclusiveMin ? parsed > rule.min : parsed >= rule.min))
    && (rule.max === undefined || parsed <= rule.max);
  if (!ok) {
    throw new CliError(EXIT.USAGE, `${label} must be ${describeRule(rule)}, got ${formatValue(value)}`);
  }
  return parsed;
}

/** Reads `--name`'s value as a number that follows `rule`; `fallback` when it was not given. */
export function numberOption(name: string, value: unknown, rule: NumberRule, fallback?: number): number {
  if (value === undefined && fallback !== undefined) {
    return fallback;
  }
  return checkNumber(`--${name}`, value, rule);
}

/**
 * Reads an option with an optional value (`--watch [seconds]`): undefined or false when absent,
 * `whenBare` when given without a value, otherwise the number.
 */
export function optionalNumberOption(name: string, value: unknown, rule: NumberRule, whenBare: number): number | undefined {
  if (value === undefined || value === false) {
    return undefined;
  }
  return value === true ? whenBare : numberOption(name, value, rule);
}

/**
 * Reads several options at once and reports every bad one in one error (exit 2), not just the
 * first: each reader is called, and the messages of those that throw a `CliError` are collected.
 */
export function readOptions<T extends Record<string, unknown>>(readers: { readonly [K in keyof T]: () => T[K] }): T {
  const problems: string[] = [];
  const values: Partial<T> = {};
  for (const key of Object.keys(readers) as (keyof T)[]) {
    try {
      values[key] = readers[key]();
    } catch (error) {
      if (!(error instanceof CliError)) {
        throw error;
      }
      problems.push(error.message);
    }
  }
  if (problems.length > 0) {
    throw new CliError(EXIT.USAGE, problems.length === 1 ? problems[0] : `bad options:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  return values as T;
}
