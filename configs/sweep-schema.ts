/**
 * The `sweep:` section of a sweep file. The rest of the file is an ordinary experiment config (the
 * base); each trial writes its parameters over the base at dotted paths, and every trial's config
 * is validated by the experiment schema before anything starts (see sweeps/load.ts).
 *
 * ```yaml
 * sweep:
 *   grid: { optimizer.lr: [3e-4, 1e-3], rollout.groupSize: [4, 8] }
 *   random: { samples: 4, seed: 0, params: { objective.clipHigh: { uniform: [0.2, 0.3] } } }
 *   seeds: [1, 2]
 *   metric: eval/accuracy
 *   direction: max
 *   concurrency: 2
 *   earlyStop: { atIteration: 10, metric: reward/mean }
 * ```
 */
import { z } from 'zod';
import { boundedArray, boundedCount, boundedInt } from './bounds.js';
import { EARLY_STOP_METRICS, SWEEP_METRICS } from '../workflows/sweep-plan.js';

const DOTTED = /^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$/;
const path = () => z.string().regex(DOTTED, 'a dotted config path such as optimizer.lr');
const value = z.union([z.number(), z.string(), z.boolean()]);
const range = (item: z.ZodNumber) => z.tuple([item, item]).refine(([lo, hi]) => lo <= hi, 'low must not exceed high');

export const DistributionSchema = z.union([
  z.strictObject({ uniform: range(z.number()).describe('Uniform on [low, high].') }),
  z.strictObject({ logUniform: range(z.number().positive()).describe('Log-uniform on [low, high] (learning rates).') }),
  z.strictObject({ intRange: range(z.number().int()).describe('Uniform integer in [low, high].') }),
  z.strictObject({ choice: boundedArray(value, 'sweepValues').min(1).describe('One of these values, uniformly.') }),
]);

export const SweepSchema = z.strictObject({
  grid: z.record(path(), boundedArray(value, 'sweepValues').min(1)).default({})
    .describe('Grid search: every combination of these values (first key varies slowest).'),
  random: z.strictObject({
    samples: boundedCount('sweepTrials').describe('Random draws per grid point.'),
    seed: boundedInt(0, 'seed').default(0).describe('Seed of the draws (same seed, same trials).'),
    params: z.record(path(), DistributionSchema).describe('Distribution of each sampled field.'),
  }).optional().describe('Random search over distributions, combined with the grid.'),
  seeds: boundedArray(boundedInt(0, 'seed'), 'sweepValues').min(1).optional()
    .describe('Run every point once per seed (the experiment `seed`): seeds are a dimension of the sweep.'),
  metric: z.enum(SWEEP_METRICS).default('eval/accuracy').describe('Metric that ranks the trials.'),
  direction: z.enum(['max', 'min']).default('max').describe('Whether a larger or a smaller metric is better.'),
  concurrency: boundedCount('concurrency').default(2).describe('Most trials running at once.'),
  earlyStop: z.strictObject({
    rule: z.literal('median').default('median').describe('Median stopping: stop a trial worse than the median at iteration k.'),
    atIteration: boundedCount('iterations').describe('k: the iteration at which trials are compared.'),
    metric: z.enum(EARLY_STOP_METRICS).default('reward/mean').describe('Per-iteration training metric compared at k.'),
    direction: z.enum(['max', 'min']).default('max').describe('Whether a larger or a smaller value is better.'),
    minTrials: boundedInt(2, 'sweepTrials').default(3).describe('Values at k needed before any trial is stopped.'),
  }).optional().describe('Optional early stopping rule (applied through each trial\'s `stop` signal).'),
  pollSeconds: boundedCount('pollSeconds').default(10).describe('How often the sweep looks at running trials (live leaderboard, early stop).'),
  continueAsNewEvery: boundedCount('sweepTrials').default(50).describe('Trials per workflow history; the sweep then drains and continues as new.'),
  maxTrials: boundedCount('sweepTrials').default(1000).describe('Refuse expansions larger than this (a typo in a grid multiplies fast).'),
}).superRefine((s, ctx) => {
  const random = Object.keys(s.random?.params ?? {});
  for (const key of Object.keys(s.grid)) {
    if (random.includes(key)) ctx.addIssue({ code: 'custom', path: ['grid', key], message: `${key} is both in grid and random.params` });
  }
  if (s.seeds) {
    for (const [where, keys] of [['grid', Object.keys(s.grid)], ['random', random]] as const) {
      if (keys.includes('seed')) ctx.addIssue({ code: 'custom', path: [where, 'seed'], message: 'seed is set by sweep.seeds; remove one of them' });
    }
  }
});

export type SweepSection = z.infer<typeof SweepSchema>;
export type Distribution = z.infer<typeof DistributionSchema>;
