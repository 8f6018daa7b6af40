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
 *
 * The groups are fixed when the optimizer is built, and a group's moments are kept as two flat
 * vectors in that group's layout, so a step concatenates only the gradients and the parameters and
 * splits back only the parameters (a Reshape is a real kernel on libtensorflow, with a shape upload:
 * the earlier per-step flatten and split of both moments was 196 of a demo step's 296 optimizer
 * kernels). Vectors are concatenated as they are, without a Reshape. A group in which only some
 * parameters have a gradient this step is updated through a 0/1 mask that keeps the others' values
 * and moments exactly as they were.
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

/** A fixed update group: its parameters' names, sizes and offsets in the group's flat layout. */
interface Group {
  names: string[];
  sizes: number[];
  offsets: number[];
  size: number;
  /** Decoupled weight decay applies (matrices, rank >= 2). */
  decayed: boolean;
  /** Moments: flat [size] for a group of several parameters, the parameter's shape for one alone. */
  m: tf.Variable;
  v: tf.Variable;
}

export class AdamW {
  readonly config: AdamWConfig;
  private readonly params: Map<string, tf.Variable>;
  private readonly groups: Group[];
  /** Each parameter's group and its index in that group. */
  private readonly where = new Map<string, { group: Group; index: number }>();
  /** Completed steps (t in the bias correction is step after increment). */
  step = 0;

  constructor(params: Map<string, tf.Variable>, config: Partial<AdamWConfig> = {}) {
    this.config = { ...ADAMW_DEFAULTS, ...config };
    this.params = params;
    this.groups = groupParams(params).map((names) => {
      const sizes = names.map((n) => params.get(n)!.size);
      const offsets = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
      const size = sizes.reduce((a, b) => a + b, 0);
      const shape = names.length === 1 ? params.get(names[0])!.shape : [size];
      // tidy frees the zeros once the variable holds its own reference to them.
      const zeros = () => tf.tidy(() => tf.variable(tf.zeros(shape), false));
      return { names, sizes, offsets, size, decayed: params.get(names[0])!.rank >= 2, m: zeros(), v: zeros() };
    });
    for (const group of this.groups) group.names.forEach((n, index) => this.where.set(n, { group, index }));
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
    for (const group of this.groups) {
      const present = group.names.map((n) => grads[n] !== undefined);
      if (!present.includes(true)) continue;
      const ps = group.names.map((n) => this.params.get(n)!);
      tf.tidy(() => {
        // One parameter: its own tensors. Several: flat concatenations (a vector needs no Reshape).
        const flat = (ts: tf.Tensor[]) => (ts.length === 1 ? ts[0] : tf.concat(ts.map((t) => (t.rank === 1 ? t : tf.reshape(t, [-1])))));
        // A parameter without a gradient contributes zeros here; the mask below keeps its old values.
        const gRaw = flat(group.names.map((n, i) => grads[n] ?? tf.zeros([group.sizes[i]])));
        const g = clip === 1 ? gRaw : tf.mul(gRaw, clip);
        const p = flat(ps);
        let mNext = tf.add(tf.mul(group.m, b1), tf.mul(g, 1 - b1));
        let vNext = tf.add(tf.mul(group.v, b2), tf.mul(tf.square(g), 1 - b2));
        let upd = tf.div(tf.div(mNext, bc1), tf.add(tf.sqrt(tf.div(vNext, bc2)), eps));
        // Decoupled decay on matrices only (rank >= 2), not on biases and norm gains.
        if (group.decayed && weightDecay > 0) upd = tf.add(upd, tf.mul(p, weightDecay));
        let pNext = tf.sub(p, tf.mul(upd, lr));
        if (present.includes(false)) {
          const mask = tf.tensor1d(Uint8Array.from(group.names.flatMap((_, i) => Array<number>(group.sizes[i]).fill(present[i] ? 1 : 0))), 'bool');
          mNext = tf.where(mask, mNext, group.m);
          vNext = tf.where(mask, vNext, group.v);
          pNext = tf.where(mask, pNext, p);
        }
        group.m.assign(mNext);
        group.v.assign(vNext);
        if (group.names.length === 1) {
          ps[0].assign(pNext);
          return;
        }
        tf.split(pNext, group.sizes).forEach((piece, i) => {
          if (present[i]) ps[i].assign(ps[i].rank === 1 ? piece : tf.reshape(piece, ps[i].shape));
        });
      });
    }
    return gradNorm;
  }

  /** The moments, copied out of the tensors (one Float32Array per parameter and moment). */
  exportState(): AdamWState {
    const dump = (which: 'm' | 'v') => Object.fromEntries([...this.params.keys()].map((n) => [n, this.moment(which, n)]));
    return { step: this.step, m: dump('m'), v: dump('v') };
  }

  /** One parameter's first ('m') or second ('v') moment, copied out (row-major, the parameter's shape). */
  moment(which: 'm' | 'v', name: string): Float32Array {
    const at = this.where.get(name);
    if (!at) throw new Error(`AdamW.moment: no parameter '${name}'`);
    const { group, index } = at;
    const t = which === 'm' ? group.m : group.v;
    if (group.names.length === 1) return t.dataSync() as Float32Array;
    const piece = tf.slice(t, group.offsets[index], group.sizes[index]);
    const data = piece.dataSync() as Float32Array;
    piece.dispose();
    return data;
  }

  importState(s: AdamWState): void {
    if (!Number.isInteger(s.step) || s.step < 0) throw new Error(`AdamW.importState: bad step ${s.step}`);
    for (const which of ['m', 'v'] as const) {
      for (const [n, p] of this.params) {
        const data = s[which][n];
        if (!data || data.length !== p.size) throw new Error(`AdamW.importState: ${which}['${n}'] missing or of size ${data?.length} (want ${p.size})`);
      }
    }
    for (const group of this.groups) {
      for (const which of ['m', 'v'] as const) {
        const flat = new Float32Array(group.size);
        group.names.forEach((n, i) => flat.set(s[which][n], group.offsets[i]));
        const t = which === 'm' ? group.m : group.v;
        tf.tidy(() => t.assign(tf.tensor(flat, t.shape, 'float32')));
      }
    }
    this.step = s.step;
  }

  /** Bytes of optimizer state (both moments, float32): what the memory budget counts. */
  stateBytes(): number {
    let n = 0;
    for (const g of this.groups) n += g.size;
    return n * 4 * 2;
  }

  dispose(): void {
    tf.dispose(this.groups.flatMap((g) => [g.m, g.v]));
  }
}

/**
 * Update groups, in parameter order: a parameter of GROUP_ELEMENTS values or more alone, the others
 * packed in order into groups of one kind (decayed matrices, undecayed vectors) up to GROUP_ELEMENTS
 * values.
 */
function groupParams(params: Map<string, tf.Variable>): string[][] {
  const groups: string[][] = [];
  const open = new Map<boolean, { names: string[]; size: number }>();
  for (const [n, p] of params) {
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
