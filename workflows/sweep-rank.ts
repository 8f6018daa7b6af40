/**
 * Ranking a sweep's trials and the median stopping rule. Pure functions of the trial rows.
 *
 * Median stopping (as in Google Vizier's "median stopping rule"): once a trial has reached iteration
 * k, compare its early-stop metric at k with the median of that metric at k over every trial that got
 * there (finished ones included). A trial worse than the median is stopped once at least `minTrials`
 * values are known; each trial is judged once.
 */
import type { Direction, RankedTrial, SweepLeaderboard, SweepSettings, SweepStatus, TrialRow, TrialStatus } from './sweep-plan.js';

const better = (direction: Direction) => (a: number, b: number) => (direction === 'max' ? b - a : a - b);

/** Best first by metric; ties keep trial order; trials without a metric follow in trial order. */
export function rankTrials(rows: TrialRow[], direction: Direction): RankedTrial[] {
  const scored = rows.filter((r) => r.metric !== null).sort((a, b) => better(direction)(a.metric!, b.metric!) || a.index - b.index);
  const rest = rows.filter((r) => r.metric === null).sort((a, b) => a.index - b.index);
  return [...scored.map((r, k) => ({ ...r, rank: k + 1 })), ...rest.map((r) => ({ ...r, rank: null }))];
}

export function countByStatus(rows: TrialRow[]): Record<TrialStatus, number> {
  const counts: Record<TrialStatus, number> = { pending: 0, running: 0, stopping: 0, completed: 0, 'stopped-early': 0, failed: 0, skipped: 0 };
  for (const r of rows) counts[r.status]++;
  return counts;
}

export function leaderboard(
  sweepId: string, experiment: string, status: SweepStatus, settings: SweepSettings, rows: TrialRow[],
): SweepLeaderboard {
  return {
    sweepId, experiment, status, metric: settings.metric, direction: settings.direction, concurrency: settings.concurrency,
    total: rows.length, counts: countByStatus(rows), trials: rankTrials(rows, settings.direction),
  };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * The rule applied to running trials that have a value at k and were not judged yet: `judge` are the
 * ones decided now (none while fewer than `minTrials` values are known), `stop` those of them worse
 * than the median.
 */
export function applyMedianRule(rows: TrialRow[], rule: NonNullable<SweepSettings['earlyStop']>): { judge: string[]; stop: string[] } {
  const known = rows.filter((r) => r.earlyStopValue !== null).map((r) => r.earlyStopValue!);
  if (known.length < rule.minTrials) return { judge: [], stop: [] };
  const m = median(known);
  const worse = (v: number) => (rule.direction === 'max' ? v < m : v > m);
  const judge = rows.filter((r) => r.status === 'running' && r.earlyStopValue !== null && !r.earlyStopJudged);
  return { judge: judge.map((r) => r.id), stop: judge.filter((r) => worse(r.earlyStopValue!)).map((r) => r.id) };
}
