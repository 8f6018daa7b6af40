/**
 * The sweep's activities (cpu queue): looking at running trials through their `progress` query and
 * their metrics files, and summarising a finished trial. Read-only and idempotent.
 */
import { Context } from '@temporalio/activity';
import { readMetrics } from '../store/metrics-log.js';
import { progressQuery, type Metrics, type RunProgress } from '../workflows/shared.js';
import { summarizeRunMetrics, trainMetricAt } from './run-metrics.js';

const QUERY_TIMEOUT_MS = 5000;

export interface TrialLook {
  id: string;
  /** null when the run could not be queried (not started yet, or between two histories). */
  progress: Pick<RunProgress, 'status' | 'iteration' | 'runDir' | 'latestMetrics' | 'latestEvaluation' | 'bestEvaluation'> | null;
  /** The early-stop metric at the rule's iteration, once the run got there. */
  valueAtK: number | null;
}

export function createSweepActivities() {
  return {
    async lookAtTrials(input: { ids: string[]; earlyStop?: { metric: string; atIteration: number } }): Promise<TrialLook[]> {
      const client = Context.current().client;
      return Promise.all(input.ids.map(async (id): Promise<TrialLook> => {
        // A trial between workers may not answer for a while: give up on it for this look, not on the look.
        const p = await Promise.race([
          client.workflow.getHandle(id).query(progressQuery).catch(() => null),
          new Promise<null>((resolve) => setTimeout(() => resolve(null), QUERY_TIMEOUT_MS).unref()),
        ]);
        if (!p) return { id, progress: null, valueAtK: null };
        const { status, iteration, runDir, latestMetrics, latestEvaluation, bestEvaluation } = p;
        const rule = input.earlyStop;
        const valueAtK = rule && runDir && iteration >= rule.atIteration ? trainMetricAt(readMetrics(runDir), rule.atIteration, rule.metric) : null;
        return { id, progress: { status, iteration, runDir, latestMetrics, latestEvaluation, bestEvaluation }, valueAtK };
      }));
    },

    /** A finished trial: its summary metrics, and the early-stop metric at k (trials that finish between looks count too). */
    async summarizeTrial(input: { runDir: string; earlyStop?: { metric: string; atIteration: number } }): Promise<{ summary: Metrics; valueAtK: number | null }> {
      const lines = readMetrics(input.runDir);
      const rule = input.earlyStop;
      return { summary: summarizeRunMetrics(lines), valueAtK: rule ? trainMetricAt(lines, rule.atIteration, rule.metric) : null };
    },
  };
}

export type SweepActivities = ReturnType<typeof createSweepActivities>;
