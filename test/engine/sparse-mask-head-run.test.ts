/**
 * SparsePO's learned mask in a preference run (mask: learned): the head trains with the policy
 * (its parameters move, the loss reports its mask), every weights version stores it, and a run
 * resumed on a fresh host from version k (the head restored from disk, not re-initialised) steps to
 * the same version k + 1 as the uninterrupted run, bit for bit.
 * npx vitest run test/engine/sparse-mask-head-run.test.ts
 */
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PreferenceExperimentSchema, type PreferenceConfig } from '../../configs/preference-schema.js';
import { MASK_HEAD_PREFIX } from '../../engine/sparse-mask-head.js';
import { versionDir } from '../../store/weight-versions.js';
import { learningTinyConfig } from '../support/harness.js';
import { preparedPreferenceRun, versionTensors } from '../support/preference-run.js';

const fixture = learningTinyConfig();
const config: PreferenceConfig = PreferenceExperimentSchema.parse({
  kind: 'preference', experiment: 'pref-mask-head', seed: fixture.seed, data: fixture.data, model: fixture.model,
  warmStart: { ...fixture.warmStart, steps: 10 }, optimizer: { batchSize: 16, lr: 1e-2 },
  objective: { name: 'sparse-po', mask: 'learned', maskL1: 0.001 },
});
const noProgress = () => undefined;

const preparedRun = (label: string) => preparedPreferenceRun(config, label);

/** The mask head's parameters in a weights version, by name. */
const headOf = (runDir: string, version: number) => versionTensors(runDir, version, `param/${MASK_HEAD_PREFIX}/`);

describe('SparsePO learned mask in a preference run', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('trains the head with the policy, stores it in every version, and resumes it from disk', async () => {
    const a = await preparedRun('mask-a');
    await a.sessions.warmStart(a.args, noProgress);
    const first = await a.sessions.update({ ...a.args, step: 1 }, noProgress);
    expect(first.metrics['update/maskDensity']).toBeGreaterThan(0);
    expect(first.metrics['update/l1']).toBeGreaterThan(0);
    await a.sessions.update({ ...a.args, step: 2 }, noProgress);
    await a.sessions.update({ ...a.args, step: 3 }, noProgress);
    const [h1, h2] = [headOf(a.runDir, 1), headOf(a.runDir, 2)];
    expect([...h1.keys()].sort()).toEqual(['layer/bias', 'layer/weight', 'ln/beta', 'ln/gamma', 'mixer/weight'].map((n) => `param/${MASK_HEAD_PREFIX}/${n}`));
    // the head moved between steps: it is trained, not a fixed random projection
    const moved = [...h1].some(([k, v]) => v.some((x, i) => x !== h2.get(k)![i]));
    expect(moved).toBe(true);

    // A fresh host given versions 0-2 steps to 3: equal only if the head (and its AdamW moments)
    // came back from version 2 rather than from the seeded initialisation.
    const b = await preparedRun('mask-b');
    cpSync(a.runDir, b.runDir, { recursive: true, filter: (src) => !/versions\/3/.test(src) });
    await b.sessions.update({ ...b.args, step: 3 }, noProgress);
    expect(readFileSync(join(versionDir(b.runDir, 3), 'weights.bin')).equals(readFileSync(join(versionDir(a.runDir, 3), 'weights.bin')))).toBe(true);
    a.sessions.release('r');
    b.sessions.release('r');
  }, 120_000);
});
