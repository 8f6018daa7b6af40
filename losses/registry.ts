/**
 * Typed registries: one per family, const object literals (no import-time side effects; a duplicate
 * key is a compile error). The config schema imports the name lists from here.
 */
import type { PolicyLossFn, PreferenceLossFn } from './types.js';
import { UnknownVariantError } from './errors.js';
import { ppoClip } from './policy/ppo-clip.js';

export const POLICY_LOSSES = {
  'ppo-clip': ppoClip,
} as const satisfies Record<string, PolicyLossFn>;

export type PolicyLossName = keyof typeof POLICY_LOSSES;
export const POLICY_LOSS_NAMES = Object.keys(POLICY_LOSSES) as [PolicyLossName, ...PolicyLossName[]];

export const PREFERENCE_LOSSES = {} as const satisfies Record<string, PreferenceLossFn>;

export type PreferenceLossName = keyof typeof PREFERENCE_LOSSES;
export const PREFERENCE_LOSS_NAMES = Object.keys(PREFERENCE_LOSSES) as PreferenceLossName[];

function has<T extends object>(registry: T, name: string): name is Extract<keyof T, string> {
  return Object.prototype.hasOwnProperty.call(registry, name);
}

/** @throws UnknownVariantError listing the valid names */
export function getPolicyLoss(name: string): PolicyLossFn {
  if (has(POLICY_LOSSES, name)) return POLICY_LOSSES[name];
  throw new UnknownVariantError('policy loss', name, POLICY_LOSS_NAMES);
}
