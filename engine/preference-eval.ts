/**
 * Held-out pair metrics of a preference run, beside the greedy accuracy: on pairs never trained on,
 * how often the policy's implicit reward ranks the chosen response first
 * (Σ log πθ/π_ref over chosen > over rejected), the mean margin β·(that difference), and the mean
 * per-token log-prob of each response under the policy (DPO can lower both; this shows it).
 */
import * as tf from '@tensorflow/tfjs';
import type { TextTokenizer } from '../models/tokenizer.js';
import type { CausalLM } from '../models/causal-lm.js';
import type { PreferencePair } from '../tasks/preference-pairs.js';
import type { Metrics } from '../common/metrics.js';
import { encodeBatch } from './preference-batch.js';
import { responseForward } from './preference-forward.js';

const CHUNK = 128;

export function heldOutPairMetrics(policy: CausalLM, reference: CausalLM, tok: TextTokenizer, pairs: PreferencePair[], beta: number): Metrics {
  if (pairs.length === 0) return {};
  let wins = 0;
  let margin = 0;
  const sum = { chosen: 0, rejected: 0, chosenTokens: 0, rejectedTokens: 0 };
  for (let i = 0; i < pairs.length; i += CHUNK) {
    const batch = encodeBatch(tok, pairs.slice(i, i + CHUNK));
    const B = batch.pairs.length;
    const sums = tf.tidy(() => {
      const p = responseForward(policy, batch.seqs, batch.starts);
      const r = responseForward(reference, batch.seqs, batch.starts);
      return tf.stack([tf.sum(tf.mul(p.logp, p.mask), 1), tf.sum(tf.mul(r.logp, r.mask), 1), tf.sum(p.mask, 1)]);
    });
    const [pol, ref, tokens] = sums.arraySync() as number[][];
    sums.dispose();
    // rows: the B chosen sequences, then the B rejected ones
    for (let b = 0; b < B; b++) {
      const h = beta * ((pol[b] - ref[b]) - (pol[B + b] - ref[B + b]));
      if (h > 0) wins++;
      margin += h;
      sum.chosen += pol[b];
      sum.rejected += pol[B + b];
      sum.chosenTokens += tokens[b];
      sum.rejectedTokens += tokens[B + b];
    }
  }
  return {
    'eval/pairAccuracy': wins / pairs.length,
    'eval/margin': margin / pairs.length,
    'eval/chosenLogp': sum.chosen / Math.max(sum.chosenTokens, 1),
    'eval/rejectedLogp': sum.rejected / Math.max(sum.rejectedTokens, 1),
  };
}
