import { Duration, Size, SizeRoundingBehavior } from 'aws-cdk-lib';
import { formatValue } from '../runtime/errors';

/** The retention limit used for buckets and logs: ten years. */
export const MAX_RETENTION_DAYS = 3650;

/** A problem unless `amount` (of `unit`s, `shown` as the user wrote it) is whole and in [min, max]. */
function wholeUnitsProblems(property: string, amount: number, unit: string, min: number, max: number, shown: string): string[] {
  return Number.isInteger(amount) && amount >= min && amount <= max
    ? []
    : [`'${property}' must be a whole number of ${unit} between ${min} and ${max}, got ${formatValue(shown)}`];
}

/** A problem unless `value` is a whole number of days in [min, max]; none for a token. */
export function wholeDaysProblems(property: string, value: Duration, max: number, min = 1): string[] {
  return value.isUnresolved() ? [] : wholeUnitsProblems(property, value.toDays({ integral: false }), 'days', min, max, value.toHumanString());
}

/** A problem unless `value` is a whole number of seconds in [min, max]; none for a token. */
export function wholeSecondsProblems(property: string, value: Duration, min: number, max: number): string[] {
  return value.isUnresolved() ? [] : wholeUnitsProblems(property, value.toSeconds({ integral: false }), 'seconds', min, max, value.toHumanString());
}

/** A problem unless `value` is a whole number of MiB in [min, max]; none for a token. */
export function wholeMebibytesProblems(property: string, value: Size, min: number, max: number): string[] {
  if (value.isUnresolved()) {
    return [];
  }
  const mib = value.toMebibytes({ rounding: SizeRoundingBehavior.NONE });
  return wholeUnitsProblems(property, mib, 'MiB', min, max, `${mib} MiB`);
}
