/**
 * The one place trackers hear of a run's steps: an activity interceptor on the worker's pinned
 * compute queue, where every model step of a run is served (warm start, rollout, update, evaluate,
 * the preference steps, and `releaseRun` at the end). After a step completes, its run's trackers
 * are brought up to date in the background (tracking/sync.ts); the activity's result is returned
 * untouched and never waits for them.
 */
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { TrackingHub } from './sync.js';

/** The activities that end a run (its models are released once it has finished). */
const FINISHING = new Set(['releaseRun', 'releasePreferenceRun']);

export function trackingInterceptor(hub: TrackingHub): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        const result = await next(input);
        const runId = (input.args[0] as { runId?: unknown } | undefined)?.runId;
        if (typeof runId === 'string') hub.notify(runId, FINISHING.has(ctx.info.activityType));
        return result;
      },
    },
  });
}
