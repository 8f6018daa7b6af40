/**
 * The shape of a sweep, shared by the CLI (which expands and validates it) and the `sweep` workflow
 * (which runs it). Pure: no I/O, no randomness, safe in the workflow sandbox.
 *
 * A trial is a set of overrides on the base config, keyed by dotted path (`optimizer.lr`, `seed`).
 * Its id is `<sweepId>-t<nnn>` (1-based, zero-padded), so a trial's run, its folder and its place in
 * the Web UI follow from the sweep id and its position in the expansion alone.
 */
import type { ExperimentConfig } from '../configs/schema.js';
import type { Metrics, RunProgress } from './shared.js';

export type ParamValue = number | string | boolean;
export type TrialParams = Record<string, ParamValue>;

/** Metrics a sweep can rank trials by. `eval/*` come from evaluations, the rest from the last iteration. */
export const SWEEP_METRICS = [
  'eval/accuracy', 'eval/bestAccuracy', 'reward/mean', 'update/loss', 'update/approxKl', 'rollout/entropy', 'perf/rolloutTokensPerSec',
] as const;
export type SweepMetric = (typeof SWEEP_METRICS)[number];

/** Per-iteration training metrics an early-stop rule can compare at iteration k. */
export const EARLY_STOP_METRICS = ['reward/mean', 'update/loss', 'update/approxKl', 'rollout/entropy'] as const;
export type EarlyStopMetric = (typeof EARLY_STOP_METRICS)[number];

export type Direction = 'max' | 'min';

/** The validated `sweep:` section (its zod schema is configs/sweep-schema.ts). */
export interface SweepSettings {
  metric: SweepMetric;
  direction: Direction;
  concurrency: number;
  /** Median stopping: at iteration `atIteration`, stop a trial whose `metric` is worse than the median so far. */
  earlyStop?: { metric: EarlyStopMetric; direction: Direction; atIteration: number; minTrials: number };
  /** How often the sweep looks at its running trials (only when an early-stop rule needs it). */
  pollSeconds: number;
  /** Trials started per workflow history before the sweep hands over to a fresh one (continue-as-new). */
  continueAsNewEvery: number;
}

export type TrialStatus = 'pending' | 'running' | 'stopping' | 'completed' | 'stopped-early' | 'failed' | 'skipped';
export type SweepStatus = 'running' | 'paused' | 'stopping' | 'completed';

export interface TrialRow {
  /** 1-based position in the expansion. */
  index: number;
  id: string;
  params: TrialParams;
  status: TrialStatus;
  /** Last iteration seen (from the run's progress, or its result). */
  iteration: number;
  totalIterations: number;
  /** The sweep's metric: final once the trial has finished, live while it runs (when polled). */
  metric: number | null;
  /** The early-stop metric at the rule's iteration, once the trial got there. */
  earlyStopValue: number | null;
  /** Whether the early-stop rule has judged this trial (each trial is judged once). */
  earlyStopJudged: boolean;
  /** Final summary metrics of a finished trial (`eval/accuracy`, `eval/bestAccuracy`, last-iteration train metrics). */
  final: Metrics | null;
  runDir: string | null;
  error: string | null;
}

export interface RankedTrial extends TrialRow {
  /** 1 = best; null while the trial has no metric. */
  rank: number | null;
}

export interface SweepLeaderboard {
  sweepId: string;
  experiment: string;
  status: SweepStatus;
  metric: SweepMetric;
  direction: Direction;
  concurrency: number;
  total: number;
  counts: Record<TrialStatus, number>;
  /** Best first; trials without a metric after, in trial order. */
  trials: RankedTrial[];
}

export const trialId = (sweepId: string, index: number) => `${sweepId}-t${String(index).padStart(3, '0')}`;

export function initialRows(sweepId: string, params: TrialParams[], totalIterations: number): TrialRow[] {
  return params.map((p, k) => ({
    index: k + 1, id: trialId(sweepId, k + 1), params: p, status: 'pending', iteration: 0, totalIterations,
    metric: null, earlyStopValue: null, earlyStopJudged: false, final: null, runDir: null, error: null,
  }));
}

/** The base config with a trial's overrides written at their dotted paths (a new object; the base is untouched). */
export function applyParams(base: ExperimentConfig, params: TrialParams): ExperimentConfig {
  const config = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
  for (const [path, value] of Object.entries(params)) {
    const keys = path.split('.');
    let node = config;
    for (const key of keys.slice(0, -1)) {
      if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[keys[keys.length - 1]] = value;
  }
  return config as unknown as ExperimentConfig;
}

/** `lr=0.001 · seed=2`: the overrides, by their last path segment. */
export function paramsLabel(params: TrialParams): string {
  return Object.entries(params).map(([k, v]) => `${k.split('.').pop()}=${v}`).join(' · ') || '(base)';
}

/** A finished run's value of a sweep metric, from the summary the sweep's activity read from its metrics file. */
export function metricOf(final: Metrics | null, metric: SweepMetric): number | null {
  const v = final?.[metric];
  return v === undefined || !Number.isFinite(v) ? null : v;
}

/** A running trial's live value of a sweep metric, from its progress query. */
export function liveMetricOf(progress: Pick<RunProgress, 'latestMetrics' | 'latestEvaluation' | 'bestEvaluation'>, metric: SweepMetric): number | null {
  if (metric === 'eval/accuracy') return progress.latestEvaluation?.accuracy ?? null;
  if (metric === 'eval/bestAccuracy') return progress.bestEvaluation?.accuracy ?? null;
  const v = progress.latestMetrics[metric];
  return v === undefined || !Number.isFinite(v) ? null : v;
}
