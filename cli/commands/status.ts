/**
 * `creditflow status <run-id> [--json]`: the run's state (cancelled and terminated runs as such), its
 * progress and latest metrics, why it failed and in which activity, the step it is retrying, and
 * its experiment trackers.
 */
import { existsSync } from 'node:fs';
import { readPromptSample } from '../../engine/policy.js';
import { formatMetric } from '../../report/format.js';
import { runDir as defaultRunDir, stateDir } from '../../store/paths.js';
import { readTrackingStatus, trackingStatusLines } from '../../tracking/status.js';
import { progressQuery, type RunProgress } from '../../workflows/shared.js';
import { connectClient, targetFrom, uiLink } from '../options.js';
import type { Options } from '../program.js';
import { progressLine, progressUnit } from '../progress-bar.js';
import { newestGoodCheckpoint } from '../resume-run.js';
import { failureLine, pendingSteps, runFailure, warmStartProgress } from '../run-info.js';

export async function execute([id]: unknown[], options: Options): Promise<number> {
  const runId = id as string;
  const target = targetFrom(options);
  const client = await connectClient(target);
  try {
    const handle = client.workflow.getHandle(runId);
    const description = await handle.describe();
    const progress: RunProgress | null = await handle.query(progressQuery).catch(() => null);
    const failure = await runFailure(client, description);
    const pending = pendingSteps(description);
    const dir = progress?.runDir ?? defaultRunDir(runId, stateDir());
    const tracking = existsSync(dir) ? readTrackingStatus(dir) : null;
    const workflowStatus = description.status.name;
    if (options.json) {
      console.log(JSON.stringify({ workflowStatus, progress, failure, pending, tracking }, null, 2));
      return 0;
    }
    const closedEarly = ['FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT'].includes(workflowStatus);
    const at = progress ? ` at ${progress.iteration === 0 ? 'the warm start' : `${progressUnit(progress)} ${progress.iteration}/${progress.totalIterations}`}` : '';
    console.log(`${runId}: ${workflowStatus.toLowerCase()}${closedEarly ? at : ''}`);
    if (failure) console.log(`  why: ${failureLine(failure).replace(/\n/g, '\n       ')}`);
    for (const step of pending) {
      if (step.lastFailure) console.log(`  retrying ${step.activity} (attempt ${step.attempt}): ${failureLine(step.lastFailure)}`);
    }
    if (progress) {
      console.log(`  ${progressLine(progress, warmStartProgress(pending))}`);
      for (const [k, v] of Object.entries(progress.latestMetrics)) console.log(`  ${k.padEnd(28)} ${formatMetric(k, v)}`);
      if (progress.lastCheckpoint !== null) console.log(`  last checkpoint: ${progress.lastCheckpoint}`);
      for (const line of progress.damage ?? []) console.log(`  DAMAGED ${line}`);
    }
    for (const line of trackingStatusLines(tracking)) console.log(`  ${line}`);
    if (existsSync(dir)) console.log(`  run folder: ${dir}`);
    const sample = existsSync(dir) ? readPromptSample(dir) : undefined;
    if (sample) {
      // What the model is given (chat template applied), so a user can check it; first lines only.
      const lines = sample.rendered.split('\n');
      console.log(`  prompt sample (first training row, ${sample.ids.length} tokens):`);
      for (const line of lines.slice(0, 8)) console.log(`    | ${line}`);
      if (lines.length > 8) console.log(`    | ... (${lines.length - 8} more lines)`);
    }
    if (closedEarly && (description.type === 'trainingRun' || description.type === 'preferenceRun') && existsSync(dir)) {
      console.log(`  to continue: creditflow resume ${runId} (from checkpoint ${newestGoodCheckpoint(dir)})`);
    }
    console.log(`  Web UI: ${uiLink(target, runId)}`);
    return 0;
  } finally {
    await client.connection.close();
  }
}
