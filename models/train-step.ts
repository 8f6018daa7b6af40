/**
 * One optimisation step: gradients of a scalar loss w.r.t. every model weight, global-norm
 * clipping and an AdamW update. Everything created here is disposed before returning.
 *
 * {@link trainStepAccumulated} takes the loss as a sum of micro-batch terms, each built and
 * differentiated on its own (peak memory of one micro-batch), gradients summed, then one update.
 * Each term must already carry the whole batch's normaliser (e.g. token-mean: Σ_micro / N_batch
 * tokens, not Σ_micro / N_micro), so the step equals the single-batch step up to float rounding.
 * The terms are taken one at a time, each once the previous one's gradients are added, so an
 * iterable (a generator) can build a term's constant inputs just before it, off the gradient tape,
 * and free them after it: a preference step's reference pass is made per micro-batch that way.
 */
import * as tf from '@tensorflow/tfjs';
import type { CausalLM } from './causal-lm.js';
import type { AdamW } from './optimizer.js';

export interface TrainStepOptions {
  maxGradNorm: number;
  lr: number;
}

export interface TrainStepResult {
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
}

/** @param lossFn builds the loss from the model's current weights (runs under the gradient tape). */
export function trainStep(model: CausalLM, optimizer: AdamW, lossFn: () => tf.Scalar, opts: TrainStepOptions): TrainStepResult {
  return trainStepAccumulated(model, optimizer, [lossFn], opts);
}

/** One optimizer step on Σ_i lossFns[i]() (see the file header for the normaliser and for iterables). */
export function trainStepAccumulated(model: CausalLM, optimizer: AdamW, lossFns: Iterable<() => tf.Scalar>, opts: TrainStepOptions): TrainStepResult {
  const names = [...model.params.keys()];
  const vars = model.variables();
  const acc: Record<string, tf.Tensor> = {};
  let loss = 0;
  let terms = 0;
  try {
    for (const lossFn of lossFns) {
      terms++;
      const { value, grads } = tf.variableGrads(lossFn, vars);
      try {
        const v = value.dataSync()[0];
        if (!Number.isFinite(v)) throw new Error(`trainStep: non-finite loss (${v})`);
        loss += v;
        // variableGrads keys gradients by the variables' engine names; re-key by our parameter names.
        // The first term's gradients are kept as they are (a clone would copy every weight's worth
        // of gradient once more); later terms are added one parameter at a time.
        for (let i = 0; i < vars.length; i++) {
          const g = grads[vars[i].name];
          if (!g) continue;
          const prev = acc[names[i]];
          if (prev) {
            acc[names[i]] = tf.add(prev, g);
            prev.dispose();
            g.dispose();
          } else acc[names[i]] = g;
          delete grads[vars[i].name];
        }
      } finally {
        value.dispose();
        tf.dispose(Object.values(grads));
      }
    }
    if (terms === 0) throw new Error('trainStepAccumulated: no loss terms');
    const gradNorm = optimizer.applyGradients(acc, { lr: opts.lr, maxGradNorm: opts.maxGradNorm });
    return { loss, gradNorm };
  } finally {
    tf.dispose(Object.values(acc));
  }
}
