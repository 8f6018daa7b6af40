/**
 * Placing a run's model activities on one worker's compute host (workflow code: sandbox-pure).
 *
 * A run claims a worker through the shared `compute` queue (`claimWorker` answers with that
 * worker's own queue), then sends every model activity to that pinned queue so the weights stay
 * resident. When the pinned worker is gone (its task is not picked up, or its heartbeat stops), the
 * run claims another, which reloads from disk. `trainingRun`, `preferenceRun` and
 * `criticalModelRun` all place their model work through this module.
 */
import { ActivityFailure, proxyActivities, TimeoutFailure, type ActivityInterfaceFor } from '@temporalio/workflow';
import { TASK_QUEUES } from './shared.js';

export interface PlacementTimeouts {
  heartbeatSeconds: number;
  pinnedScheduleToStartSeconds: number;
  activityMinutes: number;
}

interface Claim {
  claimWorker(input: { runId: string }): Promise<string>;
}

export function isWorkerGone(err: unknown): boolean {
  if (!(err instanceof ActivityFailure)) return false;
  const cause = err.cause;
  // A pinned task nobody picked up, or a heartbeat that stopped: the worker died or was partitioned.
  return cause instanceof TimeoutFailure && (cause.timeoutType === 'SCHEDULE_TO_START' || cause.timeoutType === 'HEARTBEAT');
}

/** A run's placement: `run(call)` runs model activities on its worker, re-claiming one when it is gone. */
export function computePlacement<A extends object>(runId: string, timeouts: PlacementTimeouts, pinnedQueue: string | null = null) {
  const claim = proxyActivities<Claim>({
    taskQueue: TASK_QUEUES.compute,
    startToCloseTimeout: '1 minute',
    heartbeatTimeout: `${timeouts.heartbeatSeconds} seconds`,
  });
  const pinned = (taskQueue: string) => proxyActivities<A>({
    taskQueue,
    // If the pinned worker is gone, the task waits here and then times out; the run re-claims.
    scheduleToStartTimeout: `${timeouts.pinnedScheduleToStartSeconds} seconds`,
    startToCloseTimeout: `${timeouts.activityMinutes} minutes`,
    heartbeatTimeout: `${timeouts.heartbeatSeconds} seconds`,
    retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['ConfigError', 'DataError'] },
  });
  let queue = pinnedQueue;
  return {
    /** The worker queue the run is pinned to now (carried over continue-as-new). */
    get queue(): string | null {
      return queue;
    },
    /** Run `call` on the pinned worker if there is one, never claiming another (e.g. freeing the run's models). */
    async onPinned(call: (acts: ActivityInterfaceFor<A>) => Promise<unknown>): Promise<void> {
      if (queue !== null) await call(pinned(queue)).catch(() => undefined);
    },
    async run<T>(call: (acts: ActivityInterfaceFor<A>) => Promise<T>): Promise<T> {
      for (;;) {
        if (queue === null) queue = await claim.claimWorker({ runId });
        try {
          return await call(pinned(queue));
        } catch (err) {
          if (!isWorkerGone(err)) throw err;
          queue = null;
        }
      }
    },
  };
}
