/**
 * The output head, log-softmax and target pick of the training forward pass, fused and done in row
 * chunks, so that a micro-batch's [N, vocab] logits never exist whole (for SmolLM2, vocab 49152: a
 * micro-batch of 4 × 128 response tokens is 100 MB per [N, V] tensor, and the unfused ops kept
 * about five of them alive on the gradient tape until the backward pass).
 *
 * Forward, per chunk of rows: z = head(h)/τ, log p = z − logsumexp(z), keep log p[target] and the
 * entropy H = −Σ p log p, drop the chunk's logits. Backward recomputes each chunk's softmax:
 *   ∂ log p[target] / ∂z_j = (onehot(target)_j − p_j) / τ,   ∂H / ∂z_j = −p_j (log p_j + H) / τ
 * then dh = dz·W and dW += dzᵀ·h for a [V, d] head (dz·Wᵀ and hᵀ·dz for a [d, V] one).
 * Costs one extra head matmul per chunk in the backward pass (recomputation), as Liger-Kernel's
 * fused linear cross-entropy does.
 */
import * as tf from '@tensorflow/tfjs';
import type { CausalLM } from './causal-lm.js';

/** The output head's weight, and whether it is stored [V, d] (logits = h·Wᵀ) or [d, V] (logits = h·W). */
export interface OutputHead {
  weight: tf.Variable;
  vocabRows: boolean;
}

/**
 * The head of the two model classes, found by their parameter names (models/transformer.ts:
 * `wte` tied or `head` [d,V]; models/llama: `model.embed_tokens.weight` tied or `lm_head.weight`,
 * both [V,d]); null for any other model, which then takes the unfused path.
 */
export function outputHeadOf(model: CausalLM): OutputHead | null {
  const tied = (model.config as { tieEmbeddings?: boolean }).tieEmbeddings === true;
  const V = model.config.vocabSize;
  const candidates: [string, boolean][] = tied ? [['model.embed_tokens.weight', true], ['wte', true]] : [['lm_head.weight', true], ['head', false]];
  for (const [name, vocabRows] of candidates) {
    const w = model.params.get(name);
    if (w && w.rank === 2 && w.shape[vocabRows ? 0 : 1] === V) return { weight: w, vocabRows };
  }
  return null;
}

/** Rows per chunk: about 4M logits (16 MB of float32) at a time. */
export function chunkRows(vocab: number): number {
  return Math.max(1, Math.floor(2 ** 22 / vocab));
}

/**
 * [N, 2]: log p(target) and the entropy of softmax(head(h)/τ) for each row of `h` [N, d].
 * Differentiable in `h` and the head weight through both columns.
 */
export function headLogProbs(h: tf.Tensor2D, head: OutputHead, targets: Int32Array, temperature: number, rowsPerChunk?: number): tf.Tensor2D {
  const N = h.shape[0];
  if (targets.length !== N) throw new Error(`headLogProbs: ${targets.length} targets for ${N} rows`);
  const V = head.weight.shape[head.vocabRows ? 0 : 1]!;
  const rows = rowsPerChunk ?? chunkRows(V);
  // wasm's 2-D matmul is 20-40x slower with a transposed operand (models/ops.ts): transpose
  // explicitly there. Elsewhere the flags cost nothing and spare a copy of the head.
  const flags = tf.getBackend() !== 'wasm';
  const mm = (a: tf.Tensor2D, b: tf.Tensor2D, ta: boolean, tb: boolean): tf.Tensor2D =>
    flags ? tf.matMul(a, b, ta, tb) : tf.matMul(ta ? tf.transpose(a) : a, tb ? tf.transpose(b) : b);
  /** The head in [d, V] layout for the logits matmul: the weight itself, or (wasm, [V, d] head) its transpose. */
  const headDV = (w: tf.Tensor2D): { m: tf.Tensor2D; t: boolean; owned: boolean } =>
    !head.vocabRows ? { m: w, t: false, owned: false } : flags ? { m: w, t: true, owned: false } : { m: tf.transpose(w), t: false, owned: true };
  const logits = (hc: tf.Tensor2D, wdv: { m: tf.Tensor2D; t: boolean }) => {
    const z = tf.matMul(hc, wdv.m, false, wdv.t);
    return temperature === 1 ? z : tf.div(z, temperature);
  };
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, w, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    save([x, w]);
    const wdv = headDV(w);
    const parts: tf.Tensor[] = [];
    for (let at = 0; at < N; at += rows) {
      const n = Math.min(rows, N - at);
      parts.push(tf.tidy(() => {
        const logSm = tf.logSoftmax(logits(tf.slice(x, [at, 0], [n, -1]), wdv));
        const tok = tf.sum(tf.mul(logSm, tf.oneHot(tf.tensor1d(targets.subarray(at, at + n), 'int32'), V)), -1);
        const ent = tf.neg(tf.sum(tf.mul(tf.exp(logSm), logSm), -1));
        return tf.stack([tok, ent], 1);
      }));
    }
    if (wdv.owned) wdv.m.dispose();
    const value = parts.length === 1 ? parts[0] : tf.concat(parts, 0);
    if (parts.length > 1) tf.dispose(parts);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
        const dLogp = tf.slice(dy, [0, 0], [N, 1]); // [N,1]
        const dEnt = tf.slice(dy, [0, 1], [N, 1]); // [N,1]
        const wdv = headDV(sw);
        const dxParts: tf.Tensor[] = [];
        let dw: tf.Tensor = tf.zerosLike(sw);
        for (let at = 0; at < N; at += rows) {
          const n = Math.min(rows, N - at);
          const [dxc, dwc] = tf.tidy(() => {
            const xc = tf.slice(sx, [at, 0], [n, -1]) as tf.Tensor2D;
            const logSm = tf.logSoftmax(logits(xc, wdv));
            const p = tf.exp(logSm);
            const oh = tf.oneHot(tf.tensor1d(targets.subarray(at, at + n), 'int32'), V);
            const H = tf.neg(tf.sum(tf.mul(p, logSm), -1, true)); // [n,1]
            const dzLogp = tf.mul(tf.sub(oh, p), tf.slice(dLogp, [at, 0], [n, 1]));
            const dzEnt = tf.mul(tf.neg(tf.mul(p, tf.add(logSm, H))), tf.slice(dEnt, [at, 0], [n, 1]));
            let dz = tf.add(dzLogp, dzEnt) as tf.Tensor2D; // [n,V]
            if (temperature !== 1) dz = tf.div(dz, temperature);
            return head.vocabRows
              ? [tf.matMul(dz, sw), mm(dz, xc, true, false)] // dh [n,d], dW [V,d]
              : [mm(dz, sw, false, true), mm(xc, dz, true, false)]; // dh [n,d], dW [d,V]
          });
          dxParts.push(dxc);
          const next = tf.add(dw, dwc);
          tf.dispose([dw, dwc]);
          dw = next;
        }
        if (wdv.owned) wdv.m.dispose();
        const dx = dxParts.length === 1 ? dxParts[0] : tf.concat(dxParts, 0);
        if (dxParts.length > 1) tf.dispose(dxParts);
        tf.dispose([dLogp, dEnt]);
        return [dx, dw];
      },
    };
  }) as (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;
  return op(h, head.weight as tf.Tensor as tf.Tensor2D);
}
