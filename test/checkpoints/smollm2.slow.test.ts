/**
 * Must-show of issue 17 on the real model: a 3-iteration RL run and a 3-step DPO run of
 * SmolLM2-135M-Instruct complete on the native backend, and a compute host SIGKILLed mid-update
 * (after its gradients are applied, before the version is written) resumes in a new process to the
 * same final weights, byte for byte, as the uninterrupted run. Minutes, so not in the default `npm test`:
 *
 *   npm run test:checkpoints   (needs npm run reference-models -- --smollm2-only and npm run native)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { referencePaths } from '../../scripts/reference-models/paths.js';
import { versionDir } from '../../store/weight-versions.js';
import { tempStateDir } from '../support/harness.js';

const folder = referencePaths().smollm2Dir;
if (!existsSync(join(folder, 'config.json'))) throw new Error(`${folder} is missing: npm run reference-models -- --smollm2-only`);

function drive(driver: 'rl' | 'dpo', runDir: string, env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', `test/checkpoints/${driver}-driver.ts`, runDir, folder], {
    encoding: 'utf8', env: { ...process.env, CREDITFLOW_BACKEND: 'node', ...env }, maxBuffer: 16 << 20,
  });
}

const RUNS = [
  { driver: 'rl', what: 'RL', steps: '3 iterations', failpoint: 'update:stepped:3' },
  { driver: 'dpo', what: 'DPO', steps: '3 steps', failpoint: 'preference-update:stepped:3' },
] as const;

describe.each(RUNS)('SmolLM2-135M-Instruct $what on native', ({ driver, steps, failpoint }) => {
  const home = tempStateDir(`smollm2-${driver}`);
  const straight = join(home, 'straight');
  const crashed = join(home, 'crashed');
  // Each run folder holds gigabytes of weights versions (1.6 GB each).
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it(`runs ${steps} to a final weights version`, () => {
    const r = drive(driver, straight);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(versionDir(straight, 3), 'weights.bin'))).toBe(true);
    // Versions 1 and 2 record their results only (run.weightsEvery defaults to checkpointEvery for a checkpoint).
    expect(existsSync(join(versionDir(straight, 1), 'weights.bin'))).toBe(false);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { peakRssMb: number; pairAccuracy?: number };
    if (driver === 'dpo') expect(out.pairAccuracy).toBeGreaterThanOrEqual(0); // the held-out evaluation ran
    console.log(`uninterrupted ${driver} run: ${JSON.stringify(out)}`);
  }, 1_800_000);

  it('resumes a host SIGKILLed mid-update to the same final weights', () => {
    const killed = drive(driver, crashed, { CREDITFLOW_FAILPOINT: failpoint });
    expect(killed.signal).toBe('SIGKILL');
    expect(existsSync(versionDir(crashed, 3))).toBe(false);
    const resumed = drive(driver, crashed);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(readFileSync(join(versionDir(crashed, 3), 'weights.bin')).equals(readFileSync(join(versionDir(straight, 3), 'weights.bin')))).toBe(true);
  }, 3_600_000);
});
