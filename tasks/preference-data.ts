/**
 * The preference pairs of a run, from its config: generated from its arithmetic rows or read from a
 * JSONL file, split into training pairs and held-out pairs, every pair checked against the run's
 * tokenizer and context before anything trains.
 *
 *  - generated (`pairs.source: generated`, `data.source: arithmetic`): training pairs from the
 *    training rows (`pairsPerPrompt` each), held-out pairs from the held-out rows (one each), the
 *    same problems the warm start trains on and the accuracy is measured on;
 *  - file (`pairs.source: file`): `heldOut.fraction` of the pairs, chosen by a hash of (seed, id) (so
 *    a pair stays on its side when the file grows), are held out.
 *
 * T-REG's contrastive prompts are rendered here too, so a template that does not fit a pair (a
 * `{a}` on a prompt that is not `a op b =`, a prompt too long) is a line-numbered data error.
 */
import type { PreferenceConfig } from '../configs/preference-schema.js';
import { renderTemplate } from '../configs/preference-schema.js';
import { deriveRng } from '../common/rng.js';
import type { PromptInput, TextTokenizer } from '../models/tokenizer.js';
import type { ArithmeticExample } from './arithmetic.js';
import { arithmeticPreferencePairs, parseArithmeticPrompt } from './arithmetic-preferences.js';
import { DataError } from './data-error.js';
import { generatedRows } from './data-set.js';
import { loadPreferenceJsonl, pairProblems, PreferenceDataError, type PairLimits, type PreferencePair } from './preference-pairs.js';

export interface PreferenceDataSet {
  train: PreferencePair[];
  heldOut: PreferencePair[];
}

/** T-REG's better / worse prompts for a pair's prompt, or a reason they cannot be rendered. */
export function contrastivePrompts(objective: { betterPrompt: string; worsePrompt: string }, prompt: PromptInput): { better: string; worse: string } | { problem: string } {
  if (typeof prompt !== 'string') return { problem: 'the prompt is chat messages; T-REG\'s objective.betterPrompt and objective.worsePrompt templates take a text prompt' };
  const parsed = parseArithmeticPrompt(prompt);
  const values = {
    prompt,
    a: parsed ? String(parsed.a) : '',
    b: parsed ? String(parsed.b) : '',
    op: parsed?.op ?? '',
    otherOp: parsed ? (parsed.op === '+' ? '-' : '+') : '',
  };
  if (!parsed) {
    for (const field of ['betterPrompt', 'worsePrompt'] as const) {
      const uses = /\{(a|b|op|otherOp)\}/.exec(objective[field]);
      if (uses) return { problem: `prompt ${JSON.stringify(prompt)} is not of the form a+b= or a-b=, which objective.${field}'s {${uses[1]}} needs` };
    }
  }
  return { better: renderTemplate(objective.betterPrompt, values), worse: renderTemplate(objective.worsePrompt, values) };
}

/** Problems of a pair's T-REG prompts (empty when fine, or when the objective is not t-reg). */
function objectiveProblems(config: PreferenceConfig, pair: PreferencePair, limits: PairLimits): string[] {
  const o = config.objective;
  if (o.name !== 't-reg') return [];
  const prompts = contrastivePrompts(o, pair.prompt);
  if ('problem' in prompts) return [prompts.problem];
  return [
    ...pairProblems({ ...pair, prompt: prompts.better }, limits).map((p) => `objective.betterPrompt rendered as ${JSON.stringify(prompts.better)}: ${p}`),
    ...pairProblems({ ...pair, prompt: prompts.worse }, limits).map((p) => `objective.worsePrompt rendered as ${JSON.stringify(prompts.worse)}: ${p}`),
  ];
}

/**
 * The run's training and held-out pairs.
 * @throws PreferenceDataError (name `DataError`) naming each bad line (file) or pair (generated)
 */
export function preferenceDataSet(config: PreferenceConfig, tokenizer: TextTokenizer): PreferenceDataSet {
  const limits: PairLimits = { tokenizer, maxSeqLen: config.model.maxSeqLen };
  const check = (pair: PreferencePair) => [...pairProblems(pair, limits), ...objectiveProblems(config, pair, limits)];
  const { data, pairs: source } = config;
  if (source.source === 'generated') {
    if (data.source !== 'arithmetic') throw new PreferenceDataError('generated pairs', [`pairs: 'generated' needs data.source arithmetic, not ${data.source}`]);
    const make = (split: 'train' | 'heldout', pairsPerPrompt: number) => {
      let problems: ArithmeticExample[];
      try {
        problems = generatedRows(data, split) as ArithmeticExample[];
      } catch (err) {
        // e.g. data.trainSize larger than the training side of the problem space
        throw new PreferenceDataError('generated arithmetic pairs', err instanceof DataError ? err.problems : [(err as Error).message]);
      }
      return arithmeticPreferencePairs(problems, { seed: config.seed, pairsPerPrompt, maxDigits: data.maxDigits });
    };
    const set = { train: make('train', source.pairsPerPrompt), heldOut: make('heldout', 1) };
    const problems = [...set.train, ...set.heldOut].flatMap((p) => check(p).map((m) => `pair ${p.id}: ${m}`));
    if (problems.length) throw new PreferenceDataError('generated arithmetic pairs', problems.slice(0, 20));
    return set;
  }
  const pairs = loadPreferenceJsonl(source.path, limits, (pair) => objectiveProblems(config, pair, limits));
  const { fraction, seed } = source.heldOut;
  const heldOut = (p: PreferencePair) => deriveRng(seed, `preference-split/${p.id}`).next() < fraction;
  const set = { train: pairs.filter((p) => !heldOut(p)), heldOut: pairs.filter(heldOut) };
  if (set.train.length === 0) {
    throw new PreferenceDataError(source.path, [`all ${pairs.length} pairs fell on the held-out side (pairs.heldOut.fraction ${fraction}); add pairs or lower it`]);
  }
  return set;
}
