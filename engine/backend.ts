/**
 * TensorFlow.js backend selection.
 *
 * Order: a forced backend (`CREDITFLOW_BACKEND` env, else the `forced` argument) if set; otherwise
 * `tensorflow` from `@tensorflow/tfjs-node-gpu` (only when CUDA is visible), `tensorflow` from
 * `@tensorflow/tfjs-node`, then `wasm`, then the pure-JS `cpu`. A native package that is not
 * installed is not an error: the returned `reason` says why each better backend was skipped.
 *
 * Why wasm before cpu (measured here on 2 shared cores, tfjs 4.22, wasm SIMD, 1 thread): a 512x512
 * matmul runs at ~18 GFLOP/s on wasm against ~0.8 on cpu (~17 vs ~1.2 at 128x128), and one SFT
 * step of the demo policy (d=64, 2 layers, batch 64) takes ~70-80 ms on wasm against ~1600 ms on
 * cpu (`bench/engine.ts`). wasm wins at every size we ship, so there is no size-based switch.
 *
 * The wasm backend has no gradient kernels for a few ops (e.g. `gather`'s backward, which needs
 * UnsortedSegmentSum); the model code therefore embeds tokens with a one-hot matmul.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { describeGpu, firstVisibleGpu, type GpuDevice } from './gpu-devices.js';
import { intraOpThreadsInEffect, lastNativeSetupFailure, setNativeEnvDefaults } from './native-env.js';

export interface BackendInfo {
  /** The active tfjs backend name: 'tensorflow' | 'wasm' | 'cpu' (or whatever was forced). */
  name: string;
  /** Why this one: which better backends were skipped and why; on the GPU, the device (name, memory). */
  reason: string;
  /** The GPU the CUDA backend runs on (TensorFlow's GPU:0), when that is the backend; null if it cannot be named. */
  device?: GpuDevice | null;
}

/** Backend names accepted for forcing; 'node' and 'node-gpu' both mean tfjs-node's 'tensorflow'. */
export const BACKEND_NAMES = ['node-gpu', 'node', 'tensorflow', 'wasm', 'cpu'] as const;

const dynImport = (spec: string): Promise<unknown> => import(spec);

function cudaVisible(): boolean {
  if (process.env.CUDA_VISIBLE_DEVICES === '' || process.env.CUDA_VISIBLE_DEVICES === '-1') return false;
  return existsSync('/dev/nvidiactl') || existsSync('/proc/driver/nvidia/version');
}

/** The device line of a worker on the CUDA backend: nvidia-smi's view of the first CUDA-visible GPU. */
function gpuReport(): { device: GpuDevice | null; text: string } {
  const device = firstVisibleGpu();
  return { device, text: device ? `GPU 0: ${describeGpu(device)}` : 'GPU 0 (nvidia-smi could not name it)' };
}

async function tryNative(pkg: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node'): Promise<string | null> {
  setNativeEnvDefaults(); // effective when this runs on the main thread; the compute host sets them before its thread starts
  try {
    await dynImport(pkg);
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    if (!/Cannot find (package|module)/.test(msg)) return `${pkg} failed to load: ${msg.split('\n')[0]}`;
    const setup = pkg === '@tensorflow/tfjs-node' ? lastNativeSetupFailure() : null;
    return `${pkg} not installed${setup ? ` (${setup})` : ''}`;
  }
  if (!(await tf.setBackend('tensorflow'))) return `${pkg} loaded but backend 'tensorflow' did not initialise`;
  return null;
}

async function tryWasm(): Promise<string | null> {
  try {
    await dynImport('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) return `wasm did not initialise`;
    return null;
  } catch (e) {
    return `wasm failed: ${((e as Error).message ?? String(e)).split('\n')[0]}`;
  }
}

async function activate(name: string): Promise<string | null> {
  switch (name) {
    case 'node-gpu':
      if (!cudaVisible()) return 'no CUDA device visible';
      return tryNative('@tensorflow/tfjs-node-gpu');
    case 'node':
    case 'tensorflow':
      return tryNative('@tensorflow/tfjs-node');
    case 'wasm':
      return tryWasm();
    case 'cpu':
      return (await tf.setBackend('cpu')) ? null : 'cpu did not initialise';
    default:
      return `unknown backend '${name}' (valid: ${BACKEND_NAMES.join(', ')})`;
  }
}

/**
 * Activate exactly this backend, whatever CREDITFLOW_BACKEND says (benchmarks that compare backends
 * side by side). Throws when it is unavailable.
 */
export async function useBackend(name: string): Promise<void> {
  const why = await activate(name);
  if (why !== null) throw new Error(`backend '${name}' is unavailable: ${why}`);
  await tf.ready();
}

/**
 * Choose and activate the best available backend. Throws only when a forced backend is unavailable.
 * @param forced backend to use instead of the automatic order; `CREDITFLOW_BACKEND` overrides it.
 */
export async function initBackend(forced?: string): Promise<BackendInfo> {
  const want = process.env.CREDITFLOW_BACKEND || forced;
  if (want) {
    const why = await activate(want);
    if (why !== null) throw new Error(`backend '${want}' was forced but is unavailable: ${why}`);
    await tf.ready();
    const forcedBy = `forced (${process.env.CREDITFLOW_BACKEND ? 'CREDITFLOW_BACKEND' : 'argument'})`;
    if (want === 'node' || want === 'tensorflow') return { name: tf.getBackend(), reason: `${forcedBy}; native CPU, ${intraOpThreadsInEffect()}` };
    if (want !== 'node-gpu') return { name: tf.getBackend(), reason: forcedBy };
    const gpu = gpuReport();
    return { name: tf.getBackend(), reason: `${forcedBy}; ${gpu.text}`, device: gpu.device };
  }
  const skipped: string[] = [];
  const gpu = cudaVisible() ? await tryNative('@tensorflow/tfjs-node-gpu') : 'tfjs-node-gpu skipped: no CUDA device visible';
  if (gpu === null) {
    const report = gpuReport();
    return { ...(await done(`native GPU (CUDA), ${report.text}`, skipped)), device: report.device };
  }
  skipped.push(gpu);
  const node = await tryNative('@tensorflow/tfjs-node');
  if (node === null) return done(`native CPU, ${intraOpThreadsInEffect()}`, skipped);
  skipped.push(node);
  const wasm = await tryWasm();
  if (wasm === null) return done('WebAssembly (measured faster than cpu for our sizes)', skipped);
  skipped.push(wasm);
  await tf.setBackend('cpu');
  return done('plain JS', skipped);
}

async function done(what: string, skipped: string[]): Promise<BackendInfo> {
  await tf.ready();
  const reason = skipped.length ? `${what}; skipped: ${skipped.join('; ')}` : what;
  return { name: tf.getBackend(), reason };
}
