/**
 * An activity interceptor that times every activity and reads the metrics the run records
 * (`recordMetrics` inputs), so the exporter sees what metrics.jsonl sees without touching activities.
 */
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Metrics } from '../workflows/shared.js';
import type { CreditflowMetrics } from './metrics.js';

interface RecordInput { runId?: string; iteration?: number; metrics?: Metrics }

export function activityMetrics(metrics: CreditflowMetrics): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        const activity = ctx.info.activityType;
        const started = performance.now();
        try {
          const result = await next(input);
          metrics.observeActivity(activity, (performance.now() - started) / 1000, 'ok');
          const arg = input.args[0] as RecordInput | undefined;
          if (activity === 'recordMetrics' && arg?.runId && arg.metrics) metrics.observeRun(arg.runId, arg.iteration ?? 0, arg.metrics);
          return result;
        } catch (err) {
          metrics.observeActivity(activity, (performance.now() - started) / 1000, 'error');
          throw err;
        }
      },
    },
  });
}
