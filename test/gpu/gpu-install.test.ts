/**
 * `npm run gpu` and the CUDA backend, on whatever machine runs the tests:
 * - synthetic node_modules trees pin down what detection reports for each broken / complete state;
 * - without a usable GPU (CI, laptops): the script fails fast with the preflight's one line, exit 0
 *   (1 with --strict or --check), and touches neither node_modules nor the cache;
 * - with one (scripts/gpu/on-gpu.sh): `--check` agrees with detection, and a worker forced onto the
 *   CUDA backend names the device nvidia-smi reports as the first visible GPU.
 * npx vitest run test/gpu/gpu-install.test.ts
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../engine/backend.js';
import { firstVisibleGpu, readGpuFacts } from '../../engine/gpu-devices.js';
import { PROJECT_ROOT, napiBuildVersion } from '../../scripts/native/config.js';
import { GPU_MARKER_FILE, GPU_TF_VERSION, TFJS_NODE_GPU_VERSION, gpuPaths } from '../../scripts/gpu/config.js';
import { detectGpuInstall } from '../../scripts/gpu/detect.js';
import { DLOPENED } from '../../scripts/gpu/layout.js';
import { assessGpu } from '../../scripts/gpu/preflight.js';

describe('detection on synthetic trees', () => {
  const roots: string[] = [];
  afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

  type State = 'empty' | 'wrong-version' | 'no-addon' | 'no-cudnn' | 'no-marker' | 'complete';
  function tree(state: State): string {
    const root = mkdtempSync(join(tmpdir(), 'cf-gpu-'));
    roots.push(root);
    if (state === 'empty') return root;
    const pkg = join(root, 'node_modules', '@tensorflow', 'tfjs-node-gpu');
    mkdirSync(pkg, { recursive: true });
    const versions = [3, 4, 5, 6, 7, 8];
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ version: state === 'wrong-version' ? '4.21.0' : TFJS_NODE_GPU_VERSION, binary: { napi_versions: versions } }));
    if (state === 'wrong-version' || state === 'no-addon') return root;
    const napi = napiBuildVersion(versions)!;
    const file = (path: string) => {
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, 'x');
    };
    file(join(pkg, 'lib', `napi-v${napi}`, 'tfjs_binding.node'));
    file(join(pkg, 'deps', 'lib', 'libtensorflow.so'));
    file(join(pkg, 'deps', 'lib', 'libtensorflow_framework.so.2'));
    for (const [name, dir] of DLOPENED) if (!(state === 'no-cudnn' && dir === 'cudnn')) file(join(pkg, 'deps', 'nvidia', dir, 'lib', name));
    if (state === 'complete') {
      writeFileSync(join(pkg, GPU_MARKER_FILE), JSON.stringify({ tfVersion: GPU_TF_VERSION, tfjsNodeGpuVersion: TFJS_NODE_GPU_VERSION, napi, device: 'NVIDIA H100 80GB HBM3, 79078 MiB for TensorFlow, compute capability 9.0', builtAt: 'test' }));
    }
    return root;
  }

  it.each<[State, RegExp]>([
    ['empty', /^not installed: @tensorflow\/tfjs-node-gpu is not in node_modules \(run `npm run gpu`\)$/],
    ['wrong-version', /^not installed: .*4\.21\.0 present, expected 4\.22\.0$/],
    ['no-addon', /^not installed: .*addon is not built .*tfjs_binding\.node missing/],
    ['no-cudnn', /^not installed: addon built but a library is missing .*nvidia\/cudnn\/lib\/libcudnn\.so\.9/],
    ['no-marker', /^not installed: addon and libraries present but not verified by `npm run gpu`/],
    ['complete', /^installed: @tensorflow\/tfjs-node-gpu@4\.22\.0 with libtensorflow 2\.18\.1 and 11 CUDA wheels, verified test on NVIDIA H100/],
  ])('%s', (state, reason) => {
    const s = detectGpuInstall(tree(state));
    expect(s.reason).toMatch(reason);
    expect(s.installed).toBe(state === 'complete');
  });
});

// ---- this machine ----------------------------------------------------------------------------------

const verdict = assessGpu(readGpuFacts());
const status = detectGpuInstall();

/** `npm run gpu` exactly as package.json runs it. */
function runGpu(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join('scripts', 'gpu', 'install.ts'), ...args], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, lines: r.stdout.trim().split('\n') };
}

/** Every path under a folder (empty when it does not exist): what "touches nothing" is checked against. */
function listing(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: false }).map(String).sort();
}

describe(`npm run gpu on this machine (${verdict.ok ? 'a GPU' : 'no usable GPU'})`, () => {
  it(verdict.ok ? '`npm run gpu -- --check` agrees with detection' : 'fails fast with its one-line reason and changes nothing', () => {
    if (verdict.ok) {
      const check = runGpu('--check');
      expect(check.status).toBe(status.installed ? 0 : 1);
      expect(check.lines[0]).toMatch(status.installed ? /^gpu: installed: .* on GPU:0 = .+ MiB for TensorFlow/ : /^gpu: not installed: /);
      return;
    }
    const { cacheDir } = gpuPaths();
    const tfDir = join(PROJECT_ROOT, 'node_modules', '@tensorflow');
    const before = [listing(tfDir), listing(cacheDir)];
    const escaped = verdict.reason.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const plain = runGpu();
    expect(plain.status).toBe(0);
    expect(plain.lines).toHaveLength(1);
    expect(plain.lines[0]).toMatch(new RegExp(`^gpu: not installed -- ${escaped} \\(native/wasm/cpu backends unchanged(; log: .+)?\\)$`));
    expect(runGpu('--strict').status).toBe(1);
    const check = runGpu('--check');
    expect(check.status).toBe(1);
    expect(check.lines).toEqual([`gpu: ${verdict.reason}`]);
    expect([listing(tfDir), listing(cacheDir)]).toEqual(before);
  }, 300_000);

  it('names the GPU when the CUDA backend is forced, and refuses it where there is none', async () => {
    const env = process.env.CREDITFLOW_BACKEND;
    delete process.env.CREDITFLOW_BACKEND; // the argument, not the environment, must pick the backend here
    try {
      if (!verdict.ok || !status.installed) {
        await expect(initBackend('node-gpu')).rejects.toThrow(/forced but is unavailable: (no CUDA device visible|@tensorflow\/tfjs-node-gpu)/);
        return;
      }
      const info = await initBackend('node-gpu');
      expect(info.name).toBe('tensorflow');
      expect(info.device?.name).toBe(firstVisibleGpu()?.name);
      expect(info.reason).toMatch(/GPU 0: .+, \d+ MiB/);
    } finally {
      if (env !== undefined) process.env.CREDITFLOW_BACKEND = env;
    }
  });
});
