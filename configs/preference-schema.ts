/**
 * The preference experiment config (`kind: preference`): offline DPO-family runs over preference
 * pairs instead of rollouts. Same conventions as the RL schema (schema.ts): strict objects, a
 * default and a description on every field, cross-field rules as `superRefine` errors. The data,
 * model, warm-start and timeout sections are the RL schema's own, imported: `data` names the rows
 * (prompts with answers) the warm start trains on and the held-out accuracy is measured on, exactly
 * as in an RL config; `pairs` names the preference pairs.
 *
 * The objective is a union discriminated by `name`, one strict object per entry of the losses
 * registry (PREFERENCE_LOSSES): a field of another objective (`alpha` under `dpo`) is an unknown
 * key, and an unknown name lists the valid ones. `OBJECTIVES satisfies Record<PreferenceLossName,…>`
 * makes a registry entry without a schema (or the reverse) a compile error.
 */
import { z } from 'zod';
import type { PreferenceLossName } from '../losses/index.js';
import { ComputeSchema } from './compute-schema.js';
import { DataSchema, longestGeneratedPrompt } from './data-schema.js';
import { boundedCount, boundedInt, boundedString } from './bounds.js';
import { checkpointRules, ExperimentSchema, experimentName, microBatchRule, ModelSchema, TimeoutsSchema, TrackingSchema, WarmStartSchema, weightsEveryRule, type ExperimentConfig } from './schema.js';


// Measured on the built-in arithmetic task (2 digits, default model): β = 0.1 lowered held-out
// accuracy, 0.5–2 raised it; the library default of TRL (0.1) suits large pretrained models.
const beta = (what = 'β, the DPO temperature: scale of the implicit reward β·log(πθ/π_ref) (TRL\'s default is 0.1; 0.5–2 work on the built-in task).') =>
  z.number().positive().default(0.5).describe(what);
const labelSmoothing = () => z.number().min(0).lt(0.5).default(0)
  .describe('Label smoothing ε ∈ [0, 0.5): −(1−ε)logσ(h) − ε logσ(−h) (robust / "conservative" DPO); 0 = plain.');

export const TREG_PLACEHOLDERS = ['prompt', 'a', 'b', 'op', 'otherOp'] as const;
const template = (what: string, fallback: string) => boundedString('promptTemplate').default(fallback)
  .refine((t) => [...t.matchAll(/\{([^}]*)\}/g)].every((m) => (TREG_PLACEHOLDERS as readonly string[]).includes(m[1])), {
    message: `unknown placeholder; use ${TREG_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`,
  })
  .describe(`${what} Placeholders: {prompt} the pair's prompt; for arithmetic prompts \`a op b =\` also {a}, {b}, {op} and {otherOp} (the other operator).`);

export const AuxiliarySftSchema = z.strictObject({
  steps: boundedCount('optimizerSteps').default(150).describe('SFT steps of each of the positive and negative models, from the warm start.'),
  batchSize: boundedCount('batch').default(32).describe('Responses per SFT step.'),
  lr: z.number().positive().default(2e-3).describe('SFT learning rate of the positive and negative models.'),
});

export const OBJECTIVES = {
  dpo: z.strictObject({
    name: z.literal('dpo').describe('DPO (Rafailov et al. 2023), sigmoid loss on the implicit-reward margin.'),
    beta: beta(),
    labelSmoothing: labelSmoothing(),
  }),
  ipo: z.strictObject({
    name: z.literal('ipo').describe('IPO (Azar et al. 2023): squared loss (h − 1/(2τ))² on length-averaged log-ratios.'),
    beta: beta('τ, IPO\'s regularisation strength (the target margin is 1/(2τ)).'),
  }),
  'token-weighted-dpo': z.strictObject({
    name: z.literal('token-weighted-dpo').describe('DPO with per-token weights: 1 up to the first token where chosen and rejected differ, `afterDivergenceWeight` after it.'),
    beta: beta(),
    labelSmoothing: labelSmoothing(),
    afterDivergenceWeight: z.number().min(0).max(1).default(0.5)
      .describe('Weight of the tokens after the first position where the two responses differ (they follow different prefixes); 1 = plain DPO, 0 = only the deciding token. The shared prefix before it cancels between the two sides whatever its weight.'),
  }),
  'critical-token-dpo': z.strictObject({
    name: z.literal('critical-token-dpo').describe('cDPO (Lin et al. 2024): rejected tokens weighted 1 − s_t by contrastive estimation between a positive and a negative model.'),
    beta: beta('γ, the margin scale (paper 1.0, official code β = 0.1).'),
    labelSmoothing: labelSmoothing(),
    betaCe: z.number().min(0).default(1).describe('β_ce of the contrastive score s_t = softmax((1+β_ce)·z_pos − β_ce·z_neg)[y_t] (paper and code: 1).'),
    criticalSide: z.enum(['rejected', 'both']).default('rejected').describe('Weight the rejected response only (paper, 1 − s_t) or both responses (the official code\'s two-sided mode: chosen tokens by s_t).'),
    auxiliary: AuxiliarySftSchema.default(AuxiliarySftSchema.parse({}))
      .describe('The positive (chosen responses) and negative (rejected responses) models: SFT from the warm start, one child workflow each.'),
  }),
  'sparse-po': z.strictObject({
    name: z.literal('sparse-po').describe('SparsePO (Christopoulou et al. 2024): TDPO-style reward and per-token KL(π_ref‖πθ) terms under a token mask.'),
    beta: beta(),
    labelSmoothing: labelSmoothing(),
    mask: z.enum(['activations', 'learned', 'none']).default('activations')
      .describe('`activations`: the MaPO mask from the reference model\'s per-layer hidden states (mean over width, per-sequence min-max, averaged over layers); `learned`: SparsePO\'s mask head on those hidden states (one head for both terms, "sparse-common"), trained with the policy and saved in every weights version; `none`: all ones (TDPO₁).'),
    maskDropout: z.number().min(0).max(0.9).default(0.01).describe('Dropout of the learned mask head (mask: learned; SparsePO code `mask_dropout`: 0.01).'),
    maskL1: z.number().min(0).max(1).default(0)
      .describe('λ: L1 penalty on the learned mask (mask: learned), counted once for the shared mask (SparsePO code `l1_norm_param_u/d`: 0; HH sparse-common: 0.001).'),
    klTerm: z.boolean().default(true).describe('Include the masked per-token KL term d (false: masked DPO).'),
  }),
  't-reg': z.strictObject({
    name: z.literal('t-reg').describe('T-REG (Zhou et al. 2024): DPO plus a token-reward-weighted LM regulariser, r̂_t from contrastive prompting of the reference model.'),
    beta: beta(),
    labelSmoothing: labelSmoothing(),
    alpha: z.number().min(0).default(0.5).describe('α, weight of the regulariser (paper searches 0.1, 0.25, 0.5).'),
    betterPrompt: template('Prompt under which the evaluator reads a response as it should be (x_better).', '{prompt}'),
    worsePrompt: template('Prompt under which the evaluator reads a response as it should not be (x_worse); default: the other operator.', '{a}{otherOp}{b}='),
  }),
} satisfies Record<PreferenceLossName, z.ZodType>;

export const PreferenceObjectiveSchema = z.discriminatedUnion('name', [
  OBJECTIVES.dpo, OBJECTIVES.ipo, OBJECTIVES['token-weighted-dpo'], OBJECTIVES['critical-token-dpo'], OBJECTIVES['sparse-po'], OBJECTIVES['t-reg'],
]);

export const PairsSchema = z.discriminatedUnion('source', [
  z.strictObject({
    source: z.literal('generated').describe('Generate pairs from the arithmetic rows of `data` (training rows; held-out pairs from held-out rows): chosen = the answer, rejected = a plausible wrong answer.'),
    pairsPerPrompt: z.number().int().min(1).max(9).default(1).describe('Pairs (distinct wrong answers) per training problem.'),
  }),
  z.strictObject({
    source: z.literal('file').describe('Read pairs from a JSONL file, one {"id", "prompt", "chosen", "rejected"} a line.'),
    path: boundedString('pathChars').describe('The JSONL file; a relative path is taken from the config file\'s folder.'),
    heldOut: z.strictObject({
      fraction: z.number().gt(0).lt(1).default(0.1).describe('Share of the pairs (chosen by a hash of the id) kept out of training for the held-out preference metrics.'),
      seed: boundedInt(0, 'seed').default(0).describe('Seed of that hash.'),
    }).default({ fraction: 0.1, seed: 0 }).describe('The held-out pairs, as an RL data file\'s `heldOut: { fraction, seed }`.'),
  }),
]);

export const PreferenceOptimizerSchema = z.strictObject({
  // Measured on the built-in task: 1e-3 made held-out accuracy swing and fall, 3e-4 climbed steadily.
  lr: z.number().positive().default(3e-4).describe('AdamW learning rate of the preference updates (a fresh optimizer; the warm start\'s moments are not carried over).'),
  weightDecay: z.number().min(0).default(0).describe('AdamW decoupled weight decay.'),
  maxGradNorm: z.number().positive().default(1).describe('Global gradient-norm clip.'),
  batchSize: boundedCount('batch').default(64).describe('Pairs per optimizer step (the data cursor advances by this much each step).'),
  microBatchSize: boundedCount('batch').optional()
    .describe('Pairs per forward/backward pass (2 rows each: chosen and rejected); the gradients of a step\'s micro-batches are summed before its one AdamW update (gradient accumulation, TRL\'s `gradient_accumulation_steps` = batchSize / microBatchSize). Changes memory, not the update. Must not exceed optimizer.batchSize. Default: the whole step at once.'),
});

export const PreferenceRunSchema = z.strictObject({
  steps: boundedCount('optimizerSteps').default(60).describe('Optimizer steps (one batch of pairs each).'),
  evalEvery: boundedCount('everyN').default(20).describe('Evaluate every k steps (and at the end): greedy held-out accuracy and held-out pair metrics.'),
  checkpointEvery: boundedCount('everyN').default(20).describe('Write a durable checkpoint every c steps (and at the end).'),
  keepCheckpoints: boundedCount('keepCheckpoints').default(3).describe('Checkpoints kept on disk (oldest deleted first).'),
  weightsEvery: boundedCount('everyN').optional()
    .describe('Write the weights and optimizer state into the step\'s weights version every w steps (always at checkpoint steps and the last one); the other steps record their result only, and a worker that has lost the resident weights recomputes them, bit for bit, from the newest version or checkpoint that has them. Must divide run.checkpointEvery. Default: 1 (every step) for the built-in model; run.checkpointEvery for model.checkpoint, whose versions are large (1.6 GB for a 135M model).'),
  continueAsNewEvery: boundedCount('everyN').default(100).describe('Start a fresh workflow history every N steps (also when the server suggests it).'),
});

export const EvaluationSchema = z.strictObject({
  maxNewTokens: boundedCount('tokens').default(5).describe('Longest greedy completion in tokens (EOS included) when measuring held-out accuracy.'),
});

export const PreferenceExperimentSchema = z.strictObject({
  kind: z.literal('preference').describe('Marks an offline preference run (an RL config has no `kind`, or `kind: rl`).'),
  experiment: experimentName().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash and underscore only')
    .describe('Experiment name; runs are listed and filtered by it in the Web UI.'),
  seed: boundedInt(0, 'seed').default(1).describe('Seeds every random stream (init, warm start, generated pairs, data order).'),
  data: DataSchema.describe('The rows, as in an RL config (required): the training rows feed the warm start (and generated pairs), the held-out rows the accuracy.'),
  pairs: PairsSchema.default({ source: 'generated', pairsPerPrompt: 1 }).describe('Where the preference pairs come from.'),
  model: ModelSchema.default(ModelSchema.parse({})),
  warmStart: WarmStartSchema.default(WarmStartSchema.parse({})).describe('SFT on the task before the preference phase; its weights are also the frozen reference π_ref.'),
  objective: PreferenceObjectiveSchema.default(OBJECTIVES.dpo.parse({ name: 'dpo' })).describe('Preference objective, by registry name, with its own fields.'),
  optimizer: PreferenceOptimizerSchema.default(PreferenceOptimizerSchema.parse({})),
  run: PreferenceRunSchema.default(PreferenceRunSchema.parse({})),
  evaluation: EvaluationSchema.default(EvaluationSchema.parse({})),
  timeouts: TimeoutsSchema.default(TimeoutsSchema.parse({})),
  tracking: TrackingSchema,
  compute: ComputeSchema.default(ComputeSchema.parse({})).describe('Where the model steps run: the worker (default) or a Ray cluster.'),
}).superRefine((config, ctx) => {
  checkpointRules(config.model, ctx);
  weightsEveryRule(config.run, ctx);
  microBatchRule(config.optimizer, 'batchSize', config.optimizer.batchSize, ctx);
  const { data } = config;
  if (data.source === 'arithmetic' && data.minDigits > data.maxDigits) {
    ctx.addIssue({ code: 'custom', path: ['data', 'minDigits'], message: `must not exceed data.maxDigits (${data.maxDigits})` });
  }
  if (config.pairs.source === 'generated' && data.source !== 'arithmetic') {
    ctx.addIssue({ code: 'custom', path: ['pairs', 'source'], message: `'generated' pairs come from arithmetic rows (data.source: arithmetic), not ${data.source}; give pairs: { source: file, path }` });
  }
  const longestPrompt = longestGeneratedPrompt(data);
  if (longestPrompt !== undefined && longestPrompt + config.evaluation.maxNewTokens > config.model.maxSeqLen) {
    ctx.addIssue({
      code: 'custom', path: ['model', 'maxSeqLen'],
      message: `must hold the longest prompt (${longestPrompt} tokens) plus evaluation.maxNewTokens (${config.evaluation.maxNewTokens})`,
    });
  }
  if (config.objective.name === 't-reg' && config.pairs.source === 'generated' && data.source === 'arithmetic') {
    // Longest answer: maxDigits + 1 digits + EOS.
    const longestAnswer = data.maxDigits + 2;
    for (const field of ['betterPrompt', 'worsePrompt'] as const) {
      const big = '9'.repeat(data.maxDigits);
      const rendered = renderTemplate(config.objective[field], { prompt: `${big}+${big}=`, a: big, b: big, op: '+', otherOp: '-' });
      if (1 + [...rendered].length + longestAnswer > config.model.maxSeqLen) {
        ctx.addIssue({
          code: 'custom', path: ['objective', field],
          message: `the longest rendered prompt (${1 + [...rendered].length} tokens) plus the longest answer (${longestAnswer}) exceeds model.maxSeqLen (${config.model.maxSeqLen})`,
        });
      }
    }
  }
});

export type PreferenceConfig = z.infer<typeof PreferenceExperimentSchema>;
export type PreferenceObjective = PreferenceConfig['objective'];

/** Fills a T-REG prompt template (placeholders checked by the schema). */
export function renderTemplate(template: string, values: Record<(typeof TREG_PLACEHOLDERS)[number], string>): string {
  return template.replace(/\{([^}]*)\}/g, (_, key: string) => values[key as keyof typeof values] ?? `{${key}}`);
}

/**
 * The RL config whose warm start this preference run reuses (the compute host's `warmStart`): the
 * same data, model, warm-start section, seed and evaluation length; RL-only sections at defaults.
 */
export function warmStartConfigOf(config: PreferenceConfig): ExperimentConfig {
  return ExperimentSchema.parse({
    experiment: config.experiment,
    seed: config.seed,
    data: config.data,
    model: config.model,
    warmStart: config.warmStart,
    // The warm start samples nothing but its greedy evaluation; a rollout of 2 × optimizer.batchSize
    // rows, in passes of 2 × optimizer.microBatchSize, sizes the worker's memory check
    // (engine/run-memory.ts) as the preference step's pairs.
    rollout: { maxNewTokens: config.evaluation.maxNewTokens, promptsPerIteration: config.optimizer.batchSize, groupSize: 2 },
    optimizer: {
      weightDecay: config.optimizer.weightDecay, maxGradNorm: config.optimizer.maxGradNorm,
      ...(config.optimizer.microBatchSize === undefined ? {} : { microBatchSize: 2 * config.optimizer.microBatchSize }),
    },
    timeouts: config.timeouts,
  });
}
