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

// shared pieces
export { aggregate, AGGREGATION_MODES } from './aggregate.js';
export { groupAdvantages, ADVANTAGE_MODES } from './advantages.js';
export type { AdvantageMode, GroupAdvantageOptions } from './advantages.js';
export { k3, klRefPolicyFromLogits } from './kl.js';
export { takenLogProbs, entropyFromLogits } from './token-stats.js';
export { stopGradient } from './tensor-utils.js';

// policy family
export { ppoClip } from './policy/ppo-clip.js';
export { forkingTokenPpo, forkingTokenMask, entropyQuantileThreshold, quantileLinear } from './policy/forking-tokens.js';
export { spoPpo, spoCutpoints, spoChainAdvantages, spoTreeAdvantages, whitening } from './policy/spo.js';
export type { SpoChainInput, SpoCutpointOptions, SpoTreeEdge, SpoTreeNode } from './policy/spo.js';

// preference family
export { dpo, ipo, tokenWeightedDpo } from './preference/dpo.js';
export { criticalTokenDpo, criticalTokenScores } from './preference/critical-token-dpo.js';
export { sparsePo } from './preference/sparse-po.js';
export { activationMask, SparseMaskHead } from './preference/sparse-masks.js';
export type { DropoutFrame, SparseMaskHeadConfig } from './preference/sparse-masks.js';
export { tReg, contrastiveTokenRewards } from './preference/t-reg.js';
export { TOKEN_FRACTION_METRICS } from './preference/core.js';

// registries
export {
  POLICY_LOSSES,
  POLICY_LOSS_NAMES,
  PREFERENCE_LOSSES,
  PREFERENCE_LOSS_NAMES,
  getPolicyLoss,
  getPreferenceLoss,
  isPolicyLossName,
  isPreferenceLossName,
} from './registry.js';
export type { PolicyLossName, PreferenceLossName } from './registry.js';
