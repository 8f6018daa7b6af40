/**
 * `sweep`: a grid / random search over an experiment, as a durable object.
 *
 * Each trial is a child `trainingRun` with the id `<sweepId>-t<nnn>`, started in trial order, never
 * more than `concurrency` at once. The sweep looks at its running trials every `pollSeconds` (an
 * activity that queries their `progress` and reads their metrics files), keeps a live leaderboard
 * (the `leaderboard` query, the current-details markdown, search attributes) and applies the median
 * stopping rule through each trial's `stop` signal.
 *
 * Durability comes from the history: a replay after a worker or server restart finds every child it
 * already started (same ids, nothing started twice) and waits on their results again. After
 * `continueAsNewEvery` started trials (or when the server suggests it) the sweep stops launching,
 * lets the running trials finish, and continues as new with its rows as the argument: children are
 * never left running across a hand-over, so the new history owns every trial it follows.
 */
import {
  ParentClosePolicy, condition, continueAsNew, proxyActivities, setCurrentDetails, setHandler, startChild,
  upsertSearchAttributes, workflowInfo, type ChildWorkflowHandle,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { ExperimentConfig } from '../configs/schema.js';
import type { SweepActivities } from '../sweeps/activities.js';
import { leaderboardQuery, pauseSignal, resumeSignal, SEARCH_ATTRIBUTES, stopSignal, TASK_QUEUES } from './shared.js';
import { applyParams, liveMetricOf, metricOf, paramsLabel, type SweepLeaderboard, type SweepSettings, type SweepStatus, type TrialRow } from './sweep-plan.js';
import { applyMedianRule, leaderboard } from './sweep-rank.js';
import { sweepSummaryMarkdown } from './sweep-summary.js';
import { trainingRun } from './training-run.js';

export interface SweepInput {
  sweepId: string;
  /** The validated base config; each trial is it with `params` written over it. */
  base: ExperimentConfig;
  settings: SweepSettings;
  /** Every trial, in order (all `pending` on the first start; carried with their state over continue-as-new). */
  trials: TrialRow[];
  paused?: boolean;
  stopRequested?: boolean;
}

export interface SweepResult {
  sweepId: string;
  leaderboard: SweepLeaderboard;
}

const acts = proxyActivities<SweepActivities>({
  taskQueue: TASK_QUEUES.cpu,
  // Short: a look or a summary lost with its worker is retried soon (the sweep waits on it).
  startToCloseTimeout: '20 seconds',
  retry: { maximumAttempts: 10, initialInterval: '1 second' },
});

const active = (row: TrialRow) => row.status === 'running' || row.status === 'stopping';

export async function sweep(input: SweepInput): Promise<SweepResult> {
  const { sweepId, base, settings } = input;
  const rows = input.trials;
  const byId = new Map(rows.map((r) => [r.id, r]));
  const running = new Map<string, ChildWorkflowHandle<typeof trainingRun>>();
  let paused = input.paused ?? false;
  let stopRequested = input.stopRequested ?? false;
  let finished = false;
  let startedHere = 0;
  /** Bumped by signals and finished trials: the main loop sleeps until it changes. */
  let changes = 0;
  const rule = settings.earlyStop ? { metric: settings.earlyStop.metric, atIteration: settings.earlyStop.atIteration } : undefined;

  const status = (): SweepStatus => (finished ? 'completed' : stopRequested ? 'stopping' : paused ? 'paused' : 'running');
  const board = () => leaderboard(sweepId, base.experiment, status(), settings, rows);

  let lastAttributes = '';
  const publish = () => {
    const b = board();
    const best = Math.max(...rows.map((r) => r.final?.['eval/bestAccuracy'] ?? Number.NEGATIVE_INFINITY));
    const pairs: SearchAttributeUpdatePair[] = [
      { key: SEARCH_ATTRIBUTES.sweepId, value: sweepId },
      { key: SEARCH_ATTRIBUTES.experiment, value: base.experiment },
      { key: SEARCH_ATTRIBUTES.objective, value: base.objective.name },
      { key: SEARCH_ATTRIBUTES.runStatus, value: b.status },
    ];
    if (Number.isFinite(best)) pairs.push({ key: SEARCH_ATTRIBUTES.bestAccuracy, value: best });
    // Upsert only on change: each upsert is an event in the history.
    const key = JSON.stringify(pairs.map((p) => p.value));
    if (key !== lastAttributes) {
      upsertSearchAttributes(pairs);
      lastAttributes = key;
    }
    setCurrentDetails(sweepSummaryMarkdown(b));
  };

  const toRunning = (signal: typeof pauseSignal | typeof resumeSignal | typeof stopSignal) => {
    for (const handle of running.values()) void handle.signal(signal).catch(() => undefined);
  };
  setHandler(leaderboardQuery, board);
  setHandler(pauseSignal, () => { paused = true; toRunning(pauseSignal); changes++; });
  setHandler(resumeSignal, () => { paused = false; toRunning(resumeSignal); changes++; });
  setHandler(stopSignal, () => {
    stopRequested = true;
    for (const row of rows) if (row.status === 'running') row.status = 'stopping';
    toRunning(stopSignal);
    changes++;
  });

  async function follow(row: TrialRow, handle: ChildWorkflowHandle<typeof trainingRun>): Promise<void> {
    try {
      const result = await handle.result();
      row.iteration = result.iterations;
      row.runDir = result.runDir;
      const { summary, valueAtK } = await acts.summarizeTrial.executeWithOptions(
        { summary: `summarize trial ${row.index}` }, [{ runDir: result.runDir, earlyStop: rule }],
      );
      row.final = summary;
      row.metric = metricOf(summary, settings.metric);
      if (valueAtK !== null) row.earlyStopValue = valueAtK;
      row.status = result.stoppedEarly ? 'stopped-early' : 'completed';
    } catch (err) {
      row.status = 'failed';
      row.error = (err as Error).cause ? `${(err as Error).message}: ${((err as Error).cause as Error).message}` : (err as Error).message;
    } finally {
      running.delete(row.id);
      changes++;
    }
  }

  async function launch(row: TrialRow): Promise<void> {
    const config = applyParams(base, row.params);
    row.status = 'running';
    startedHere++;
    try {
      const handle = await startChild(trainingRun, {
        workflowId: row.id,
        taskQueue: TASK_QUEUES.cpu,
        args: [{ runId: row.id, config }],
        // Cancelling or terminating the sweep cancels its trials (each records its status first).
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        typedSearchAttributes: [
          { key: SEARCH_ATTRIBUTES.sweepId, value: sweepId },
          { key: SEARCH_ATTRIBUTES.experiment, value: config.experiment },
          { key: SEARCH_ATTRIBUTES.objective, value: config.objective.name },
          { key: SEARCH_ATTRIBUTES.runStatus, value: 'starting' },
          { key: SEARCH_ATTRIBUTES.seed, value: config.seed },
        ],
        staticSummary: `sweep ${sweepId} · trial ${row.index}/${rows.length} · ${paramsLabel(row.params)}`,
      });
      running.set(row.id, handle);
      if (paused) void handle.signal(pauseSignal).catch(() => undefined);
      void follow(row, handle);
    } catch (err) {
      row.status = 'failed';
      row.error = `could not start: ${(err as Error).message}`;
    }
  }

  /** One look at the running trials: live iteration and metric, then the early-stop rule. */
  async function look(): Promise<void> {
    const ids = rows.filter(active).map((r) => r.id);
    if (ids.length === 0) return;
    const looks = await acts.lookAtTrials.executeWithOptions(
      { summary: `look at ${ids.length} running trial${ids.length > 1 ? 's' : ''}` }, [{ ids, earlyStop: rule }],
    ).catch(() => []);
    for (const l of looks) {
      const row = byId.get(l.id);
      if (!row || !active(row) || !l.progress) continue;
      row.iteration = l.progress.iteration;
      row.runDir = l.progress.runDir;
      row.metric = liveMetricOf(l.progress, settings.metric);
      if (l.valueAtK !== null) row.earlyStopValue = l.valueAtK;
    }
    if (!settings.earlyStop || stopRequested) return;
    const { judge, stop } = applyMedianRule(rows, settings.earlyStop);
    for (const id of judge) byId.get(id)!.earlyStopJudged = true;
    for (const id of stop) {
      byId.get(id)!.status = 'stopping';
      await running.get(id)?.signal(stopSignal).catch(() => undefined);
    }
  }

  let lastLook = Date.now();
  publish();
  for (;;) {
    const next = rows.find((r) => r.status === 'pending');
    const handOver = startedHere >= settings.continueAsNewEvery || workflowInfo().continueAsNewSuggested;
    if (next && !stopRequested && !paused && !handOver && running.size < settings.concurrency) {
      await launch(next);
      publish();
      continue;
    }
    if (running.size === 0) {
      if (stopRequested || !next) break;
      if (handOver) await continueAsNew<typeof sweep>({ sweepId, base, settings, trials: rows, paused, stopRequested });
    }
    // Sleep until a signal or a finished trial changes something, or until the next look is due.
    const seen = changes;
    if (running.size === 0) {
      await condition(() => changes !== seen);
    } else {
      const due = lastLook + settings.pollSeconds * 1000 - Date.now();
      if (due > 0) await condition(() => changes !== seen, due);
      if (Date.now() - lastLook >= settings.pollSeconds * 1000) {
        await look();
        lastLook = Date.now();
      }
    }
    publish();
  }

  for (const row of rows) if (row.status === 'pending') row.status = 'skipped';
  finished = true;
  publish();
  return { sweepId, leaderboard: board() };
}
