/**
 * A small decoder-only transformer (GPT-2 layout) written directly on TensorFlow.js ops.
 *
 * - token embedding as a gather (a one-hot matmul on wasm, which has no gradient kernel for
 *   `gather`; ops.ts), learned absolute positions, pre-layer-norm blocks of multi-head causal self-attention and a
 *   GELU (tanh approximation) MLP, final layer norm, output head tied to the token embedding or not;
 * - weights are named `tf.Variable`s (`params`, in a fixed order) initialised deterministically from
 *   an {@link Rng}: N(0, 0.02), residual projections scaled by 1/sqrt(2·nLayers) as in GPT-2;
 * - {@link Transformer.forward} is the training path ([B,T] -> [B,T,V], positions 0..T-1);
 *   {@link Transformer.forwardCached} is the decoding path: per-row positions, a key-padding bias for
 *   left-padded prompts, and a KV cache so each new token costs one position, not the whole prefix.
 *
 * {@link Transformer.hiddenStates} is the packed training path (several sequences per row, restarted
 * positions, block-diagonal causal mask; see models/packing.ts). The class implements {@link CausalLM}.
 *
 * Not here (on purpose): dropout (the built-in tasks are tiny and RL data is on-policy), rotary
 * embeddings (see models/llama/ for a Llama/Qwen2-style decoder).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../common/rng.js';
import { copyParams, countParams, disposeParams, type CausalLM, type KVCache } from './causal-lm.js';
import { causalBias, embedRows, linear } from './ops.js';

export type { KVCache } from './causal-lm.js';

export interface ModelConfig {
  vocabSize: number;
  /** Residual width. */
  dModel: number;
  nLayers: number;
  /** Attention heads; dModel must be divisible by nHeads. */
  nHeads: number;
  /** MLP hidden width (4·dModel in GPT-2). */
  dFf: number;
  /** Longest sequence (prompt + completion, including BOS/EOS) the position table covers. */
  maxSeqLen: number;
  /** Share the output head with the token embedding (default true: fewer parameters, faster SFT). */
  tieEmbeddings?: boolean;
}

export function validateModelConfig(c: ModelConfig): void {
  const ints: (keyof ModelConfig)[] = ['vocabSize', 'dModel', 'nLayers', 'nHeads', 'dFf', 'maxSeqLen'];
  for (const k of ints) {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`ModelConfig.${k} must be a positive integer, got ${String(v)}`);
  }
  if (c.dModel % c.nHeads !== 0) throw new Error(`ModelConfig.dModel (${c.dModel}) must be divisible by nHeads (${c.nHeads})`);
}

/** Every weight's name and shape, in the model's fixed order (save files and optimizer state follow it). */
export function transformerParamShapes(c: ModelConfig): [string, number[]][] {
  const { vocabSize: V, dModel: d, nLayers: L, dFf: F, maxSeqLen: P } = c;
  const out: [string, number[]][] = [['wte', [V, d]], ['wpe', [P, d]]];
  for (let l = 0; l < L; l++) {
    out.push([`h${l}.ln1.g`, [d]], [`h${l}.ln1.b`, [d]], [`h${l}.attn.wqkv`, [d, 3 * d]], [`h${l}.attn.bqkv`, [3 * d]]);
    out.push([`h${l}.attn.wo`, [d, d]], [`h${l}.attn.bo`, [d]], [`h${l}.ln2.g`, [d]], [`h${l}.ln2.b`, [d]]);
    out.push([`h${l}.mlp.w1`, [d, F]], [`h${l}.mlp.b1`, [F]], [`h${l}.mlp.w2`, [F, d]], [`h${l}.mlp.b2`, [d]]);
  }
  out.push(['lnf.g', [d]], ['lnf.b', [d]]);
  if (c.tieEmbeddings === false) out.push(['head', [d, V]]);
  return out;
}

/** The parameter count of a transformer of config `c`, without building it. */
export function transformerParamCount(c: ModelConfig): number {
  return transformerParamShapes(c).reduce((a, [, shape]) => a + shape.reduce((x, y) => x * y, 1), 0);
}

const LN_EPS = 1e-5;

/**
 * Layer norm over the last axis with its gradient written out, instead of autograd through its nine
 * forward ops (~20 kernels backward over [B,T,d] tensors). With x̂ = (x - mean)·rstd:
 *   dx = rstd · (dx̂ - mean(dx̂) - x̂ · mean(dx̂ · x̂)),  dx̂ = dy · g,  dg = Σ dy · x̂,  db = Σ dy.
 * The forward ops are the same, in the same order, as before (bit-identical values).
 */
const layerNormOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, g, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  const xc = tf.sub(x, tf.mean(x, -1, true));
  const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(xc), -1, true), LN_EPS));
  const xhat = tf.mul(xc, rstd);
  save([xhat, rstd, g]);
  return {
    value: tf.add(tf.mul(xhat, g), b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sxhat, srstd, sg] = saved;
      const d = sg.shape[0];
      const dxhat = tf.mul(dy, sg);
      const centred = tf.sub(dxhat, tf.mean(dxhat, -1, true));
      const dx = tf.mul(tf.sub(centred, tf.mul(sxhat, tf.mean(tf.mul(dxhat, sxhat), -1, true))), srstd);
      // Rows of d values (a no-op Reshape is still a kernel, so none for the 2-D residual stream).
      const rows = (t: tf.Tensor) => (t.rank === 2 ? t : tf.reshape(t, [-1, d]));
      const dg = tf.sum(rows(tf.mul(dy, sxhat)), 0);
      const db = tf.sum(rows(dy), 0);
      return [dx, dg, db];
    },
  };
}) as (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/** The same forward as layerNormOp, without its gradient's bookkeeping: for decoding, where nothing is differentiated. */
function layerNormForward(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const xc = tf.sub(x, tf.mean(x, -1, true));
  return tf.add(tf.mul(tf.mul(xc, tf.rsqrt(tf.add(tf.mean(tf.square(xc), -1, true), LN_EPS))), g), b);
}

function layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, decoding = false): tf.Tensor {
  return decoding ? layerNormForward(x, g, b) : layerNormOp(x, g, b);
}

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;

/**
 * GELU, tanh approximation (GPT-2), with its gradient written out (autograd through its ten forward
 * ops took ~25 kernels over the [B,T,4d] MLP activations). With t = tanh(c·(x + a·x³)):
 *   y = x/2 · (1 + t),  dy/dx = (1 + t)/2 + x/2 · (1 - t²) · c · (1 + 3a·x²).
 */
const geluOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  const t = tf.tanh(tf.mul(tf.add(x, tf.mul(tf.mul(x, tf.square(x)), GELU_A)), GELU_C));
  save([x, t]);
  return {
    value: tf.mul(tf.mul(x, 0.5), tf.add(t, 1)),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, st] = saved;
      const slope = tf.add(tf.mul(tf.square(sx), 3 * GELU_A), 1);
      const sech2 = tf.sub(1, tf.square(st));
      const d = tf.add(tf.mul(tf.add(st, 1), 0.5), tf.mul(tf.mul(sx, tf.mul(sech2, slope)), 0.5 * GELU_C));
      return [tf.mul(dy, d)];
    },
  };
}) as (x: tf.Tensor) => tf.Tensor;

/** GELU, tanh approximation (GPT-2); `decoding`: the same forward without the gradient's bookkeeping. */
function gelu(x: tf.Tensor, decoding = false): tf.Tensor {
  if (!decoding) return geluOp(x);
  const t = tf.tanh(tf.mul(tf.add(x, tf.mul(tf.mul(x, tf.square(x)), GELU_A)), GELU_C));
  return tf.mul(tf.mul(x, 0.5), tf.add(t, 1));
}

export class Transformer implements CausalLM {
  readonly config: Required<ModelConfig>;
  /** Every weight, by name, in a fixed order (the order of save files and optimizer state). */
  readonly params: Map<string, tf.Variable>;

  constructor(config: ModelConfig, rng: Rng) {
    validateModelConfig(config);
    this.config = { tieEmbeddings: true, ...config };
    this.params = new Map();
    const std = 0.02;
    const residStd = std / Math.sqrt(2 * this.config.nLayers);
    const inits: Record<string, number | 'ones' | 'zeros'> = { wte: std, wpe: std / 2, wqkv: std, wo: residStd, w1: std, w2: residStd, head: std };
    for (const [name, shape] of transformerParamShapes(this.config)) {
      const kind = name.split('.').pop()!;
      this.add(name, shape, rng, inits[kind] ?? (kind === 'g' ? 'ones' : 'zeros'));
    }
  }

  private add(name: string, shape: number[], rng: Rng, init: number | 'ones' | 'zeros'): void {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (init === 'ones') data.fill(1);
    else if (init !== 'zeros') for (let i = 0; i < n; i++) data[i] = rng.normal() * init;
    // Unnamed variables: tfjs names must be globally unique, and several models (policy, reference) coexist.
    const init0 = tf.tensor(data, shape, 'float32');
    this.params.set(name, tf.variable(init0, true));
    init0.dispose();
  }

  private p(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`Transformer: no parameter '${name}'`);
    return v;
  }

  /** The trainable variables in `params` order. */
  variables(): tf.Variable[] {
    return [...this.params.values()];
  }

  numParams(): number {
    return countParams(this.params);
  }

  /**
   * Training path. tokens [B,T] int32 -> logits [B,T,V]; row positions are 0..T-1 (right padding
   * is harmless: causal attention never looks right, and padded targets are masked by the caller).
   */
  forward(tokens: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const T = tokens.shape[1];
      const { maxSeqLen } = this.config;
      if (T > maxSeqLen) throw new Error(`Transformer.forward: sequence length ${T} > maxSeqLen ${maxSeqLen}`);
      const { h } = this.blocks(this.embedTrain(tokens), T, causalBias(T, 0), undefined);
      return this.head(h, T) as tf.Tensor3D;
    });
  }

  /**
   * Decoding path. tokens [B,Tn] are the next Tn tokens of each row; positions [B,Tn] their
   * position ids; keyBias [B,Tpast+Tn] is 0 for real keys and a large negative value for padding
   * (left-padded prompts). Returns logits [B,Tn,V] and the cache extended by Tn positions; the
   * caller owns (and disposes) both, and the input cache is left intact.
   */
  forwardCached(tokens: tf.Tensor2D, positions: tf.Tensor2D, keyBias: tf.Tensor2D, cache?: KVCache, opts: { lastOnly?: boolean } = {}): { logits: tf.Tensor3D; cache: KVCache } {
    const out = tf.tidy(() => {
      const [B, Tn] = tokens.shape;
      const past = cache ? cache.k[0].shape[2] : 0;
      if (past + Tn > this.config.maxSeqLen) throw new Error(`Transformer.forwardCached: length ${past + Tn} > maxSeqLen ${this.config.maxSeqLen}`);
      // Plain gathers on every backend: nothing is differentiated here (wasm's one-hot embedding is
      // only for the training paths' gradient), and one Reshape to the [B·Tn, d] residual stream.
      const x = tf.reshape(tf.add(tf.gather(this.p('wte'), tokens), tf.gather(this.p('wpe'), positions)), [B * Tn, this.config.dModel]) as tf.Tensor2D;
      // [B,1,Tn,Tpast+Tn]: causal over the buffer, plus per-row key padding.
      // One new token sees the whole buffer: its causal part is all zeros, so only the key padding remains.
      const padding = tf.reshape(keyBias, [keyBias.shape[0], 1, 1, keyBias.shape[1]]);
      const bias = Tn === 1 ? padding : tf.add(causalBias(Tn, past), padding);
      const { h, kv } = this.blocks(x, Tn, bias, cache, undefined, true);
      // The head over every position, then the last one sliced out: the built-in vocabulary is a few
      // dozen tokens, and sliced logits are the same bits sampling has always read.
      const all = this.head(h, Tn, true);
      const logits = opts.lastOnly && Tn > 1 ? tf.slice(all, [0, Tn - 1, 0], [B, 1, this.config.vocabSize]) : all;
      return { logits: logits as tf.Tensor3D, k: kv.k, v: kv.v };
    });
    return { logits: out.logits, cache: { k: out.k, v: out.v } };
  }

  /** Packed prefill: {@link hiddenStates} plus the packed per-layer keys and values (decoding only). */
  prefillPacked(tokens: tf.Tensor2D, positions: tf.Tensor2D, attnBias: tf.Tensor4D): { hidden: tf.Tensor3D; cache: KVCache } {
    const out = tf.tidy(() => {
      const [R, T] = tokens.shape;
      const d = this.config.dModel;
      const x = tf.reshape(tf.add(tf.gather(this.p('wte'), tokens), tf.gather(this.p('wpe'), positions)), [R * T, d]) as tf.Tensor2D;
      const { h, kv } = this.blocks(x, T, attnBias, undefined, undefined, true);
      return { hidden: tf.reshape(layerNorm(h, this.p('lnf.g'), this.p('lnf.b'), true), [R, T, d]) as tf.Tensor3D, k: kv.k, v: kv.v };
    });
    return { hidden: out.hidden, cache: { k: out.k, v: out.v } };
  }

  /** Training paths' input, tokens [B,T] at positions 0..T-1: token plus position embeddings, [B·T, d]. */
  private embedTrain(tokens: tf.Tensor2D): tf.Tensor2D {
    const [B, T] = tokens.shape;
    const d = this.config.dModel;
    const pos = tf.slice(this.p('wpe'), [0, 0], [T, d]);
    return tf.reshape(tf.add(tf.reshape(embedRows(tokens, this.p('wte') as tf.Tensor as tf.Tensor2D), [B, T, d]), pos), [B * T, d]) as tf.Tensor2D;
  }

  /** Final norm and output head on the residual stream h [B·T, d] -> logits [B,T,V]. */
  private head(h: tf.Tensor2D, T: number, decoding = false): tf.Tensor {
    const x = layerNorm(h, this.p('lnf.g'), this.p('lnf.b'), decoding) as tf.Tensor2D;
    return tf.reshape(this.logitsFromHidden(x), [x.shape[0] / T, T, this.config.vocabSize]);
  }

  /** Output head on final-norm hidden states: [N,d] -> [N,V]. */
  logitsFromHidden(h: tf.Tensor2D): tf.Tensor2D {
    return this.config.tieEmbeddings ? tf.matMul(h, this.p('wte'), false, true) : tf.matMul(h, this.p('head'));
  }

  /**
   * Packed training path: tokens/positions [R,T] (positions restart at each packed sequence),
   * attnBias [R,1,T,T] block-diagonal causal -> final-norm hidden states [R,T,d]. The position
   * table is read by a one-hot matmul, so its gradient needs no `gather` kernel.
   */
  hiddenStates(tokens: tf.Tensor2D, positions: tf.Tensor2D, attnBias: tf.Tensor4D): tf.Tensor3D {
    return tf.tidy(() => this.statesOf(tokens, positions, attnBias).hidden);
  }

  /** {@link hiddenStates} plus `layers[l]`, the residual stream after block l (before the final norm). */
  layerStates(tokens: tf.Tensor2D, positions: tf.Tensor2D, attnBias: tf.Tensor4D): { hidden: tf.Tensor3D; layers: tf.Tensor3D[] } {
    return tf.tidy(() => {
      const layers: tf.Tensor[] = [];
      return { hidden: this.statesOf(tokens, positions, attnBias, layers).hidden, layers: layers as tf.Tensor3D[] };
    });
  }

  private statesOf(tokens: tf.Tensor2D, positions: tf.Tensor2D, attnBias: tf.Tensor4D, layerOutputs?: tf.Tensor[]): { hidden: tf.Tensor3D } {
    const [R, T] = tokens.shape;
    const d = this.config.dModel;
    const x = tf.add(embedRows(tokens, this.p('wte') as tf.Tensor as tf.Tensor2D), embedRows(positions, this.p('wpe') as tf.Tensor as tf.Tensor2D)) as tf.Tensor2D;
    const { h } = this.blocks(x, T, attnBias, undefined, layerOutputs);
    return { hidden: tf.reshape(layerNorm(h, this.p('lnf.g'), this.p('lnf.b')), [R, T, d]) as tf.Tensor3D };
  }

  /**
   * The residual stream x [B·T, d] (T positions per row; kept 2-D so that the linear layers need no
   * Reshape) through the blocks; bias broadcastable to [B,H,T,Tpast+T]. `layerOutputs`, when given,
   * collects h after each block as [B,T,d].
   */
  private blocks(x: tf.Tensor2D, T: number, bias: tf.Tensor, cache: KVCache | undefined, layerOutputs?: tf.Tensor[], decoding = false): { h: tf.Tensor2D; kv: KVCache } {
    const { nLayers: L, nHeads: H, dModel: d } = this.config;
    const B = x.shape[0] / T;
    const hd = d / H;
    const scale = 1 / Math.sqrt(hd);
    const kv: KVCache = { k: [], v: [] };
    // [B·T, 3d] -> q, k, v as [B,H,T,hd] in one Reshape, one Transpose and one Unpack (no Transpose
    // with one position, a decode step, where no data moves); a split into three, then three of each,
    // was seven kernels forward and seven backward.
    const heads = (t: tf.Tensor) =>
      (T === 1 ? tf.unstack(tf.reshape(t, [B, 3, H, 1, hd]), 1) : tf.unstack(tf.transpose(tf.reshape(t, [B, T, 3, H, hd]), [2, 0, 3, 1, 4]))) as tf.Tensor4D[];
    const merge = (t: tf.Tensor) => tf.reshape(T === 1 ? t : tf.transpose(t, [0, 2, 1, 3]), [B * T, d]) as tf.Tensor2D;
    let h = x;
    for (let l = 0; l < L; l++) {
      const a = layerNorm(h, this.p(`h${l}.ln1.g`), this.p(`h${l}.ln1.b`), decoding) as tf.Tensor2D;
      const [q, k0, v0] = heads(linear(a, this.p(`h${l}.attn.wqkv`), this.p(`h${l}.attn.bqkv`), decoding));
      const k = cache ? tf.concat([cache.k[l], k0], 2) : k0;
      const v = cache ? tf.concat([cache.v[l], v0], 2) : v0;
      kv.k.push(k as tf.Tensor4D);
      kv.v.push(v as tf.Tensor4D);
      // The scale on q ([B,H,T,hd]) rather than on the scores ([B,H,T,Tk]): fewer elements, once T > hd.
      const att = tf.softmax(tf.add(tf.matMul(tf.mul(q, scale), k, false, true), bias)); // [B,H,T,Tk]
      const y = merge(tf.matMul(att, v));
      h = tf.add(h, linear(y, this.p(`h${l}.attn.wo`), this.p(`h${l}.attn.bo`), decoding));
      const m = layerNorm(h, this.p(`h${l}.ln2.g`), this.p(`h${l}.ln2.b`), decoding) as tf.Tensor2D;
      h = tf.add(h, linear(gelu(linear(m, this.p(`h${l}.mlp.w1`), this.p(`h${l}.mlp.b1`), decoding), decoding) as tf.Tensor2D, this.p(`h${l}.mlp.w2`), this.p(`h${l}.mlp.b2`), decoding));
      layerOutputs?.push(tf.reshape(h, [B, T, d]));
    }
    return { h, kv };
  }

  /** Copy every weight from `other` (same config), e.g. to freeze a reference policy. */
  copyFrom(other: Transformer): void {
    copyParams(this.params, other.params, 'Transformer');
  }

  dispose(): void {
    disposeParams(this.params);
  }
}

/** Dispose every tensor of a cache. */
export function disposeCache(cache: KVCache | undefined): void {
  if (!cache) return;
  for (const t of [...cache.k, ...cache.v]) t.dispose();
}
