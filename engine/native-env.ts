/**
 * Environment defaults for libtensorflow (tfjs-node), each kept when already set. libtensorflow
 * reads them from the process environment when it loads, so call this on the main thread before
 * the thread that loads it starts: a worker thread's `process.env` is its own copy, unseen by
 * native code.
 *
 * - `TF_CPP_MIN_LOG_LEVEL=1`: no INFO notices (CPU features, oneDNN) on load; warnings and errors stay.
 * - `TF_NUM_INTRAOP_THREADS`: chosen from the width of the model the process will train
 *   (`intraOpThreadsFor`); one when the width is not known. The thread count is fixed once
 *   libtensorflow has loaded, so it is chosen for the largest model the process expects.
 * - CUDA backend (tfjs-node-gpu; read by TensorFlow and NVIDIA's libraries, ignored elsewhere):
 *   `TF_FORCE_GPU_ALLOW_GROWTH=true`, so that TensorFlow takes GPU memory as it needs it instead of
 *   nearly all of it at start (test workers, the verifier pool or PyTorch may share the card), and
 *   `NVIDIA_TF32_OVERRIDE=0`, so that float32 matmuls stay float32 (TensorFlow would use TF32 on
 *   Ampere and newer, ~1e-3 relative error: results would differ from the CPU backends'); set it to 1
 *   for TF32's speed. docs/gpu-backend.md.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

export const GPU_ENV_DEFAULTS = { TF_FORCE_GPU_ALLOW_GROWTH: 'true', NVIDIA_TF32_OVERRIDE: '0' } as const;

/** Below this model width one intra-op thread is fastest; from it on, more threads pay. */
export const MULTI_THREAD_MIN_WIDTH = 256;

/**
 * libtensorflow's intra-op thread count for a model of width `dModel` on a machine with `cores`
 * cores. A native step is one stream of ops; each op is split across the pool. Splitting the demo
 * model's small ops (d=64) costs more in hand-over than it saves: 200 SFT steps took 9.4 s with two
 * threads and 6.3 s with one on 2 cores. From d≈256 the matmuls are large enough that two threads
 * win (docs/native-backend.md, "Threads"). One thread per 128 of width beyond that, at most the
 * cores there are: wider models were not measured on more than 2 cores.
 */
export function intraOpThreadsFor(dModel: number | undefined, cores: number = availableParallelism()): number {
  if (!dModel || dModel < MULTI_THREAD_MIN_WIDTH) return 1;
  return Math.max(1, Math.min(cores, Math.floor(dModel / 128)));
}

/**
 * @param modelWidth the `dModel` of the (largest) model this process will run, when known; it picks
 *   the intra-op thread count unless `TF_NUM_INTRAOP_THREADS` is already set.
 */
export function setNativeEnvDefaults(modelWidth?: number): void {
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '1';
  process.env.TF_NUM_INTRAOP_THREADS ??= String(intraOpThreadsFor(modelWidth));
  for (const [k, v] of Object.entries(GPU_ENV_DEFAULTS)) process.env[k] ??= v;
}

/** The intra-op thread count libtensorflow was (or will be) loaded with, for the start-up line. */
export function intraOpThreadsInEffect(): string {
  const n = process.env.TF_NUM_INTRAOP_THREADS;
  return n ? `${n} intra-op thread${n === '1' ? '' : 's'}` : 'intra-op threads: libtensorflow default (every core)';
}

/**
 * What the last native setup (`npm install`'s postinstall or `npm run native`) concluded, written by
 * scripts/native/install.ts: when the backend falls back to wasm, the start-up line says why from it.
 */
export const NATIVE_SETUP_RESULT_FILE = fileURLToPath(new URL('../.creditflow/cache/native/last-setup.json', import.meta.url));

export interface NativeSetupResult {
  ok: boolean;
  /** The one line the setup printed. */
  line: string;
  /** ISO time of the setup. */
  at: string;
}

/** The last setup's one line when it failed or was skipped, else null (no file, or it succeeded). */
export function lastNativeSetupFailure(file: string = NATIVE_SETUP_RESULT_FILE): string | null {
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as NativeSetupResult;
    return r.ok ? null : `native setup at ${r.at}: ${r.line}`;
  } catch {
    return null;
  }
}
