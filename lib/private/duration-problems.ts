import { Duration, Size, SizeRoundingBehavior } from 'aws-cdk-lib';
import { formatValue } from './errors';

/** The retention limit used for buckets and logs: ten years. */
export const MAX_RETENTION_DAYS = 3650;

/** A problem unless `value` is a whole number of days in [min, max]; none for a token. */
export function wholeDaysProblems(property: string, value: Duration, max: number, min = 1): string[] {
  if (value.isUnresolved()) {
    return [];
  }
  const days = value.toDays({ integral: false });
  return Number.isInteger(days) && days >= min && days <= max
    ? []
    : [`'${property}' must be a whole number of days between ${min} and ${max}, got ${formatValue(value.toHumanString())}`];
}

/** A problem unless `value` is a whole number of seconds in [min, max]; none for a token. */
export function wholeSecondsProblems(property: string, value: Duration, min: number, max: number): string[] {
  if (value.isUnresolved()) {
    return [];
  }
  const seconds = value.toSeconds({ integral: false });
  return Number.isInteger(seconds) && seconds >= min && seconds <= max
    ? []
    : [`'${property}' must be a whole number of seconds between ${min} and ${max}, got ${formatValue(value.toHumanString())}`];
}

/** A problem unless `value` is a whole number of MiB in [min, max]; none for a token. */
export function wholeMebibytesProblems(property: string, value: Size, min: number, max: number): string[] {
  if (value.isUnresolved()) {
    return [];
  }
  const mib = value.toMebibytes({ rounding: SizeRoundingBehavior.NONE });
  return Number.isInteger(mib) && mib >= min && mib <= max
    ? []
    : [`'${property}' must be a whole number of MiB between ${min} and ${max}, got ${formatValue(`${mib} MiB`)}`];
}
