/**
 * Group-relative outcome advantages (plain numbers: rewards are few, one per completion).
 *
 *   grpo     A_i = (r_i − mean_g r) / (std_g r + ε)      GRPO, arXiv 2402.03300 §4.1.2
 *   dr-grpo  A_i =  r_i − mean_g r                       Dr.GRPO, arXiv 2503.20783 §3.2 (no std division)
 *   rloo     A_i =  r_i − mean_{j≠i} r_j                 RLOO, arXiv 2402.14740 eq. 6 (= G/(G−1)·(r_i − mean))
 *
 * `rewards` holds consecutive groups of `groupSize` completions of the same prompt.
 * Std: 'unbiased' (n−1, TRL's `torch.std`, the default) or 'population' (n); ε defaults to 1e-4
 * (TRL). A group of identical rewards gets advantage 0 in every mode (never 0/0); a group of one
 * completion gets 0 (no baseline can be formed without it, and its unbiased std is undefined).
 */
import { LossInputError } from './errors.js';

export type AdvantageMode = 'grpo' | 'dr-grpo' | 'rloo';
export const ADVANTAGE_MODES = ['grpo', 'dr-grpo', 'rloo'] as const satisfies readonly AdvantageMode[];

export interface GroupAdvantageOptions {
  /** GRPO std convention. Default 'unbiased'. */
  std?: 'unbiased' | 'population';
  /** GRPO denominator ε. Default 1e-4. */
  eps?: number;
}

export function groupAdvantages(
  rewards: readonly number[],
  groupSize: number,
  mode: AdvantageMode,
  opts: GroupAdvantageOptions = {},
): number[] {
  if (!Number.isInteger(groupSize) || groupSize < 1) {
    throw new LossInputError('groupAdvantages', `groupSize must be a positive integer, got ${groupSize}`);
  }
  if (rewards.length % groupSize !== 0) {
    throw new LossInputError('groupAdvantages', `${rewards.length} rewards do not split into groups of ${groupSize}`);
  }
  const bad = rewards.findIndex((r) => !Number.isFinite(r));
  if (bad >= 0) throw new LossInputError('groupAdvantages', `reward ${bad} is not finite (${rewards[bad]})`);
  if (!ADVANTAGE_MODES.includes(mode)) {
    throw new LossInputError('groupAdvantages', `unknown mode '${mode}'; valid: ${ADVANTAGE_MODES.join(', ')}`);
  }
  const eps = opts.eps ?? 1e-4;
  const stdKind = opts.std ?? 'unbiased';
  const out = new Array<number>(rewards.length);
  for (let start = 0; start < rewards.length; start += groupSize) {
    const g = rewards.slice(start, start + groupSize);
    const mean = g.reduce((a, b) => a + b, 0) / groupSize;
    const centred = g.map((r) => r - mean);
    const allEqual = g.every((r) => r === g[0]);
    for (let i = 0; i < groupSize; i++) {
      let a: number;
      if (groupSize === 1 || allEqual) a = 0;
      else if (mode === 'dr-grpo') a = centred[i];
      else if (mode === 'rloo') a = (centred[i] * groupSize) / (groupSize - 1);
      else {
        const ss = centred.reduce((acc, c) => acc + c * c, 0);
        const std = Math.sqrt(ss / (stdKind === 'unbiased' ? groupSize - 1 : groupSize));
        a = centred[i] / (std + eps);
      }
      out[start + i] = a;
    }
  }
  return out;
}
