/**
 * Load tfjs-node-gpu in a child process (a crash there cannot take the installer down) and check it:
 * the device TensorFlow created (its own "Created device ... GPU:0" log line, the one place that
 * names the device it really uses), a matmul and a softmax gradient equal to the cpu backend to 1e-4,
 * and the GFLOP/s of a 2048x2048 float32 matmul (a GPU is ~100x a CPU core there; a sanity figure).
 */
import { spawnSync } from 'node:child_process';
import { GPU_ENV_DEFAULTS } from '../../engine/native-env.js';
import { gpuPaths } from './config.js';

export interface GpuProbe {
  ok: boolean;
  reason: string;
  tfVersion?: string;
  /** "NVIDIA H100 80GB HBM3, 79078 MiB for TensorFlow, compute capability 9.0", or null when TensorFlow made no GPU device. */
  device?: string | null;
  maxAbsDiff?: number;
  matmulGflops?: number;
}

const PROBE = `
import * as tf from '@tensorflow/tfjs';
await import('@tensorflow/tfjs-node-gpu');
if (!(await tf.setBackend('tensorflow'))) throw new Error("backend 'tensorflow' did not initialise");
const tfVersion = tf.backend().binding?.TF_Version ?? 'unknown';
const det = (n, k) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * k + 0.3));
const n = 96, a = det(n * n, 0.37), b = det(n * n, 0.91), x = det(8 * 50, 1.7), w = det(8 * 50, 0.53);
const run = async (be) => {
  await tf.setBackend(be);
  const out = tf.tidy(() => {
    const mm = tf.matMul(tf.tensor2d(a, [n, n]), tf.tensor2d(b, [n, n]));
    const g = tf.grad((v) => tf.sum(tf.mul(tf.softmax(v.mul(4)), tf.tensor2d(w, [8, 50]))))(tf.tensor2d(x, [8, 50]));
    return tf.concat([mm.flatten(), g.flatten()]);
  });
  const v = out.dataSync(); out.dispose(); return v;
};
const gpu = await run('tensorflow'), cpu = await run('cpu');
let d = 0; for (let i = 0; i < gpu.length; i++) d = Math.max(d, Math.abs(gpu[i] - cpu[i]));
await tf.setBackend('tensorflow');
const m = 2048, A = tf.randomNormal([m, m], 0, 1, 'float32', 1), B = tf.randomNormal([m, m], 0, 1, 'float32', 2);
const once = () => { const c = tf.matMul(A, B); c.dataSync(); c.dispose(); };
for (let i = 0; i < 3; i++) once();
const t0 = performance.now(); for (let i = 0; i < 10; i++) once();
const matmulGflops = (10 * 2 * m ** 3) / ((performance.now() - t0) / 1000) / 1e9;
console.log('PROBE ' + JSON.stringify({ tfVersion, maxAbsDiff: d, matmulGflops }));
`;

const DEVICE_LINE = /Created device \/job:localhost\/replica:0\/task:0\/device:GPU:0 with (\d+) MB memory:\s*->\s*device: 0, name: (.+?), pci bus id: [^,]+, compute capability: (\d+\.\d+)/;

/** TensorFlow's log -> the GPU:0 it created, or null. */
export function parseCreatedDevice(stderr: string): string | null {
  const m = stderr.match(DEVICE_LINE);
  return m ? `${m[2]}, ${m[1]} MiB for TensorFlow, compute capability ${m[3]}` : null;
}

/** The line of TensorFlow's log that says why it made no GPU device (a library it could not load, no driver...). */
export function whyNoGpu(stderr: string): string {
  const lines = stderr.split('\n');
  const pick = (re: RegExp) => lines.find((l) => re.test(l));
  const line = pick(/Could not load dynamic library/) ?? pick(/Cannot dlopen some GPU libraries/) ?? pick(/Could not find cuda drivers|failed call to cuInit/) ?? pick(/Ignoring visible gpu device/);
  return line ? line.replace(/^.*?\] /, '').trim().slice(0, 300) : 'TensorFlow logged no GPU device';
}

/**
 * @param requireGpu false only for `--build-without-gpu`: then a CPU-only load (TensorFlow found no
 *   GPU) passes, and the line says so.
 */
export function probeGpu(opts: { root?: string; requireGpu: boolean }): GpuProbe {
  const p = gpuPaths(opts.root);
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE], {
    cwd: p.root, encoding: 'utf8', timeout: 300_000, env: { ...GPU_ENV_DEFAULTS, ...process.env, TF_CPP_MIN_LOG_LEVEL: '0' },
  });
  const stderr = r.stderr ?? '';
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('PROBE '));
  if (r.status !== 0 || !line) {
    const err = stderr.split('\n').find((l) => /Error|error:|cannot|Cannot/.test(l)) ?? `exit ${r.status ?? r.signal}`;
    return { ok: false, reason: `tfjs-node-gpu did not load: ${err.trim().slice(0, 300)}` };
  }
  const res = JSON.parse(line.slice(6)) as { tfVersion: string; maxAbsDiff: number; matmulGflops: number };
  const device = parseCreatedDevice(stderr);
  const numbers = `matmul + softmax gradient match cpu (max |diff| ${res.maxAbsDiff.toExponential(1)}); 2048^2 matmul ${res.matmulGflops.toFixed(0)} GFLOP/s`;
  const out = { ...res, device };
  if (!(res.maxAbsDiff <= 1e-4)) return { ...out, ok: false, reason: `tfjs-node-gpu loaded but differs from cpu by ${res.maxAbsDiff}` };
  if (device === null && opts.requireGpu) return { ...out, ok: false, reason: `tfjs-node-gpu loaded but runs on the CPU: ${whyNoGpu(stderr)}` };
  const where = device ? `on GPU:0 = ${device}` : `on the CPU (no GPU device: ${whyNoGpu(stderr)})`;
  return { ...out, ok: true, reason: `libtensorflow ${res.tfVersion} ${where}; ${numbers}` };
}
