/**
 * The interface every decoder-only policy implements, so that sampling ({@link generate}), log-probs
 * ({@link sequenceLogProbs}, padded or packed), training steps and the recipe functions work on the
 * built-in GPT-2-style {@link Transformer} and on a loaded Llama/Qwen2-style checkpoint alike.
 *
 * Three forward paths, all over the same weights:
 *  - `forward`: training on right-padded rows, positions 0..T-1, causal mask; [B,T] -> logits [B,T,V];
 *  - `forwardCached`: decoding with a KV cache, per-row positions and a key-padding bias;
 *  - `hiddenStates` + `logitsFromHidden`: packed (padding-free) training. Several sequences share a
 *    row; positions restart at each sequence and `attnBias` is block-diagonal causal, so a sequence
 *    attends only to its own earlier tokens. The output head is applied by the caller to the
 *    positions it needs only (the response tokens), which saves the head on prompts and padding.
 */
import type * as tf from '@tensorflow/tfjs';

/** Per-layer attention keys and values of the positions seen so far: [B, nKV, Tpast, headDim]. */
export interface KVCache {
  k: tf.Tensor4D[];
  v: tf.Tensor4D[];
}

export interface CausalLM {
  readonly config: { readonly vocabSize: number; readonly maxSeqLen: number };
  /** Every trainable weight, by name, in a fixed order (save files, optimizer state). */
  readonly params: Map<string, tf.Variable>;
  /** The trainable variables in `params` order. */
  variables(): tf.Variable[];
  numParams(): number;
  /** tokens [B,T] int32 -> logits [B,T,V]; positions 0..T-1, causal. */
  forward(tokens: tf.Tensor2D): tf.Tensor3D;
  /**
   * tokens/positions [B,Tn]; keyBias [B,Tpast+Tn] additive (0 real, large negative padding).
   * Returns logits [B,Tn,V] and the cache extended by Tn positions (caller disposes both); with
   * `lastOnly`, the last position's logits only, [B,1,V] (what sampling reads after a prefill: a
   * checkpoint's output head over every prompt position would be [B·Tn, vocabulary] floats).
   */
  forwardCached(tokens: tf.Tensor2D, positions: tf.Tensor2D, keyBias: tf.Tensor2D, cache?: KVCache, opts?: { lastOnly?: boolean }): { logits: tf.Tensor3D; cache: KVCache };
  /**
   * Packed path: tokens/positions [R,T] int32, attnBias [R,1,T,T] additive -> final hidden states
   * [R,T,d] (after the final norm, before the output head). Differentiable on every backend.
   */
  hiddenStates(tokens: tf.Tensor2D, positions: tf.Tensor2D, attnBias: tf.Tensor4D): tf.Tensor3D;
  /**
   * {@link hiddenStates} plus the residual stream after each layer, [R,T,d] per layer (before the
   * final norm): what SparsePO's activation mask reads. Differentiable like `hiddenStates`.
   */
  layerStates?(tokens: tf.Tensor2D, positions: tf.Tensor2D, attnBias: tf.Tensor4D): { hidden: tf.Tensor3D; layers: tf.Tensor3D[] };
  /**
   * Packed prompt prefill (optional): the packed path's final hidden states [R,T,d] plus each
   * layer's keys and values in the packed layout, [R, nKV, T, headDim]. No gradient needed.
   */
  prefillPacked?(tokens: tf.Tensor2D, positions: tf.Tensor2D, attnBias: tf.Tensor4D): { hidden: tf.Tensor3D; cache: KVCache };
  /** Output head: hidden [N,d] -> logits [N,V]. Differentiable. */
  logitsFromHidden(h: tf.Tensor2D): tf.Tensor2D;
  dispose(): void;
}

/** Copy every weight of `from` into `into` (same names and shapes), e.g. to freeze a reference policy. */
export function copyParams(into: Map<string, tf.Variable>, from: Map<string, tf.Variable>, owner: string): void {
  for (const [name, v] of into) {
    const src = from.get(name);
    if (!src || src.shape.join() !== v.shape.join()) throw new Error(`${owner}.copyFrom: parameter '${name}' missing or of another shape`);
    v.assign(src as tf.Tensor);
  }
}

/** Free every weight and forget them. */
export function disposeParams(params: Map<string, tf.Variable>): void {
  for (const v of params.values()) v.dispose();
  params.clear();
}

/** Number of weights (scalars) in a parameter map. */
export function countParams(params: Map<string, tf.Variable>): number {
  let n = 0;
  for (const v of params.values()) n += v.size;
  return n;
}
