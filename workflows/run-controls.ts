/**
 * What every run workflow shows and takes from people (workflow code: sandbox-pure): the `progress`
 * query, the pause/resume/stop signals, and `publish`, which sets the run's status in its progress,
 * its search attributes and its markdown summary in the Web UI.
 */
import { condition, patched, setCurrentDetails, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import {
  pauseSignal, progressQuery, resumeSignal, SEARCH_ATTRIBUTES, stopSignal, type RunProgress, type RunStatus,
} from './shared.js';

/** What a run workflow returns (RL and preference runs alike). */
export interface RunResult {
  runId: string;
  runDir: string;
  iterations: number;
  warmStartAccuracy: number | null;
  finalAccuracy: number | null;
  bestAccuracy: number | null;
  stoppedEarly: boolean;
  /** Retained checkpoints found damaged at the end, one line each (absent: none, or a run from before the check). */
  damage?: string[];
}

export interface RunControls {
  readonly paused: boolean;
  readonly stopRequested: boolean;
  publish(status: RunStatus): void;
  /** Waits while the run is paused (publishing 'paused'); true when a stop was requested. */
  untilRunnable(): Promise<boolean>;
  /**
   * The end of the loop: a run stopped early checkpoints its last step if it has no checkpoint yet
   * (`checkpoint(version)`), then frees its models (`release`), publishes 'completed' and reports.
   */
  finish(totalSteps: number, end: {
    checkpoint: (version: number) => Promise<unknown>; release: () => Promise<void>;
    /** Checks the retained checkpoints; returns the damaged ones, one line each. */
    verify?: () => Promise<{ damaged: string[] }>;
  }): Promise<RunResult>;
}

export function runControls(
  progress: RunProgress,
  run: { experiment: string; objective: string; seed: number },
  summary: () => string,
  pausedAtStart: boolean,
): RunControls {
  let paused = pausedAtStart;
  let stopRequested = false;
  setHandler(progressQuery, () => progress);
  setHandler(pauseSignal, () => { paused = true; });
  setHandler(resumeSignal, () => { paused = false; });
  setHandler(stopSignal, () => { stopRequested = true; });

  let publishedValues = '';
  const publish = (status: RunStatus) => {
    progress.status = status;
    const pairs: SearchAttributeUpdatePair[] = [
      { key: SEARCH_ATTRIBUTES.experiment, value: run.experiment },
      { key: SEARCH_ATTRIBUTES.objective, value: run.objective },
      { key: SEARCH_ATTRIBUTES.runStatus, value: status },
      { key: SEARCH_ATTRIBUTES.seed, value: run.seed },
    ];
    if (progress.bestEvaluation) pairs.push({ key: SEARCH_ATTRIBUTES.bestAccuracy, value: progress.bestEvaluation.accuracy });
    // Each upsert is a history event: only when something the UI filters on changed.
    const values = JSON.stringify(pairs.map((p) => p.value));
    if (values !== publishedValues) upsertSearchAttributes(pairs);
    publishedValues = values;
    setCurrentDetails(summary());
  };

  return {
    get paused() { return paused; },
    get stopRequested() { return stopRequested; },
    publish,
    async untilRunnable() {
      if (paused && !stopRequested) {
        publish('paused');
        await condition(() => !paused || stopRequested);
      }
      return stopRequested;
    },
    async finish(totalSteps, { checkpoint, release, verify }) {
      const stoppedEarly = progress.iteration < totalSteps;
      if (stoppedEarly && progress.lastCheckpoint !== progress.iteration) {
        publish('stopping');
        await checkpoint(progress.iteration);
        progress.lastCheckpoint = progress.iteration;
      }
      await release();
      // A new command at the end of the history: runs recorded before it replay without it.
      if (verify && patched('verify-checkpoints-at-end')) {
        const { damaged } = await verify();
        if (damaged.length > 0) progress.damage = damaged;
      }
      publish('completed');
      return {
        ...(progress.damage ? { damage: progress.damage } : {}),
        runId: progress.runId, runDir: progress.runDir ?? '', iterations: progress.iteration,
        warmStartAccuracy: progress.warmStartAccuracy,
        finalAccuracy: progress.latestEvaluation?.accuracy ?? null,
        bestAccuracy: progress.bestEvaluation?.accuracy ?? null,
        stoppedEarly,
      };
    },
  };
}
