/**
 * What a row must satisfy to be trained on by a given run: its verifier exists, the rewards that
 * score it have what they need (an answer for math, tests for code), its prompt encodes with the
 * run's tokenizer (chat template included) and fits the model's context with room for the
 * completion, and its demonstration (when the warm start trains on it) fits too.
 */
import { unencodable, type TextTokenizer } from '../models/tokenizer.js';
import { needsTests, termsFor, type RewardMix, type RewardTerm } from '../rewards/mix.js';
import { UnknownVerifierError } from '../rewards/registry.js';
import type { VerifierSpec } from '../rewards/types.js';
import type { Row, RowCheck } from './rows.js';

export interface RowLimits {
  tokenizer: TextTokenizer;
  /** The model's context (`model.maxSeqLen`). */
  maxSeqLen: number;
  /** Room a completion needs after the prompt (`rollout.maxNewTokens`). */
  maxNewTokens: number;
  mix: RewardMix;
  /** Check `completion` too (the warm start trains on it). */
  demonstrations: boolean;
}

const comparesAnswer = (s: VerifierSpec): boolean => s.kind === 'math' || (s.kind === 'compose' && s.parts.some((p) => comparesAnswer(p.spec)));

/** Token count of the prompt once templated, or why it cannot be encoded. */
function promptTokens(tokenizer: TextTokenizer, row: Row): number | string {
  try {
    return tokenizer.encodePrompt(row.prompt).length;
  } catch (err) {
    const texts = typeof row.prompt === 'string' ? [row.prompt] : row.prompt.map((m) => m.content);
    for (const text of texts) {
      const c = unencodable(tokenizer, text);
      if (c !== undefined) return `prompt: character ${JSON.stringify(c)} cannot be encoded by the run's tokenizer`;
    }
    return `prompt: ${(err as Error).message}`;
  }
}

export function rowChecker(limits: RowLimits): RowCheck {
  return (row) => {
    const problems: string[] = [];
    let terms: RewardTerm[] = [];
    try {
      terms = termsFor(limits.mix, row.verifier);
    } catch (err) {
      if (!(err instanceof UnknownVerifierError)) throw err;
      problems.push(`verifier: ${err.message}`);
    }
    const scoredBy = terms.map((t) => t.name).join(', ');
    if (needsTests(terms) && !row.tests?.length) problems.push(`tests: required for a row scored by ${scoredBy} (code)`);
    if (terms.some((t) => comparesAnswer(t.spec)) && row.answer === undefined) problems.push(`answer: required for a row scored by ${scoredBy}`);
    const n = promptTokens(limits.tokenizer, row);
    if (typeof n === 'string') {
      problems.push(n);
      return problems;
    }
    if (n + limits.maxNewTokens > limits.maxSeqLen) {
      problems.push(`prompt is ${n} tokens once templated; with rollout.maxNewTokens (${limits.maxNewTokens}) that exceeds model.maxSeqLen (${limits.maxSeqLen})`);
    }
    if (limits.demonstrations && row.completion !== undefined) {
      const c = unencodable(limits.tokenizer, row.completion);
      if (c !== undefined) problems.push(`completion: character ${JSON.stringify(c)} cannot be encoded by the run's tokenizer`);
      else {
        const total = n + limits.tokenizer.encode(row.completion, { bos: false, eos: true }).length;
        if (total > limits.maxSeqLen) problems.push(`prompt + completion is ${total} tokens (EOS included), longer than model.maxSeqLen (${limits.maxSeqLen})`);
      }
    }
    return problems;
  };
}
