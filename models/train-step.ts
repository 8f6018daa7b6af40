/**
 * One optimisation step: gradients of a scalar loss w.r.t. every model weight, global-norm
 * clipping and an AdamW update. Everything created here is disposed before returning.
 */
import * as tf from '@tensorflow/tfjs';
import type { AdamW } from './optimizer.js';
import type { Transformer } from './transformer.js';

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
export function trainStep(model: Transformer, optimizer: AdamW, lossFn: () => tf.Scalar, opts: TrainStepOptions): TrainStepResult {
  const names = [...model.params.keys()];
  const { value, grads } = tf.variableGrads(lossFn, model.variables());
  try {
    const loss = value.dataSync()[0];
    if (!Number.isFinite(loss)) throw new Error(`trainStep: non-finite loss (${loss})`);
    // variableGrads keys gradients by the variables' engine names; re-key by our parameter names.
    const byName: Record<string, tf.Tensor> = {};
    const vars = model.variables();
    for (let i = 0; i < vars.length; i++) {
      const g = grads[vars[i].name];
      if (g) byName[names[i]] = g;
    }
    const gradNorm = optimizer.applyGradients(byName, { lr: opts.lr, maxGradNorm: opts.maxGradNorm });
    return { loss, gradNorm };
  } finally {
    value.dispose();
    tf.dispose(Object.values(grads));
  }
}
