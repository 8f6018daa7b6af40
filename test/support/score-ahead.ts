/**
 * Tests score a rollout as the score activity would, writing its rewards file beside it, when every
 * case may be verified inline (the built-in tasks' verifiers).
 */
import type { ExperimentConfig } from '../../configs/schema.js';
import { mixOf } from '../../engine/run-rows.js';
import { verdictsInline } from '../../engine/score-ahead.js';
import { readRewards, readRollouts, writeRewards, type RewardRecord } from '../../store/rollout-files.js';

/** The arithmetic generator's default reward, which the test fixtures' runs use. */
const ARITHMETIC_REWARDS: Pick<ExperimentConfig, 'rewards'> = { rewards: { mode: 'sum', mix: [{ verifier: 'exact-integer', weight: 1 }] } };

/**
 * The rollout's verdicts under the run's rewards (default: the fixtures' exact-integer) once its
 * rewards file exists (now, written here if need be); null when some case needs the verifier pool.
 */
export function scoreAhead(rolloutPath: string, config: Pick<ExperimentConfig, 'rewards'> = ARITHMETIC_REWARDS): RewardRecord[] | null {
  const recorded = readRewards(rolloutPath);
  if (recorded) return recorded;
  const records = verdictsInline(mixOf(config), readRollouts(rolloutPath));
  if (records) writeRewards(rolloutPath, records);
  return records;
}
