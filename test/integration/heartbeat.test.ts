/**
 * Tensor work runs on the compute host thread, so the worker's event loop keeps heartbeating during
 * an update that lasts longer than the heartbeat timeout. If it blocked, the server would time the
 * activity out and retry it (update/attempt > 1) or fail the run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitRun } from '../../cli/submit-run.js';
import { readMetrics } from '../../store/metrics-log.js';
import { startWorker, type RunningWorker } from '../../worker/run-worker.js';
import { tempStateDir, testTarget, testClient, tinyConfig, uniqueId } from '../support/harness.js';
import type { Client } from '@temporalio/client';

describe('heartbeats during a long update', () => {
  let client: Client;
  let worker: RunningWorker;
  beforeAll(async () => {
    client = await testClient('heartbeat');
    worker = await startWorker({ target: testTarget('heartbeat'), stateDir: tempStateDir('hb'), backend: 'cpu', log: () => undefined });
  });
  afterAll(async () => {
    await worker?.shutdown();
    await client?.connection.close();
  });

  it('an update longer than the heartbeat timeout completes on its first attempt', async () => {
    const heartbeatSeconds = 1;
    const config = tinyConfig({
      experiment: 'it-heartbeat',
      timeouts: { heartbeatSeconds },
      // Keep every group so the update does real forward/backward work even when rewards are uniform.
      objective: { dropUniformGroups: false },
      optimizer: { epochsPerIteration: 150 },
      run: { iterations: 1, evalEvery: 1, checkpointEvery: 1 },
    });
    const result = await (await submitRun(client, config, uniqueId('hb'))).result();
    const train = readMetrics(result.runDir).filter((l) => l.phase === 'train');
    expect(train).toHaveLength(1);
    for (const line of train) {
      expect(line.metrics['perf/updateSeconds'], 'the premise: the update outlasts the heartbeat timeout').toBeGreaterThan(heartbeatSeconds * 2);
      expect(line.metrics['update/attempt']).toBe(1);
    }
  }, 240_000);
});
