/**
 * Typed registries, one per family: const object literals (no import-time side effects; a duplicate
 * key is a compile error). The config schema imports the name lists from here, so each name exists
 * once. Lookups throw `UnknownVariantError` with the valid names.
 *
 * GRPO, DAPO and Dr.GRPO are not separate entries: they are 'ppo-clip' with an aggregation mode,
 * clip range and KL coefficient (and an advantage mode from advantages.ts).
 */
import type { PolicyLossFn, PreferenceLossFn } from './types.js';
import { UnknownVariantError } from './errors.js';
import { ppoClip } from './policy/ppo-clip.js';
import { forkingTokenPpo } from './policy/forking-tokens.js';
import { spoPpo } from './policy/spo.js';
import { dpo, ipo, tokenWeightedDpo } from './preference/dpo.js';
import { criticalTokenDpo } from './preference/critical-token-dpo.js';
import { sparsePo } from './preference/sparse-po.js';
import { tReg } from './preference/t-reg.js';

export const POLICY_LOSSES = {
  'ppo-clip': ppoClip,
  'forking-tokens': forkingTokenPpo,
  spo: spoPpo,
} as const satisfies Record<string, PolicyLossFn>;

export const PREFERENCE_LOSSES = {
  dpo,
  ipo,
  'token-weighted-dpo': tokenWeightedDpo,
  'critical-token-dpo': criticalTokenDpo,
  'sparse-po': sparsePo,
  't-reg': tReg,
} as const satisfies Record<string, PreferenceLossFn>;

export type PolicyLossName = keyof typeof POLICY_LOSSES;
export type PreferenceLossName = keyof typeof PREFERENCE_LOSSES;

/** Non-empty tuples, ready for `z.enum(...)`. */
export const POLICY_LOSS_NAMES = Object.keys(POLICY_LOSSES) as [PolicyLossName, ...PolicyLossName[]];
export const PREFERENCE_LOSS_NAMES = Object.keys(PREFERENCE_LOSSES) as [PreferenceLossName, ...PreferenceLossName[]];

function has<T extends object>(registry: T, name: string): name is Extract<keyof T, string> {
  return Object.prototype.hasOwnProperty.call(registry, name);
}

export function isPolicyLossName(name: string): name is PolicyLossName {
  return has(POLICY_LOSSES, name);
}

export function isPreferenceLossName(name: string): name is PreferenceLossName {
  return has(PREFERENCE_LOSSES, name);
}

/** @throws UnknownVariantError listing the valid names */
export function getPolicyLoss(name: string): PolicyLossFn {
  if (isPolicyLossName(name)) return POLICY_LOSSES[name];
  throw new UnknownVariantError('policy loss', name, POLICY_LOSS_NAMES);
}

/** @throws UnknownVariantError listing the valid names */
export function getPreferenceLoss(name: string): PreferenceLossFn {
  if (isPreferenceLossName(name)) return PREFERENCE_LOSSES[name];
  throw new UnknownVariantError('preference loss', name, PREFERENCE_LOSS_NAMES);
}
