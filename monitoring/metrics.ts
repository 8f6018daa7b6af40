/**
 * creditflow's own Prometheus metrics (prom-client): per run, the latest reward, accuracy, tokens/s
 * and step times; per activity type, a duration histogram and an outcome counter. They are fed by an
 * activity interceptor (activity-metrics.ts), so activities know nothing about monitoring.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Metrics } from '../common/metrics.js';

/** Run metric key (metrics.jsonl) -> gauge name and help. */
const RUN_GAUGES = {
  'reward/mean': ['creditflow_reward_mean', 'Mean reward of the latest iteration.'],
  'eval/accuracy': ['creditflow_eval_accuracy', 'Held-out accuracy of the latest evaluation.'],
  'perf/rolloutTokensPerSec': ['creditflow_rollout_tokens_per_second', 'Rollout throughput of the latest iteration (tokens/s).'],
  'perf/updateSeconds': ['creditflow_update_seconds', 'Duration of the latest update step (s).'],
  'perf/rolloutSeconds': ['creditflow_rollout_seconds', 'Duration of the latest rollout (s).'],
  'update/loss': ['creditflow_loss', 'Loss of the latest update.'],
  'rollout/entropy': ['creditflow_rollout_entropy', 'Mean token entropy of the latest rollout.'],
} as const;

export class CreditflowMetrics {
  readonly registry = new Registry();
  private readonly runGauges = new Map<string, Gauge<'run'>>();
  private readonly iteration: Gauge<'run'>;
  private readonly activitySeconds: Histogram<'activity'>;
  private readonly activities: Counter<'activity' | 'outcome'>;

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'creditflow_process_' });
    for (const [key, [name, help]] of Object.entries(RUN_GAUGES)) {
      this.runGauges.set(key, new Gauge({ name, help, labelNames: ['run'], registers: [this.registry] }));
    }
    this.iteration = new Gauge({ name: 'creditflow_iteration', help: 'Last iteration recorded.', labelNames: ['run'], registers: [this.registry] });
    this.activitySeconds = new Histogram({
      name: 'creditflow_activity_seconds', help: 'Activity (step) duration on this worker.', labelNames: ['activity'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300], registers: [this.registry],
    });
    this.activities = new Counter({ name: 'creditflow_activities_total', help: 'Activities run on this worker.', labelNames: ['activity', 'outcome'], registers: [this.registry] });
  }

  observeActivity(activity: string, seconds: number, outcome: 'ok' | 'error'): void {
    this.activitySeconds.observe({ activity }, seconds);
    this.activities.inc({ activity, outcome });
  }

  /** A run's metrics, as recorded (one call per iteration and phase). */
  observeRun(run: string, iteration: number, metrics: Metrics): void {
    this.iteration.set({ run }, iteration);
    for (const [key, value] of Object.entries(metrics)) {
      if (Number.isFinite(value)) this.runGauges.get(key)?.set({ run }, value);
    }
  }
}
