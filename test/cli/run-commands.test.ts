/** The CLI end to end against the test server: submit --watch, then list and status find the run. */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker, type RunningWorker } from '../../worker/run-worker.js';
import { PROJECT, tempStateDir, testTarget, testAddress, uniqueId } from '../support/harness.js';

/**
 * Runs the CLI as a child process without blocking this process's event loop: the worker serving
 * the run lives in this process, so a synchronous spawn would deadlock it.
 */
function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(PROJECT, 'bin/creditflow.mjs'), ...args, '--address', testAddress(), '--namespace', 'cli'], (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('creditflow submit / list / status', () => {
  let worker: RunningWorker;
  const home = tempStateDir('cli');
  beforeAll(async () => {
    worker = await startWorker({ target: testTarget('cli'), stateDir: home, backend: 'cpu', log: () => undefined });
  });
  afterAll(async () => worker?.shutdown());

  it('runs a config from the command line and reports it', async () => {
    const experiment = uniqueId('cli-ok');
    const file = join(tempStateDir('cli-config'), 'run.yaml');
    writeFileSync(file, [
      `experiment: ${experiment}`, 'seed: 3', 'data: { source: arithmetic, maxDigits: 1, trainSize: 20, evalSize: 8 }',
      'model: { dModel: 16, nLayers: 1, nHeads: 2, dFf: 32, maxSeqLen: 16 }', 'warmStart: { steps: 2, batchSize: 4 }',
      'rollout: { promptsPerIteration: 2, groupSize: 2, maxNewTokens: 4 }', 'run: { iterations: 2, evalEvery: 2, checkpointEvery: 2 }', '',
    ].join('\n'));
    const runId = `${experiment}-run`;
    const submitted = await cli('submit', file, '--id', runId, '--watch');
    expect(submitted.status, submitted.stderr).toBe(0);
    expect(submitted.stdout).toContain(`started run ${runId}`);
    expect(submitted.stdout).toContain(`/namespaces/cli/workflows/${runId}`);
    expect(JSON.parse(submitted.stdout.slice(submitted.stdout.indexOf('{'))).iterations).toBe(2);

    const listed = await cli('list', '--query', `Experiment = '${experiment}'`);
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(runId);
    expect(listed.stdout).toContain('completed');

    const status = await cli('status', runId, '--json');
    expect(status.status, status.stderr).toBe(0);
    const parsed = JSON.parse(status.stdout) as { workflowStatus: string; progress: { iteration: number; status: string } };
    expect(parsed.workflowStatus).toBe('COMPLETED');
    expect(parsed.progress).toMatchObject({ iteration: 2, status: 'completed' });
  }, 180_000);

  it('fails clearly for an unknown run', async () => {
    const result = await cli('status', 'no-such-run');
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/no-such-run/);
  }, 60_000);
});
