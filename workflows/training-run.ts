/**
 * `trainingRun`: one RL fine-tuning run, as a durable loop.
 *
 *   data (once) -> warm start (once) -> [rollout -> score -> (SPO values) -> update -> evaluate every k -> checkpoint every c] x N
 *
 * The data step checks every row of the run's data against its tokenizer, context and rewards and
 * copies it into the run folder before any compute: bad data fails the run there, naming each line.
 *
 * The SPO values step (Monte Carlo continuations at segment cutpoints) runs only for objective spo.
 *
 * Model work runs on the compute host of one worker (a pinned queue, so weights stay resident); when
 * that worker is gone the run claims another, which reloads from the newest good state on disk.
 * Every activity is keyed by (run, iteration, phase) and is idempotent, so retries and replays never
 * step twice. The loop hands over to a fresh history (continue-as-new) every `continueAsNewEvery`
 * iterations or when the server suggests it.
 */
import { ContinueAsNew, continueAsNew, isCancellation, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { createComputeActivities, createCpuActivities } from '../activities/index.js';
import type { ExperimentConfig } from '../configs/schema.js';
import { TASK_QUEUES, type Metrics, type RunProgress } from './shared.js';
import { computePlacement } from './compute-placement.js';
import { runControls, type RunResult } from './run-controls.js';
import { summaryMarkdown } from './summary.js';

type ComputeActivities = ReturnType<typeof createComputeActivities>;
type CpuActivities = ReturnType<typeof createCpuActivities>;

export interface TrainingRunInput {
  runId: string;
  config: ExperimentConfig;
  /** Carried over continue-as-new; absent on the first start. */
  carried?: CarriedState;
}

interface CarriedState {
  iteration: number;
  pinnedQueue: string | null;
  progress: RunProgress;
  paused: boolean;
}

export type TrainingRunResult = RunResult;

/**
 * CPU-queue work (activity proxies have no own keys, so these are two proxies, not one spread).
 * Scoring heartbeats (verification can take long for code), so a worker killed
 * mid-score is noticed within the heartbeat timeout; bookkeeping takes milliseconds, so a short
 * start-to-close bound does the same. Neither may leave a run waiting minutes for a dead worker.
 */
const bookkeeping = () => proxyActivities<CpuActivities>({
  taskQueue: TASK_QUEUES.cpu,
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 10, nonRetryableErrorTypes: ['ConfigError', 'DataError', 'CheckpointError'] },
});

/** The data step reads and checks whole files: the activity time limit, no heartbeat, bad data is final. */
const preparing = (config: ExperimentConfig) => proxyActivities<CpuActivities>({
  taskQueue: TASK_QUEUES.cpu,
  startToCloseTimeout: `${config.timeouts.activityMinutes} minutes`,
  retry: { maximumAttempts: 10, nonRetryableErrorTypes: ['ConfigError', 'DataError'] },
});

const scoring = (config: ExperimentConfig) => proxyActivities<CpuActivities>({
  taskQueue: TASK_QUEUES.cpu,
  startToCloseTimeout: `${config.timeouts.activityMinutes} minutes`,
  heartbeatTimeout: `${config.timeouts.heartbeatSeconds} seconds`,
  retry: { maximumAttempts: 10, nonRetryableErrorTypes: ['ConfigError', 'DataError'] },
});

/** The eval/* metrics of an evaluation's record. */
const evalMetrics = (metrics: Metrics): Metrics => Object.fromEntries(Object.entries(metrics).filter(([k]) => k.startsWith('eval/')));

export async function trainingRun(input: TrainingRunInput): Promise<TrainingRunResult> {
  const { runId, config } = input;
  const progress: RunProgress = input.carried?.progress ?? {
    runId, experiment: config.experiment, objective: config.objective.name, status: 'starting',
    iteration: 0, totalIterations: config.run.iterations, warmStartAccuracy: null, latestMetrics: {},
    latestEvaluation: null, bestEvaluation: null, lastCheckpoint: null, runDir: null,
  };
  // Model activities run on one worker's compute host; a run whose worker is gone claims another.
  const placement = computePlacement<ComputeActivities>(runId, config.timeouts, input.carried?.pinnedQueue ?? null);
  const controls = runControls(
    progress, { experiment: config.experiment, objective: config.objective.name, seed: config.seed },
    () => summaryMarkdown(progress, config), input.carried?.paused ?? false,
  );
  const { publish } = controls;

  const cpuActs = bookkeeping();
  const scorer = scoring(config);
  const isLast = (i: number) => i === config.run.iterations;

  try {
    if (progress.iteration === 0 && progress.warmStartAccuracy === null) {
      const data = await preparing(config).prepareData.executeWithOptions({ summary: `data: check and copy the ${config.data.source} rows` }, [{ runId, config }]);
      progress.runDir = data.runDir;
      publish('warm-start');
      const warm = await placement.run((a) => a.warmStart.executeWithOptions({ summary: `SFT warm start: ${config.warmStart.steps} steps` }, [{ runId, config }]));
      progress.runDir = warm.runDir;
      progress.warmStartAccuracy = warm.accuracy;
      progress.latestEvaluation = { iteration: 0, accuracy: warm.accuracy, metrics: evalMetrics(warm.metrics) };
      progress.bestEvaluation = { iteration: 0, accuracy: warm.accuracy };
      progress.latestMetrics = warm.metrics;
    }
    publish(controls.paused ? 'paused' : 'running');

    for (let iteration = progress.iteration + 1; iteration <= config.run.iterations; iteration++) {
      if (await controls.untilRunnable()) break;
      publish('running');

      const at = `iteration ${iteration}/${config.run.iterations}`;
      const rollout = await placement.run((a) => a.rollout.executeWithOptions(
        { summary: `${at}: sample ${config.rollout.promptsPerIteration}×${config.rollout.groupSize} completions` }, [{ runId, config, iteration }]));
      const scores = await scorer.score.executeWithOptions({ summary: `${at}: verify rewards` }, [{ runId, iteration, rolloutFile: rollout.rolloutFile, rewards: config.rewards }]);
      let methodMetrics: Metrics = {};
      if (config.objective.name === 'spo') {
        const spo = await placement.run((a) => a.spoValues.executeWithOptions(
          { summary: `${at}: SPO Monte Carlo values (${config.objective.spo.samples} continuations per cutpoint)` }, [{ runId, config, iteration }]));
        methodMetrics = spo.metrics;
      }
      const iterationMetrics: Metrics = { ...rollout.metrics, ...scores.metrics, ...methodMetrics };
      const update = await placement.run((a) => a.update.executeWithOptions(
        { summary: `${at}: ${config.objective.name} update` }, [{ runId, config, iteration, iterationMetrics }]));
      const metrics: Metrics = { ...iterationMetrics, ...update.metrics };
      progress.iteration = iteration;
      progress.latestMetrics = metrics;

      if (iteration % config.run.evalEvery === 0 || isLast(iteration)) {
        const evaluation = await placement.run((a) => a.evaluate.executeWithOptions({ summary: `${at}: held-out accuracy` }, [{ runId, config, iteration }]));
        progress.latestEvaluation = { iteration, accuracy: evaluation.accuracy, metrics: evalMetrics(evaluation.metrics) };
        // Beside the iteration's own, so that `creditflow status` lists them too.
        progress.latestMetrics = { ...progress.latestMetrics, ...evaluation.metrics };
        if (!progress.bestEvaluation || evaluation.accuracy > progress.bestEvaluation.accuracy) {
          progress.bestEvaluation = { iteration, accuracy: evaluation.accuracy };
        }
      }
      if (iteration % config.run.checkpointEvery === 0 || isLast(iteration)) {
        await cpuActs.checkpoint.executeWithOptions({ summary: `${at}: checkpoint` }, [{ runId, version: iteration, keep: config.run.keepCheckpoints }]);
        progress.lastCheckpoint = iteration;
      }
      publish('running');

      const handOver = iteration % config.run.continueAsNewEvery === 0 || workflowInfo().continueAsNewSuggested;
      if (handOver && !isLast(iteration) && !controls.stopRequested) {
        await continueAsNew<typeof trainingRun>({ runId, config, carried: { iteration, pinnedQueue: placement.queue, progress, paused: controls.paused } });
      }
    }

    return await controls.finish(config.run.iterations, {
      checkpoint: (version) => cpuActs.checkpoint({ runId, version, keep: config.run.keepCheckpoints }),
      release: () => placement.onPinned((a) => a.releaseRun({ runId })),
      verify: () => cpuActs.verifyCheckpoints({ runId }),
    });
  } catch (err) {
    // continueAsNew ends this execution by throwing; a cancellation is shown as such, anything else as 'failed'.
    if (!(err instanceof ContinueAsNew)) publish(isCancellation(err) ? 'cancelled' : 'failed');
    throw err;
  }
}
