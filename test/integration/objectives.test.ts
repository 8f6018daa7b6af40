/**
 * The configured objective reaches the update, end to end on the real dev server: an SPO run adds
 * its Monte Carlo values step to every iteration and trains on the values; a forking-tokens run
 * trains on its entropy mask and has no such step.
 * npx vitest run test/integration/objectives.test.ts
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitRun } from '../../cli/submit-run.js';
import { readMetrics } from '../../store/metrics-log.js';
import { startWorker, type RunningWorker } from '../../worker/run-worker.js';
import { SEARCH_ATTRIBUTES } from '../../workflows/shared.js';
import { learningTinyConfig, tempStateDir, testClient, testTarget, uniqueId } from '../support/harness.js';

const run = { iterations: 2, evalEvery: 2, checkpointEvery: 2 };

/** Activity types scheduled in the run's history, in order. */
async function activities(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).flatMap((e) => (e.activityTaskScheduledEventAttributes?.activityType?.name ? [e.activityTaskScheduledEventAttributes.activityType.name] : []));
}

describe('objectives end to end', () => {
  let client: Client;
  let worker: RunningWorker;

  beforeAll(async () => {
    client = await testClient('objectives');
    worker = await startWorker({ target: testTarget('objectives'), stateDir: tempStateDir('objectives'), backend: 'cpu', log: () => undefined });
  });
  afterAll(async () => {
    await worker?.shutdown();
    await client?.connection.close();
  });

  /** A two-iteration SPO run to its end, which must have run rollout, score, SPO values and update in each iteration. */
  async function finishedSpoRun(experiment: string, label: string, spo: Record<string, unknown>) {
    const handle = await submitRun(client, learningTinyConfig({ experiment, objective: { name: 'spo', spo }, run }), uniqueId(label));
    const result = await handle.result();
    expect(result.iterations).toBe(2);
    const steps = (await activities(handle)).filter((a) => ['rollout', 'score', 'spoValues', 'update'].includes(a));
    expect(steps).toEqual(['rollout', 'score', 'spoValues', 'update', 'rollout', 'score', 'spoValues', 'update']);
    return { handle, result, train: readMetrics(result.runDir).filter((l) => l.phase === 'train') };
  }

  it('spo: rollout, score, SPO values, update every iteration; the update trains on the values', async () => {
    const { handle, result, train } = await finishedSpoRun('it-spo', 'spo', { samples: 2, cutpointInterval: 1 });
    expect(train.map((l) => l.iteration)).toEqual([1, 2]);
    for (const { iteration, metrics } of train) {
      expect(existsSync(join(result.runDir, 'rollouts', `${iteration}.spo.json`))).toBe(true);
      expect(metrics['spo/continuations']).toBeGreaterThan(0);
      expect(metrics['update/probMaskFraction'], 'the SPO loss ran').toBeGreaterThan(0);
    }
    expect(train.reduce((a, l) => a + l.metrics['update/steps'], 0)).toBeGreaterThan(0);
    expect((await handle.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.objective)).toBe('spo');
  }, 240_000);

  it('spo tree: a tree of groupSize leaves per prompt, values from the leaves (no continuations), edges trained once', async () => {
    const { result, train } = await finishedSpoRun('it-spo-tree', 'spo-tree', { mode: 'tree', tree: { branching: [2, 2], segmentTokens: 2 } });
    for (const { iteration, metrics } of train) {
      const tree = JSON.parse(readFileSync(join(result.runDir, 'rollouts', `${iteration}.spo-tree.json`), 'utf8')) as { leaves: { id: string; path: number[] }[] };
      expect(tree.leaves).toHaveLength(4 * 4); // 4 prompts × Π branching
      expect(tree.leaves.slice(0, 4).map((l) => l.path.join('.'))).toEqual(['0.0', '0.1', '1.0', '1.1']);
      const values = JSON.parse(readFileSync(join(result.runDir, 'rollouts', `${iteration}.spo.json`), 'utf8')) as { records: { trainFrom: number }[] };
      expect(values.records.every((r) => Number.isInteger(r.trainFrom))).toBe(true);
      expect(metrics['spo/continuations']).toBe(0);
    }
    expect(train.reduce((a, l) => a + l.metrics['update/steps'], 0)).toBeGreaterThan(0);
  }, 240_000);

  it('forking-tokens: the update keeps the high-entropy fraction ρ of tokens; no SPO step', async () => {
    const config = learningTinyConfig({ experiment: 'it-forking', objective: { name: 'forking-tokens', aggregation: 'token-mean', forking: { rho: 0.5 } }, run });
    const handle = await submitRun(client, config, uniqueId('forking'));
    const result = await handle.result();
    expect(result.iterations).toBe(2);
    expect(await activities(handle)).not.toContain('spoValues');
    const train = readMetrics(result.runDir).filter((l) => l.phase === 'train');
    const stepped = train.filter((l) => l.metrics['update/steps'] > 0);
    expect(stepped.length).toBeGreaterThan(0);
    for (const { metrics } of stepped) {
      expect(metrics['update/keptFraction'], 'the forking-token loss ran').toBeGreaterThan(0.3);
      expect(metrics['update/keptFraction']).toBeLessThan(0.7);
      expect(metrics['update/entropyThreshold']).toBeGreaterThan(0);
    }
    expect(existsSync(join(result.runDir, 'rollouts', '1.spo.json'))).toBe(false);
  }, 240_000);
});
