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
 * The update runs over groups of parameters, each group inside its own `tf.tidy`, so the
 * temporaries of one group (scaled gradient, new moments, the update) are freed before the next is
 * touched. Small parameters of the same kind (decayed or not) are concatenated into one group of at
 * most GROUP_ELEMENTS values, so a small model pays a dozen kernels per group instead of per
 * parameter (kernel dispatch is most of a small model's step: issue 25); a parameter that large
 * is a group of its own and is never copied. An earlier version concatenated every parameter into
 * flat vectors: for SmolLM2-135M each was 540 MB and about ten were alive at once (the 9 GB AdamW
 * step of issue 17). The arithmetic is elementwise, so grouping does not change a single bit.
 */
import * as tf from '@tensorflow/tfjs';

export interface AdamWConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/**
 * Most values of one concatenated group (4 MB of float32): bounds the update's temporaries. A demo
 * model fits in one group; SmolLM2-135M's update peaked 0.44 GB higher with 4 Mi-value groups.
 */
const GROUP_ELEMENTS = 2 ** 20;

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
    for (const group of this.groups(names)) {
      const ps = group.map((n) => this.params.get(n)!);
      const ms = group.map((n) => this.m.get(n)!);
      const vs = group.map((n) => this.v.get(n)!);
      const decay = weightDecay > 0 && ps[0].rank >= 2;
      tf.tidy(() => {
        // One parameter: its own tensors. Several: flat concatenations, split back after the update.
        const flat = (ts: tf.Tensor[]) => (ts.length === 1 ? ts[0] : tf.concat(ts.map((t) => tf.reshape(t, [-1]))));
        const gRaw = flat(group.map((n) => grads[n]));
        const g = clip === 1 ? gRaw : tf.mul(gRaw, clip);
        const p = flat(ps);
        const mNext = tf.add(tf.mul(flat(ms), b1), tf.mul(g, 1 - b1));
        const vNext = tf.add(tf.mul(flat(vs), b2), tf.mul(tf.square(g), 1 - b2));
        let upd = tf.div(tf.div(mNext, bc1), tf.add(tf.sqrt(tf.div(vNext, bc2)), eps));
        // Decoupled decay on matrices only (rank >= 2), not on biases and norm gains.
        if (decay) upd = tf.add(upd, tf.mul(p, weightDecay));
        const pNext = tf.sub(p, tf.mul(upd, lr));
        if (group.length === 1) {
          ms[0].assign(mNext);
          vs[0].assign(vNext);
          ps[0].assign(pNext);
          return;
        }
        const sizes = ps.map((t) => t.size);
        const back = (t: tf.Tensor, into: tf.Variable[]) => tf.split(t, sizes).forEach((piece, i) => into[i].assign(tf.reshape(piece, into[i].shape)));
        back(mNext, ms);
        back(vNext, vs);
        back(pNext, ps);
      });
    }
    return gradNorm;
  }

  /**
   * The parameters with a gradient this step in update groups: those with GROUP_ELEMENTS values or
   * more alone, the others packed in order into groups of one kind (decayed matrices, undecayed
   * vectors) up to GROUP_ELEMENTS values.
   */
  private groups(names: string[]): string[][] {
    const groups: string[][] = [];
    const open = new Map<boolean, { names: string[]; size: number }>();
    for (const n of names) {
      const p = this.params.get(n)!;
      if (p.size >= GROUP_ELEMENTS) {
        groups.push([n]);
        continue;
      }
      const kind = p.rank >= 2;
      let g = open.get(kind);
      if (!g || g.size + p.size > GROUP_ELEMENTS) {
        g = { names: [], size: 0 };
        open.set(kind, g);
        groups.push(g.names);
      }
      g.names.push(n);
      g.size += p.size;
    }
    return groups;
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
