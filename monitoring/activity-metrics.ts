/**
 * An activity interceptor that times every activity and reads the metrics the run records (the
 * `update` and `evaluate` results, which are what metrics.jsonl gets), without touching activities.
 */
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Metrics } from '../common/metrics.js';
import type { CreditflowMetrics } from './metrics.js';

interface StepInput { runId?: string; iteration?: number; iterationMetrics?: Metrics }
interface StepResult { metrics?: Metrics }

export function activityMetrics(metrics: CreditflowMetrics): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        const activity = ctx.info.activityType;
        const started = performance.now();
        try {
          const result = await next(input);
          metrics.observeActivity(activity, (performance.now() - started) / 1000, 'ok');
          const arg = input.args[0] as StepInput | undefined;
          const recorded = (result as StepResult | undefined)?.metrics;
          if ((activity === 'update' || activity === 'evaluate') && arg?.runId && recorded) {
            metrics.observeRun(arg.runId, arg.iteration ?? 0, { ...arg.iterationMetrics, ...recorded });
          }
          return result;
        } catch (err) {
          metrics.observeActivity(activity, (performance.now() - started) / 1000, 'error');
          throw err;
        }
      },
    },
  });
}
