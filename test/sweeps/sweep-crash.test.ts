/**
 * A 2x2 sweep on the real dev server with concurrency 2. The worker process is SIGKILLed while trials
 * run and another one takes over: the sweep still ends with exactly four trials, each started once and
 * finished once (every iteration recorded once), never more than two at a time, and the leaderboard
 * ranks them by the metric as read back from their metrics files. The second worker serves Prometheus
 * metrics (creditflow's and the Temporal SDK's) on CREDITFLOW_METRICS_PORT.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../server/dev-server.js';
import { readMetrics } from '../../store/metrics-log.js';
import { runDir } from '../../store/paths.js';
import { parseSweepYaml } from '../../sweeps/load.js';
import { startSweep } from '../../sweeps/start.js';
import { leaderboardQuery, SEARCH_ATTRIBUTES, type Metrics } from '../../workflows/shared.js';
import { tempStateDir, testAddress, testClient, uniqueId } from '../support/harness.js';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.js';
import { gridSweepYaml } from './fixtures.js';

describe('sweep on a real dev server', () => {
  const started: WorkerProcess[] = [];
  afterAll(() => {
    for (const w of started) w.child.kill('SIGKILL');
  });

  it('2x2 grid, concurrency 2, worker SIGKILLed mid-sweep: four trials, each finished once, ranked by the metric', async () => {
    const home = tempStateDir('sweep');
    const client = await testClient('sweeps');
    const sweepId = uniqueId('sw');
    // Several PPO epochs per update: updates long enough to be caught in flight.
    const loaded = parseSweepYaml(gridSweepYaml('it-sweep').replace('\nsweep:\n', '\noptimizer:\n  epochsPerIteration: 10\nsweep:\n'), 'grid.yaml');
    expect(loaded.params).toHaveLength(4);

    // Without run-ahead, each model step is computed inside its activity and can be caught running.
    const first = spawnWorker(testAddress(), 'sweeps', home, {}, ['--no-run-ahead']);
    started.push(first);
    await first.ready;
    const handle = await startSweep(client, loaded, sweepId);

    // Kill the worker while a model step (rollout or update) is running and no trial waits on a
    // cpu-queue step. (Those bookkeeping steps have a 5-minute start-to-close timeout and no
    // heartbeat in trainingRun, so a kill during one stalls that trial for minutes; model steps
    // heartbeat and move within seconds.)
    const trainLines = (id: string) => readMetrics(runDir(id, home)).filter((l) => l.phase === 'train').length;
    const CPU_STEPS = new Set(['score', 'checkpoint']);
    const MODEL_STEPS = new Set(['rollout', 'update']);
    let killed = false;
    for (let i = 0; i < 1200 && !killed; i++) {
      const pending = (await Promise.all(['t001', 't002'].map((k) => client.workflow.getHandle(`${sweepId}-${k}`).describe()
        .then((d) => d.raw.pendingActivities ?? []).catch(() => [])))).flat();
      const modelStep = pending.some((a) => MODEL_STEPS.has(a.activityType?.name ?? '') && Number(a.state) === 2);
      const onCpu = pending.some((a) => CPU_STEPS.has(a.activityType?.name ?? ''));
      if (modelStep && !onCpu && trainLines(`${sweepId}-t001`) + trainLines(`${sweepId}-t002`) >= 1) {
        first.child.kill('SIGKILL');
        killed = true;
      } else {
        await sleep(50);
      }
    }
    expect(killed, 'no trial made progress').toBe(true);
    await first.exited;
    const finishedBeforeKill = [1, 2, 3, 4].filter((k) => trainLines(`${sweepId}-t00${k}`) === 4).length;
    expect(finishedBeforeKill, 'the kill came after the sweep was done').toBeLessThan(4);

    // The second worker also exports Prometheus metrics: creditflow's own and the Temporal SDK's.
    const metricsPort = await freePort();
    const second = spawnWorker(testAddress(), 'sweeps', home, { CREDITFLOW_METRICS_PORT: String(metricsPort) });
    started.push(second);
    await second.ready;
    const result = await Promise.race([handle.result(), sleep(150_000).then(async () => {
      // Diagnostics for a sweep that does not finish: where every trial stands.
      const board = await handle.query(leaderboardQuery).catch(() => null);
      const rows = board?.trials.map((t) => `${t.id} ${t.status} it ${t.iteration}`) ?? [];
      const trials = await Promise.all([1, 2, 3, 4].map(async (k) => {
        const d = await client.workflow.getHandle(`${sweepId}-t00${k}`).describe().catch(() => null);
        const pending = (d?.raw.pendingActivities ?? []).map((a) => `${a.activityType?.name} state ${a.state} attempt ${a.attempt} ${a.lastFailure?.message ?? ''} ${a.lastFailure?.cause?.message ?? ''}`);
        return `t00${k} ${d?.status.name} ${d?.typedSearchAttributes.get(SEARCH_ATTRIBUTES.runStatus)} pending: ${pending.join('; ')}`;
      }));
      const sweepPending = ((await handle.describe()).raw.pendingActivities ?? []).map((a) => `${a.activityType?.name} state ${a.state} attempt ${a.attempt}`);
      throw new Error(`sweep did not finish:\n${rows.join('\n')}\n${trials.join('\n')}\nsweep pending: ${sweepPending.join('; ')}\n${second.output().slice(-3000)}`);
    })]);
    const scraped = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(scraped).toMatch(/^creditflow_activities_total\{activity="update",outcome="ok"\} \d+/m);
    expect(scraped).toMatch(new RegExp(`^creditflow_reward_mean\\{run="${sweepId}-t004"\\} `, 'm'));
    expect(scraped).toMatch(/^creditflow_rollout_tokens_per_second\{/m);
    expect(scraped).toMatch(/^temporal_\w+/m);
    second.child.kill('SIGTERM');
    await second.exited;

    // Exactly four trial executions, deterministic ids, each completed.
    const trials: WorkflowExecutionInfo[] = [];
    for await (const wf of client.workflow.list({ query: `SweepId = '${sweepId}' AND WorkflowType = 'trainingRun'` })) trials.push(wf);
    expect(trials.map((t) => t.workflowId).sort()).toEqual([1, 2, 3, 4].map((k) => `${sweepId}-t00${k}`));
    for (const t of trials) {
      expect(t.status.name).toBe('COMPLETED');
      expect(t.typedSearchAttributes.get(SEARCH_ATTRIBUTES.seed)).toBe(7);
    }
    // Never more than `concurrency` trials at once.
    for (const t of trials) {
      const overlapping = trials.filter((o) => o.startTime <= t.startTime && (!o.closeTime || o.closeTime > t.startTime));
      expect(overlapping.length).toBeLessThanOrEqual(2);
    }

    // Each trial ran every iteration exactly once.
    const lastReward = new Map<string, number>();
    for (const t of trials) {
      const lines = readMetrics(runDir(t.workflowId, home));
      expect(lines.filter((l) => l.phase === 'train').map((l) => l.iteration)).toEqual([1, 2, 3, 4]);
      lastReward.set(t.workflowId, (lines.filter((l) => l.phase === 'train').at(-1)!.metrics as Metrics)['reward/mean']);
    }

    // The leaderboard: four completed trials, ranked by reward/mean (max), values from the files.
    const lb = result.leaderboard;
    expect(lb.total).toBe(4);
    expect(lb.counts.completed).toBe(4);
    expect(lb.trials.map((t) => t.rank)).toEqual([1, 2, 3, 4]);
    for (const t of lb.trials) expect(t.metric).toBeCloseTo(lastReward.get(t.id)!, 10);
    const metrics = lb.trials.map((t) => t.metric!);
    expect(metrics).toEqual([...metrics].sort((a, b) => b - a));
    expect(lb.trials.map((t) => t.params['optimizer.lr']).sort()).toEqual([0.0003, 0.0003, 0.003, 0.003]);
    expect((await handle.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.runStatus)).toBe('completed');
    await client.connection.close();
  }, 240_000);
});
