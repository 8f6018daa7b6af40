/**
 * A weights version that is missing or fails its hashes (versions are not fsync'd; a machine crash can
 * tear them) is rebuilt from the newest good version or checkpoint before it, and the rebuilt
 * version is the lost one byte for byte, also when its rollout and rewards files are gone.
 */
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { RunSessions } from '../../engine/run-sessions.js';
import { scoreAhead } from '../support/score-ahead.js';
import { rewardsFileFor, rolloutFile } from '../../store/rollout-files.js';
import { checkpointVersion, readVersion, versionDir, versionsDir } from '../../store/weight-versions.js';
import { learningTinyConfig, tempStateDir } from '../support/harness.js';

const config = learningTinyConfig({ experiment: 'rebuild', run: { iterations: 4 } });
const noProgress = () => undefined;
const weights = (runDir: string, v: number) => readFileSync(join(versionDir(runDir, v), 'weights.bin'));

describe('rebuilding lost weight versions', () => {
  let runDir = '';
  const original = new Map<number, Buffer>();

  beforeAll(async () => {
    await tf.setBackend('cpu');
    const sessions = new RunSessions({ memoryBudgetBytes: 2 ** 30 });
    runDir = join(tempStateDir('rebuild'), 'run');
    const args = { runId: 'r', config, runDir };
    await sessions.warmStart(args, noProgress);
    for (let i = 1; i <= 3; i++) {
      const { rolloutFile: file } = await sessions.rollout({ ...args, iteration: i }, noProgress);
      expect(scoreAhead(file)).toBeTruthy();
      await sessions.update({ ...args, iteration: i }, noProgress);
      original.set(i, weights(runDir, i));
    }
    await checkpointVersion(runDir, 1, 3);
  });

  /** A copy of the run as a fresh worker would find it after `damage`. */
  function damaged(name: string, damage: (dir: string) => void): string {
    const dir = join(tempStateDir(`rebuild-${name}`), 'run');
    cpSync(runDir, dir, { recursive: true });
    damage(dir);
    return dir;
  }

  async function nextRolloutOn(dir: string): Promise<void> {
    // Rollout 4 needs version 3 resident: a fresh host must find or rebuild it.
    await new RunSessions({ memoryBudgetBytes: 2 ** 30 }).rollout({ runId: 'r', config, runDir: dir, iteration: 4 }, noProgress);
  }

  it('rebuilds torn versions 3 and 2 from version 1, identical to the originals', async () => {
    const dir = damaged('torn', (d) => {
      for (const v of [2, 3]) {
        const file = join(versionDir(d, v), 'weights.bin');
        const bytes = readFileSync(file);
        bytes[100] ^= 0xff;
        writeFileSync(file, bytes);
      }
    });
    expect(readVersion(dir, 3)).toBeNull();
    await nextRolloutOn(dir);
    for (const v of [2, 3]) expect(weights(dir, v).equals(original.get(v)!), `version ${v}`).toBe(true);
  });

  it('with every version, rollout 3 and rewards 2 gone, rebuilds from checkpoint 1', async () => {
    const dir = damaged('gone', (d) => {
      rmSync(versionsDir(d), { recursive: true });
      rmSync(rolloutFile(d, 3));
      rmSync(rewardsFileFor(rolloutFile(d, 2)));
    });
    await nextRolloutOn(dir);
    for (const v of [2, 3]) expect(weights(dir, v).equals(original.get(v)!), `version ${v}`).toBe(true);
  });
});
