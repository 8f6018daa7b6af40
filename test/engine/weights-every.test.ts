/**
 * run.weightsEvery: updates between weight writes record their result only (a small state.json,
 * no weights.bin), and a fresh worker that needs such a version recomputes it from the newest
 * version with weights, ending with the same weights, byte for byte, as a run that wrote every one.
 * npx vitest run test/engine/weights-every.test.ts
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { RunSessions } from '../../engine/run-sessions.js';
import { ExperimentSchema } from '../../configs/schema.js';
import { scoreAhead } from '../support/score-ahead.js';
import { readVersion, versionDir } from '../../store/weight-versions.js';
import { learningTinyConfig, tempStateDir } from '../support/harness.js';

const noProgress = () => undefined;
const weights = (runDir: string, v: number) => readFileSync(join(versionDir(runDir, v), 'weights.bin'));

/** Iterations from..to on `sessions` (rollout, score, update). */
async function iterate(sessions: RunSessions, args: { runId: string; config: ReturnType<typeof learningTinyConfig>; runDir: string }, from: number, to: number): Promise<void> {
  for (let i = from; i <= to; i++) {
    const { rolloutFile } = await sessions.rollout({ ...args, iteration: i }, noProgress);
    expect(scoreAhead(rolloutFile)).toBeTruthy();
    await sessions.update({ ...args, iteration: i }, noProgress);
  }
}

describe('run.weightsEvery', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('writes weights every w iterations only, and a new worker recomputes the others to the same bytes', async () => {
    const home = tempStateDir('weights-every');
    const every = learningTinyConfig({ experiment: 'weights-every', run: { iterations: 4, checkpointEvery: 4 } });
    const sparse = learningTinyConfig({ experiment: 'weights-every', run: { iterations: 4, checkpointEvery: 4, weightsEvery: 4 } });
    const a = { runId: 'a', config: every, runDir: join(home, 'every') };
    const b = { runId: 'b', config: sparse, runDir: join(home, 'sparse') };
    const sa = new RunSessions({ memoryBudgetBytes: 2 ** 30 });
    await sa.warmStart(a, noProgress);
    await iterate(sa, a, 1, 4);

    const first = new RunSessions({ memoryBudgetBytes: 2 ** 30 });
    await first.warmStart(b, noProgress);
    await iterate(first, b, 1, 2);
    const learned = (runDir: string, v: number) => {
      const { metrics } = readVersion(runDir, v)!.meta.result as { metrics: Record<string, number> };
      return Object.fromEntries(Object.entries(metrics).filter(([k]) => !k.startsWith('perf/')));
    };
    for (const v of [1, 2]) {
      expect(readVersion(b.runDir, v)).not.toBeNull(); // the result is recorded...
      expect(existsSync(join(versionDir(b.runDir, v), 'weights.bin'))).toBe(false); // ...without weights
    }
    expect(learned(b.runDir, 2)).toEqual(learned(a.runDir, 2)); // (a keeps versions 2-4)
    // The worker is gone; a new one carries on at iteration 3, recomputing version 2 from version 0.
    await iterate(new RunSessions({ memoryBudgetBytes: 2 ** 30 }), b, 3, 4);
    expect(existsSync(join(versionDir(b.runDir, 3), 'weights.bin'))).toBe(false);
    expect(weights(b.runDir, 4).equals(weights(a.runDir, 4))).toBe(true);
  }, 300_000);

  it('must divide run.checkpointEvery', () => {
    const base = learningTinyConfig({});
    const r = ExperimentSchema.safeParse({ ...base, run: { ...base.run, checkpointEvery: 10, weightsEvery: 3 } });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toMatch(/weightsEvery.*must divide run.checkpointEvery \(10\)/);
  });
});
