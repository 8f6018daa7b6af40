/** Recorded step results read without the compute host: complete outputs only, never a torn one. */
import { appendFileSync, mkdirSync, mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluationFile, recordedEvaluation, recordedRollout, recordedUpdate } from '../../store/recorded-steps.js';
import { rolloutFile, writeRollouts, type RolloutRecord } from '../../store/rollout-files.js';
import { versionDir, writeVersion } from '../../store/weight-versions.js';

const record = (id: string): RolloutRecord => ({
  id, promptId: 'p', group: 0, prompt: '1+1=', answer: '2', verifier: 'exact-integer', completion: '2',
  promptTokens: [1, 2], tokens: [3], logprobs: [-0.1], entropies: [0.5], finished: true,
});

describe('recorded steps', () => {
  it('a rollout is recorded once its file is complete, and not when the file is torn', () => {
    const runDir = mkdtempSync(join(tmpdir(), 'cf-recorded-'));
    expect(recordedRollout(runDir, 1)).toBeNull();
    writeRollouts(rolloutFile(runDir, 1), [record('a'), record('b')], { 'perf/rolloutSeconds': 0.5 });
    expect(recordedRollout(runDir, 1)).toEqual({ rolloutFile: rolloutFile(runDir, 1), metrics: { 'perf/rolloutSeconds': 0.5 } });
    truncateSync(rolloutFile(runDir, 1), 10);
    expect(recordedRollout(runDir, 1)).toBeNull();
  });

  it('an update is recorded when every file of its version has its recorded length', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'cf-recorded-'));
    expect(recordedUpdate(runDir, 2)).toBeNull();
    writeVersion(runDir, 2, { 'weights.bin': Buffer.alloc(64, 1) }, { version: 2, metrics: { loss: 1 } });
    expect(recordedUpdate(runDir, 2)).toEqual({ version: 2, metrics: { loss: 1 } });
    appendFileSync(join(versionDir(runDir, 2), 'weights.bin'), 'x');
    expect(recordedUpdate(runDir, 2)).toBeNull();
  });

  it('an evaluation is recorded when its file parses', () => {
    const runDir = mkdtempSync(join(tmpdir(), 'cf-recorded-'));
    mkdirSync(join(runDir, 'evals'));
    writeFileSync(evaluationFile(runDir, 5), '{"accuracy": 0.5, "metr');
    expect(recordedEvaluation(runDir, 5)).toBeNull();
    writeFileSync(evaluationFile(runDir, 5), '{"accuracy": 0.5, "metrics": {}}');
    expect(recordedEvaluation(runDir, 5)).toEqual({ accuracy: 0.5, metrics: {} });
  });
});
