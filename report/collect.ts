/**
 * What a report shows, gathered from Temporal and the run folders: for a run, its metrics; for a
 * sweep, its leaderboard and every trial's metrics. A run's folder is `progress.runDir` from its
 * `progress` query, or `<state>/runs/<id>` when the query cannot answer (no worker up, say).
 */
import type { Client } from '@temporalio/client';
import { readMetrics, type MetricsLine } from '../store/metrics-log.js';
import { runDir as defaultRunDir, stateDir } from '../store/paths.js';
import { summarizeRunMetrics } from '../sweeps/run-metrics.js';
import { leaderboardQuery, progressQuery, type Metrics } from '../workflows/shared.js';
import { paramsLabel, type SweepLeaderboard, type TrialParams, type TrialStatus } from '../workflows/sweep-plan.js';

export interface ReportRun {
  id: string;
  /** Short series name in plots (`t003` for a trial, the run id otherwise). */
  label: string;
  /** The trial's configuration: its parameters other than the seed (`lr=0.001 · clipHigh=0.2`); trials that differ only by seed share it. */
  group: string;
  params: TrialParams;
  status: string;
  rank: number | null;
  runDir: string;
  lines: MetricsLine[];
  summary: Metrics;
}

export interface ReportData {
  kind: 'run' | 'sweep';
  id: string;
  experiment: string;
  workflowStatus: string;
  leaderboard: SweepLeaderboard | null;
  runs: ReportRun[];
}

/** The configuration a trial belongs to: its parameters without the seed. */
export function configurationOf(params: TrialParams): string {
  const { seed: _seed, ...rest } = params;
  return Object.keys(rest).length ? paramsLabel(rest) : 'base config';
}

/**
 * A run's summary for the tables: the last train metrics, the last and best held-out accuracy, the
 * warm-start accuracy, and the last evaluation's other metrics (held-out pair accuracy, margin).
 */
export function reportSummary(lines: MetricsLine[]): Metrics {
  const summary = summarizeRunMetrics(lines);
  const warm = lines.find((l) => l.phase === 'warm-start')?.metrics['eval/accuracy'];
  if (warm !== undefined && Number.isFinite(warm)) summary['eval/warmStartAccuracy'] = warm;
  const lastEval = lines.filter((l) => l.phase === 'eval').at(-1);
  for (const [k, v] of Object.entries(lastEval?.metrics ?? {})) if (k.startsWith('eval/') && !(k in summary)) summary[k] = v;
  return summary;
}

function runFrom(id: string, label: string, dir: string, extra: { params?: TrialParams; status: string; rank?: number | null }): ReportRun {
  const lines = readMetrics(dir);
  const params = extra.params ?? {};
  return { id, label, group: configurationOf(params), params, status: extra.status, rank: extra.rank ?? null, runDir: dir, lines, summary: reportSummary(lines) };
}

export async function collectReport(client: Client, id: string, home = stateDir()): Promise<ReportData> {
  const handle = client.workflow.getHandle(id);
  const description = await handle.describe();
  if (description.type === 'sweep') {
    const board = await handle.query(leaderboardQuery);
    const started: TrialStatus[] = ['running', 'stopping', 'completed', 'stopped-early', 'failed'];
    const runs = board.trials.filter((t) => started.includes(t.status)).sort((a, b) => a.index - b.index).map((t) =>
      runFrom(t.id, t.id.slice(id.length + 1), t.runDir ?? defaultRunDir(t.id, home), { params: t.params, status: t.status, rank: t.rank }));
    return { kind: 'sweep', id, experiment: board.experiment, workflowStatus: description.status.name, leaderboard: board, runs };
  }
  const progress = await handle.query(progressQuery).catch(() => null);
  const dir = progress?.runDir ?? defaultRunDir(id, home);
  return {
    kind: 'run', id, experiment: progress?.experiment ?? '', workflowStatus: description.status.name, leaderboard: null,
    runs: [runFrom(id, id, dir, { status: progress?.status ?? description.status.name.toLowerCase() })],
  };
}
