/**
 * SparsePO's learned mask head in a preference run (objective sparse-po, `mask: learned`; the head
 * itself is losses/preference/sparse-masks.ts `SparseMaskHead`, official code `mask_models.py`
 * `simple_all`): one head shared by the reward and the KL terms ("sparse-common"), fed the frozen
 * reference's per-layer hidden states, trained jointly with the policy through the SparsePO loss.
 *
 * The head joins the policy as one parameter set (`withMaskHead`): the same AdamW steps both, the
 * same gradient clip bounds both (one global norm, as one optimizer over both parameter groups does
 * in the code), and the weights version holds both (`param/sparse-mask/...` with their AdamW
 * moments), so a resumed run restores the head exactly. Readers of a version that want the policy
 * alone (evaluation, export) load only the policy's names. The warm start (version 0) has no head:
 * the head starts from its seeded initialisation there. Departure: the code's separate
 * `mask_weight_decay` is not reproduced; the optimizer's weight decay applies to both.
 */
import type * as tf from '@tensorflow/tfjs';
import { SparseMaskHead } from '../losses/index.js';
import type { CausalLM } from '../models/causal-lm.js';

/** Name prefix of the head's parameters in a weights version. */
export const MASK_HEAD_PREFIX = 'sparse-mask';

export function newMaskHead(o: { layers: number; width: number; seed: number; dropout: number }): SparseMaskHead {
  // No tfjs variable names: they are global per process and several runs share a worker.
  return new SparseMaskHead({ numLayers: o.layers, hiddenSize: o.width, seed: o.seed, dropout: o.dropout });
}

/**
 * The policy with the head's variables added to its parameters: everything else (forward passes,
 * config) is the policy's own. Disposing it disposes neither; the session owns both.
 */
export function withMaskHead(policy: CausalLM, head: SparseMaskHead): CausalLM {
  const names = ['ln/gamma', 'ln/beta', 'layer/weight', 'layer/bias', 'mixer/weight'];
  const params = new Map<string, tf.Variable>(policy.params);
  head.variables.forEach((v, i) => params.set(`${MASK_HEAD_PREFIX}/${names[i]}`, v));
  const variables = [...params.values()];
  return {
    config: policy.config,
    params,
    variables: () => variables,
    numParams: () => variables.reduce((a, v) => a + v.size, 0),
    forward: (tokens) => policy.forward(tokens),
    forwardCached: (tokens, positions, keyBias, cache, opts) => policy.forwardCached(tokens, positions, keyBias, cache, opts),
    hiddenStates: (tokens, positions, attnBias) => policy.hiddenStates(tokens, positions, attnBias),
    layerStates: policy.layerStates && ((tokens, positions, attnBias) => policy.layerStates!(tokens, positions, attnBias)),
    logitsFromHidden: (h) => policy.logitsFromHidden(h),
    dispose: () => undefined,
  };
}
