/**
 * A real run on the real dev server: a worker in this process (with its compute host thread),
 * the tiny config, every phase of the loop, search attributes, the progress query and the files.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitRun } from '../../cli/submit-run.js';
import { readMetrics } from '../../store/metrics-log.js';
import { runDir } from '../../store/paths.js';
import { listCheckpoints, checkpointDir } from '../../store/weight-versions.js';
import { readVerifiedManifest } from '../../store/atomic-dir.js';
import { startWorker, type RunningWorker } from '../../worker/run-worker.js';
import { progressQuery, SEARCH_ATTRIBUTES, pauseSignal, resumeSignal, stopSignal, type RunProgress } from '../../workflows/shared.js';
import { PROJECT, tempStateDir, testAddress, testTarget, testClient, tinyConfig, uniqueId, progressWhen } from '../support/harness.js';

describe('trainingRun on a real Temporal dev server', () => {
  let client: Client;
  let worker: RunningWorker;
  const home = tempStateDir('run');

  beforeAll(async () => {
    client = await testClient('training-run');
    worker = await startWorker({ target: testTarget('training-run'), stateDir: home, backend: 'cpu', log: () => undefined });
  });
  afterAll(async () => {
    await worker?.shutdown();
    await client?.connection.close();
  });

  it('runs warm start, rollout, score, update, evaluate and checkpoint for every iteration', async () => {
    // Hand over to a fresh history every 2 iterations: the run must carry its state across.
    const config = tinyConfig({ experiment: 'it-full', run: { continueAsNewEvery: 2 } });
    const id = uniqueId('full');
    const handle = await submitRun(client, config, id);
    const result = await handle.result();

    expect(result.iterations).toBe(4);
    expect(result.stoppedEarly).toBe(false);
    expect(result.runDir).toBe(runDir(id, home));
    const lines = readMetrics(result.runDir);
    expect(lines.filter((l) => l.phase === 'train').map((l) => l.iteration)).toEqual([1, 2, 3, 4]);
    expect(lines.filter((l) => l.phase === 'eval').map((l) => l.iteration)).toEqual([2, 4]);
    const train = lines.find((l) => l.phase === 'train')!.metrics;
    for (const key of ['reward/mean', 'rollout/completions', 'update/steps', 'update/keptSequences', 'perf/updateSeconds']) expect(train[key], key).toBeTypeOf('number');
    expect(train['rollout/completions']).toBe(16);

    // Durable checkpoints at 2 and 4, verified against their manifests; the resolved config is kept.
    expect(listCheckpoints(result.runDir)).toEqual([4, 2]);
    expect(readVerifiedManifest(checkpointDir(result.runDir, 4))).not.toBeNull();
    expect(readFileSync(join(result.runDir, 'config.yaml'), 'utf8')).toContain('experiment: it-full');
    expect(existsSync(join(result.runDir, 'rollouts', '4.jsonl'))).toBe(true);

    // What the Web UI lists and filters on.
    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.experiment)).toBe('it-full');
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.runStatus)).toBe('completed');
    expect(description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.bestAccuracy)).toBe(result.bestAccuracy);
    expect(description.runId).not.toBe(handle.firstExecutionRunId); // it did continue as new
    // The handed-over execution is not marked failed by the continue-as-new it ended with.
    const first = await client.workflow.getHandle(id, handle.firstExecutionRunId).describe();
    expect(first.status.name).toBe('CONTINUED_AS_NEW');
    expect(first.typedSearchAttributes.get(SEARCH_ATTRIBUTES.runStatus)).toBe('running');
    const progress = await handle.query(progressQuery);
    expect(progress.iteration).toBe(4);
    expect(progress.latestEvaluation?.iteration).toBe(4);
  }, 240_000);

  it('pauses, resumes, and on stop checkpoints and finishes cleanly', async () => {
    const config = tinyConfig({ experiment: 'it-control', run: { iterations: 50, evalEvery: 50, checkpointEvery: 50 } });
    const handle = await submitRun(client, config, uniqueId('control'));
    const waitFor = (predicate: (p: RunProgress) => boolean) => progressWhen(handle, predicate);
    await waitFor((p) => p.iteration >= 1);
    await handle.signal(pauseSignal);
    const paused = await waitFor((p) => p.status === 'paused');
    await new Promise((r) => setTimeout(r, 1500));
    expect((await handle.query(progressQuery)).iteration).toBe(paused.iteration); // no progress while paused
    await handle.signal(resumeSignal);
    await waitFor((p) => p.iteration > paused.iteration);
    await handle.signal(stopSignal);
    const result = await handle.result();
    expect(result.stoppedEarly).toBe(true);
    expect(result.iterations).toBeLessThan(50);
    expect(listCheckpoints(result.runDir)[0]).toBe(result.iterations);
    expect(readMetrics(result.runDir).filter((l) => l.phase === 'train')).toHaveLength(result.iterations);
  }, 240_000);

  it('verifies its retained checkpoints when it ends and reports one damaged in place in its status', async () => {
    const config = tinyConfig({ experiment: 'it-damage', run: { iterations: 50, evalEvery: 50, checkpointEvery: 1, keepCheckpoints: 50 } });
    const id = uniqueId('damage');
    const handle = await submitRun(client, config, id);
    const waitFor = (predicate: (p: RunProgress) => boolean) => progressWhen(handle, predicate);
    await waitFor((p) => (p.lastCheckpoint ?? 0) >= 1);
    await handle.signal(pauseSignal);
    const paused = await waitFor((p) => p.status === 'paused');
    // Damage in place, as a disk fault would: the checkpoint's file is the same inode as its version's.
    const damagedAt = paused.lastCheckpoint!;
    truncateSync(join(checkpointDir(runDir(id, home), damagedAt), 'weights.bin'), 1000);
    await handle.signal(resumeSignal);
    await waitFor((p) => p.iteration > paused.iteration);
    await handle.signal(stopSignal);
    const result = await handle.result();
    const line = new RegExp(`^checkpoints/${damagedAt}: weights\\.bin: 1000 bytes, manifest says \\d+ \\(creditflow check --repair ${id} rebuilds it\\)$`);
    expect(result.damage).toHaveLength(1);
    expect(result.damage![0]).toMatch(line);
    const progress = await handle.query(progressQuery);
    expect(progress.status).toBe('completed');
    expect(progress.damage).toEqual(result.damage);
    // Asynchronously: the worker that answers the status command's query lives in this process.
    const status = await promisify(execFile)(process.execPath, [join(PROJECT, 'bin/creditflow.mjs'), 'status', id, '--address', testAddress(), '--namespace', 'training-run']);
    expect(status.stdout, status.stderr).toContain(`  DAMAGED ${result.damage![0]}`);
    // The other retained checkpoints were checked too, and pass.
    expect(listCheckpoints(result.runDir).filter((v) => v !== damagedAt).every((v) => readVerifiedManifest(checkpointDir(result.runDir, v)) !== null)).toBe(true);
  }, 240_000);
});

