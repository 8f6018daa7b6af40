/**
 * AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", Alg. 2) with bias
 * correction and global-norm gradient clipping, over named `tf.Variable`s.
 *
 * One step, for each parameter p with gradient g (after clipping by the global norm):
 *   m = β1·m + (1-β1)·g;  v = β2·v + (1-β2)·g²
 *   p = p - lr·( m/(1-β1^t) / (sqrt(v/(1-β2^t)) + ε) + λ·p )
 * The decay λ applies only to matrices (rank >= 2), not to biases and layer-norm gains, as in
 * nanoGPT. State (step, m, v) exports to plain Float32Arrays for the checkpoint files.
 *
 * The update runs parameter by parameter, each inside its own `tf.tidy`, so the temporaries of
 * one parameter (scaled gradient, new moments, the update) are freed before the next is touched.
 * An earlier version concatenated every gradient, weight and moment into flat vectors and split
 * the new weights back: fewer kernels on a tiny model, but for SmolLM2-135M each flat vector is
 * 540 MB and about ten of them were alive at once (the 9 GB AdamW step of issue 17), and the
 * concat/split copies cost as much time as the update itself (issue 25).
 */
import * as tf from '@tensorflow/tfjs';

export interface AdamWConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export const ADAMW_DEFAULTS: AdamWConfig = { lr: 1e-3, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.0 };

export interface AdamWState {
  step: number;
  /** First and second moments by parameter name, each in the parameter's shape (row-major). */
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

export interface StepOptions {
  /** Overrides the configured learning rate for this step (schedules, live lr changes). */
  lr?: number;
  /** Clip the global gradient norm to this (0 or undefined: no clipping). */
  maxGradNorm?: number;
}

export class AdamW {
  readonly config: AdamWConfig;
  private readonly params: Map<string, tf.Variable>;
  /** First and second moments, by parameter name, each in its parameter's shape. */
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  /** Completed steps (t in the bias correction is step after increment). */
  step = 0;

  constructor(params: Map<string, tf.Variable>, config: Partial<AdamWConfig> = {}) {
    this.config = { ...ADAMW_DEFAULTS, ...config };
    this.params = params;
    for (const [name, p] of params) {
      // tidy frees the zeros once the variable holds its own reference to them.
      this.m.set(name, tf.tidy(() => tf.variable(tf.zeros(p.shape), false)));
      this.v.set(name, tf.tidy(() => tf.variable(tf.zeros(p.shape), false)));
    }
  }

  /**
   * Apply one update from gradients keyed by parameter name (a parameter without a gradient is
   * left untouched, moments included). Returns the global gradient norm before clipping. Does not
   * dispose `grads`.
   */
  applyGradients(grads: Record<string, tf.Tensor>, opts: StepOptions = {}): number {
    const names = [...this.params.keys()].filter((n) => grads[n] !== undefined);
    if (names.length === 0) throw new Error('AdamW: no gradient for any parameter');
    for (const n of names) {
      const want = this.params.get(n)!.shape.join();
      if (grads[n].shape.join() !== want) throw new Error(`AdamW: gradient of '${n}' has shape [${grads[n].shape}], its parameter [${want}]`);
    }
    // One read-back for the global norm: Σ over parameters of Σ g², summed on the device.
    const normT = tf.tidy(() => tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n]))))));
    const gradNorm = normT.dataSync()[0];
    normT.dispose();
    if (!Number.isFinite(gradNorm)) throw new Error(`AdamW: non-finite gradient norm (${gradNorm})`);
    const clip = opts.maxGradNorm && gradNorm > opts.maxGradNorm ? opts.maxGradNorm / (gradNorm + 1e-6) : 1;
    const { beta1: b1, beta2: b2, eps, weightDecay } = this.config;
    const lr = opts.lr ?? this.config.lr;
    this.step += 1;
    const bc1 = 1 - Math.pow(b1, this.step);
    const bc2 = 1 - Math.pow(b2, this.step);
    for (const n of names) {
      const p = this.params.get(n)!;
      const m = this.m.get(n)!;
      const v = this.v.get(n)!;
      tf.tidy(() => {
        const g = clip === 1 ? grads[n] : tf.mul(grads[n], clip);
        const mNext = tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1));
        const vNext = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2));
        let upd = tf.div(tf.div(mNext, bc1), tf.add(tf.sqrt(tf.div(vNext, bc2)), eps));
        // Decoupled decay on matrices only (rank >= 2), not on biases and norm gains.
        if (weightDecay > 0 && p.rank >= 2) upd = tf.add(upd, tf.mul(p, weightDecay));
        m.assign(mNext);
        v.assign(vNext);
        p.assign(tf.sub(p, tf.mul(upd, lr)));
      });
    }
    return gradNorm;
  }

  /** The moments, copied out of the tensors (one Float32Array per parameter and moment). */
  exportState(): AdamWState {
    const dump = (moments: Map<string, tf.Variable>) => Object.fromEntries([...moments].map(([n, t]) => [n, t.dataSync() as Float32Array]));
    return { step: this.step, m: dump(this.m), v: dump(this.v) };
  }

  /** One parameter's first ('m') or second ('v') moment, copied out. */
  moment(which: 'm' | 'v', name: string): Float32Array {
    const t = (which === 'm' ? this.m : this.v).get(name);
    if (!t) throw new Error(`AdamW.moment: no parameter '${name}'`);
    return t.dataSync() as Float32Array;
  }

  importState(s: AdamWState): void {
    if (!Number.isInteger(s.step) || s.step < 0) throw new Error(`AdamW.importState: bad step ${s.step}`);
    for (const [which, moments] of [['m', this.m], ['v', this.v]] as const) {
      for (const [n, t] of moments) {
        const data = s[which][n];
        if (!data || data.length !== t.size) throw new Error(`AdamW.importState: ${which}['${n}'] missing or of size ${data?.length} (want ${t.size})`);
      }
      for (const [n, t] of moments) tf.tidy(() => t.assign(tf.tensor(s[which][n], t.shape, 'float32')));
    }
    this.step = s.step;
  }

  /** Bytes of optimizer state (both moments, float32): what the memory budget counts. */
  stateBytes(): number {
    let n = 0;
    for (const t of this.m.values()) n += t.size;
    return n * 4 * 2;
  }

  dispose(): void {
    tf.dispose([...this.m.values(), ...this.v.values()]);
  }
}
