/**
 * Activation recomputation ("gradient checkpointing", Chen et al. 2016, arXiv 1604.06174) for one
 * block of a model: the forward pass keeps only the block's input, and the backward pass runs the
 * block again under its own gradient tape to get the gradients of the input and of the weights.
 *
 * Why: TensorFlow.js kernels save their inputs and outputs for the backward pass, so a Llama
 * layer kept ~56k floats per token on the tape (measured: 229 MB per layer for 4 × 256 tokens of
 * SmolLM2-135M, 6.9 GB for its 30 layers), about 3x what PyTorch keeps. With recomputation the tape
 * holds one [tokens, d] input per layer plus one layer's worth during its backward. Costs one more
 * forward pass of each block in the backward (about a third more compute for the update).
 *
 * The backward runs a nested `engine.gradients`, which TensorFlow.js does not support inside an
 * outer backward pass: the nested call starts a fresh tape and clears the engine's active tape when
 * it ends, which the outer call then needs to release its own saved tensors. The outer tape is put
 * back after the nested call (`withOuterTape`).
 */
import * as tf from '@tensorflow/tfjs';

interface EngineState {
  activeTape: unknown[] | null;
}

function withOuterTape<T>(fn: () => T): T {
  const state = (tf.engine() as unknown as { state: EngineState }).state;
  const outer = state.activeTape;
  try {
    return fn();
  } finally {
    state.activeTape = outer;
  }
}

/**
 * y = block(x, ...constants), differentiable in x and in `weights` (the variables `block` reads),
 * with the block's activations recomputed in the backward pass instead of kept. `constants` are
 * tensors the block reads that need no gradient (rotary tables, attention masks): kept alive for
 * the backward pass, given zero gradients.
 */
export function recomputed(block: (x: tf.Tensor, constants: tf.Tensor[]) => tf.Tensor, x: tf.Tensor, weights: tf.Variable[], constants: tf.Tensor[]): tf.Tensor {
  const nc = constants.length;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const input = args[0] as tf.Tensor;
    const consts = args.slice(1, 1 + nc) as tf.Tensor[];
    save([input, ...consts]);
    return {
      value: block(input, consts),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sx, ...sc] = saved;
        const { value, grads } = withOuterTape(() => tf.engine().gradients(() => block(sx, sc), [sx, ...weights], dy as tf.Tensor, true));
        value.dispose();
        const zero = sc.map((c) => tf.zerosLike(c));
        return [grads[0] ?? tf.zerosLike(sx), ...zero, ...weights.map((w, i) => grads[i + 1] ?? tf.zerosLike(w))];
      },
    };
  });
  return op(x, ...constants, ...weights) as tf.Tensor;
}
