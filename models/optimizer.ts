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
 * The update runs on all parameters at once: gradients and weights are concatenated into one
 * vector, m and v are stored that way, and the new weights are split back. Each rule above is
 * elementwise, so this computes the same numbers as a loop over parameters, in ~20 kernels instead
 * of ~17 per parameter. On the demo model (28 parameters, 102k weights) the step is bound by
 * kernel dispatch, not arithmetic: the loop was ~480 of an SFT step's ~1300 kernels.
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
  /** Parameter names in the order of the flat vectors, with their element counts. */
  private readonly names: string[];
  private readonly sizes: number[];
  /**
   * True where an element belongs to a matrix (decayed); null when λ = 0. A bool per weight: the
   * parameters keep their order in the flat vectors, since the gradient norm sums in that order and
   * reordering it changes a run's numbers.
   */
  private readonly decayMask: tf.Tensor1D | null;
  /** First and second moments of every parameter, concatenated in `names` order. */
  private readonly m: tf.Variable;
  private readonly v: tf.Variable;
  /** Completed steps (t in the bias correction is step after increment). */
  step = 0;

  constructor(params: Map<string, tf.Variable>, config: Partial<AdamWConfig> = {}) {
    this.config = { ...ADAMW_DEFAULTS, ...config };
    this.params = params;
    this.names = [...params.keys()];
    this.sizes = this.names.map((n) => params.get(n)!.size);
    this.decayMask = this.config.weightDecay > 0 ? tf.tidy(() => this.elementMask((n) => params.get(n)!.rank >= 2)) : null;
    const total = this.sizes.reduce((a, b) => a + b, 0);
    this.m = tf.variable(tf.zeros([total]), false);
    this.v = tf.variable(tf.zeros([total]), false);
  }

  /**
   * Apply one update from gradients keyed by parameter name (a parameter without a gradient is
   * left untouched, moments included). Returns the global gradient norm before clipping. Does not
   * dispose `grads`.
   */
  applyGradients(grads: Record<string, tf.Tensor>, opts: StepOptions = {}): number {
    const present = this.names.map((n) => grads[n] !== undefined);
    if (!present.some(Boolean)) throw new Error('AdamW: no gradient for any parameter');
    const g = tf.tidy(() => tf.concat(this.names.map((n, i) => (present[i] ? tf.reshape(grads[n], [-1]) : tf.zeros([this.sizes[i]])))));
    try {
      const normT = tf.tidy(() => tf.sqrt(tf.sum(tf.square(g))));
      const gradNorm = normT.dataSync()[0];
      normT.dispose();
      if (!Number.isFinite(gradNorm)) throw new Error(`AdamW: non-finite gradient norm (${gradNorm})`);
      const clip = opts.maxGradNorm && gradNorm > opts.maxGradNorm ? opts.maxGradNorm / (gradNorm + 1e-6) : 1;
      const { beta1: b1, beta2: b2, eps, weightDecay } = this.config;
      const lr = opts.lr ?? this.config.lr;
      this.step += 1;
      const bc1 = 1 - Math.pow(b1, this.step);
      const bc2 = 1 - Math.pow(b2, this.step);
      tf.tidy(() => {
        const gc = clip === 1 ? g : tf.mul(g, clip);
        let m: tf.Tensor = tf.add(tf.mul(this.m, b1), tf.mul(gc, 1 - b1));
        let v: tf.Tensor = tf.add(tf.mul(this.v, b2), tf.mul(tf.square(gc), 1 - b2));
        const p = tf.concat(this.names.map((n) => tf.reshape(this.params.get(n)!, [-1])));
        let upd = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), eps));
        if (this.decayMask) upd = tf.where(this.decayMask, tf.add(upd, tf.mul(p, weightDecay)), upd);
        let next = tf.sub(p, tf.mul(upd, lr));
        if (!present.every(Boolean)) {
          const mask = this.elementMask((_, i) => present[i]);
          [m, v, next] = [tf.where(mask, m, this.m), tf.where(mask, v, this.v), tf.where(mask, next, p)];
        }
        this.m.assign(m);
        this.v.assign(v);
        const parts = tf.split(next, this.sizes);
        this.names.forEach((n, i) => {
          if (present[i]) this.params.get(n)!.assign(tf.reshape(parts[i], this.params.get(n)!.shape));
        });
      });
      return gradNorm;
    } finally {
      g.dispose();
    }
  }

  /** A bool per element of the flat vectors: true for the elements of parameters where `keep` holds. */
  private elementMask(keep: (name: string, index: number) => boolean): tf.Tensor1D {
    return tf.concat(this.names.map((n, i) => tf.fill([this.sizes[i]], keep(n, i) ? 1 : 0, 'bool'))) as tf.Tensor1D;
  }

  /** The moments, as views into each flat vector's data (never written in place: an update assigns new tensors). */
  exportState(): AdamWState {
    const dump = (flat: tf.Variable) => {
      const all = flat.dataSync() as Float32Array;
      let at = 0;
      return Object.fromEntries(this.names.map((n, i) => [n, all.subarray(at, (at += this.sizes[i]))]));
    };
    return { step: this.step, m: dump(this.m), v: dump(this.v) };
  }

  importState(s: AdamWState): void {
    if (!Number.isInteger(s.step) || s.step < 0) throw new Error(`AdamW.importState: bad step ${s.step}`);
    for (const [which, flat] of [['m', this.m], ['v', this.v]] as const) {
      const all = new Float32Array(flat.size);
      let at = 0;
      this.names.forEach((n, i) => {
        const data = s[which][n];
        if (!data || data.length !== this.sizes[i]) throw new Error(`AdamW.importState: ${which}['${n}'] missing or of size ${data?.length} (want ${this.sizes[i]})`);
        all.set(data, at);
        at += this.sizes[i];
      });
      tf.tidy(() => flat.assign(tf.tensor1d(all)));
    }
    this.step = s.step;
  }

  dispose(): void {
    tf.dispose([this.m, this.v, ...(this.decayMask ? [this.decayMask] : [])]);
  }
}
