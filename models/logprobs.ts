/**
 * Per-token log-probabilities and entropies of given sequences, aligned to their response tokens.
 *
 * Sequences (prompt + response, prompt starting with BOS) are right-padded into one [B,T] batch and
 * run through {@link Transformer.forward}. The log-prob of token t comes from the logits at t-1.
 * Rows have different prompt lengths, so response token j of row b sits at column
 * responseStart[b] + j; a constant 0/1 selection tensor moves it to column j with a batched
 * matmul. That keeps everything differentiable on the wasm backend, which has no gradient for
 * `gather`. Call this inside `tf.variableGrads` (or `trainStep`) to train through `logp`.
 *
 * With `packed: true` the sequences are bin-packed into rows instead (models/packing.ts: restarted
 * positions, block-diagonal causal mask), the output head runs only at the positions that predict
 * a response token, and those rows are gathered back into the same [B, Tresp] layout, so the losses
 * cannot tell the two apart (same values to float rounding; tested). On that path the output head,
 * softmax and target pick run in row chunks with a hand-written gradient (models/head-logprobs.ts),
 * so the [N, vocab] logits of a micro-batch are never all alive at once.
 */
import * as tf from '@tensorflow/tfjs';
import { PAD } from './tokenizer.js';
import type { CausalLM } from './causal-lm.js';
import { selectRows } from './ops.js';
import { packSequences } from './packing.js';
import { headLogProbs, outputHeadOf } from './head-logprobs.js';

export interface SequenceLogProbs {
  /** [B, Tresp] log p(response token j | prefix); 0 where mask is 0. Differentiable. */
  logp: tf.Tensor2D;
  /** [B, Tresp] 1 for real response tokens, 0 for padding. */
  mask: tf.Tensor2D;
  /** [B, Tresp] entropy (nats) of the predictive distribution at each response token; 0 on padding. */
  entropies: tf.Tensor2D;
}

export interface LogProbOptions {
  /** Divide logits by this before the softmax (match the sampling temperature; default 1). */
  temperature?: number;
  padId?: number;
  /** Padding-free packed rows instead of one right-padded row per sequence (default false). */
  packed?: boolean;
  /** Packed row length (default and minimum: the longest sequence). */
  rowLen?: number;
}

/**
 * @param seqs full token sequences, prompt then response, one per row
 * @param responseStart index in each sequence of its first response token (>= 1)
 */
export function sequenceLogProbs(model: CausalLM, seqs: number[][], responseStart: number[], opts: LogProbOptions = {}): SequenceLogProbs {
  const B = seqs.length;
  if (B === 0 || responseStart.length !== B) throw new Error(`sequenceLogProbs: ${B} sequences but ${responseStart.length} response starts`);
  const respLen = seqs.map((s, b) => {
    const st = responseStart[b];
    if (!Number.isInteger(st) || st < 1 || st > s.length) throw new Error(`sequenceLogProbs: row ${b}: responseStart ${st} outside [1, ${s.length}]`);
    return s.length - st;
  });
  const T = Math.max(...seqs.map((s) => s.length));
  const Tr = Math.max(1, ...respLen);
  const padId = opts.padId ?? PAD;
  const temperature = opts.temperature ?? 1;
  const V = model.config.vocabSize;
  if (opts.packed) return packedLogProbs(model, seqs, responseStart, respLen, Tr, temperature, padId, opts.rowLen);

  const tokens = new Int32Array(B * T).fill(padId);
  const targets = new Int32Array(B * (T - 1)).fill(padId);
  const select = new Float32Array(B * Tr * (T - 1));
  const mask = new Float32Array(B * Tr);
  for (let b = 0; b < B; b++) {
    const s = seqs[b];
    for (let t = 0; t < s.length; t++) tokens[b * T + t] = s[t];
    for (let t = 1; t < s.length; t++) targets[b * (T - 1) + t - 1] = s[t];
    for (let j = 0; j < respLen[b]; j++) {
      // response token j is sequence position responseStart+j, predicted at column responseStart+j-1
      select[(b * Tr + j) * (T - 1) + responseStart[b] + j - 1] = 1;
      mask[b * Tr + j] = 1;
    }
  }

  return tf.tidy(() => {
    const input = tf.tensor2d(tokens, [B, T], 'int32');
    let logits: tf.Tensor = tf.slice(model.forward(input), [0, 0, 0], [B, T - 1, V]);
    if (temperature !== 1) logits = tf.div(logits, temperature);
    const logSm = tf.logSoftmax(logits); // [B,T-1,V]
    const oh = tf.oneHot(tf.tensor1d(targets, 'int32'), V).reshape([B, T - 1, V]);
    const tokLogp = tf.sum(tf.mul(logSm, oh), -1); // [B,T-1]
    const ent = tf.neg(tf.sum(tf.mul(tf.exp(logSm), logSm), -1)); // [B,T-1]
    const sel = tf.tensor3d(select, [B, Tr, T - 1]);
    const pick = (x: tf.Tensor) => tf.squeeze(tf.matMul(sel, tf.expandDims(x, 2)), [2]) as tf.Tensor2D;
    return { logp: pick(tokLogp), mask: tf.tensor2d(mask, [B, Tr]), entropies: pick(ent) };
  });
}

/** The packed variant: same inputs and outputs as {@link sequenceLogProbs}. */
function packedLogProbs(
  model: CausalLM,
  seqs: number[][],
  responseStart: number[],
  respLen: number[],
  Tr: number,
  temperature: number,
  padId: number,
  rowLen: number | undefined,
): SequenceLogProbs {
  const B = seqs.length;
  const V = model.config.vocabSize;
  const N = respLen.reduce((a, b) => a + b, 0);
  if (N === 0) return tf.tidy(() => ({ logp: tf.zeros([B, Tr]) as tf.Tensor2D, mask: tf.zeros([B, Tr]) as tf.Tensor2D, entropies: tf.zeros([B, Tr]) as tf.Tensor2D }));
  const packed = packSequences(seqs, { rowLen, padId });
  const { layout } = packed;
  const T = layout.rowLen;
  // Hidden-state row (in the flattened [R*T] layout) that predicts each response token, its target,
  // and where each response token lands in the [B*Tr] output (-1: padding slot, a zero row).
  const source = new Int32Array(N);
  const targets = new Int32Array(N);
  const dest = new Int32Array(B * Tr).fill(-1);
  const mask = new Float32Array(B * Tr);
  let n = 0;
  for (let b = 0; b < B; b++) {
    const base = layout.row[b] * T + layout.offset[b];
    for (let j = 0; j < respLen[b]; j++, n++) {
      source[n] = base + responseStart[b] + j - 1;
      targets[n] = seqs[b][responseStart[b] + j];
      dest[b * Tr + j] = n;
      mask[b * Tr + j] = 1;
    }
  }
  try {
    return tf.tidy(() => {
      const h = model.hiddenStates(packed.tokens, packed.positions, packed.attnBias); // [R,T,d]
      const d = h.shape[2];
      const hSel = selectRows(tf.reshape(h, [layout.rows * T, d]), source); // [N,d]
      const head = outputHeadOf(model);
      let pair: tf.Tensor2D; // [N,2]: log-prob of the target, entropy
      if (head) pair = headLogProbs(hSel, head, targets, temperature);
      else {
        let logits: tf.Tensor = model.logitsFromHidden(hSel); // [N,V]
        if (temperature !== 1) logits = tf.div(logits, temperature);
        const logSm = tf.logSoftmax(logits);
        const tokLogp = tf.sum(tf.mul(logSm, tf.oneHot(tf.tensor1d(targets, 'int32'), V)), -1); // [N]
        const ent = tf.neg(tf.sum(tf.mul(tf.exp(logSm), logSm), -1)); // [N]
        pair = tf.stack([tokLogp, ent], 1) as tf.Tensor2D;
      }
      const out = selectRows(pair, dest); // [B*Tr, 2]
      const col = (c: number) => tf.reshape(tf.slice(out, [0, c], [B * Tr, 1]), [B, Tr]) as tf.Tensor2D;
      return { logp: col(0), mask: tf.tensor2d(mask, [B, Tr]), entropies: col(1) };
    });
  } finally {
    tf.dispose([packed.tokens, packed.positions, packed.attnBias]);
  }
}
