/**
 * Names and message definitions shared by workflows, the worker and the CLI.
 *
 * This module is imported by workflow code, so it must stay sandbox-pure: only
 * `@temporalio/workflow` / `@temporalio/common` and plain constants.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { defineSearchAttributeKey } from '@temporalio/common';
import type { Metrics } from '../common/metrics.js';
import type { SweepLeaderboard } from './sweep-plan.js';

/** Task queues. Workflow tasks and bookkeeping run on `cpu`; model work on `compute`. */
export const TASK_QUEUES = {
  cpu: 'cpu',
  compute: 'compute',
} as const;

/**
 * A run is pinned to one worker's compute host through a queue of that worker's own, so the
 * model stays resident between activities. The name carries the worker's identity.
 */
export function pinnedQueueName(workerIdentity: string): string {
  return `${TASK_QUEUES.compute}@${workerIdentity}`;
}

/** Search attributes the project registers on the server and sets on every run. */
export const SEARCH_ATTRIBUTES = {
  experiment: defineSearchAttributeKey('Experiment', 'KEYWORD'),
  objective: defineSearchAttributeKey('Objective', 'KEYWORD'),
  runStatus: defineSearchAttributeKey('RunStatus', 'KEYWORD'),
  bestAccuracy: defineSearchAttributeKey('BestAccuracy', 'DOUBLE'),
  /** Set on a sweep and on each of its trials, so `SweepId = "…"` lists them together. */
  sweepId: defineSearchAttributeKey('SweepId', 'KEYWORD'),
  seed: defineSearchAttributeKey('Seed', 'INT'),
} as const;

export type RunStatus = 'starting' | 'warm-start' | 'running' | 'paused' | 'stopping' | 'completed' | 'failed' | 'cancelled';

/** Metrics travel as flat name -> number records (never tensors); the type lives at the floor every layer shares. */
export type { Metrics };

export interface IterationRecord {
  iteration: number;
  metrics: Metrics;
}

export interface RunProgress {
  runId: string;
  experiment: string;
  objective: string;
  status: RunStatus;
  /** Last completed iteration (0 = only the warm start has run). */
  iteration: number;
  totalIterations: number;
  warmStartAccuracy: number | null;
  latestMetrics: Metrics;
  /** The newest evaluation: held-out accuracy, and every eval/* metric (per reward, pass@k, length, truncation). */
  latestEvaluation: { iteration: number; accuracy: number; metrics?: Metrics } | null;
  bestEvaluation: { iteration: number; accuracy: number } | null;
  lastCheckpoint: number | null;
  runDir: string | null;
  /** Retained checkpoints found damaged when the run ended (its files fail their manifest). */
  damage?: string[];
}

export const progressQuery = defineQuery<RunProgress>('progress');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
/** Stop = write a checkpoint, then finish cleanly (unlike cancel, which abandons the run). */
export const stopSignal = defineSignal('stop');

/**
 * A sweep answers `leaderboard`; it takes the same `pause` / `resume` / `stop` signals as a run
 * (pause: start no new trials and pause the running ones; stop: stop every running trial cleanly).
 */
export const leaderboardQuery = defineQuery<SweepLeaderboard>('leaderboard');
