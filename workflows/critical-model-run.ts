/**
 * `criticalModelRun`: a child workflow of a cDPO `preferenceRun` that fine-tunes one of its two
 * auxiliary models from the warm start, the positive model on the chosen responses or the negative
 * model on the rejected ones (Lin et al. 2024, "Critical Tokens Matter", §3.1). The model is written
 * to the run's folder (critical/<role>/); the parent scores the critical tokens from both.
 *
 * It claims a compute host of its own (the two children may run on different workers) and is
 * idempotent: a model already on disk is returned, not trained again.
 */
import type { createPreferenceComputeActivities } from '../activities/preference.js';
import type { PreferenceConfig } from '../configs/preference-schema.js';
import { computePlacement } from './compute-placement.js';
import type { Metrics } from './shared.js';

type ComputeActivities = ReturnType<typeof createPreferenceComputeActivities>;

export interface CriticalModelRunInput {
  runId: string;
  config: PreferenceConfig;
  role: 'positive' | 'negative';
}

export async function criticalModelRun(input: CriticalModelRunInput): Promise<{ role: string; metrics: Metrics }> {
  const { runId, config, role } = input;
  const steps = config.objective.name === 'critical-token-dpo' ? config.objective.auxiliary.steps : 0;
  const host = computePlacement<ComputeActivities>(runId, config.timeouts);
  const trained = await host.run((a) => a.trainCriticalModel.executeWithOptions(
    { summary: `cDPO ${role} model: SFT on the ${role === 'positive' ? 'chosen' : 'rejected'} responses, ${steps} steps` }, [input]));
  return { role, metrics: trained.metrics };
}
