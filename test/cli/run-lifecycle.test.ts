/**
 * The CLI's run lifecycle, spawned against the test server with a worker in this process:
 * overrides that reach the stored config, a reused id refused, a cancelled run that `resume`
 * continues to the weights of an uninterrupted run, `submit --from`, and `status` saying why a run
 * failed and in which activity.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PreferenceExperimentSchema } from '../../configs/preference-schema.js';
import { readVerifiedManifest } from '../../store/atomic-dir.js';
import { readMetrics } from '../../store/metrics-log.js';
import { runDir } from '../../store/paths.js';
import { checkpointDir } from '../../store/weight-versions.js';
import { submitPreferenceRun } from '../../cli/submit-run.js';
import { startWorker, type RunningWorker } from '../../worker/run-worker.js';
import { pauseSignal, progressQuery, SEARCH_ATTRIBUTES } from '../../workflows/shared.js';
import { PROJECT, tempStateDir, testAddress, testClient, testTarget, uniqueId, progressWhen } from '../support/harness.js';

const NS = 'cli-lifecycle';
const home = tempStateDir('lifecycle');

function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(PROJECT, 'bin/creditflow.mjs'), ...args, '--address', testAddress(), '--namespace', NS],
      { env: { ...process.env, CREDITFLOW_HOME: home } }, (err, stdout, stderr) => {
        resolve({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
  });
}

/** The learning tiny run (its updates take real optimizer steps) with this experiment name and iterations. */
function configFile(experiment: string, iterations: number): string {
  const text = readFileSync(join(PROJECT, 'test/fixtures/learning-tiny.yaml'), 'utf8').replace('experiment: test-learning-tiny', `experiment: ${experiment}`)
    + `run: { iterations: ${iterations}, evalEvery: 2, checkpointEvery: 2, keepCheckpoints: 5 }\ntimeouts: { heartbeatSeconds: 5, pinnedScheduleToStartSeconds: 3 }\n`;
  const file = join(tempStateDir('lifecycle-config'), 'run.yaml');
  writeFileSync(file, text);
  return file;
}

const finalWeights = (id: string, version: number) => {
  const manifest = readVerifiedManifest(checkpointDir(runDir(id, home), version));
  expect(manifest, `${id}: checkpoint ${version} verifies`).not.toBeNull();
  return Object.fromEntries(Object.entries(manifest!.files).filter(([f]) => f.startsWith('weights')).map(([f, e]) => [f, e.sha256]));
};

describe('creditflow run lifecycle', () => {
  let worker: RunningWorker;
  let client: Client;
  beforeAll(async () => {
    client = await testClient(NS);
    worker = await startWorker({ target: testTarget(NS), stateDir: home, backend: 'cpu', log: () => undefined });
  });
  afterAll(async () => {
    await worker?.shutdown();
    await client?.connection.close();
  });

  it('applies overrides to the config that runs and is stored, and refuses a used run id', async () => {
    const experiment = uniqueId('cli-ov');
    const file = configFile(experiment, 4);
    const id = `${experiment}-run`;
    const run = await cli('submit', file, 'run.iterations=2', '--set', 'run.evalEvery=1', '--id', id, '--watch');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('overrides: run.iterations=2 run.evalEvery=1');
    const stored = parse(readFileSync(join(runDir(id, home), 'config.yaml'), 'utf8')) as { run: { iterations: number; evalEvery: number } };
    expect(stored.run).toMatchObject({ iterations: 2, evalEvery: 1 });
    expect(readMetrics(runDir(id, home)).filter((l) => l.phase === 'eval').map((l) => l.iteration)).toEqual([1, 2]);

    const configBefore = readFileSync(join(runDir(id, home), 'config.yaml'), 'utf8');
    const again = await cli('submit', file, '--id', id);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain(`run id ${id} is already used (a trainingRun that is completed)`);
    expect(again.stderr).toContain(`creditflow resume ${id}`);
    expect(readFileSync(join(runDir(id, home), 'config.yaml'), 'utf8')).toBe(configBefore);

    const bad = await cli('submit', file, 'run.iteratons=3');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('unknown key run.iteratons (override run.iteratons=3)');
    expect((await client.workflow.count(`Experiment = '${experiment}'`)).count).toBe(1);
  }, 240_000);

  it('resumes a cancelled run from its newest good checkpoint to the weights of an uninterrupted run', async () => {
    const experiment = uniqueId('cli-resume');
    const file = configFile(experiment, 6);
    const baseline = await cli('submit', file, '--id', `${experiment}-base`, '--watch');
    expect(baseline.status, baseline.stderr).toBe(0);

    const id = `${experiment}-cut`;
    expect((await cli('submit', file, '--id', id)).status).toBe(0);
    const handle = client.workflow.getHandle(id);
    // Pause once the first iteration is in, then cancel: the run is left between checkpoints or on one.
    // The pause goes straight to the workflow: a CLI process takes seconds to start on a loaded machine,
    // long enough for this tiny run to finish. The CLI's pause is then sent to the paused run (it must
    // still answer 0), and cancel and status go through the CLI.
    await progressWhen(handle, (p) => p.iteration >= 1, 100);
    await handle.signal(pauseSignal);
    expect((await cli('pause', id)).status).toBe(0);
    await progressWhen(handle, (p) => p.status === 'paused', 100);
    expect((await cli('cancel', id)).status).toBe(0);
    await expect(handle.result()).rejects.toThrow();
    const cutAt = (await handle.query(progressQuery)).iteration;
    expect(cutAt, 'the premise: cancelled before the end').toBeLessThan(6);

    const status = await cli('status', id);
    expect(status.status, status.stderr).toBe(0);
    expect(status.stdout).toContain(`${id}: cancelled at iteration ${cutAt}/6`);
    expect(status.stdout).toMatch(new RegExp(`to continue: creditflow resume ${id} \\(from checkpoint \\d\\)`));
    expect((await handle.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.runStatus)).toBe('cancelled');

    const resumed = await cli('resume', id);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/was cancelled; continues from checkpoint [0-6] \(of 6\)/);
    const result = await client.workflow.getHandle(id).result() as { iterations: number };
    expect(result.iterations).toBe(6);
    expect(finalWeights(id, 6)).toEqual(finalWeights(`${experiment}-base`, 6));
    expect(readMetrics(runDir(id, home)).filter((l) => l.phase === 'train').map((l) => l.iteration)).toEqual([1, 2, 3, 4, 5, 6]);

    const done = await cli('resume', `${experiment}-base`);
    expect(done.status).toBe(2);
    expect(done.stderr).toContain('completed all 6 iterations: nothing to resume');

    // A new run from the finished run's weights: no SFT; its version 0 is the source's final weights.
    const fromId = `${experiment}-from`;
    const from = await cli('submit', file, 'run.iterations=2', '--from', `${experiment}-base`, '--id', fromId, '--watch');
    expect(from.status, from.stderr).toBe(0);
    expect(from.stdout).toContain(`from: ${experiment}-base weights version 6`);
    const warm = readMetrics(runDir(fromId, home)).find((l) => l.phase === 'warm-start')!.metrics;
    expect(warm['init/fromVersion']).toBe(6);
    expect(warm['sft/steps']).toBe(0);
    const sourceFinal = readMetrics(runDir(`${experiment}-base`, home)).filter((l) => l.phase === 'eval').at(-1)!.metrics['eval/accuracy'];
    expect(warm['eval/accuracy']).toBe(sourceFinal);
    const misfit = await cli('submit', file, 'model.dModel=64', '--from', `${experiment}-base`);
    expect(misfit.status).toBe(2);
    expect(misfit.stderr).toContain('model.dModel is 32 there, 64 here');
  }, 400_000);

  it('says why a failed run failed, and in which activity', async () => {
    const dir = tempStateDir('lifecycle-bad');
    const pairs = join(dir, 'pairs.jsonl');
    writeFileSync(pairs, '{"id":"a","prompt":"1+2=","chosen":"3","rejected":"4"}\n{"id":"b","prompt":"1+2=","chosen":"3"}\n');
    const fixture = parse(readFileSync(join(PROJECT, 'test/fixtures/tiny.yaml'), 'utf8')) as Record<string, unknown>;
    const config = PreferenceExperimentSchema.parse({
      kind: 'preference', experiment: 'it-cli-failed', data: fixture.data, model: fixture.model, warmStart: fixture.warmStart,
      evaluation: { maxNewTokens: 4 }, pairs: { source: 'file', path: pairs },
    });
    // Started past the CLI's validation, so that it fails on the worker.
    const id = uniqueId('cli-failed');
    const handle = await submitPreferenceRun(client, config, id);
    await expect(handle.result()).rejects.toThrow();
    const status = await cli('status', id);
    expect(status.status, status.stderr).toBe(0);
    expect(status.stdout).toContain(`${id}: failed`);
    expect(status.stdout).toMatch(/why: in activity preparePreferenceData: DataError: invalid preference data .*pairs\.jsonl:\n +- line 2: rejected: required field is missing/);
    const json = JSON.parse((await cli('status', id, '--json')).stdout) as { workflowStatus: string; failure: { activity: string; type: string } };
    expect(json.workflowStatus).toBe('FAILED');
    expect(json.failure).toMatchObject({ activity: 'preparePreferenceData', type: 'DataError' });
  }, 120_000);
});
