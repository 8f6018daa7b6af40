/**
 * What a sweep and a report need from one run's `metrics.jsonl`: the value of a train metric at an
 * iteration, and a final summary (last iteration's train metrics plus the eval accuracies).
 */
import { readMetrics, type MetricsLine } from '../store/metrics-log.js';
import type { Metrics } from '../workflows/shared.js';

export function trainMetricAt(lines: MetricsLine[], iteration: number, metric: string): number | null {
  const v = lines.find((l) => l.phase === 'train' && l.iteration === iteration)?.metrics[metric];
  return v === undefined || !Number.isFinite(v) ? null : v;
}

/**
 * The latest value of every train metric, `eval/accuracy` of the last evaluation, `eval/bestAccuracy` the best
 * evaluation (the warm-start evaluation counts when it is recorded), `iterations` the last train iteration.
 */
export function summarizeRunMetrics(lines: MetricsLine[]): Metrics {
  const train = lines.filter((l) => l.phase === 'train').sort((a, b) => a.iteration - b.iteration);
  const evals = lines.filter((l) => (l.phase === 'eval' || l.phase === 'warm-start') && Number.isFinite(l.metrics['eval/accuracy']))
    .sort((a, b) => a.iteration - b.iteration);
  // Latest value of each key: an iteration with nothing to update (every group uniform) records no loss.
  const summary: Metrics = Object.assign({}, ...train.map((l) => l.metrics));
  summary.iterations = train.at(-1)?.iteration ?? 0;
  if (evals.length) {
    summary['eval/accuracy'] = evals.at(-1)!.metrics['eval/accuracy'];
    summary['eval/bestAccuracy'] = Math.max(...evals.map((l) => l.metrics['eval/accuracy']));
  }
  return summary;
}

export const summarizeRunDir = (runDir: string): Metrics => summarizeRunMetrics(readMetrics(runDir));
