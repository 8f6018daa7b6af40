/**
 * The Ray placement of one step (activities/ray-placement.ts) in an activity context
 * (MockActivityEnvironment), against a real Ray head whose jobs run creditflow's real step command:
 * submit and complete, a retry that follows the earlier attempt's job, a failing step, cancellation.
 * ray-run.test.ts runs whole runs through a real worker and Temporal server.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { RayPlacement, type StepArgs } from '../../activities/ray-placement.js';
import { InlineWriter } from '../../engine/background-writer.js';
import { initBackend } from '../../engine/backend.js';
import { RunSessions } from '../../engine/run-sessions.js';
import { RayJobClient, type JobDetails } from '../../ray/client/index.js';
import { readVerifiedManifest } from '../../store/atomic-dir.js';
import { versionDir } from '../../store/weight-versions.js';
import { runDir } from '../../store/paths.js';
import { tempStateDir, tinyConfig, uniqueId } from '../support/harness.js';
import { until, useRayHead } from './ray-head.js';

const ray = useRayHead({ numCpus: 1 });
const home = tempStateDir('ray-placement');
const placement = new RayPlacement({ backend: 'cpu' });

function stepArgs(runId: string, overrides: Parameters<typeof tinyConfig>[0] = {}, extra: Record<string, unknown> = {}): StepArgs {
  const config = tinyConfig({ ...overrides, compute: { placement: 'ray', address: ray.head.address } });
  return { runId, runDir: runDir(runId, home), config, ...extra };
}

/** Jobs of this run on the head, by step. */
async function jobsOf(runId: string): Promise<JobDetails[]> {
  return (await new RayJobClient(ray.head.address).listJobs()).filter((j) => j.metadata?.runId === runId);
}

function activity(attempt = 1): { env: MockActivityEnvironment; beats: Record<string, string>[] } {
  // Quiet: the failures these tests provoke are asserted, not logged.
  const env = new MockActivityEnvironment({ attempt, heartbeatTimeoutMs: 10_000 }, { logger: new DefaultLogger('ERROR') });
  const beats: Record<string, string>[] = [];
  env.on('heartbeat', (d: Record<string, string>) => beats.push(d));
  return { env, beats };
}

const weightHashes = (dir: string) => Object.fromEntries(Object.entries(readVerifiedManifest(dir)!.files).filter(([f]) => f.startsWith('weights')).map(([f, e]) => [f, e.sha256]));

describe('a step placed on Ray', () => {
  const runId = uniqueId('place');

  it('runs as a Ray job of creditflow\'s step command and returns the step\'s result; its weights are the in-process step\'s', async () => {
    const { env, beats } = activity();
    const args = stepArgs(runId);
    const result = (await env.run(() => placement.run('warmStart', args))) as { runDir: string; accuracy: number };
    expect(result.runDir).toBe(args.runDir);
    expect(result.accuracy).toBeTypeOf('number');

    const [job] = await jobsOf(runId);
    expect(job.submission_id).toBe(`cf-default-${runId}-warmStart-1`);
    expect(job.status).toBe('SUCCEEDED');
    expect(job.entrypoint).toMatch(/^node '.*\/bin\/creditflow\.mjs' ray step '.*\/ray\/cf-default-.*-warmStart-1\.json'$/);
    expect(job.metadata).toMatchObject({ creditflow: '1', runId, op: 'warmStart', step: 'warmStart', namespace: 'default' });
    expect(beats.some((b) => b.submissionId === job.submission_id)).toBe(true);

    // The same step on a compute host's RunSessions in this process writes the same weights.
    await initBackend('cpu');
    const local = { ...args, runId: `${runId}-local`, runDir: runDir(`${runId}-local`, home) };
    await new RunSessions({ writer: new InlineWriter() }).warmStart(local as never, () => undefined);
    expect(weightHashes(versionDir(args.runDir, 0))).toEqual(weightHashes(versionDir(local.runDir, 0)));
  }, 180_000);

  it('a retried activity follows the job its earlier attempt submitted instead of submitting again', async () => {
    const args = stepArgs(runId, {}, { iteration: 1 });
    const first = activity(1);
    const firstResult = first.env.run(() => placement.run<{ rolloutFile: string }>('rollout', args));
    // The first attempt's worker is gone (say): a retry starts while its job still runs.
    await until('the rollout job to start', async () => (await jobsOf(runId)).some((j) => j.metadata?.step === 'rollout-1'));
    const retry = activity(2);
    const retried = await retry.env.run(() => placement.run<{ rolloutFile: string }>('rollout', args));
    expect(retried).toEqual(await firstResult);
    expect(['PENDING', 'RUNNING']).toContain(retry.beats.find((b) => b.submissionId)?.status);

    const rollouts = (await jobsOf(runId)).filter((j) => j.metadata?.step === 'rollout-1');
    expect(rollouts.map((j) => [j.submission_id, j.status])).toEqual([[`cf-default-${runId}-rollout-1-1`, 'SUCCEEDED']]);

    // A later retry of a step that completed answers from its job's outcome: still one job.
    expect(await activity(3).env.run(() => placement.run('rollout', args))).toEqual(retried);
    expect((await jobsOf(runId)).filter((j) => j.metadata?.step === 'rollout-1')).toHaveLength(1);
  }, 180_000);

  it('a step that fails on Ray fails the activity with its error type and the job\'s log; the next attempt submits anew', async () => {
    // SPO values of an iteration that has no rollout: the step itself refuses (DataError).
    const failing = uniqueId('fail');
    const args = stepArgs(failing, { objective: { name: 'spo' } }, { iteration: 1 });
    const err = await activity(1).env.run(() => placement.run('spoValues', args)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    const failure = err as ApplicationFailure;
    expect(failure.type).toBe('DataError'); // the workflow's retry policy treats it as it would on a worker
    expect(failure.message).toContain(`Ray job cf-default-${failing}-spoValues-1-1 (spoValues) FAILED`);
    expect(failure.message).toContain('--- last lines of its log ---');
    expect(failure.message).toMatch(/creditflow step spoValues failed: DataError: run .* has no rewards file/);

    await activity(2).env.run(() => placement.run('spoValues', args)).catch(() => undefined);
    expect((await jobsOf(failing)).map((j) => [j.submission_id, j.status]).sort()).toEqual([
      [`cf-default-${failing}-spoValues-1-1`, 'FAILED'], [`cf-default-${failing}-spoValues-1-2`, 'FAILED'],
    ]);
  }, 180_000);

  it('cancelling the activity stops its Ray job', async () => {
    const slow = uniqueId('cancel');
    // A warm start long enough to be running when the cancellation comes.
    const args = stepArgs(slow, { warmStart: { steps: 5000, batchSize: 8 } });
    const { env } = activity();
    const running = env.run(() => placement.run('warmStart', args)).catch((e: unknown) => e);
    await until('the warm start to run', async () => (await jobsOf(slow)).some((j) => j.status === 'RUNNING'));
    env.cancel();
    expect(await running).toBeInstanceOf(CancelledFailure);
    const [job] = await jobsOf(slow);
    expect(job.status).toBe('STOPPED');
  }, 180_000);

  it('without an address it fails for good (ConfigError); a head that never answers fails the attempt once the wait is over', async () => {
    const noAddress: StepArgs = { ...stepArgs('x'), config: tinyConfig({ compute: { placement: 'ray' } }) };
    const saved = process.env.RAY_ADDRESS;
    delete process.env.RAY_ADDRESS;
    try {
      const err = await activity().env.run(() => placement.run('warmStart', noAddress)).catch((e: unknown) => e);
      expect((err as ApplicationFailure).type).toBe('ConfigError');
      expect((err as ApplicationFailure).nonRetryable).toBe(true);
    } finally {
      if (saved !== undefined) process.env.RAY_ADDRESS = saved;
    }
    const nowhere: StepArgs = { ...stepArgs('y'), config: tinyConfig({ compute: { placement: 'ray', address: 'http://127.0.0.1:9' } }) };
    const err = await activity().env.run(() => new RayPlacement({ unreachableSeconds: 1 }).run('warmStart', nowhere)).catch((e: unknown) => e);
    expect((err as ApplicationFailure).type).toBe('RayUnreachable');
    expect((err as ApplicationFailure).message).toContain('has not answered for 1 s');
  }, 60_000);
});
