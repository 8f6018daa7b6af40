/** Public surface of the reward verifiers. Internal helpers are not re-exported. */
export type {
  Verdict, VerifyResult, VerifyStatus, VerifyCase, VerifierSpec, BatchOptions, MathOptions,
  ExtractRule, CodeTest, IoTest, AssertTest, CodeLanguage,
} from './types.js';
export { VERIFY_STATUSES } from './types.js';
export { verifyMath, explainMath, type MathExplanation, type MathCase } from './math/verify.js';
export { extractAnswer, DEFAULT_EXTRACT, LAST_NUMBER_EXTRACT } from './math/extract.js';
export { latexToMathjs } from './math/latex.js';
export { verifyFormat, verifyLength, combine, FORMAT_TEMPLATES } from './shaping.js';
export { verifyCode, extractCode } from './code/verify-code.js';
export { runSandboxed, DEFAULT_LIMITS, type SandboxLimits, type SandboxRun } from './code/sandbox.js';
export { probeIsolation, type Isolation } from './code/isolation.js';
export { BUILTIN_SPECS, resolveSpec, UnknownVerifierError } from './registry.js';
export { verifyBatch, shutdownVerifiers, sharedPool, DEFAULT_MATH_TIMEOUT_MS, DEFAULT_CODE_TIMEOUT_MS } from './batch.js';
export { VerifierPool } from './pool/pool.js';
