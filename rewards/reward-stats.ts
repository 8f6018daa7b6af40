/**
 * The reward metrics of a batch of verdicts (names: common/metrics.ts). Overall: the mean score of
 * the counted cases (a `skipped` case is not scored) and the share of each status. Per reward of the
 * mix, over the cases it ran on: its mean score and its correct, error and timeout rates, so that a
 * verifier that errors or times out shows as such instead of hiding in a low mean.
 */
import { rewardMetric, type Metrics } from '../common/metrics.js';
import type { VerifyStatus } from './types.js';

interface Scored {
  status: VerifyStatus;
  score: number;
}

/** Sums of one group of verdicts. */
class Tally {
  n = 0;
  counted = 0;
  scoreSum = 0;
  readonly byStatus: Record<VerifyStatus, number> = { correct: 0, incorrect: 0, error: 0, timeout: 0, skipped: 0 };

  add(v: Scored): void {
    this.n++;
    this.byStatus[v.status]++;
    if (v.status !== 'skipped') {
      this.counted++;
      this.scoreSum += v.score;
    }
  }

  mean(): number {
    return this.counted ? this.scoreSum / this.counted : 0;
  }

  rate(status: VerifyStatus): number {
    return this.n ? this.byStatus[status] / this.n : 0;
  }
}

export function rewardMetrics(verdicts: readonly (Scored & { parts?: readonly (Scored & { name: string })[] })[]): Metrics {
  const all = new Tally();
  const byName = new Map<string, Tally>();
  // Index loops: runs once an iteration over every completion (1024 on the demo).
  for (let i = 0; i < verdicts.length; i++) {
    const v = verdicts[i];
    all.add(v);
    const parts = v.parts ?? [];
    for (let k = 0; k < parts.length; k++) {
      let t = byName.get(parts[k].name);
      if (!t) byName.set(parts[k].name, (t = new Tally()));
      t.add(parts[k]);
    }
  }
  const metrics: Metrics = {
    'reward/mean': all.mean(),
    'reward/correct': all.rate('correct'),
    'reward/incorrect': all.rate('incorrect'),
    'reward/error': all.rate('error'),
    'reward/timeout': all.rate('timeout'),
    'reward/skipped': all.rate('skipped'),
  };
  for (const [name, t] of byName) {
    metrics[rewardMetric(name, 'mean')] = t.mean();
    metrics[rewardMetric(name, 'correct')] = t.rate('correct');
    metrics[rewardMetric(name, 'error')] = t.rate('error');
    metrics[rewardMetric(name, 'timeout')] = t.rate('timeout');
  }
  return metrics;
}
