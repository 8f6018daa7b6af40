/**
 * Damage on disk is found and said: `creditflow check <run-id>` verifies every file of a run folder
 * against its manifest and says what is damaged and what can be rebuilt; `--repair` rebuilds it bit
 * for bit. The run is made by the real compute steps (RunSessions on the CPU backend); the damage is
 * the issue's: a checkpoint's weights truncated in place to 1000 bytes (which, through the hard
 * link, damages its weights version too), a finished iteration's rollout deleted and another's
 * rewards torn. The check and the repair run as the real `creditflow` process.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PreferenceExperimentSchema } from '../../configs/preference-schema.js';
import { PreferenceSessions } from '../../engine/preference-sessions.js';
import { RunSessions } from '../../engine/run-sessions.js';
import { CharTokenizer } from '../../models/index.js';
import { writePairs } from '../../store/preference-files.js';
import { preferenceDataSet } from '../../tasks/preference-data.js';
import { checkRunFolder } from '../../store/run-check.js';
import { rewardsFileFor, rolloutFile } from '../../store/rollout-files.js';
import { checkpointDir, checkpointVersion, versionDir } from '../../store/weight-versions.js';
import { scoreAhead } from '../support/score-ahead.js';
import { learningTinyConfig, PROJECT, tempStateDir } from '../support/harness.js';

const config = learningTinyConfig({ experiment: 'run-check', run: { iterations: 4 } });
const home = tempStateDir('run-check');
const runDir = join(home, 'runs', 'checked');
const weights = (dir: string) => join(dir, 'weights.bin');

function creditflow(...args: string[]) {
  return spawnSync(process.execPath, [join(PROJECT, 'bin/creditflow.mjs'), ...args], {
    encoding: 'utf8', env: { ...process.env, CREDITFLOW_HOME: home, CREDITFLOW_BACKEND: '' }, timeout: 240_000,
  });
}

describe('creditflow check', () => {
  const original = new Map<string, Buffer>();

  beforeAll(async () => {
    await tf.setBackend('cpu');
    const sessions = new RunSessions({ memoryBudgetBytes: 2 ** 30 });
    const args = { runId: 'checked', config, runDir };
    await sessions.warmStart(args, () => undefined);
    for (let i = 1; i <= 4; i++) {
      const { rolloutFile: file } = await sessions.rollout({ ...args, iteration: i }, () => undefined);
      expect(scoreAhead(file)).toBeTruthy();
      await sessions.update({ ...args, iteration: i }, () => undefined);
      if (i % 2 === 0) await checkpointVersion(runDir, i, 2);
    }
    sessions.release('checked');
    for (const path of [weights(checkpointDir(runDir, 2)), rolloutFile(runDir, 3), rewardsFileFor(rolloutFile(runDir, 2))]) original.set(path, readFileSync(path));
  }, 240_000);

  it('finds nothing wrong in a whole run folder', () => {
    const check = checkRunFolder(runDir);
    expect(check.damaged).toEqual([]);
    expect(check.items.map((i) => i.path)).toEqual(expect.arrayContaining(['config.yaml', 'rows', 'checkpoints/2', 'checkpoints/4', 'versions/4', 'rollouts/1.jsonl', 'rollouts/4.rewards.json']));
  });

  it('says what is damaged and what can be rebuilt, and --repair restores it bit for bit', () => {
    const checkpointWeights = weights(checkpointDir(runDir, 2));
    truncateSync(checkpointWeights, 1000); // in place: the version's file is the same inode
    rmSync(rolloutFile(runDir, 3));
    writeFileSync(rewardsFileFor(rolloutFile(runDir, 2)), '[{"id":"2-0-0","sta');

    const found = creditflow('check', 'checked');
    expect(found.status).toBe(1);
    const size = original.get(checkpointWeights)!.length;
    expect(found.stdout).toContain(`DAMAGED checkpoints/2: weights.bin: 1000 bytes, manifest says ${size} — can be rebuilt`);
    expect(found.stdout).toContain('DAMAGED versions/2: weights.bin: 1000 bytes');
    expect(found.stdout).toContain('DAMAGED rollouts/3.jsonl: missing — can be rebuilt');
    expect(found.stdout).toContain('DAMAGED rollouts/2.rewards.json: not JSON (torn) — can be rebuilt');
    expect(found.stdout).toMatch(/4 of \d+ items damaged \(4 can be rebuilt\)/);

    const repaired = creditflow('check', 'checked', '--repair', '--backend', 'cpu');
    expect(repaired.status, repaired.stdout + repaired.stderr).toBe(0);
    expect(repaired.stdout).toContain('REPAIRED checkpoints/2: rebuilt; every file matches its recorded sha256');
    expect(repaired.stdout).toContain('REPAIRED versions/2: rebuilt; every file matches its recorded sha256');
    expect(repaired.stdout).toContain('REPAIRED rollouts/3.jsonl: rebuilt from its weights version');
    expect(repaired.stdout).toMatch(/ok: \d+ items of .* match their manifests/);
    for (const [path, bytes] of original) expect(readFileSync(path).equals(bytes), path).toBe(true);
    // The repaired checkpoint has its own bytes again: no longer the damaged inode of the version.
    expect(statSync(weights(versionDir(runDir, 2))).size).toBe(size);
  }, 300_000);

  it('finds a lost SPO values file of a finished iteration and rebuilds it byte for byte', async () => {
    const spoConfig = learningTinyConfig({ experiment: 'run-check-spo', run: { iterations: 2 }, objective: { name: 'spo', spo: { samples: 2, cutpointInterval: 1 } } });
    const dir = join(home, 'runs', 'checked-spo');
    const sessions = new RunSessions({ memoryBudgetBytes: 2 ** 30 });
    const args = { runId: 'checked-spo', config: spoConfig, runDir: dir };
    await sessions.warmStart(args, () => undefined);
    for (let i = 1; i <= 2; i++) {
      const { rolloutFile: file } = await sessions.rollout({ ...args, iteration: i }, () => undefined);
      expect(scoreAhead(file)).toBeTruthy();
      await sessions.spoValues({ ...args, iteration: i }, () => undefined);
      await sessions.update({ ...args, iteration: i }, () => undefined);
    }
    sessions.release('checked-spo');
    const values = join(dir, 'rollouts', '1.spo.json');
    const bytes = readFileSync(values);
    rmSync(values);
    expect(checkRunFolder(dir).damaged.map((d) => `${d.path}: ${d.problems.join('; ')}`)).toEqual(['rollouts/1.spo.json: missing']);
    const repaired = creditflow('check', 'checked-spo', '--repair', '--backend', 'cpu');
    expect(repaired.status, repaired.stdout + repaired.stderr).toBe(0);
    expect(repaired.stdout).toContain('REPAIRED rollouts/1.spo.json: resampled from its weights version');
    expect(readFileSync(values).equals(bytes)).toBe(true);
  }, 300_000);

  it('repairs a preference run\'s checkpoint damaged in place, bit for bit', async () => {
    const fixture = learningTinyConfig();
    const prefConfig = PreferenceExperimentSchema.parse({
      kind: 'preference', experiment: 'run-check-pref', seed: fixture.seed, data: fixture.data, model: fixture.model,
      warmStart: { ...fixture.warmStart, steps: 10 }, optimizer: { batchSize: 16, lr: 1e-3 }, objective: { name: 'dpo' },
    });
    const dir = join(home, 'runs', 'checked-pref');
    const pairs = preferenceDataSet(prefConfig, new CharTokenizer(fixture.model.alphabet));
    writePairs(dir, 'train', pairs.train);
    writePairs(dir, 'heldout', pairs.heldOut);
    const runs = new RunSessions({ memoryBudgetBytes: 2 ** 30 });
    const sessions = new PreferenceSessions({ runs, memoryBudgetBytes: 2 ** 30 });
    const args = { runId: 'checked-pref', config: prefConfig, runDir: dir };
    await sessions.warmStart(args, () => undefined);
    for (let step = 1; step <= 3; step++) await sessions.update({ ...args, step }, () => undefined);
    await checkpointVersion(dir, 2, 2);
    sessions.release('checked-pref');
    const file = weights(checkpointDir(dir, 2));
    const bytes = readFileSync(file);
    truncateSync(file, 1000);
    expect(checkRunFolder(dir).damaged.map((d) => d.path).sort()).toEqual(['checkpoints/2', 'versions/2']);
    const repaired = creditflow('check', 'checked-pref', '--repair', '--backend', 'cpu');
    expect(repaired.status, repaired.stdout + repaired.stderr).toBe(0);
    expect(repaired.stdout).toContain('REPAIRED checkpoints/2: rebuilt; every file matches its recorded sha256');
    expect(readFileSync(file).equals(bytes)).toBe(true);
  }, 300_000);
});

