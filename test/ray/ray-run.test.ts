/**
 * Whole runs placed on a real Ray head through a real worker and the real Temporal dev server:
 * an RL run and a preference run end with exactly the weights of the same runs on a plain worker
 * (same backend), with one Ray job per step; `creditflow ray status` maps the run to its jobs; and
 * a Ray head restarted in the middle of a run leaves the run to continue and end with the same
 * weights.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitPreferenceRun, submitRun } from '../../cli/submit-run.js';
import { loadConfigFile } from '../../configs/load.js';
import { PreferenceExperimentSchema, type PreferenceConfig } from '../../configs/preference-schema.js';
import type { ExperimentConfig } from '../../configs/schema.js';
import { RayJobClient, type JobDetails } from '../../ray/client/index.js';
import { readVerifiedManifest } from '../../store/atomic-dir.js';
import { readMetrics } from '../../store/metrics-log.js';
import { checkpointDir } from '../../store/weight-versions.js';
import { startWorker, type RunningWorker } from '../../worker/run-worker.js';
import { learningTinyConfig, PROJECT, tempStateDir, testClient, testTarget, uniqueId } from '../support/harness.js';
import { until, useRayHead } from './ray-head.js';

const ray = useRayHead({ numCpus: 2 });
const NS = 'ray';
const home = tempStateDir('ray-run');

// Updates take real optimizer steps (the learning fixture), or equal weights would prove nothing.
const rlConfig = (placement: Record<string, unknown>, overrides: Record<string, Record<string, unknown>> = {}): ExperimentConfig => learningTinyConfig({
  experiment: 'it-ray', run: { iterations: 2, evalEvery: 2, checkpointEvery: 2 }, compute: placement, ...overrides,
});

const fixture = loadConfigFile(join(PROJECT, 'test/fixtures/learning-tiny.yaml'));
const preferenceConfig = (placement: Record<string, unknown>): PreferenceConfig => PreferenceExperimentSchema.parse({
  kind: 'preference', experiment: 'it-ray-pref', seed: fixture.seed, data: fixture.data, model: fixture.model, warmStart: fixture.warmStart,
  evaluation: { maxNewTokens: fixture.rollout.maxNewTokens }, optimizer: { batchSize: 8, lr: 1e-3 },
  run: { steps: 2, evalEvery: 2, checkpointEvery: 2 }, objective: { name: 't-reg' }, compute: placement,
});

const finalWeights = (runDir: string, version: number) => {
  const manifest = readVerifiedManifest(checkpointDir(runDir, version));
  expect(manifest, `checkpoint ${version} of ${runDir} verifies`).not.toBeNull();
  return Object.fromEntries(Object.entries(manifest!.files).filter(([f]) => f.startsWith('weights')).map(([f, e]) => [f, e.sha256]));
};

const jobsOf = async (runId: string): Promise<JobDetails[]> =>
  (await new RayJobClient(ray.head.address).listJobs()).filter((j) => j.metadata?.runId === runId);

describe('runs placed on a real Ray head', () => {
  let client: Client;
  let worker: RunningWorker;
  let baseline: Record<string, string>;

  beforeAll(async () => {
    client = await testClient(NS);
    worker = await startWorker({ target: testTarget(NS), stateDir: home, backend: 'cpu', log: () => undefined });
  });
  afterAll(async () => {
    await worker?.shutdown();
    await client?.connection.close();
  });

  it('RL and preference runs on Ray end with the plain worker\'s weights, one Ray job per step, listed by `creditflow ray status`', async () => {
    const onRay = { placement: 'ray', address: ray.head.address };
    const ids = { rl: uniqueId('rl-plain'), rlRay: uniqueId('rl-ray'), pref: uniqueId('pref-plain'), prefRay: uniqueId('pref-ray') };
    const [rl, rlRay, pref, prefRay] = await Promise.all([
      submitRun(client, rlConfig({}), ids.rl),
      submitRun(client, rlConfig(onRay), ids.rlRay),
      submitPreferenceRun(client, preferenceConfig({}), ids.pref),
      submitPreferenceRun(client, preferenceConfig(onRay), ids.prefRay),
    ].map(async (started) => (await started).result()));

    baseline = finalWeights(rl.runDir, 2);
    expect(finalWeights(rlRay.runDir, 2)).toEqual(baseline);
    expect(finalWeights(prefRay.runDir, 2)).toEqual(finalWeights(pref.runDir, 2));
    expect(rlRay.finalAccuracy).toBe(rl.finalAccuracy);
    const lines = readMetrics(rlRay.runDir);
    expect(lines.filter((l) => l.phase === 'train').map((l) => l.iteration)).toEqual([1, 2]);
    expect(lines.filter((l) => l.phase === 'train').map((l) => l.metrics['update/steps'])).toEqual(
      readMetrics(rl.runDir).filter((l) => l.phase === 'train').map((l) => l.metrics['update/steps']));

    const steps = async (runId: string) => (await jobsOf(runId)).map((j) => `${j.metadata!.step} ${j.status} ${j.submission_id!.slice(-2)}`).sort();
    expect(await steps(ids.rlRay)).toEqual(['evaluate-2', 'rollout-1', 'rollout-2', 'update-1', 'update-2', 'warmStart'].map((s) => `${s} SUCCEEDED -1`));
    expect(await steps(ids.prefRay)).toEqual(['prefEvaluate-2', 'prefTokenRewards', 'prefUpdate-1', 'prefUpdate-2', 'prefWarmStart'].map((s) => `${s} SUCCEEDED -1`));
    expect(await jobsOf(ids.rl)).toEqual([]); // the plain run placed nothing on Ray

    const status = JSON.parse(execFileSync(process.execPath, [join(PROJECT, 'bin/creditflow.mjs'), 'ray', 'status', '--ray-address', ray.head.address, '--run', ids.rlRay, '--json'], { encoding: 'utf8' })) as {
      address: string; runs: { runId: string; namespace: string; workflowId: string; jobs: { step: string; status: string }[] }[];
    };
    expect(status.address).toBe(ray.head.address);
    expect(status.runs).toHaveLength(1);
    expect(status.runs[0]).toMatchObject({ runId: ids.rlRay, namespace: NS, workflowId: ids.rlRay });
    expect(status.runs[0].jobs.map((j) => j.step)).toEqual(['warmStart', 'rollout-1', 'update-1', 'rollout-2', 'update-2', 'evaluate-2']);
  }, 600_000);

  it('a Ray head restarted in the middle of a run: the run continues and ends with the same weights', async () => {
    expect(baseline, 'the first test ran').toBeDefined();
    const id = uniqueId('rl-restart');
    const handle = await submitRun(client, rlConfig({ placement: 'ray', address: ray.head.address }), id);
    // Kill the head while the first update runs on it (its job dies with it), then start it again.
    await until('the first update to run on Ray', async () => (await jobsOf(id)).some((j) => j.metadata?.step === 'update-1' && j.status === 'RUNNING'), 300_000);
    await ray.head.kill();
    await ray.head.start();
    const result = await handle.result();

    expect(finalWeights(result.runDir, 2)).toEqual(baseline);
    // The new head's session knows only what ran after the restart, the interrupted update among it.
    const after = (await jobsOf(id)).map((j) => j.metadata!.step);
    expect(after).toContain('update-1');
    expect(after).not.toContain('warmStart');
  }, 600_000);

  it('cancelling a run stops the Ray job of its step in flight', async () => {
    const id = uniqueId('rl-cancel');
    // A warm start long enough to be running when the cancellation comes.
    const handle = await submitRun(client, rlConfig({ placement: 'ray', address: ray.head.address }, { warmStart: { steps: 20_000 } }), id);
    await until('the warm start to run on Ray', async () => (await jobsOf(id)).some((j) => j.status === 'RUNNING'), 300_000);
    await handle.cancel();
    // The cancellation reaches the activity with its next heartbeat; it stops the job.
    const [job] = await until('the job to stop', async () => {
      const jobs = await jobsOf(id);
      return jobs.every((j) => j.status === 'STOPPED') && jobs;
    }, 60_000);
    expect(job.metadata?.step).toBe('warmStart');
    await expect(handle.result()).rejects.toThrow();
  }, 600_000);
});
