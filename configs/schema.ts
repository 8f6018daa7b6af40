/**
 * The experiment config: one zod schema, a documented default for every field.
 *
 * The `.describe()` text is the single source for docs and CLI help. Every object is strict, so an
 * unknown key is an error that names it; cross-field rules are `superRefine` errors, never warnings.
 * Objective names come from the losses registry, so the list of valid names exists once. The data,
 * reward and evaluation sections are in data-schema.ts.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ADVANTAGE_MODES, POLICY_LOSS_NAMES } from '../losses/index.js';
import { ComputeSchema } from './compute-schema.js';
import { LR_SCHEDULE_KINDS, type LrSchedule } from '../models/lr-schedule.js';
import { TRACKER_NAMES } from '../tracking/names.js';
import { BOUNDS, boundedArray, boundedCount, boundedInt, boundedString, tooBig } from './bounds.js';
import { DataSchema, DEFAULT_ALPHABET_OF, DEFAULT_REWARD, EvaluationSchema, longestGeneratedPrompt, RewardsSchema, type RewardsConfig } from './data-schema.js';

/**
 * The experiment name: it becomes the first part of every run id, which names a workflow in
 * Temporal, a keyword search attribute, and the run's folder (one path component, at most 255 bytes
 * on Linux). 200 ASCII characters leave room for the id's stamp and a sweep's trial suffix.
 */
export const EXPERIMENT_NAME_MAX = 200;
export const experimentName = () => z.string().min(1)
  .max(EXPERIMENT_NAME_MAX, `must be at most ${EXPERIMENT_NAME_MAX} characters (it starts every run id, which names a Temporal workflow and a run folder; a folder name holds at most 255 bytes)`);


export const ModelSchema = z.strictObject({
  dModel: boundedCount('width').default(64).describe('Embedding width.'),
  nLayers: boundedCount('layers').default(2).describe('Transformer blocks.'),
  nHeads: boundedCount('heads').default(4).describe('Attention heads; must divide dModel.'),
  dFf: boundedCount('width').default(256).describe('MLP hidden width.'),
  maxSeqLen: boundedCount('tokens').default(16).describe('Longest prompt + completion in tokens.'),
  checkpoint: boundedString('pathChars').transform((dir) => resolve(dir)).optional()
    .describe('Fine-tune a local Llama/Qwen2/Mistral-style checkpoint instead of the built-in transformer: a folder with config.json, *.safetensors and tokenizer.json, or a llama-architecture .gguf file (relative paths are resolved against the working directory). Its config.json sets the architecture, so dModel, nLayers, nHeads and dFf must be left out.'),
  alphabet: boundedString('alphabet').optional()
    .describe('The built-in model\'s characters (one token each, after PAD, BOS, EOS). Default: what the data source needs (arithmetic: digits and operators; word-problems: lower-case letters, digits, punctuation; file: printable ASCII, newline, tab).'),
});

export const WarmStartSchema = z.strictObject({
  // 800 x 64 lands near 25% held-out on the default task: just entering the fast-learning phase,
  // so the exact-answer reward has signal (1000 steps give ~50%, 1200 ~80%).
  steps: boundedInt(0, 'optimizerSteps').default(800).describe('SFT steps on generated demonstrations before RL (0 = none).'),
  batchSize: boundedCount('batch').default(64).describe('Demonstrations per SFT step.'),
  lr: z.number().positive().default(3e-3).describe('SFT learning rate.'),
  warmupSteps: boundedInt(0, 'optimizerSteps').default(20).describe('Linear learning-rate warm-up steps of the SFT phase.'),
  untilAccuracy: z.number().gt(0).max(1).optional()
    .describe('Stop the warm start early once greedy accuracy on 200 training prompts reaches this (checked every 50 steps); `steps` stays the upper bound. Absent: run all steps.'),
  path: boundedString('pathChars').optional()
    .describe('A JSONL file of demonstrations, {"prompt" | "messages", "completion"} a line (column names as data.fields maps them; a relative path is taken from the config file\'s folder). Default: the training rows that have a `completion` (every generated row does). `steps: 0` (an instruct checkpoint) needs none.'),
});

export const RolloutSchema = z.strictObject({
  promptsPerIteration: boundedCount('batch').default(128).describe('Prompts sampled per iteration.'),
  groupSize: boundedInt(2, 'groupSize').default(8).describe('Completions per prompt (G in GRPO).'),
  temperature: z.number().min(0).default(1).describe('Sampling temperature (0 = greedy).'),
  maxNewTokens: boundedCount('tokens').default(5).describe('Longest completion in tokens (EOS included).'),
  topK: boundedInt(0, 'vocabulary').default(0).describe('Sample only from the k most likely tokens (0 = no limit).'),
  topP: z.number().gt(0).max(1).default(1).describe('Nucleus sampling: only the smallest token set with this much probability (1 = no limit).'),
  stop: boundedArray(boundedString('shortText'), 'stopStrings').default([]).describe('A completion ends when its text ends with one of these strings.'),
  maskTruncated: z.boolean().default(false)
    .describe('Leave completions cut off by maxNewTokens (no EOS) out of the loss, as TRL\'s mask_truncated_completions; their rewards still count in their group\'s baseline.'),
});

export const ForkingSchema = z.strictObject({
  rho: z.number().gt(0).max(1).default(0.2)
    .describe('Fraction ρ of the batch\'s response tokens that get gradient, chosen by entropy (paper: 0.2; 1 = every token, plain DAPO). The threshold is pooled over the whole iteration\'s batch.'),
  side: z.enum(['top', 'bottom']).default('top')
    .describe('`top`: the highest-entropy ρ of tokens (the paper\'s forking tokens); `bottom`: the lowest-entropy ρ (the paper\'s ablation).'),
});

export const SpoSchema = z.strictObject({
  probThreshold: z.number().gt(0).max(1).default(0.9)
    .describe('Tokens whose rollout probability is below this are "risky": each defines a cutpoint just before it, and only these tokens enter the loss (SPO code: 0.9).'),
  cutpointInterval: boundedCount('cutpointInterval').default(5)
    .describe('Keep every k-th cutpoint of a completion (SPO code default 5, "int5"; 1 = all). Fewer cutpoints, fewer Monte Carlo continuations.'),
  samples: boundedCount('monteCarlo').default(9)
    .describe('Monte Carlo continuations sampled from each kept cutpoint with the current policy; a cutpoint\'s value is their mean reward (SPO code: 9).'),
  whiten: z.boolean().default(true)
    .describe('Whiten the segment advantages (mean 0, unit variance) over the risky tokens of the whole iteration\'s batch, as the SPO code does.'),
  mode: z.enum(['chain', 'tree']).default('chain')
    .describe('`chain` (paper §4.1): Monte Carlo values at the cutpoints of independent completions. `tree` (§4.2): completions sampled as a tree per prompt (spo.tree), node values the mean of their leaves\' rewards, A = V(child) − V(parent) per segment; no continuations are sampled.'),
  tree: z.strictObject({
    branching: z.array(z.number().int().min(1).max(64)).min(1).max(8).default([2, 2])
      .describe('Children per node at each level; the list\'s length is the tree\'s depth (SPO code: 6-6-6). Their product is the leaves per prompt and must equal rollout.groupSize (the same number of completions as a chain or GRPO run).'),
    segmentTokens: z.number().int().min(1).max(4096).default(4)
      .describe('Tokens of each segment but the last (M; SPO code: 600 on MATH); the last level samples to the end of rollout.maxNewTokens.'),
  }).default({ branching: [2, 2], segmentTokens: 4 }).describe('SPO-tree settings (spo.mode: tree).'),
});

export const ObjectiveSchema = z.strictObject({
  name: z.enum(POLICY_LOSS_NAMES).default('ppo-clip')
    .describe('Policy objective, by registry name: `ppo-clip` (GRPO / DAPO / Dr.GRPO by aggregation and clip), `forking-tokens` (gradient only at high-entropy tokens), `spo` (segment advantages from Monte Carlo values at cutpoints).'),
  clipLow: z.number().min(0).max(1).default(0.2).describe('PPO clip ε_low.'),
  clipHigh: z.number().min(0).default(0.28).describe('PPO clip ε_high (DAPO clip-higher: 0.28; symmetric PPO/GRPO: 0.2).'),
  aggregation: z.enum(['seq-mean-token-mean', 'token-mean', 'seq-mean-token-sum-norm']).default('seq-mean-token-mean')
    .describe('How per-token losses are reduced: GRPO seq-mean, DAPO token-mean, Dr.GRPO sum-norm. The forking-tokens paper uses token-mean; SPO divides by its risky tokens.'),
  advantage: z.enum(ADVANTAGE_MODES).default('grpo')
    .describe('Outcome advantage of a completion within its group: `grpo` (r − mean) / (std + 1e-4); `dr-grpo` r − mean; `rloo` r − mean of the others. Used by ppo-clip and forking-tokens (SPO builds its advantages from Monte Carlo values).'),
  advantageStd: z.enum(['unbiased', 'population']).default('unbiased')
    .describe('Group std of the `grpo` advantage: unbiased (n − 1, as TRL) or population (n).'),
  klCoef: z.number().min(0).default(0)
    .describe('β_KL: weight of the per-token k3 KL to a frozen reference, the warm-start weights (GRPO paper: 0.04). 0 = no KL term and no reference model in memory.'),
  dropUniformGroups: z.boolean().default(true)
    .describe('Skip groups whose advantages are zero on every token (for ppo-clip and forking-tokens: all rewards equal) before the update; they carry no gradient, so this saves compute. Not applied when klCoef > 0, where such groups still carry the KL term.'),
  forking: ForkingSchema.default(ForkingSchema.parse({})).describe('Forking-token RLVR settings (objective.name: forking-tokens).'),
  spo: SpoSchema.default(SpoSchema.parse({})).describe('SPO settings (objective.name: spo): chain or tree.'),
});

export const OptimizerSchema = z.strictObject({
  // Measured on the demo task: 3e-3 with 2 epochs collapsed accuracy, 1e-3 stayed flat; large
  // on-policy batches with one small step each (6e-4) climbed steadily.
  lr: z.number().positive().default(6e-4).describe('AdamW peak learning rate for RL updates.'),
  weightDecay: z.number().min(0).default(0).describe('AdamW decoupled weight decay.'),
  maxGradNorm: z.number().positive().default(1).describe('Global gradient-norm clip.'),
  epochsPerIteration: boundedCount('epochs').default(1).describe('Optimizer passes over each rollout batch (PPO epochs).'),
  miniBatchSize: boundedCount('completionsPerIteration').optional().describe('Sequences per optimizer step (default: the whole batch, one step per epoch).'),
  microBatchSize: boundedCount('completionsPerIteration').optional()
    .describe('Sequences per forward/backward pass; the gradients of a step\'s micro-batches are summed (gradient accumulation). Changes memory, not the update. Default: the whole step at once.'),
  schedule: z.enum(LR_SCHEDULE_KINDS).default('constant')
    .describe('Learning-rate schedule over the run\'s RL optimizer steps: `constant`, `linear-warmup` (ramp over warmupSteps, then lr), `cosine` (the same ramp, then cosine decay to minLrRatio · lr at totalSteps).'),
  warmupSteps: boundedInt(0, 'optimizerSteps').default(0).describe('Linear warm-up optimizer steps of the linear-warmup and cosine schedules.'),
  totalSteps: boundedCount('optimizerSteps').optional()
    .describe('Cosine: the optimizer step where the decay reaches its floor. Default: the most steps the run can take, run.iterations × epochsPerIteration × ⌈promptsPerIteration · groupSize / miniBatchSize⌉ (dropped groups mean fewer steps, so the floor may not be reached).'),
  minLrRatio: z.number().min(0).max(1).default(0.1).describe('Cosine: the floor as a fraction of lr (nanoGPT: 0.1).'),
});

export const RunSchema = z.strictObject({
  iterations: boundedCount('iterations').default(80).describe('RL iterations (rollout -> score -> update).'),
  evalEvery: boundedCount('everyN').default(20).describe('Evaluate held-out accuracy every k iterations (and at the end).'),
  checkpointEvery: boundedCount('everyN').default(20).describe('Write a durable checkpoint every c iterations (and at the end).'),
  keepCheckpoints: boundedCount('keepCheckpoints').default(3).describe('Checkpoints kept on disk (oldest deleted first).'),
  weightsEvery: boundedCount('everyN').optional()
    .describe('Write the weights and optimizer state into the update\'s weights version every w iterations (always at checkpoint iterations, the last one and the warm start); the other updates record their result only, and a worker that has lost the resident weights recomputes them, bit for bit, from the newest version or checkpoint that has them. Must divide run.checkpointEvery. Default: 1 (every update) for the built-in model; run.checkpointEvery for model.checkpoint, whose versions are large (1.6 GB for a 135M model).'),
  continueAsNewEvery: boundedCount('everyN').default(100).describe('Start a fresh workflow history every N iterations (also when the server suggests it).'),
});

/** Checkpoints link a version's files, so every checkpoint step must be one that writes weights. */
export function weightsEveryRule(run: { weightsEvery?: number; checkpointEvery: number }, ctx: z.core.$RefinementCtx<unknown>): void {
  if (run.weightsEvery !== undefined && run.checkpointEvery % run.weightsEvery !== 0) {
    ctx.addIssue({ code: 'custom', path: ['run', 'weightsEvery'], message: `must divide run.checkpointEvery (${run.checkpointEvery})` });
  }
}

/**
 * A micro-batch is part of one optimizer step: refuse `optimizer.microBatchSize` above the step's
 * size (`stepField`: the RL miniBatchSize, the preference batchSize).
 */
export function microBatchRule(o: { microBatchSize?: number }, stepField: string, stepSize: number | undefined, ctx: z.core.$RefinementCtx<unknown>): void {
  if (o.microBatchSize !== undefined && stepSize !== undefined && o.microBatchSize > stepSize) {
    ctx.addIssue({ code: 'custom', path: ['optimizer', 'microBatchSize'], message: `must not exceed optimizer.${stepField} (${stepSize}): a micro-batch is part of one optimizer step` });
  }
}

/** run.weightsEvery as resolved: its default depends on the model (see its description). */
export function weightsEveryOf(config: { model: { checkpoint?: string }; run: { weightsEvery?: number; checkpointEvery: number } }): number {
  return config.run.weightsEvery ?? (config.model.checkpoint === undefined ? 1 : config.run.checkpointEvery);
}

export const TimeoutsSchema = z.strictObject({
  heartbeatSeconds: boundedCount('heartbeatSeconds').default(20).describe('A compute activity that stops heartbeating this long is retried.'),
  pinnedScheduleToStartSeconds: boundedCount('scheduleSeconds').default(20).describe('How long work waits on a pinned worker before the run moves to another worker.'),
  activityMinutes: boundedCount('activityMinutes').default(30).describe('Upper bound on one compute activity.'),
});

/** Where a run's metrics go besides metrics.jsonl (tracking/). Optional, so that a config without it keeps its hash. */
export const TrackingSchema = z.array(z.enum(TRACKER_NAMES)).optional()
  .describe('Experiment trackers the run reports to, like TRL\'s report_to: `tensorboard` (event files under <state>/tensorboard/<run-id>, or CREDITFLOW_TENSORBOARD_DIR), `mlflow` (the MLflow server at the worker\'s MLFLOW_TRACKING_URI: params, metrics per iteration, the checkpoint\'s folder). A tracker that is down never stops the run. Absent: the worker\'s default (`creditflow worker --tracking`, CREDITFLOW_TRACKING); [] = none.');

export const ExperimentSchema = z.strictObject({
  experiment: experimentName().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash and underscore only')
    .describe('Experiment name; runs are listed and filtered by it in the Web UI.'),
  seed: boundedInt(0, 'seed').default(1).describe('Seeds every random stream (init, data order, sampling).'),
  data: DataSchema.describe('Where the rows (prompts, answers, tests) come from: `source: arithmetic` or `word-problems` (built-in generators) or `file` (JSONL).'),
  rewards: RewardsSchema.optional().describe('The rewards and how they combine. Default: the data source\'s (arithmetic: exact-integer; word-problems and files: math), weight 1.'),
  evaluation: EvaluationSchema.default(EvaluationSchema.parse({})).describe('How held-out rows are judged (every run.evalEvery iterations).'),
  model: ModelSchema.default(ModelSchema.parse({})),
  warmStart: WarmStartSchema.default(WarmStartSchema.parse({})),
  rollout: RolloutSchema.default(RolloutSchema.parse({})),
  objective: ObjectiveSchema.default(ObjectiveSchema.parse({})),
  optimizer: OptimizerSchema.default(OptimizerSchema.parse({})),
  run: RunSchema.default(RunSchema.parse({})),
  timeouts: TimeoutsSchema.default(TimeoutsSchema.parse({})),
  tracking: TrackingSchema,
  compute: ComputeSchema.default(ComputeSchema.parse({})).describe('Where the model steps run: the worker (default) or a Ray cluster.'),
}).superRefine((config, ctx) => {
  checkpointRules(config.model, ctx);
  dataRules(config, ctx);
  const completions = config.rollout.promptsPerIteration * config.rollout.groupSize;
  if (completions > BOUNDS.completionsPerIteration.max) {
    ctx.addIssue({ code: 'custom', path: ['rollout', 'promptsPerIteration'], message: `× rollout.groupSize (${config.rollout.groupSize}) = ${completions} completions per iteration ${tooBig(BOUNDS.completionsPerIteration)}` });
  }
  objectiveRules(config, ctx);
  optimizerRules(config, ctx);
  weightsEveryRule(config.run, ctx);
}).transform((config) => ({
  ...config,
  // Defaults that depend on the data source, filled in so that the resolved config says what ran.
  rewards: config.rewards ?? { mode: 'sum' as const, mix: [{ verifier: DEFAULT_REWARD[config.data.source], weight: 1 }] },
  model: config.model.checkpoint === undefined && config.model.alphabet === undefined ? { ...config.model, alphabet: DEFAULT_ALPHABET_OF[config.data.source] } : config.model,
}));

export type ExperimentConfig = Omit<z.output<typeof ExperimentSchema>, 'rewards'> & { rewards: RewardsConfig };

type DataParsed = Pick<z.input<typeof ExperimentSchema>, 'rewards'> & Pick<ExperimentConfig, 'data' | 'model' | 'rollout'>;

/** Rules between the data, rewards, model and rollout sections (rows themselves are checked line by line). */
function dataRules(config: DataParsed, ctx: z.core.$RefinementCtx<unknown>): void {
  const { data, model } = config;
  if (data.source === 'arithmetic' && data.minDigits > data.maxDigits) {
    ctx.addIssue({ code: 'custom', path: ['data', 'minDigits'], message: `must not exceed data.maxDigits (${data.maxDigits})` });
  }
  const longestPrompt = longestGeneratedPrompt(data);
  if (longestPrompt !== undefined && longestPrompt + config.rollout.maxNewTokens > model.maxSeqLen) {
    ctx.addIssue({
      code: 'custom', path: ['model', 'maxSeqLen'],
      message: `must hold the longest prompt (${longestPrompt} tokens) plus rollout.maxNewTokens (${config.rollout.maxNewTokens})`,
    });
  }
  const names = new Map<string, number>();
  config.rewards?.mix.forEach((entry, k) => {
    const name = (entry as { name?: string }).name ?? entry.verifier;
    if (names.has(name)) {
      ctx.addIssue({ code: 'custom', path: ['rewards', 'mix', k], message: `reward name ${JSON.stringify(name)} is already used by rewards.mix[${names.get(name)}]; give one a \`name\`` });
    } else names.set(name, k);
  });
}

const MODEL_DEFAULTS = ModelSchema.parse({});

/**
 * A checkpoint folder must hold what the loader needs; the built-in model's sizes and alphabet do not
 * apply to it. Without a checkpoint, the built-in model's heads must divide its width.
 */
export function checkpointRules(model: z.infer<typeof ModelSchema>, ctx: z.core.$RefinementCtx<unknown>): void {
  if (model.checkpoint === undefined) {
    if (model.dModel % model.nHeads !== 0) ctx.addIssue({ code: 'custom', path: ['model', 'nHeads'], message: `must divide model.dModel (${model.dModel})` });
    return;
  }
  if (model.alphabet !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['model', 'alphabet'], message: 'is not used with model.checkpoint (its tokenizer.json sets the vocabulary)' });
  }
  for (const key of ['dModel', 'nLayers', 'nHeads', 'dFf'] as const) {
    if (model[key] !== MODEL_DEFAULTS[key]) {
      ctx.addIssue({ code: 'custom', path: ['model', key], message: 'is not used with model.checkpoint (its config.json sets the architecture)' });
    }
  }
  const gguf = model.checkpoint.toLowerCase().endsWith('.gguf');
  if (gguf && !existsSync(model.checkpoint)) ctx.addIssue({ code: 'custom', path: ['model', 'checkpoint'], message: `${model.checkpoint} does not exist` });
  const missing = gguf ? [] : ['config.json', 'tokenizer.json'].filter((f) => !existsSync(join(model.checkpoint!, f)));
  if (missing.length > 0) ctx.addIssue({ code: 'custom', path: ['model', 'checkpoint'], message: `${model.checkpoint} has no ${missing.join(' or ')}` });
}

type Parsed = Pick<ExperimentConfig, 'objective' | 'optimizer' | 'rollout' | 'run'>;
type Ctx = z.core.$RefinementCtx<unknown>;

const FORKING_DEFAULTS = ForkingSchema.parse({});
const SPO_DEFAULTS = SpoSchema.parse({});

/**
 * A field set away from its default where the chosen objective or schedule never reads it is an
 * error, not a silent no-op: `objective.forking.rho: 0.5` under `name: ppo-clip` would otherwise
 * train plain PPO while the config says otherwise.
 */
function objectiveRules(config: Parsed, ctx: Ctx): void {
  const o = config.objective;
  const unused = (path: string[], by: string) => ctx.addIssue({
    code: 'custom', path: ['objective', ...path], message: `is not used by objective.name '${o.name}' (only by ${by}); remove it or change objective.name`,
  });
  if (o.name !== 'forking-tokens') {
    for (const key of Object.keys(FORKING_DEFAULTS) as (keyof typeof FORKING_DEFAULTS)[]) {
      if (o.forking[key] !== FORKING_DEFAULTS[key]) unused(['forking', key], "'forking-tokens'");
    }
  }
  if (o.name !== 'spo') {
    for (const key of Object.keys(SPO_DEFAULTS) as (keyof typeof SPO_DEFAULTS)[]) {
      // JSON: spo.tree is an object, a fresh one per parse
      if (JSON.stringify(o.spo[key]) !== JSON.stringify(SPO_DEFAULTS[key])) unused(['spo', key], "'spo'");
    }
  } else {
    spoTreeRules(config, ctx);
    // SPO's advantages are segment values, not group-normalised rewards.
    if (o.advantage !== 'grpo') unused(['advantage'], "'ppo-clip' and 'forking-tokens'");
    if (o.advantageStd !== 'unbiased') unused(['advantageStd'], "'ppo-clip' and 'forking-tokens'");
    if (config.rollout.temperature === 0) {
      ctx.addIssue({ code: 'custom', path: ['rollout', 'temperature'], message: "must be > 0 for objective.name 'spo' (greedy Monte Carlo continuations would all be the same)" });
    }
  }
  if (o.name !== 'spo' && o.advantage !== 'grpo' && o.advantageStd !== 'unbiased') {
    ctx.addIssue({ code: 'custom', path: ['objective', 'advantageStd'], message: `only applies to objective.advantage 'grpo' (here '${o.advantage}')` });
  }
}

/** SPO-tree: as many leaves per prompt as a group has completions, and room for the last segment. */
function spoTreeRules(config: Parsed, ctx: Ctx): void {
  const spo = config.objective.spo;
  if (spo.mode !== 'tree') {
    if (JSON.stringify(spo.tree) !== JSON.stringify(SPO_DEFAULTS.tree)) ctx.addIssue({ code: 'custom', path: ['objective', 'spo', 'tree'], message: "is only used with objective.spo.mode 'tree'" });
    return;
  }
  for (const key of ['cutpointInterval', 'samples'] as const) {
    if (spo[key] !== SPO_DEFAULTS[key]) ctx.addIssue({ code: 'custom', path: ['objective', 'spo', key], message: "is not used by objective.spo.mode 'tree' (its values come from the tree's leaves)" });
  }
  const leaves = spo.tree.branching.reduce((a, b) => a * b, 1);
  if (leaves !== config.rollout.groupSize) {
    ctx.addIssue({ code: 'custom', path: ['objective', 'spo', 'tree', 'branching'], message: `has ${leaves} leaves per prompt; it must equal rollout.groupSize (${config.rollout.groupSize}), the completions sampled per prompt` });
  }
  const inner = spo.tree.segmentTokens * (spo.tree.branching.length - 1);
  if (inner >= config.rollout.maxNewTokens) {
    ctx.addIssue({ code: 'custom', path: ['objective', 'spo', 'tree', 'segmentTokens'], message: `× ${spo.tree.branching.length - 1} inner levels = ${inner} tokens leaves none of rollout.maxNewTokens (${config.rollout.maxNewTokens}) for the last level` });
  }
}

function optimizerRules(config: Parsed, ctx: Ctx): void {
  const o = config.optimizer;
  const at = (field: string, message: string) => ctx.addIssue({ code: 'custom', path: ['optimizer', field], message });
  microBatchRule(o, 'miniBatchSize', o.miniBatchSize, ctx);
  if (o.schedule === 'constant' && o.warmupSteps > 0) at('warmupSteps', "has no effect with optimizer.schedule 'constant'; use 'linear-warmup' or 'cosine'");
  if (o.schedule === 'linear-warmup' && o.warmupSteps === 0) at('warmupSteps', "must be > 0 with optimizer.schedule 'linear-warmup' (0 is the constant schedule)");
  if (o.schedule !== 'cosine') {
    if (o.totalSteps !== undefined) at('totalSteps', `is only used by optimizer.schedule 'cosine' (here '${o.schedule}')`);
    if (o.minLrRatio !== OptimizerSchema.shape.minLrRatio.parse(undefined)) at('minLrRatio', `is only used by optimizer.schedule 'cosine' (here '${o.schedule}')`);
    return;
  }
  const total = o.totalSteps ?? maxRlSteps(config);
  if (total <= o.warmupSteps) {
    at(o.totalSteps === undefined ? 'warmupSteps' : 'totalSteps',
      `cosine decay needs optimizer.totalSteps (${total}${o.totalSteps === undefined ? ', the run\'s most optimizer steps' : ''}) > optimizer.warmupSteps (${o.warmupSteps})`);
  }
}

/** The most RL optimizer steps a run can take (every group kept). */
export function maxRlSteps(config: Pick<ExperimentConfig, 'optimizer' | 'rollout' | 'run'>): number {
  const batch = config.rollout.promptsPerIteration * config.rollout.groupSize;
  const perEpoch = Math.ceil(batch / Math.min(config.optimizer.miniBatchSize ?? batch, batch));
  return config.run.iterations * config.optimizer.epochsPerIteration * perEpoch;
}

/** The RL learning-rate schedule, over the run's RL optimizer steps (warm-start steps not counted). */
export function lrScheduleOf(config: Pick<ExperimentConfig, 'optimizer' | 'rollout' | 'run'>): LrSchedule {
  const o = config.optimizer;
  if (o.schedule === 'constant') return { kind: 'constant' };
  if (o.schedule === 'linear-warmup') return { kind: 'linear-warmup', warmupSteps: o.warmupSteps };
  return { kind: 'cosine', warmupSteps: o.warmupSteps, totalSteps: o.totalSteps ?? maxRlSteps(config), minLrRatio: o.minLrRatio };
}
