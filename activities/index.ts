/** Activity factories. Only the worker wires real dependencies; workflows import these as types. */
export { createComputeActivities } from './compute.js';
export type { ComputeDeps, WarmStartResult, RolloutResult, UpdateResult, EvaluateResult } from './compute.js';
export { createCpuActivities } from './cpu.js';
export type { CpuDeps, ScoreResult } from './cpu.js';
