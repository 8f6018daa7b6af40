/**
 * Per-token scores that some objectives compute once, before training, for every training pair:
 *
 *  - cDPO's critical-token scores s_t = softmax((1+β_ce)·z_pos − β_ce·z_neg)[y_t]
 *    (losses/ `criticalTokenScores`) from the positive and the negative model, both responses;
 *  - T-REG's token rewards r̂_t = σ(log π_eval(y_t | x_better) − log π_eval(y_t | x_worse)) − 0.5
 *    (losses/ `contrastiveTokenRewards`), π_eval = the reference (the warm start), both responses.
 *
 * Both are aligned to the response tokens as trained (the response's characters, then EOS), and
 * computed in chunks of pairs without gradients.
 */
import * as tf from '@tensorflow/tfjs';
import type { PreferenceObjective } from '../configs/preference-schema.js';
import { contrastiveTokenRewards, criticalTokenScores } from '../losses/index.js';
import type { TextTokenizer } from '../models/tokenizer.js';
import type { CausalLM } from '../models/causal-lm.js';
import type { TokenScores } from '../store/preference-files.js';
import { contrastivePrompts } from '../tasks/preference-data.js';
import { encodePair, type PreferencePair } from '../tasks/preference-pairs.js';
import { pairsPerPass, responseForward, unpadRows } from './preference-forward.js';

const SIDES = ['chosen', 'rejected'] as const;

type Progress = (details: Record<string, number | string>) => void;

function mean(rows: number[][]): number {
  const all = rows.flat();
  return all.length ? all.reduce((a, b) => a + b, 0) / all.length : 0;
}

/** s_t on both responses of every pair. */
export function computeCriticalScores(
  positive: CausalLM, negative: CausalLM, tok: TextTokenizer, pairs: PreferencePair[], betaCe: number, progress: Progress,
): TokenScores {
  const scores: TokenScores['scores'] = {};
  const bySide: Record<(typeof SIDES)[number], number[][]> = { chosen: [], rejected: [] };
  const encoded = pairs.map((p) => encodePair(tok, p));
  // Both models' logits of a pass are held at once.
  const CHUNK = pairsPerPass(positive.config.vocabSize, Math.max(...encoded.map((e) => e.prompt.length + Math.max(e.chosen.length, e.rejected.length))));
  for (let i = 0; i < pairs.length; i += CHUNK) {
    const chunk = encoded.slice(i, i + CHUNK);
    for (const side of SIDES) {
      const seqs = chunk.map((e) => [...e.prompt, ...e[side]]);
      const starts = chunk.map((e) => e.prompt.length);
      const rows = tf.tidy(() => {
        const pos = responseForward(positive, seqs, starts, { logits: true });
        const neg = responseForward(negative, seqs, starts, { logits: true });
        return unpadRows(criticalTokenScores(pos.logits!, neg.logits!, pos.ids, betaCe), chunk.map((e) => e[side].length));
      });
      rows.forEach((r, k) => { (scores[chunk[k].id] ??= {})[side] = r; });
      bySide[side].push(...rows);
    }
    progress({ phase: 'critical-scores', pairs: Math.min(i + CHUNK, pairs.length), of: pairs.length });
  }
  const rejected = bySide.rejected.flat();
  return {
    metrics: {
      'critical/betaCe': betaCe,
      'critical/meanScoreChosen': mean(bySide.chosen),
      'critical/meanScoreRejected': mean(bySide.rejected),
      // tokens the paper would call critical: the contrastive estimate puts them below one half
      'critical/lowScoreFractionRejected': rejected.length ? rejected.filter((s) => s < 0.5).length / rejected.length : 0,
    },
    scores,
  };
}

/** r̂_t on both responses of every pair, from the evaluator under the objective's two prompts. */
export function computeTokenRewards(
  evaluator: CausalLM, tok: TextTokenizer, pairs: PreferencePair[], objective: Extract<PreferenceObjective, { name: 't-reg' }>, progress: Progress,
): TokenScores {
  const scores: TokenScores['scores'] = {};
  const bySide: Record<(typeof SIDES)[number], number[][]> = { chosen: [], rejected: [] };
  const CHUNK = 128; // log-probs only: the fused head never holds a pass's logits whole
  for (let i = 0; i < pairs.length; i += CHUNK) {
    const chunk = pairs.slice(i, i + CHUNK);
    const prompts = chunk.map((p) => {
      const r = contrastivePrompts(objective, p.prompt);
      if ('problem' in r) throw new Error(`t-reg: pair ${p.id}: ${r.problem}`);
      return { better: tok.encode(r.better), worse: tok.encode(r.worse), pair: encodePair(tok, p) };
    });
    for (const side of SIDES) {
      const run = (which: 'better' | 'worse') => responseForward(
        evaluator, prompts.map((x) => [...x[which], ...x.pair[side]]), prompts.map((x) => x[which].length),
      );
      const rows = tf.tidy(() => {
        const better = run('better');
        const worse = run('worse');
        // The two prompts differ in length, but both layouts put response token j at column j.
        return unpadRows(contrastiveTokenRewards(better.logp, worse.logp), prompts.map((x) => x.pair[side].length));
      });
      rows.forEach((r, k) => { (scores[chunk[k].id] ??= {})[side] = r; });
      bySide[side].push(...rows);
    }
    progress({ phase: 'token-rewards', pairs: Math.min(i + CHUNK, pairs.length), of: pairs.length });
  }
  return {
    metrics: { 'treg/meanRewardChosen': mean(bySide.chosen), 'treg/meanRewardRejected': mean(bySide.rejected) },
    scores,
  };
}
