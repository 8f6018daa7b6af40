/**
 * `preferenceRun`: one offline preference run (DPO, IPO, token-weighted DPO, cDPO, SparsePO, T-REG),
 * as a durable loop over batches of preference pairs:
 *
 *   prepare data (validated, line-numbered errors) -> warm start (SFT; its weights = frozen reference)
 *   -> [cDPO: positive and negative models as child workflows, then critical-token scores, once]
 *   -> [T-REG: contrastive token rewards, once]
 *   -> [update (next batch of pairs) -> evaluate every k -> checkpoint every c] x steps
 *
 * Same shape and controls as `trainingRun`: model work is pinned to one worker's compute host and
 * moves when that worker is gone; every activity is keyed by (run, step) and idempotent; pause,
 * resume and stop signals, the `progress` query, search attributes and a markdown summary; the loop
 * hands over to a fresh history every `continueAsNewEvery` steps (or when the server suggests it).
 */
import { ContinueAsNew, continueAsNew, isCancellation, executeChild, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { createCpuActivities } from '../activities/index.js';
import type { createPreferenceComputeActivities, createPreferenceCpuActivities } from '../activities/preference.js';
import type { PreferenceConfig } from '../configs/preference-schema.js';
import { criticalModelRun } from './critical-model-run.js';
import { computePlacement } from './compute-placement.js';
import { runControls, type RunResult } from './run-controls.js';
import { preferenceSummaryMarkdown } from './preference-summary.js';
import { TASK_QUEUES, type Metrics, type RunProgress } from './shared.js';

type ComputeActivities = ReturnType<typeof createPreferenceComputeActivities>;
type CpuActivities = ReturnType<typeof createCpuActivities> & ReturnType<typeof createPreferenceCpuActivities>;

export interface PreferenceRunInput {
  runId: string;
  config: PreferenceConfig;
  /** Carried over continue-as-new; absent on the first start. */
  carried?: { pinnedQueue: string | null; progress: RunProgress; paused: boolean };
}

/** The same fields as `TrainingRunResult` (`iterations` counts optimizer steps), so the CLI treats both alike. */
export type PreferenceRunResult = RunResult;

/** Workflow ids of a cDPO run's child workflows. */
export const criticalModelWorkflowId = (runId: string, role: 'positive' | 'negative') => `${runId}-${role}-model`;

const bookkeeping = () => proxyActivities<CpuActivities>({
  taskQueue: TASK_QUEUES.cpu,
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 10, nonRetryableErrorTypes: ['ConfigError', 'DataError', 'CheckpointError'] },
});

export async function preferenceRun(input: PreferenceRunInput): Promise<PreferenceRunResult> {
  const { runId, config } = input;
  const steps = config.run.steps;
  const progress: RunProgress = input.carried?.progress ?? {
    runId, experiment: config.experiment, objective: config.objective.name, status: 'starting',
    iteration: 0, totalIterations: steps, warmStartAccuracy: null, latestMetrics: {},
    latestEvaluation: null, bestEvaluation: null, lastCheckpoint: null, runDir: null,
  };
  const controls = runControls(
    progress, { experiment: config.experiment, objective: config.objective.name, seed: config.seed },
    () => preferenceSummaryMarkdown(progress, config), input.carried?.paused ?? false,
  );
  const { publish } = controls;

  const host = computePlacement<ComputeActivities>(runId, config.timeouts, input.carried?.pinnedQueue ?? null);
  const cpu = bookkeeping();
  const isLast = (s: number) => s === steps;
  const args = { runId, config };

  try {
    let setupMetrics: Metrics = {};
    if (progress.warmStartAccuracy === null) {
      publish('starting');
      const data = await cpu.preparePreferenceData.executeWithOptions({ summary: 'validate and split the preference pairs' }, [args]);
      progress.runDir = data.runDir;
      publish('warm-start');
      const warm = await host.run((a) => a.preferenceWarmStart.executeWithOptions({ summary: `SFT warm start: ${config.warmStart.steps} steps; reference = its weights` }, [args]));
      setupMetrics = { ...data.metrics };
      if (config.objective.name === 'critical-token-dpo') {
        const roles = ['positive', 'negative'] as const;
        const models = await Promise.all(roles.map((role) => executeChild(criticalModelRun, {
          workflowId: criticalModelWorkflowId(runId, role), taskQueue: TASK_QUEUES.cpu, args: [{ ...args, role }],
          staticSummary: `${config.experiment} · cDPO ${role} model of ${runId}`,
        })));
        const scored = await host.run((a) => a.scoreCriticalTokens.executeWithOptions({ summary: 'cDPO: critical-token scores of every pair' }, [args]));
        setupMetrics = { ...setupMetrics, ...models[0].metrics, ...models[1].metrics, ...scored.metrics };
      }
      if (config.objective.name === 't-reg') {
        const scored = await host.run((a) => a.scoreTokenRewards.executeWithOptions({ summary: 'T-REG: contrastive token rewards of every pair' }, [args]));
        setupMetrics = { ...setupMetrics, ...scored.metrics };
      }
      progress.warmStartAccuracy = warm.accuracy;
      progress.latestEvaluation = { iteration: 0, accuracy: warm.accuracy };
      progress.bestEvaluation = { iteration: 0, accuracy: warm.accuracy };
      progress.latestMetrics = { ...warm.metrics, ...setupMetrics };
    }
    publish(controls.paused ? 'paused' : 'running');

    for (let step = progress.iteration + 1; step <= steps; step++) {
      if (await controls.untilRunnable()) break;
      publish('running');

      const at = `step ${step}/${steps}`;
      const update = await host.run((a) => a.preferenceUpdate.executeWithOptions(
        { summary: `${at}: ${config.objective.name} on ${config.optimizer.batchSize} pairs` },
        [{ ...args, step, ...(step === 1 ? { setupMetrics } : {}) }],
      ));
      progress.iteration = step;
      progress.latestMetrics = update.metrics;

      if (step % config.run.evalEvery === 0 || isLast(step)) {
        const evaluation = await host.run((a) => a.preferenceEvaluate.executeWithOptions({ summary: `${at}: held-out accuracy` }, [{ ...args, step }]));
        progress.latestEvaluation = { iteration: step, accuracy: evaluation.accuracy };
        progress.latestMetrics = { ...progress.latestMetrics, ...evaluation.metrics };
        if (!progress.bestEvaluation || evaluation.accuracy > progress.bestEvaluation.accuracy) {
          progress.bestEvaluation = { iteration: step, accuracy: evaluation.accuracy };
        }
      }
      if (step % config.run.checkpointEvery === 0 || isLast(step)) {
        await cpu.checkpoint.executeWithOptions({ summary: `${at}: checkpoint` }, [{ runId, version: step, keep: config.run.keepCheckpoints }]);
        progress.lastCheckpoint = step;
      }
      publish('running');

      const handOver = step % config.run.continueAsNewEvery === 0 || workflowInfo().continueAsNewSuggested;
      if (handOver && !isLast(step) && !controls.stopRequested) {
        await continueAsNew<typeof preferenceRun>({ runId, config, carried: { pinnedQueue: host.queue, progress, paused: controls.paused } });
      }
    }

    return await controls.finish(steps, {
      checkpoint: (version) => cpu.checkpoint({ runId, version, keep: config.run.keepCheckpoints }),
      release: () => host.onPinned((a) => a.releasePreferenceRun({ runId })),
      verify: () => cpu.verifyCheckpoints({ runId }),
    });
  } catch (err) {
    // continueAsNew ends this execution by throwing; a cancellation is shown as such, anything else as 'failed'.
    if (!(err instanceof ContinueAsNew)) publish(isCancellation(err) ? 'cancelled' : 'failed');
    throw err;
  }
}
