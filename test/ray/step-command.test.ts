/** `creditflow ray step`, the entrypoint of creditflow's Ray jobs, on requests it must refuse. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readStepOutcome, requestFile, writeStepRequest } from '../../ray/step-files.js';
import { PROJECT, tempStateDir, tinyConfig } from '../support/harness.js';

const step = (...args: string[]) => spawnSync(process.execPath, [join(PROJECT, 'bin/creditflow.mjs'), 'ray', 'step', ...args], {
  encoding: 'utf8', env: { ...process.env, CREDITFLOW_BACKEND: 'cpu' },
});

describe('creditflow ray step', () => {
  it('exits 2 on a request file it cannot read', () => {
    const run = step('/nonexistent/request.json');
    expect(run.status).toBe(2);
    expect(run.stdout).toContain('cannot read /nonexistent/request.json');
  });

  it('exits 1 on an op that is not a model step, with the error in its outcome file', () => {
    const runDir = join(tempStateDir('ray-step'), 'runs', 'r1');
    const path = requestFile(runDir, 'job-1');
    writeStepRequest(path, { op: 'release', args: { runId: 'r1', runDir, config: tinyConfig() } });
    const run = step(path);
    expect(run.status).toBe(1);
    expect(readStepOutcome(path)).toEqual({ ok: false, errorType: 'Error', message: 'op "release" cannot run as a step (not a model step)' });
  }, 60_000);
});
