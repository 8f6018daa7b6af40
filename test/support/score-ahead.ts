/**
 * Tests score a rollout as the score activity would, writing its rewards file beside it, when every
 * case may be verified inline (the built-in tasks' verifiers).
 */
import { verdictsInline } from '../../engine/score-ahead.js';
import { readRewards, readRollouts, writeRewards, type RewardRecord } from '../../store/rollout-files.js';

/** The rollout's verdicts once its rewards file exists (now, written here if need be); null when some case needs the verifier pool. */
export function scoreAhead(rolloutPath: string): RewardRecord[] | null {
  const recorded = readRewards(rolloutPath);
  if (recorded) return recorded;
  const records = verdictsInline(readRollouts(rolloutPath));
  if (records) writeRewards(rolloutPath, records);
  return records;
}
