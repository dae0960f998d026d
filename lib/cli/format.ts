/**
 * Text for people: tables, times, percentages and small charts. Pure, so every command renders
 * alike and tests compare plain strings.
 */

/** A table with a header row; columns padded to their widest cell, the last one left ragged. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], alignRight: readonly number[] = []): string[] {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]) => cells
    .map((cell, c) => (c === cells.length - 1 && !alignRight.includes(c) ? cell : alignRight.includes(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
    .join('  ')
    .trimEnd();
  return [line(headers), ...rows.map(line)];
}

/** A time as `2026-11-22 12:00:00Z` (UTC, to the second). */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

/** A share as a percentage, e.g. `12.3%`; `-` when unknown. */
export function formatPercent(value: number | undefined, digits = 1): string {
  return value === undefined || !Number.isFinite(value) ? '-' : `${(100 * value).toFixed(digits)}%`;
}

/** A signed relative change, e.g. `+3.1%`. */
export function formatLift(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '-' : `${value >= 0 ? '+' : ''}${(100 * value).toFixed(1)}%`;
}

/** A number to a few significant digits, for statistics (`4.21`, `0.0032`, `1.2e+6`). */
export function formatNumber(value: number | undefined, digits = 3): string {
  if (value === undefined || Number.isNaN(value)) {
    return '-';
  }
  if (!Number.isFinite(value)) {
    return value > 0 ? '∞' : '-∞';
  }
  return Number(value.toPrecision(digits)).toString();
}

/** An integer with thousands separators. */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** Seconds as `1h 02m 03s`, `4m 05s` or `6s`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}h ${two(m)}m ${two(rest)}s` : m > 0 ? `${m}m ${two(rest)}s` : `${rest}s`;
}

/** Weights as `baseline 90 / candidate 10`, in the given order. */
export function formatWeights(weights: Readonly<Record<string, number>>, order: readonly string[] = Object.keys(weights)): string {
  const names = [...order.filter((n) => n in weights), ...Object.keys(weights).filter((n) => !order.includes(n))];
  return names.map((n) => `${n} ${weights[n]}`).join(' / ');
}

const SPARKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/**
 * One character per value, its height scaled between `min` and `max` (default: the values' own);
 * a gap for an unknown value.
 */
export function sparkline(values: readonly (number | undefined)[], min?: number, max?: number): string {
  const known = values.filter((v): v is number => v !== undefined && Number.isFinite(v));
  const low = min ?? Math.min(...known);
  const high = max ?? Math.max(...known);
  return values.map((v) => {
    if (v === undefined || !Number.isFinite(v)) {
      return ' ';
    }
    const level = high > low ? Math.round(((v - low) / (high - low)) * (SPARKS.length - 1)) : 0;
    return SPARKS[Math.min(SPARKS.length - 1, Math.max(0, level))];
  }).join('');
}

const FILLS = ['█', '▒', '░', '▓'];

/**
 * Weights as one bar of `width` characters, a fill per variant in `order`, e.g.
 * `██████████████▒▒▒▒▒▒` for 70 / 30.
 */
export function weightBar(weights: Readonly<Record<string, number>>, order: readonly string[], width = 20): string {
  const total = order.reduce((sum, n) => sum + (weights[n] ?? 0), 0);
  if (total <= 0) {
    return ' '.repeat(width);
  }
  let used = 0;
  let cumulative = 0;
  return order.map((n, i) => {
    cumulative += weights[n] ?? 0;
    const end = Math.round((cumulative / total) * width);
    const part = FILLS[i % FILLS.length].repeat(Math.max(0, end - used));
    used = Math.max(used, end);
    return part;
  }).join('');
}

/** The legend of `weightBar`'s fills. */
export function weightBarLegend(order: readonly string[]): string {
  return order.map((n, i) => `${FILLS[i % FILLS.length]} ${n}`).join('  ');
}
