/**
 * The Ray job client against a real Ray head (`ray start --head` from PyPI's ray[default], on
 * loopback): every endpoint, and each typed error as the real head produces it.
 */
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  isTerminal, RayBadRequestError, RayDuplicateSubmissionError, RayJobClient, RayJobNotFoundError, RayUnreachableError, type JobDetails,
} from '../../ray/client/index.js';
import { RAY_VERSION } from '../../scripts/ray/provision.js';
import { until, useRayHead } from './ray-head.js';

const ray = useRayHead({ numCpus: 1 });
const client = () => new RayJobClient(ray.head.address);
const unique = (label: string) => `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;

async function ended(id: string): Promise<JobDetails> {
  return until(`job ${id} to end`, async () => {
    const job = await client().getJob(id);
    return isTerminal(job.status) ? job : null;
  });
}

describe('RayJobClient on a real Ray head', () => {
  it('reads the version', async () => {
    const version = await client().version();
    expect(version.ray_version).toBe(RAY_VERSION);
    expect(version.version).toBe('4');
    expect(version.session_name).toMatch(/^session_/);
  });

  it('submits a job with its resources and metadata, follows it to SUCCEEDED, lists it and reads its logs', async () => {
    const id = unique('hello');
    const answer = await client().submitJob({
      entrypoint: 'echo "hello $GREETING"; echo to-stderr >&2', submission_id: id,
      runtime_env: { env_vars: { GREETING: 'from creditflow' } }, metadata: { run: 'r1', step: 'rollout-3' },
      entrypoint_num_cpus: 1, entrypoint_memory: 50 * 2 ** 20, entrypoint_resources: {},
    });
    expect(answer.submission_id).toBe(id);
    const job = await ended(id);
    expect(job.status).toBe('SUCCEEDED');
    expect(job.type).toBe('SUBMISSION');
    expect(job.metadata).toEqual({ run: 'r1', step: 'rollout-3' });
    expect(job.driver_exit_code).toBe(0);
    expect(job.end_time! >= job.start_time!).toBe(true);
    const logs = await client().getJobLogs(id);
    expect(logs).toContain('hello from creditflow');
    expect(logs).toContain('to-stderr');
    expect((await client().listJobs()).map((j) => j.submission_id)).toContain(id);
  });

  it('refuses a second submission of the same id (RayDuplicateSubmissionError), and reports unknown jobs as RayJobNotFoundError', async () => {
    const id = unique('twice');
    await client().submitJob({ entrypoint: 'true', submission_id: id });
    const second = await client().submitJob({ entrypoint: 'true', submission_id: id }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(RayDuplicateSubmissionError);
    expect((second as RayDuplicateSubmissionError).kind).toBe('duplicate-submission');
    expect((second as RayDuplicateSubmissionError).submissionId).toBe(id);
    await ended(id);

    for (const call of [(c: RayJobClient) => c.getJob('no-such-job'), (c: RayJobClient) => c.getJobLogs('no-such-job'), (c: RayJobClient) => c.stopJob('no-such-job'), (c: RayJobClient) => c.deleteJob('no-such-job')]) {
      const err = await call(client()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RayJobNotFoundError);
      expect((err as RayJobNotFoundError).kind).toBe('not-found');
    }
    expect(await client().findJob('no-such-job')).toBeNull();
  });

  it('reports a malformed submission as RayBadRequestError with the head\'s reason', async () => {
    const err = await client().submitJob({ entrypoint: 'true', entrypoint_num_cpus: 'two' as unknown as number }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RayBadRequestError);
    expect((err as RayBadRequestError).status).toBe(400);
    expect((err as RayBadRequestError).detail).toContain('entrypoint_num_cpus must be a number');
  });

  it('stops a running job, refuses to delete it while it runs, deletes it once stopped', async () => {
    const id = unique('sleeper');
    await client().submitJob({ entrypoint: 'sleep 120', submission_id: id });
    await until(`job ${id} running`, async () => (await client().getJob(id)).status === 'RUNNING');
    const early = await client().deleteJob(id).catch((e: unknown) => e);
    expect(early).toBeInstanceOf(RayBadRequestError);
    expect(await client().stopJob(id)).toBe(true);
    expect((await ended(id)).status).toBe('STOPPED');
    expect(await client().stopJob(id)).toBe(false);
    expect(await client().deleteJob(id)).toBe(true);
    expect(await client().findJob(id)).toBeNull();
  });

  it('tails a job\'s logs over the WebSocket until the job ends', async () => {
    const id = unique('tail');
    await client().submitJob({ entrypoint: 'for i in 1 2 3; do echo line-$i; sleep 1; done', submission_id: id });
    let text = '';
    for await (const chunk of client().tailJobLogs(id)) text += chunk;
    // The socket closes only once the job has ended, after its last line.
    expect(text.indexOf('line-1')).toBeGreaterThanOrEqual(0);
    expect(text.indexOf('line-2')).toBeGreaterThan(text.indexOf('line-1'));
    expect(text.indexOf('line-3')).toBeGreaterThan(text.indexOf('line-2'));
    expect(isTerminal((await client().getJob(id)).status)).toBe(true);
    await expect(async () => {
      for await (const _ of client().tailJobLogs('no-such-job')) { /* nothing */ }
    }).rejects.toBeInstanceOf(RayJobNotFoundError);
  });

  it('uploads a working folder once and runs a job inside it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cf-pkg-'));
    writeFileSync(join(dir, 'hello.txt'), `package content ${Math.random()}\n`);
    writeFileSync(join(dir, 'run.sh'), '#!/bin/sh\ncat hello.txt\nls -R\n');
    chmodSync(join(dir, 'run.sh'), 0o755);
    mkdirSync(join(dir, 'node_modules'));
    writeFileSync(join(dir, 'node_modules', 'left-out.js'), 'x');
    const uri = await client().uploadWorkingDir(dir, { excludes: ['node_modules'] });
    expect(uri).toMatch(/^gcs:\/\/_ray_pkg_[0-9a-f]{32}\.zip$/);
    expect(await client().packageExists(uri)).toBe(true);
    expect(await client().packageExists('gcs://_ray_pkg_00000000000000000000000000000000.zip')).toBe(false);
    expect(await client().uploadWorkingDir(dir, { excludes: ['node_modules'] })).toBe(uri); // same content, same name

    const id = unique('pkg');
    await client().submitJob({ entrypoint: './run.sh', submission_id: id, runtime_env: { working_dir: uri } });
    const job = await ended(id);
    const logs = await client().getJobLogs(id);
    expect(job.status, logs).toBe('SUCCEEDED');
    expect(logs).toContain('package content');
    expect(logs).toContain('run.sh');
    expect(logs).not.toContain('left-out.js');
  });

  it('reports a head that does not answer as RayUnreachableError, after retrying', async () => {
    const closed = new RayJobClient({ address: 'http://127.0.0.1:9', retry: { attempts: 3, initialDelayMs: 10, maxDelayMs: 20 } });
    const err = await closed.version().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RayUnreachableError);
    expect((err as RayUnreachableError).kind).toBe('unreachable');
    expect((err as RayUnreachableError).reason).toMatch(/ECONNREFUSED.*after 3 tries/);
  });
});
