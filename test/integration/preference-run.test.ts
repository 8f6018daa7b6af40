/**
 * Offline preference runs on the real dev server, a worker in this process (wasm compute host):
 * every objective end to end on the shared tiny fixture, a short DPO run that raises held-out
 * accuracy over its warm start, the run controls, and a bad data file that fails before training.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitPreferenceRun } from '../../cli/submit-run.js';
import { run as submitCommand } from '../../cli/commands/submit.js';
import { loadConfigFile } from '../../configs/load.js';
import { PreferenceExperimentSchema, type PreferenceConfig } from '../../configs/preference-schema.js';
import { readVerifiedManifest } from '../../store/atomic-dir.js';
import { readMetrics } from '../../store/metrics-log.js';
import { runDir } from '../../store/paths.js';
import { criticalModelDir, readTokenScores, referenceDir } from '../../store/preference-files.js';
import { checkpointDir, listCheckpoints } from '../../store/weight-versions.js';
import { startWorker, type RunningWorker } from '../../worker/run-worker.js';
import { criticalModelWorkflowId } from '../../workflows/preference-run.js';
import { pauseSignal, progressQuery, resumeSignal, SEARCH_ATTRIBUTES, stopSignal, type RunProgress } from '../../workflows/shared.js';
import { PROJECT, tempStateDir, testClient, testTarget, uniqueId, progressWhen } from '../support/harness.js';

const fixture = loadConfigFile(join(PROJECT, 'test/fixtures/learning-tiny.yaml'));

/** A preference config on the shared trained tiny fixture (its task, model and warm start). */
function tinyPreference(objective: Record<string, unknown>, extra: Record<string, unknown> = {}): PreferenceConfig {
  return PreferenceExperimentSchema.parse({
    kind: 'preference', experiment: `it-pref-${objective.name}`, seed: fixture.seed,
    data: fixture.data, model: fixture.model, warmStart: fixture.warmStart,
    evaluation: { maxNewTokens: fixture.rollout.maxNewTokens },
    optimizer: { batchSize: 8, lr: 1e-3 },
    run: { steps: 3, evalEvery: 2, checkpointEvery: 2, keepCheckpoints: 2 },
    objective, ...extra,
  });
}

describe('preferenceRun on a real Temporal dev server', () => {
  let client: Client;
  let worker: RunningWorker;
  const home = tempStateDir('pref');

  beforeAll(async () => {
    client = await testClient('preference-run');
    worker = await startWorker({ target: testTarget('preference-run'), stateDir: home, backend: 'wasm', log: () => undefined });
  });
  afterAll(async () => {
    await worker?.shutdown();
    await client?.connection.close();
  });

  it('runs every objective end to end: data, warm start, method steps, updates, evaluations, checkpoints', async () => {
    const configs = [
      tinyPreference({ name: 'ipo' }),
      tinyPreference({ name: 'token-weighted-dpo', afterDivergenceWeight: 0 }),
      tinyPreference({ name: 'critical-token-dpo', criticalSide: 'both', auxiliary: { steps: 10, batchSize: 8 } }),
      tinyPreference({ name: 'sparse-po' }),
      tinyPreference({ name: 't-reg', alpha: 0.25 }),
    ];
    const ids = configs.map((c) => uniqueId(c.objective.name));
    const handles = await Promise.all(configs.map((c, i) => submitPreferenceRun(client, c, ids[i])));
    const results = await Promise.all(handles.map((h) => h.result()));

    for (const [i, result] of results.entries()) {
      const name = configs[i].objective.name;
      expect(result.iterations, name).toBe(3);
      expect(result.runDir).toBe(runDir(ids[i], home));
      const lines = readMetrics(result.runDir);
      expect(lines.filter((l) => l.phase === 'train').map((l) => l.iteration), name).toEqual([1, 2, 3]);
      expect(lines.filter((l) => l.phase === 'eval').map((l) => l.iteration), name).toEqual([2, 3]);
      const train = lines.find((l) => l.phase === 'train')!.metrics;
      for (const key of ['update/loss', 'update/margin', 'update/gradNorm', 'data/cursor', 'data/trainPairs']) expect(train[key], `${name} ${key}`).toBeTypeOf('number');
      expect(Number.isFinite(train['update/loss']), name).toBe(true);
      expect(lines.find((l) => l.phase === 'eval')!.metrics['eval/pairAccuracy'], name).toBeTypeOf('number');
      expect(listCheckpoints(result.runDir), name).toEqual([3, 2]);
      expect(readVerifiedManifest(referenceDir(result.runDir)), name).not.toBeNull();
      const state = JSON.parse(readFileSync(join(checkpointDir(result.runDir, 3), 'state.json'), 'utf8'));
      expect(state).toMatchObject({ version: 3, objective: name, dataCursor: 24 });
      expect(readFileSync(join(result.runDir, 'config.yaml'), 'utf8')).toContain('kind: preference');
      const description = await handles[i].describe();
      expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.objective)).toBe(name);
      expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.runStatus)).toBe('completed');
    }

    // cDPO: two child workflows trained the positive and negative models; s_t was scored once per pair.
    const cdpo = results[2];
    for (const role of ['positive', 'negative'] as const) {
      expect(readVerifiedManifest(criticalModelDir(cdpo.runDir, role)), role).not.toBeNull();
      const child = await client.workflow.getHandle(criticalModelWorkflowId(ids[2], role)).describe();
      expect(child.status.name).toBe('COMPLETED');
      expect(child.parentExecution?.workflowId).toBe(ids[2]);
    }
    const critical = readTokenScores(cdpo.runDir, 'critical-tokens')!;
    expect(Object.keys(critical.scores)).toHaveLength(readMetrics(cdpo.runDir).find((l) => l.phase === 'train')!.metrics['data/trainPairs']);
    for (const s of Object.values(critical.scores)) for (const v of [...s.chosen!, ...s.rejected!]) expect(v > 0 && v < 1).toBe(true);
    // T-REG: r̂_t once per pair, in (−0.5, 0.5).
    const rewards = readTokenScores(results[4].runDir, 'token-rewards')!;
    for (const s of Object.values(rewards.scores)) for (const v of [...s.chosen!, ...s.rejected!]) expect(Math.abs(v)).toBeLessThan(0.5);
    // SparsePO: the activation mask zeroes some tokens, and the KL term is there.
    const sparse = readMetrics(results[3].runDir).filter((l) => l.phase === 'train').map((l) => l.metrics);
    expect(sparse[0]['update/maskDensity']).toBeLessThan(1);
    expect(sparse[0]['update/d']).toBeTypeOf('number');
  }, 180_000);

  it('a short DPO run raises held-out accuracy over its warm start', async () => {
    // 2-digit addition on the default model: the warm start stops once 40% of training prompts come
    // out right (seed 4: 400 SFT steps, 49% held out); 20 DPO steps of 128 generated pairs then add
    // about 8 points (measured 0.49 -> 0.51 -> 0.57 on wasm; seeds 2 and 3: +5, +8 after 30 steps).
    // The run also hands over to a fresh history.
    const config = PreferenceExperimentSchema.parse({
      kind: 'preference', experiment: 'it-pref-learning', seed: 4,
      data: { source: 'arithmetic', maxDigits: 2, operations: ['+'], trainSize: 2000, evalSize: 300 },
      warmStart: { steps: 600, untilAccuracy: 0.4 },
      pairs: { source: 'generated', pairsPerPrompt: 6 },
      objective: { name: 'dpo', beta: 1 },
      optimizer: { lr: 3e-4, batchSize: 128 },
      run: { steps: 20, evalEvery: 10, checkpointEvery: 10, continueAsNewEvery: 10 },
    });
    const id = uniqueId('pref-learning');
    const handle = await submitPreferenceRun(client, config, id);
    const result = await handle.result();
    expect(result.iterations).toBe(20);
    expect(result.finalAccuracy! - result.warmStartAccuracy!, `warm start ${result.warmStartAccuracy}, final ${result.finalAccuracy}`).toBeGreaterThanOrEqual(0.04);
    const evals = readMetrics(result.runDir).filter((l) => l.phase === 'eval');
    expect(evals.map((l) => l.iteration)).toEqual([10, 20]);
    expect(evals[1].metrics['eval/pairAccuracy']).toBeGreaterThan(0.6);
    expect((await handle.describe()).runId).not.toBe(handle.firstExecutionRunId); // it continued as new
    const progress = await handle.query(progressQuery);
    expect(progress).toMatchObject({ iteration: 20, totalIterations: 20, objective: 'dpo', status: 'completed' });
  }, 240_000);

  it('pauses, resumes, and on stop checkpoints and finishes cleanly', async () => {
    const handle = await submitPreferenceRun(client, tinyPreference({ name: 'dpo' }, { run: { steps: 500, evalEvery: 500, checkpointEvery: 500 } }), uniqueId('pref-control'));
    const waitFor = (predicate: (p: RunProgress) => boolean) => progressWhen(handle, predicate, 100);
    await waitFor((p) => p.iteration >= 1);
    await handle.signal(pauseSignal);
    const paused = await waitFor((p) => p.status === 'paused');
    await new Promise((r) => setTimeout(r, 1000));
    expect((await handle.query(progressQuery)).iteration).toBe(paused.iteration);
    await handle.signal(resumeSignal);
    await waitFor((p) => p.iteration > paused.iteration);
    await handle.signal(stopSignal);
    const result = await handle.result();
    expect(result.stoppedEarly).toBe(true);
    expect(listCheckpoints(result.runDir)[0]).toBe(result.iterations);
    expect(readMetrics(result.runDir).filter((l) => l.phase === 'train')).toHaveLength(result.iterations);
  }, 120_000);

  it('rejects a data file with a bad line before anything trains, naming the line', async () => {
    const dir = tempStateDir('pref-bad');
    const file = join(dir, 'pairs.jsonl');
    writeFileSync(file, '{"id":"a","prompt":"1+2=","chosen":"3","rejected":"4"}\n{"id":"b","prompt":"1+2=","chosen":"3"}\n');
    const config = tinyPreference({ name: 'dpo' }, { pairs: { source: 'file', path: file } });

    // The CLI validates before it connects (run in-process: it never reaches the server).
    const yaml = join(dir, 'bad.yaml');
    writeFileSync(yaml, `kind: preference\nexperiment: it-pref-bad\ndata:\n  source: arithmetic\npairs:\n  source: file\n  path: pairs.jsonl\n`);
    await expect(submitCommand([yaml, '--address', '127.0.0.1:1'])).rejects.toThrow(/line 2: rejected: required field is missing/);

    // A run started anyway fails in its first step, before the warm start.
    const id = uniqueId('pref-bad');
    const handle = await submitPreferenceRun(client, config, id);
    await expect(handle.result()).rejects.toThrow();
    const history = await handle.fetchHistory();
    const failure = history.events!.map((e) => e.activityTaskFailedEventAttributes?.failure).find(Boolean);
    expect(failure?.message).toMatch(/line 2: rejected: required field is missing/);
    expect(failure?.applicationFailureInfo?.type).toBe('DataError');
    expect(existsSync(referenceDir(runDir(id, home)))).toBe(false);
    expect((await handle.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.runStatus)).toBe('failed');
  }, 60_000);
});
