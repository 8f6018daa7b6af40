/**
 * What every timing in the benches carries beside it: min / median / max over repetitions, and the
 * machine it came from (CPU model, cores, load average at the time). On a shared machine one number
 * is not a measurement; a spread and the load it was taken under are.
 */
import { cpus, loadavg } from 'node:os';

export interface Spread {
  min: number;
  median: number;
  max: number;
  n: number;
}

export function spread(values: number[]): Spread {
  if (!values.length) return { min: NaN, median: NaN, max: NaN, n: 0 };
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { min: s[0], median, max: s[s.length - 1], n: s.length };
}

/** "0.31 (0.29-0.33, n=3)" with `digits` significant digits. */
export function formatSpread(x: Spread, digits = 3): string {
  const f = (v: number) => (Math.abs(v) >= 10 ** digits ? v.toFixed(0) : v.toPrecision(digits));
  return `${f(x.median)} (${f(x.min)}-${f(x.max)}, n=${x.n})`;
}

/** The CPU model and core count, e.g. "AMD EPYC, 2 cores". */
export function cpuModel(): string {
  const c = cpus();
  return `${(c[0]?.model ?? 'unknown CPU').trim()}, ${c.length} cores`;
}

/** The 1-minute load average, to one decimal. */
export function load1(): number {
  return Math.round(loadavg()[0] * 10) / 10;
}
