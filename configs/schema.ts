/**
 * The experiment config: one zod schema, a documented default for every field.
 *
 * The `.describe()` text is the single source for docs and CLI help. Every object is strict, so an
 * unknown key is an error that names it; cross-field rules are `superRefine` errors, never warnings.
 * Objective names come from the losses registry, so the list of valid names exists once.
 */
import { z } from 'zod';
import { POLICY_LOSS_NAMES } from '../losses/index.js';

const positiveInt = () => z.number().int().positive();

export const TaskSchema = z.strictObject({
  name: z.enum(['arithmetic']).describe('Built-in verifiable task. `arithmetic`: add/subtract integers, answer checked exactly.'),
  minDigits: z.number().int().min(1).max(6).default(1).describe('Fewest digits per operand.'),
  maxDigits: z.number().int().min(1).max(6).default(2).describe('Most digits per operand.'),
  operations: z.array(z.enum(['+', '-'])).min(1).default(['+', '-']).describe('Operators to draw from.'),
  heldOutFraction: z.number().gt(0).lt(1).default(0.2).describe('Share of the problem space reserved for evaluation (never trained on).'),
  splitSeed: z.number().int().min(0).default(0).describe('Seed of the train/held-out split; fixed apart from `seed` so runs with different seeds are evaluated on the same problems.'),
  trainSize: positiveInt().default(4000).describe('Training prompts drawn from the training side of the split.'),
  evalSize: positiveInt().default(300).describe('Held-out prompts for evaluation, disjoint from training.'),
});

export const ModelSchema = z.strictObject({
  dModel: positiveInt().default(64).describe('Embedding width.'),
  nLayers: positiveInt().default(2).describe('Transformer blocks.'),
  nHeads: positiveInt().default(4).describe('Attention heads; must divide dModel.'),
  dFf: positiveInt().default(256).describe('MLP hidden width.'),
  maxSeqLen: positiveInt().default(16).describe('Longest prompt + completion in tokens.'),
});

export const WarmStartSchema = z.strictObject({
  // 800 x 64 lands near 25% held-out on the default task: just entering the fast-learning phase,
  // so the exact-answer reward has signal (1000 steps give ~50%, 1200 ~80%).
  steps: z.number().int().min(0).default(800).describe('SFT steps on generated demonstrations before RL (0 = none).'),
  batchSize: positiveInt().default(64).describe('Demonstrations per SFT step.'),
  lr: z.number().positive().default(3e-3).describe('SFT learning rate.'),
  warmupSteps: z.number().int().min(0).default(20).describe('Linear learning-rate warm-up steps of the SFT phase.'),
  untilAccuracy: z.number().gt(0).max(1).optional()
    .describe('Stop the warm start early once greedy accuracy on 200 training prompts reaches this (checked every 50 steps); `steps` stays the upper bound. Absent: run all steps.'),
});

export const RolloutSchema = z.strictObject({
  promptsPerIteration: positiveInt().default(128).describe('Prompts sampled per iteration.'),
  groupSize: z.number().int().min(2).default(8).describe('Completions per prompt (G in GRPO).'),
  temperature: z.number().min(0).default(1).describe('Sampling temperature (0 = greedy).'),
  maxNewTokens: positiveInt().default(5).describe('Longest completion in tokens (EOS included).'),
  topK: z.number().int().min(0).default(0).describe('Sample only from the k most likely tokens (0 = no limit).'),
  topP: z.number().gt(0).max(1).default(1).describe('Nucleus sampling: only the smallest token set with this much probability (1 = no limit).'),
  stop: z.array(z.string().min(1)).default([]).describe('A completion ends when its text ends with one of these strings.'),
});

export const ObjectiveSchema = z.strictObject({
  name: z.enum(POLICY_LOSS_NAMES).default('ppo-clip').describe('Policy objective, by registry name.'),
  clipLow: z.number().min(0).max(1).default(0.2).describe('PPO clip ε_low.'),
  clipHigh: z.number().min(0).default(0.28).describe('PPO clip ε_high (DAPO clip-higher: 0.28; symmetric PPO/GRPO: 0.2).'),
  aggregation: z.enum(['seq-mean-token-mean', 'token-mean', 'seq-mean-token-sum-norm']).default('seq-mean-token-mean')
    .describe('How per-token losses are reduced: GRPO seq-mean, DAPO token-mean, Dr.GRPO sum-norm.'),
  dropUniformGroups: z.boolean().default(true)
    .describe('Skip groups whose rewards are all equal (zero advantage, zero gradient without KL) before the update; saves compute.'),
});

export const OptimizerSchema = z.strictObject({
  // Measured on the demo task: 3e-3 with 2 epochs collapsed accuracy, 1e-3 stayed flat; large
  // on-policy batches with one small step each (6e-4) climbed steadily.
  lr: z.number().positive().default(6e-4).describe('AdamW learning rate for RL updates.'),
  weightDecay: z.number().min(0).default(0).describe('AdamW decoupled weight decay.'),
  maxGradNorm: z.number().positive().default(1).describe('Global gradient-norm clip.'),
  epochsPerIteration: positiveInt().default(1).describe('Optimizer passes over each rollout batch (PPO epochs).'),
  miniBatchSize: positiveInt().optional().describe('Sequences per optimizer step (default: the whole batch, one step per epoch).'),
});

export const RunSchema = z.strictObject({
  iterations: positiveInt().default(80).describe('RL iterations (rollout -> score -> update).'),
  evalEvery: positiveInt().default(20).describe('Evaluate held-out accuracy every k iterations (and at the end).'),
  checkpointEvery: positiveInt().default(20).describe('Write a durable checkpoint every c iterations (and at the end).'),
  keepCheckpoints: positiveInt().default(3).describe('Checkpoints kept on disk (oldest deleted first).'),
  continueAsNewEvery: positiveInt().default(100).describe('Start a fresh workflow history every N iterations (also when the server suggests it).'),
});

export const TimeoutsSchema = z.strictObject({
  heartbeatSeconds: positiveInt().default(20).describe('A compute activity that stops heartbeating this long is retried.'),
  pinnedScheduleToStartSeconds: positiveInt().default(20).describe('How long work waits on a pinned worker before the run moves to another worker.'),
  activityMinutes: positiveInt().default(30).describe('Upper bound on one compute activity.'),
});

export const ExperimentSchema = z.strictObject({
  experiment: z.string().min(1).regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash and underscore only')
    .describe('Experiment name; runs are listed and filtered by it in the Web UI.'),
  seed: z.number().int().min(0).default(1).describe('Seeds every random stream (init, data order, sampling).'),
  task: TaskSchema.describe('The built-in task (required).'),
  model: ModelSchema.default(ModelSchema.parse({})),
  warmStart: WarmStartSchema.default(WarmStartSchema.parse({})),
  rollout: RolloutSchema.default(RolloutSchema.parse({})),
  objective: ObjectiveSchema.default(ObjectiveSchema.parse({})),
  optimizer: OptimizerSchema.default(OptimizerSchema.parse({})),
  run: RunSchema.default(RunSchema.parse({})),
  timeouts: TimeoutsSchema.default(TimeoutsSchema.parse({})),
}).superRefine((config, ctx) => {
  if (config.model.dModel % config.model.nHeads !== 0) {
    ctx.addIssue({ code: 'custom', path: ['model', 'nHeads'], message: `must divide model.dModel (${config.model.dModel})` });
  }
  // Longest arithmetic prompt: BOS + two operands + operator + '='.
  if (config.task.minDigits > config.task.maxDigits) {
    ctx.addIssue({ code: 'custom', path: ['task', 'minDigits'], message: `must not exceed task.maxDigits (${config.task.maxDigits})` });
  }
  const longestPrompt = 1 + 2 * config.task.maxDigits + 2;
  if (longestPrompt + config.rollout.maxNewTokens > config.model.maxSeqLen) {
    ctx.addIssue({
      code: 'custom', path: ['model', 'maxSeqLen'],
      message: `must hold the longest prompt (${longestPrompt} tokens) plus rollout.maxNewTokens (${config.rollout.maxNewTokens})`,
    });
  }
});

export type ExperimentConfig = z.infer<typeof ExperimentSchema>;
