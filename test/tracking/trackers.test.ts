/**
 * Experiment tracking end to end, against the trackers' own software (PyPI `tensorboard` and an
 * `mlflow server` on loopback, from the venv tracking/python-env.ts makes): a run with
 * `tracking: [tensorboard, mlflow]` completes while the MLflow server is still down, its status says
 * so, and once the server is up the worker's retries deliver every metrics.jsonl line, the params,
 * the checkpoint's folder and FINISHED. TensorBoard's EventAccumulator reads the same numbers back
 * from our event file.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitRun } from '../../cli/submit-run.js';
import { ExperimentSchema } from '../../configs/schema.js';
import { freePort } from '../../server/dev-server.js';
import { readMetrics } from '../../store/metrics-log.js';
import { checkpointDir } from '../../store/weight-versions.js';
import { mlflowKey } from '../../tracking/mlflow.js';
import { ensureTrackingPython, mlflowBinary } from '../../tracking/python-env.js';
import { readTrackerState } from '../../tracking/sync.js';
import { startWorker, type RunningWorker } from '../../worker/run-worker.js';
import { PROJECT, tempStateDir, testAddress, testClient, testTarget, tinyConfig, uniqueId } from '../support/harness.js';

const NS = 'tracking';

/** TensorBoard's own reader: tag -> [step, value][] of every scalar in the run's event files. */
const READ_EVENTS = `
import json, sys
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
acc = EventAccumulator(sys.argv[1], size_guidance={'scalars': 0})
acc.Reload()
print(json.dumps({tag: [[e.step, e.value] for e in acc.Scalars(tag)] for tag in acc.Tags()['scalars']}))
`;

async function mlflow<T>(uri: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${uri}/api/2.0/mlflow/${path}`, body === undefined ? {} : {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  expect(response.ok, `${path}: HTTP ${response.status}`).toBe(true);
  return response.json() as Promise<T>;
}

describe('experiment tracking', () => {
  let python: string;
  let client: Client;
  let worker: RunningWorker;
  let server: ChildProcess | undefined;
  const home = tempStateDir('tracking');
  let uri: string;
  beforeAll(async () => {
    python = ensureTrackingPython(() => undefined);
    uri = `http://127.0.0.1:${await freePort()}`;
    // The worker reads where MLflow is from its environment, as a deployed worker does.
    process.env.MLFLOW_TRACKING_URI = uri;
    client = await testClient(NS);
    worker = await startWorker({ target: testTarget(NS), stateDir: home, backend: 'cpu', log: () => undefined });
  }, 600_000);
  afterAll(async () => {
    await worker?.shutdown();
    await client?.connection.close();
    if (server?.pid) process.kill(-server.pid, 'SIGTERM');
  });

  it('sends every metric to TensorBoard and MLflow; a tracker that is down is retried and never stops the run', async () => {
    const config = ExperimentSchema.parse({ ...tinyConfig({ experiment: uniqueId('it-tracking') }), tracking: ['tensorboard', 'mlflow'] });
    const handle = await submitRun(client, config, uniqueId('track'));
    const result = await handle.result();
    expect(result.iterations).toBe(4);
    const lines = readMetrics(result.runDir);

    // MLflow was down: the run finished anyway, and its status says what is wrong.
    const down = readTrackerState(result.runDir, 'mlflow');
    expect(down.sent).toBe(0);
    expect(down.error).toMatch(/cannot reach MLflow/);
    const status = await new Promise<string>((resolve) => execFile(process.execPath, [join(PROJECT, 'bin/creditflow.mjs'), 'status', handle.workflowId,
      '--address', testAddress(), '--namespace', NS], { env: { ...process.env, CREDITFLOW_HOME: home } }, (_err, stdout) => resolve(stdout)));
    expect(status).toMatch(/tracking: mlflow 0\/\d+ metrics lines sent · failing since .*retrying\): cannot reach MLflow/);
    expect(status).toMatch(/tracking: tensorboard \d+\/\d+ metrics lines sent, finished/);

    // The server comes up where the worker expects it; the retries deliver everything.
    const data = tempStateDir('mlflow');
    mkdirSync(join(data, 'artifacts'));
    server = spawn(mlflowBinary(), ['server', '--host', '127.0.0.1', '--port', new URL(uri).port, '--workers', '1',
      '--backend-store-uri', `sqlite:///${join(data, 'mlflow.db')}`, '--default-artifact-root', join(data, 'artifacts')], { detached: true, stdio: 'ignore' });
    let state = down;
    for (let k = 0; k < 240 && !(state.finished && state.sent === lines.length && !state.error); k++) {
      await sleep(500);
      state = readTrackerState(result.runDir, 'mlflow');
    }
    expect(state, 'MLflow caught up after its outage').toMatchObject({ sent: lines.length, finished: true, error: null });

    const found = await mlflow<{ runs: { info: { run_id: string; status: string }; data: { params: { key: string; value: string }[]; tags: { key: string; value: string }[] } }[] }>(
      uri, 'runs/search', { experiment_ids: [String(state.mlflowExperimentId)], filter: `tags.\`creditflow.run_id\` = '${handle.workflowId}'` });
    expect(found.runs).toHaveLength(1);
    const run = found.runs[0];
    expect(run.info.status).toBe('FINISHED');
    expect(run.data.params.find((p) => p.key === 'optimizer.lr')?.value).toBe(String(config.optimizer.lr));
    expect(run.data.params.find((p) => p.key === 'run.iterations')?.value).toBe('4');
    expect(run.data.tags.find((t) => t.key === 'creditflow.checkpoint')?.value).toBe(checkpointDir(result.runDir, 4));
    for (const key of ['reward/mean', 'eval/accuracy', 'update/gradNorm']) {
      const expected = lines.filter((l) => Number.isFinite(l.metrics[key])).map((l) => [l.iteration, l.metrics[key]]);
      expect(expected.length, key).toBeGreaterThan(0);
      const history = await mlflow<{ metrics: { step: number; value: number }[] }>(uri, `metrics/get-history?run_id=${run.info.run_id}&metric_key=${encodeURIComponent(mlflowKey(key))}`);
      expect(history.metrics.map((m) => [Number(m.step), m.value]).sort((a, b) => a[0] - b[0]), key).toEqual(expected);
    }

    // TensorBoard's reader sees every scalar of metrics.jsonl (as float32), the warm start at step 0.
    const read = spawnSync(python, ['-c', READ_EVENTS, join(home, 'tensorboard', handle.workflowId)], { encoding: 'utf8' });
    expect(read.status, read.stderr).toBe(0);
    const scalars = JSON.parse(read.stdout) as Record<string, [number, number][]>;
    for (const l of lines) {
      for (const [key, value] of Object.entries(l.metrics)) {
        if (!Number.isFinite(value)) continue;
        const point = scalars[key]?.find(([step]) => step === l.iteration);
        expect(point, `${key} at ${l.iteration}`).toBeDefined();
        expect(point![1]).toBe(Math.fround(value));
      }
    }
    expect(scalars['eval/accuracy'].map(([step]) => step)).toEqual([0, 2, 4]);
  }, 300_000);
});
