/**
 * The data, reward and evaluation sections of an RL config (schema.ts assembles them), in the same
 * conventions: strict objects, a default and a description on every field.
 *
 *   data:     where the rows come from: a built-in seeded generator (`source: arithmetic`,
 *             `source: word-problems`) or a JSONL file of rows (`source: file`), with its held-out rows
 *   rewards:  the verifiers that score a completion, with weights, and how they combine
 *   evaluation: how held-out rows are judged (greedy accuracy, and pass@k / mean@k with samples)
 */
import { z } from 'zod';
import { ROW_FIELDS, TEXT_ALPHABET } from '../tasks/rows.js';
import { ARITHMETIC_ALPHABET, ARITHMETIC_REWARD, longestArithmeticPrompt } from '../tasks/arithmetic.js';
import { longestWordProblemPrompt, WORD_PROBLEM_ALPHABET, WORD_PROBLEM_KINDS, WORD_PROBLEM_REWARD } from '../tasks/word-problems.js';
import type { MixMode, RewardEntry } from '../rewards/mix.js';
import { boundedArray, boundedCount, boundedInt, boundedString } from './bounds.js';
import { BUILTIN_SPECS } from '../rewards/registry.js';


const heldOutFraction = () => z.number().gt(0).lt(1).default(0.2).describe('Share of the problem space reserved for evaluation (never trained on).');
const splitSeed = () => boundedInt(0, 'seed').default(0)
  .describe('Seed of the train/held-out split; fixed apart from `seed` so runs with different seeds are evaluated on the same problems.');
const trainSize = () => boundedCount('dataRows').default(4000).describe('Training prompts drawn from the training side of the split.');
const evalSize = () => boundedCount('evalRows').default(300).describe('Held-out prompts for evaluation, disjoint from training.');

export const ArithmeticDataSchema = z.strictObject({
  source: z.literal('arithmetic').describe('Built-in generator: add/subtract integers ("57+68=" -> "125"); default reward `exact-integer`.'),
  minDigits: z.number().int().min(1).max(6).default(1).describe('Fewest digits per operand.'),
  maxDigits: z.number().int().min(1).max(6).default(2).describe('Most digits per operand.'),
  operations: z.array(z.enum(['+', '-'])).min(1).default(['+', '-']).describe('Operators to draw from.'),
  heldOutFraction: heldOutFraction(),
  splitSeed: splitSeed(),
  trainSize: trainSize(),
  evalSize: evalSize(),
});

export const WordProblemDataSchema = z.strictObject({
  source: z.literal('word-problems').describe('Built-in generator: grade-school word problems with GSM8K-style worked solutions ending in `#### <answer>`; default reward `math`.'),
  kinds: z.array(z.enum(WORD_PROBLEM_KINDS)).min(1).default([...WORD_PROBLEM_KINDS])
    .describe('Kinds of story: `add`, `sub`, `mul` (one step) and `add-sub` (two steps).'),
  maxNumber: z.number().int().min(3).max(999).default(20).describe('Largest number in a story (products use factors 2-9).'),
  heldOutFraction: heldOutFraction(),
  splitSeed: splitSeed(),
  trainSize: trainSize(),
  evalSize: evalSize(),
});

const HeldOutSchema = z.union([
  z.strictObject({ path: boundedString('pathChars').describe('A second JSONL file of rows (a relative path is taken from the config file\'s folder).') }),
  z.strictObject({
    fraction: z.number().gt(0).lt(1).describe('Share of the rows held out, chosen by a hash of the id (a row stays on its side when the file grows).'),
    seed: boundedInt(0, 'seed').default(0).describe('Seed of that hash.'),
  }),
]);

export const FileDataSchema = z.strictObject({
  source: z.literal('file').describe('A JSONL file of rows: {"id", "prompt" | "messages", "answer"?, "tests"?, "language"?, "verifier"?, "completion"?, ...}; default reward `math`.'),
  path: boundedString('pathChars').describe('The training rows (a relative path is taken from the config file\'s folder).'),
  heldOut: HeldOutSchema.default({ fraction: 0.1, seed: 0 }).describe('The held-out rows: `{ path }` of a second file, or `{ fraction, seed }` of this one.'),
  fields: z.partialRecord(z.enum(ROW_FIELDS), boundedString('shortText')).default({})
    .describe('Column names of the file, by row field: `{ prompt: question, answer: reward_model.ground_truth }` (a dotted name reaches into nested objects).'),
  evalSize: boundedCount('evalRows').optional().describe('Evaluate on the first N held-out rows only (default: all).'),
});

export const DataSchema = z.discriminatedUnion('source', [ArithmeticDataSchema, WordProblemDataSchema, FileDataSchema]);
export type DataConfig = z.infer<typeof DataSchema>;

/** The reward that scores rows when the config has no `rewards` section, by data source. */
export const DEFAULT_REWARD: Record<DataConfig['source'], string> = { arithmetic: ARITHMETIC_REWARD, 'word-problems': WORD_PROBLEM_REWARD, file: 'math' };

/** The built-in model's alphabet when `model.alphabet` is not given, by data source. */
export const DEFAULT_ALPHABET_OF: Record<DataConfig['source'], string> = { arithmetic: ARITHMETIC_ALPHABET, 'word-problems': WORD_PROBLEM_ALPHABET, file: TEXT_ALPHABET };

/** Tokens of a generated source's longest prompt (BOS included); undefined for files (checked line by line). */
export function longestGeneratedPrompt(data: DataConfig): number | undefined {
  if (data.source === 'arithmetic') return longestArithmeticPrompt(data.maxDigits);
  if (data.source === 'word-problems') return longestWordProblemPrompt(data);
  return undefined;
}

const weight = () => z.number().min(0).default(1).describe('Weight of this reward in the mix (`sum`, and the parts behind a `gate`).');
const name = () => boundedString('shortText').regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash and underscore only').optional()
  .describe('Its name in metrics (`reward/<name>/mean`) and in rows\' `verifier` field; default the verifier\'s.');
const PLAIN_VERIFIERS = Object.keys(BUILTIN_SPECS).filter((k) => !['math', 'code'].includes(k)) as [string, ...string[]];

export const RewardEntrySchema = z.discriminatedUnion('verifier', [
  z.strictObject({
    verifier: z.literal('math').describe('Final answer against the row\'s `answer` (`####`, \\boxed{}, "the answer is", ...).'),
    weight: weight(), name: name(),
    extract: z.array(z.enum(['boxed', 'hash', 'answer', 'last-number'])).min(1).optional().describe('Answer markers to look for, in priority order.'),
    rtol: z.number().positive().optional().describe('Relative tolerance of numeric equality.'),
    percent: z.enum(['either', 'fraction', 'literal']).optional().describe('How a `%` is read.'),
  }),
  z.strictObject({
    verifier: z.literal('code').describe('Runs the completion\'s code against the row\'s `tests` in a sandbox; score = share of tests passed.'),
    weight: weight(), name: name(),
    memoryMb: boundedCount('sandboxMemoryMb').optional().describe('Memory limit of a test run.'),
    maxOutputBytes: boundedCount('sandboxOutputBytes').optional().describe('Output cap of a test run.'),
    maxProcs: boundedCount('sandboxProcs').optional().describe('Process limit of a test run.'),
  }),
  z.strictObject({
    verifier: z.literal('format').describe('Shaping: the whole completion matches a regular expression or a named template (`think-answer`, `boxed`, `hash`, `integer`).'),
    weight: weight(), name: name(),
    pattern: boundedString('promptTemplate').describe('The regular expression or template name.'),
    flags: z.string().regex(/^[imsu]*$/).optional().describe('Regular-expression flags.'),
  }),
  z.strictObject({
    verifier: z.literal('length').describe('Shaping: character / word limits; past maxChars the score decays to 0 over softMargin characters.'),
    weight: weight(), name: name(),
    maxChars: boundedCount('chars').optional(), minChars: boundedCount('chars').optional(), maxWords: boundedCount('chars').optional(),
    softMargin: boundedCount('chars').optional().describe('Characters over maxChars over which the score decays linearly to 0.'),
  }),
  z.strictObject({
    verifier: z.enum(PLAIN_VERIFIERS).describe(`A built-in verifier without options: ${PLAIN_VERIFIERS.join(', ')}.`),
    weight: weight(), name: name(),
  }),
]);

export const RewardsSchema = z.strictObject({
  mode: z.enum(['sum', 'gate', 'min']).default('sum')
    .describe('`sum`: Σ weight·score; `gate`: the first reward must be correct, then Σ weight·score of the others; `min`: the smallest score.'),
  mix: boundedArray(RewardEntrySchema, 'rewardMix').min(1).describe('The rewards, each `{ verifier, weight, name?, ...its options }`.'),
});
export interface RewardsConfig { mode: MixMode; mix: RewardEntry[] }

export const EvaluationSchema = z.strictObject({
  samples: boundedCount('evalSamples').default(1)
    .describe('Completions sampled per held-out row at rollout.temperature, beside the greedy one: k > 1 reports eval/pass@k and eval/mean@k (unbiased estimator), per reward and overall.'),
});
