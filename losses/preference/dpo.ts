/**
 * DPO, token-weighted DPO and IPO: the preference baselines.
 *
 * DPO (Rafailov et al., arXiv 2305.18290, eq. 7), with per-token weights w (1 when absent):
 *   r(y) = β Σ_t w_t m_t (lp_θ[t] − lp_ref[t])                 [B]
 *   h    = r(y_w) − r(y_l)
 *   L    = mean_pairs[ −(1−ε) logσ(h) − ε logσ(−h) ]           ε = label smoothing (TRL `sigmoid`)
 * All-ones weights give plain DPO exactly; token-weighted DPO is the same formula with the caller's
 * weights (e.g. TIS-DPO, arXiv 2410.04350 eq. 10, or the cDPO weights of critical-token-dpo.ts).
 *
 * IPO (Azar et al., arXiv 2310.12036, eq. 17), τ = β:
 *   h    = mean_t w m (lp_θ − lp_ref)[y_w] − mean_t w m (lp_θ − lp_ref)[y_l]
 *   L    = mean_pairs[ (h − 1/(2β))² ]
 * Departure from the paper: the log-ratios are averaged over each response's valid tokens, as TRL
 * does (a choice TRL says it confirmed with the IPO authors); the paper writes sequence sums.
 *
 * Shapes: every per-token input [B, T]; loss scalar. Metrics: `margin` (mean h), `accuracy`
 * (fraction of pairs with h > 0), `chosenReward`, `rejectedReward` (mean r; for IPO the mean
 * per-token log-ratio).
 * The per-token sums of both responses are one fused op (row-sums.ts), shared with every
 * preference objective; the metrics are read from its sums on the host.
 */
import * as tf from '@tensorflow/tfjs';
import type { LossResult, PreferenceLossFn, PreferenceLossInputs, PreferenceLossParams } from '../types.js';
import { LossInputError } from '../errors.js';
import { outRows, weightedRowSums } from '../row-sums.js';
import { checkPreferenceInputs, logRatioRow, pairMetrics, readRows, scaled, sigmoidPairLoss } from './core.js';

/** Constant per-token scores s [B, T] whose complements 1 − s weight each side (cDPO). */
export interface ComplementWeights {
  chosen?: tf.Tensor2D;
  rejected?: tf.Tensor2D;
}

/**
 * DPO whose per-token weights are mask × `tokenWeights` × (1 − complement) × factor on each side.
 * Used by dpo, token-weighted DPO and critical-token DPO.
 * @param factors constant [B, T] weights that multiply in as they are (cDPO's chosen side, s_t)
 */
export function weightedDpoLoss(inputs: PreferenceLossInputs, params: PreferenceLossParams, complements: ComplementWeights = {}, factors: ComplementWeights = {}): LossResult {
  const { beta } = params;
  let sums: tf.Tensor2D | undefined;
  const loss = tf.tidy(() => {
    const rows = [
      logRatioRow(inputs.chosen, { complements: [complements.chosen], extra: [factors.chosen] }),
      logRatioRow(inputs.rejected, { complements: [complements.rejected], extra: [factors.rejected] }),
    ];
    // h = β Σ w (lp − ref)[y_w] − β Σ w (lp − ref)[y_l]
    const { out, detached } = weightedRowSums(rows, [[beta, -beta]], params.skipMetrics ? undefined : (S) => [S]);
    sums = detached?.[0] as tf.Tensor2D | undefined;
    return tf.mean(sigmoidPairLoss(outRows(out)[0], params.labelSmoothing ?? 0)) as tf.Scalar;
  });
  if (!sums) return { loss, metrics: {} };
  const [sw, sl] = readRows(sums);
  const rw = scaled(sw, beta);
  const rl = scaled(sl, beta);
  return { loss, metrics: pairMetrics(rw.map((r, i) => r - rl[i]), rw, rl) };
}

/** DPO (sigmoid, optional label smoothing); `tokenWeights` on either side multiply in. */
export const dpo: PreferenceLossFn = (inputs, params) => {
  checkPreferenceInputs('dpo', inputs, params);
  return weightedDpoLoss(inputs, params);
};

/** Token-weighted DPO: DPO that insists on `tokenWeights` on at least one side. */
export const tokenWeightedDpo: PreferenceLossFn = (inputs, params) => {
  checkPreferenceInputs('tokenWeightedDpo', inputs, params);
  if (!inputs.chosen.tokenWeights && !inputs.rejected.tokenWeights) {
    throw new LossInputError('tokenWeightedDpo', 'needs tokenWeights on the chosen or the rejected response');
  }
  return weightedDpoLoss(inputs, params);
};

/** IPO with length-averaged log-ratios (TRL convention); τ = params.beta. */
export const ipo: PreferenceLossFn = (inputs, params) => {
  checkPreferenceInputs('ipo', inputs, params);
  let sums: tf.Tensor2D | undefined;
  const loss = tf.tidy(() => {
    // h = mean_t w (lp − ref)[y_w] − mean_t w (lp − ref)[y_l]: each row divided by its valid-token count
    const rows = [logRatioRow(inputs.chosen, { mean: true }), logRatioRow(inputs.rejected, { mean: true })];
    const { out, detached } = weightedRowSums(rows, [[1, -1]], params.skipMetrics ? undefined : (S) => [S]);
    sums = detached?.[0] as tf.Tensor2D | undefined;
    return tf.mean(tf.square(tf.sub(outRows(out)[0], 1 / (2 * params.beta)))) as tf.Scalar;
  });
  if (!sums) return { loss, metrics: {} };
  const [rw, rl] = readRows(sums);
  return { loss, metrics: pairMetrics(rw.map((r, i) => r - rl[i]), rw, rl) };
};
