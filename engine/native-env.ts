/**
 * Environment defaults for libtensorflow (tfjs-node), each kept when already set. libtensorflow
 * reads them from the process environment when it loads, so call this on the main thread before
 * the thread that loads it starts: a worker thread's `process.env` is its own copy, unseen by
 * native code.
 *
 * - `TF_CPP_MIN_LOG_LEVEL=1`: no INFO notices (CPU features, oneDNN) on load; warnings and errors stay.
 * - `TF_NUM_INTRAOP_THREADS=1`: the compute host runs one stream of small ops, and handing each op
 *   to a pool of threads costs more than the split saves: on 2 cores, 200 SFT steps of the demo
 *   model take 6.3 s instead of 9.4 s, and an RL iteration 0.20 s instead of 0.22 s. Set it higher
 *   for a model whose matmuls are large enough to split.
 */
export function setNativeEnvDefaults(): void {
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '1';
  process.env.TF_NUM_INTRAOP_THREADS ??= '1';
}
