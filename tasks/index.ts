export {
  DEFAULT_ARITHMETIC,
  sampleArithmetic,
  makeExample,
  isHeldOut,
  problemSpaceSize,
  validateSpec,
  type ArithmeticSpec,
  type ArithmeticExample,
  type ArithmeticOp,
} from './arithmetic.js';
export {
  sftSteps,
  sftLoss,
  rollout,
  policyUpdate,
  outcomeAdvantages,
  type Demonstration,
  type SftOptions,
  type SftResult,
  type RolloutOptions,
  type RolloutItem,
  type RolloutBatch,
  type PolicyUpdateParams,
  type PolicyUpdateResult,
  type TokenAdvantages,
} from './recipe.js';
export { evaluateRows, passAtK, type EvaluationOptions } from './evaluation.js';
export { loadRunData, runRewardMix, type RunData } from './data-set.js';
export { parseRowsJsonl, loadRowsJsonl, type Row, type FieldMap } from './rows.js';
export { DataError } from './data-error.js';
