/** Public surface of the objectives library: explicit named re-exports only. */
export type {
  AggregationMode,
  LossResult,
  PolicyLossFn,
  PolicyLossInputs,
  PolicyLossParams,
  PreferenceLossFn,
  PreferenceLossInputs,
  PreferenceLossParams,
  PreferenceSide,
} from './types.js';
export { UnknownVariantError, LossInputError } from './errors.js';
export { aggregate, AGGREGATION_MODES } from './aggregate.js';
export { groupAdvantages, ADVANTAGE_MODES } from './advantages.js';
export type { AdvantageMode, GroupAdvantageOptions } from './advantages.js';
export { k3, klRefPolicyFromLogits } from './kl.js';
export { ppoClip } from './policy/ppo-clip.js';
export { POLICY_LOSSES, POLICY_LOSS_NAMES, getPolicyLoss } from './registry.js';
export type { PolicyLossName } from './registry.js';
