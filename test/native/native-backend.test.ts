/**
 * Native backend (`npm run native`). Every test asserts something whether or not the addon is installed:
 * - synthetic node_modules trees pin down what the detector reports for each broken/complete state;
 * - in this checkout, detection must agree with whether tfjs-node really loads; when it loads, its
 *   matmul / softmax / gradients must equal the cpu backend's to 1e-4, and when it does not, the
 *   script's `--check` must say "not installed" with a reason and exit 1.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { MARKER_FILE, PROJECT_ROOT, TFJS_NODE_VERSION, TF_VERSION, napiBuildVersion } from '../../scripts/native/config.js';
import { detectNative } from '../../scripts/native/detect.js';

const supported = process.platform === 'linux' && process.arch === 'x64';

describe('native detection on synthetic trees', () => {
  const roots: string[] = [];
  afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

  /** A fake project root with node_modules/@tensorflow/tfjs-node in a chosen state. */
  function tree(state: 'empty' | 'wrong-version' | 'no-addon' | 'no-lib' | 'complete'): string {
    const root = mkdtempSync(join(tmpdir(), 'cf-native-'));
    roots.push(root);
    if (state === 'empty') return root;
    const pkg = join(root, 'node_modules', '@tensorflow', 'tfjs-node');
    mkdirSync(pkg, { recursive: true });
    const versions = [3, 4, 5, 6, 7, 8];
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({
      version: state === 'wrong-version' ? '4.21.0' : TFJS_NODE_VERSION, binary: { napi_versions: versions },
    }));
    if (state === 'wrong-version' || state === 'no-addon') return root;
    const napi = napiBuildVersion(versions)!;
    mkdirSync(join(pkg, 'lib', `napi-v${napi}`), { recursive: true });
    writeFileSync(join(pkg, 'lib', `napi-v${napi}`, 'tfjs_binding.node'), 'x');
    const lib = join(pkg, 'deps', 'lib');
    mkdirSync(lib, { recursive: true });
    symlinkSync('libtensorflow_cc.so.2', join(lib, 'libtensorflow.so')); // dangling until the real file exists
    if (state === 'no-lib') return root;
    writeFileSync(join(lib, 'libtensorflow_cc.so.2'), 'x');
    writeFileSync(join(lib, 'libtensorflow_framework.so.2'), 'x');
    writeFileSync(join(pkg, MARKER_FILE), JSON.stringify({ tfVersion: TF_VERSION, tfjsNodeVersion: TFJS_NODE_VERSION, napi, builtAt: 'test' }));
    return root;
  }

  it('reports each incomplete state as not installed, with the reason', () => {
    const cases: Array<[Parameters<typeof tree>[0], RegExp]> = [
      ['empty', /^not installed: @tensorflow\/tfjs-node is not in node_modules/],
      ['wrong-version', /^not installed: .*4\.21\.0 present, expected 4\.22\.0/],
      ['no-addon', /^not installed: .*addon is not built .*tfjs_binding\.node missing/],
      ['no-lib', /^not installed: addon built but libtensorflow missing .*libtensorflow\.so/],
    ];
    for (const [state, why] of cases) {
      const s = detectNative(tree(state));
      expect(s.installed, state).toBe(false);
      expect(s.reason, state).toMatch(supported ? why : /^unsupported platform/);
    }
  });

  it('reports a complete tree as installed and provisioned by the script', () => {
    const s = detectNative(tree('complete'));
    expect(s.installed).toBe(supported);
    if (supported) {
      expect(s.provisionedByUs).toBe(true);
      expect(s.reason).toMatch(new RegExp(`^installed: .*libtensorflow ${TF_VERSION.replace(/\./g, '\\.')}`));
    } else {
      expect(s.reason).toMatch(/^unsupported platform/);
    }
  });
});

// ---- this checkout ---------------------------------------------------------------------------------

const status = detectNative();

/** Deterministic inputs (no RNG), so both backends see bit-identical data. */
const det = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * k + 0.3) * 0.8);

interface Numbers {
  matmul: Float32Array;
  softmax: Float32Array;
  loss: number;
  grads: Float32Array[];
}

/** matmul, softmax and the gradients of a small 2-layer tanh MLP + softmax cross-entropy on one backend. */
async function compute(backend: string): Promise<Numbers> {
  expect(await tf.setBackend(backend)).toBe(true);
  return tf.tidy(() => {
    const a = tf.tensor2d(det(33 * 47, 0.37), [33, 47]);
    const b = tf.tensor2d(det(47 * 29, 0.91), [47, 29]);
    const matmul = tf.matMul(a, b).dataSync() as Float32Array;
    const softmax = tf.softmax(tf.tensor2d(det(8 * 50, 1.7), [8, 50]).mul(4)).dataSync() as Float32Array;
    const x = tf.tensor2d(det(16 * 12, 0.53), [16, 12]);
    const w1 = tf.tensor2d(det(12 * 24, 0.29), [12, 24]);
    const w2 = tf.tensor2d(det(24 * 10, 0.71), [24, 10]);
    const labels = tf.oneHot(tf.tensor1d(Array.from({ length: 16 }, (_, i) => (i * 7) % 10), 'int32'), 10);
    const f = (p: tf.Tensor, q: tf.Tensor) => tf.losses.softmaxCrossEntropy(labels, tf.matMul(tf.tanh(tf.matMul(x, p)), q)) as tf.Scalar;
    const { value, grads } = tf.valueAndGrads(f)([w1, w2]);
    return { matmul, softmax, loss: value.dataSync()[0], grads: grads.map((g) => g.dataSync() as Float32Array) };
  });
}

function maxDiff(x: Float32Array, y: Float32Array): number {
  expect(x.length).toBe(y.length);
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
  return d;
}

describe(`native backend in this checkout (${status.installed ? 'installed' : 'not installed'})`, () => {
  it('detection agrees with whether @tensorflow/tfjs-node actually loads', async () => {
    const load = import('@tensorflow/tfjs-node' as string);
    if (status.installed) {
      await expect(load).resolves.toBeTruthy();
      expect(tf.findBackend('tensorflow')).toBeTruthy();
    } else {
      await expect(load).rejects.toThrow();
      expect(status.reason).toMatch(/^(not installed: |unsupported platform)\S.+/);
    }
  });

  it(status.installed ? 'native matmul/softmax/gradients equal cpu to 1e-4' : '`npm run native -- --check` reports not installed with a reason', async () => {
    if (!status.installed) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', join('scripts', 'native', 'install.ts'), '--check'], {
        cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 60_000,
      });
      expect(r.status).toBe(1);
      expect(r.stdout.trim()).toBe(`native: ${status.reason}`);
      return;
    }
    const before = tf.getBackend();
    try {
      const cpu = await compute('cpu');
      const nat = await compute('tensorflow');
      expect(tf.getBackend()).toBe('tensorflow');
      expect(maxDiff(nat.matmul, cpu.matmul)).toBeLessThan(1e-4);
      expect(maxDiff(nat.softmax, cpu.softmax)).toBeLessThan(1e-4);
      expect(Math.abs(nat.loss - cpu.loss)).toBeLessThan(1e-4);
      expect(nat.grads).toHaveLength(2);
      nat.grads.forEach((g, i) => expect(maxDiff(g, cpu.grads[i])).toBeLessThan(1e-4));
      // Non-trivial numbers: the gradient is not all zeros and softmax rows sum to 1.
      expect(Math.max(...nat.grads[0].map(Math.abs))).toBeGreaterThan(1e-3);
      expect(nat.softmax.slice(0, 50).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    } finally {
      if (before) await tf.setBackend(before);
    }
  });

  it('a compute host loads libtensorflow with creditflow\'s environment defaults (quiet, one intra-op thread)', () => {
    // A fresh process: libtensorflow reads its environment once, when the host thread loads it.
    const script = [
      `import { ComputeHost } from ${JSON.stringify(join(PROJECT_ROOT, 'engine', 'compute-host.ts'))};`,
      "const host = new ComputeHost({ backend: 'tensorflow' });",
      "const info = await host.call('backend', {}).catch((e) => ({ name: 'none', reason: e.message }));",
      'await host.close();',
      'console.log(JSON.stringify({ backend: info.name, intraOp: process.env.TF_NUM_INTRAOP_THREADS }));',
    ].join('\n');
    const env = { ...process.env };
    delete env.TF_NUM_INTRAOP_THREADS;
    delete env.TF_CPP_MIN_LOG_LEVEL;
    delete env.CREDITFLOW_BACKEND;
    // A file, not `-e`: the host thread inherits the process's flags, and `--input-type` breaks it.
    const file = join(mkdtempSync(join(tmpdir(), 'cf-native-env-')), 'host.mts');
    writeFileSync(file, script);
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: PROJECT_ROOT, encoding: 'utf8', env, timeout: 120_000 });
    rmSync(dirname(file), { recursive: true, force: true });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { backend: string; intraOp: string };
    expect(out.intraOp).toBe('1');
    expect(out.backend).toBe(status.installed ? 'tensorflow' : 'none');
    // libtensorflow's INFO notices on load (CPU features, oneDNN) stay out of the worker's log.
    expect(r.stderr).not.toMatch(/cpu_feature_guard|oneDNN custom operations/);
  }, 120_000);
});
