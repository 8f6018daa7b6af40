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
 * - CUDA backend (tfjs-node-gpu; read by TensorFlow and NVIDIA's libraries, ignored elsewhere):
 *   `TF_FORCE_GPU_ALLOW_GROWTH=true`, so that TensorFlow takes GPU memory as it needs it instead of
 *   nearly all of it at start (test workers, the verifier pool or PyTorch may share the card), and
 *   `NVIDIA_TF32_OVERRIDE=0`, so that float32 matmuls stay float32 (TensorFlow would use TF32 on
 *   Ampere and newer, ~1e-3 relative error: results would differ from the CPU backends'); set it to 1
 *   for TF32's speed. docs/gpu-backend.md.
 */
export const GPU_ENV_DEFAULTS = { TF_FORCE_GPU_ALLOW_GROWTH: 'true', NVIDIA_TF32_OVERRIDE: '0' } as const;

export function setNativeEnvDefaults(): void {
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '1';
  process.env.TF_NUM_INTRAOP_THREADS ??= '1';
  for (const [k, v] of Object.entries(GPU_ENV_DEFAULTS)) process.env[k] ??= v;
}
