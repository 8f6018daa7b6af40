/**
 * Numbers for people: counts as integers (`80`, not `80.0000`), fractions that are rates as
 * percentages, everything else to three or four significant digits, with the exponent only for
 * the very small or very large. Shared by the reports and the CLI.
 */

/** Metrics whose value is a fraction best read as a percentage. */
const PERCENT = /(^|\/)(accuracy|bestAccuracy|warmStartAccuracy|pairAccuracy|truncated|clipFraction|trainAccuracy|correctFraction)$|accuracies$|^eval\/(pass|mean)@\d+$/;

export const isPercentMetric = (key: string) => PERCENT.test(key);

export function formatPercent(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(digits)}%`;
}

/** A plain number: integers whole, others to 4 significant digits (exponent below 1e-3 and from 1e6). */
export function formatNumber(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return x.toLocaleString('en-US');
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return x.toExponential(2);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  return String(Number(x.toPrecision(4)));
}

/** A metric by its name: percentages for rates and accuracies, plain numbers otherwise. */
export function formatMetric(key: string, x: number | null | undefined): string {
  return isPercentMetric(key) ? formatPercent(x) : formatNumber(x);
}
