/**
 * Follows a run through its `progress` query (and, during the warm start, its heartbeats) until it
 * closes; returns its result.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { progressQuery, type RunProgress } from '../workflows/shared.js';
import type { TrainingRunResult } from '../workflows/training-run.js';
import { ProgressDisplay } from './progress-bar.js';
import { pendingSteps, warmStartProgress } from './run-info.js';

export async function watchRun(client: Client, workflowId: string, pollMs = 1000): Promise<TrainingRunResult> {
  const display = new ProgressDisplay();
  const handle = client.workflow.getHandle(workflowId);
  const result = handle.result() as Promise<TrainingRunResult>;
  let finished = false;
  void result.finally(() => { finished = true; }).catch(() => undefined);
  try {
    while (!finished) {
      try {
        const progress: RunProgress = await handle.query(progressQuery);
        // Before the first iteration, the warm start's SFT steps come from its heartbeats.
        const warm = progress.iteration === 0 && progress.warmStartAccuracy === null ? warmStartProgress(pendingSteps(await handle.describe())) : null;
        display.update(progress, warm);
      } catch {
        // Between continue-as-new runs, or before the first workflow task, the query can fail: retry.
      }
      await Promise.race([sleep(pollMs), result.catch(() => undefined)]);
    }
    return await result;
  } finally {
    display.finish();
  }
}
