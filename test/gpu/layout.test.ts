/**
 * The provisioning path of `npm run gpu` without a GPU: which wheels and members it takes, and whether
 * the dynamic loader finds every CUDA library TensorFlow opens in the deps/ layout it stages.
 * The RUNPATH below is the one `readelf -d` prints for tensorflow 2.18.1's libtensorflow_cc.so.2, the
 * object whose dlopen calls load the CUDA libraries;
 * test/fixtures/gpu/tensorflow-2.18.1-requires-dist.txt is the Requires-Dist block of that wheel's METADATA
 * (regenerate: pip download --no-deps tensorflow==2.18.1 --python-version 3.11 --platform manylinux2014_x86_64,
 * then unzip -p tensorflow-2.18.1-*.whl 'tensorflow-2.18.1.dist-info/METADATA' | grep ^Requires-Dist).
 * npx vitest run test/gpu/layout.test.ts
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CUDA_WHEELS, CUDA_WHEELS_LEFT_OUT, TF_GPU_WHEEL } from '../../scripts/gpu/config.js';
import { DLOPENED, LOADER_LINKS, isCudaLibMember, isTfMember, parseRunpath, resolveLib, runpathDirs, unreachable } from '../../scripts/gpu/layout.js';
import { andCudaPins, pinDrift, requirementsText } from '../../scripts/gpu/wheels.js';

const CC_RUNPATH =
  '$ORIGIN/../_solib_local/_Utensorflow:$ORIGIN/libtensorflow_cc.so.2.18.1.runfiles/org_tensorflow/_solib_local/_Utensorflow:' +
  '$ORIGIN/../../_solib_local/_Utensorflow:$ORIGIN/:$ORIGIN/../../nvidia/cufft/lib:$ORIGIN/../nvidia/cufft/lib:' +
  '$ORIGIN/../../nvidia/cudnn/lib:$ORIGIN/../nvidia/cudnn/lib:$ORIGIN/../../nvidia/cusolver/lib:$ORIGIN/../nvidia/cusolver/lib:' +
  '$ORIGIN/../../nvidia/cublas/lib:$ORIGIN/../nvidia/cublas/lib:$ORIGIN/../../nvidia/cusparse/lib:$ORIGIN/../nvidia/cusparse/lib:' +
  '$ORIGIN/../../nvidia/cuda_cupti/lib:$ORIGIN/../nvidia/cuda_cupti/lib:$ORIGIN/../../nvidia/cuda_runtime/lib:$ORIGIN/../nvidia/cuda_runtime/lib';
const READELF = ` 0x000000000000001d (RUNPATH)            Library runpath: [${CC_RUNPATH}]\n 0x0000000000000001 (NEEDED)             Shared library: [libm.so.6]\n`;
const METADATA = readFileSync(join(__dirname, '..', 'fixtures', 'gpu', 'tensorflow-2.18.1-requires-dist.txt'), 'utf8');

describe('the pinned wheels', () => {
  it('are exactly the tensorflow wheel\'s and-cuda extra, less the documented exclusions', () => {
    const pins = andCudaPins(METADATA);
    expect(pins.size).toBe(12);
    expect(pins.get('nvidia-cudnn-cu12')).toBe('9.3.0.75');
    expect(pinDrift(METADATA)).toEqual([]);
    expect([...pins.keys()].sort()).toEqual([...CUDA_WHEELS.map((w) => w.project), ...Object.keys(CUDA_WHEELS_LEFT_OUT)].sort());
  });

  it('reports drift: a changed version, a missing pin, an extra pin', () => {
    const bumped = METADATA.replace('nvidia-cudnn-cu12 ==9.3.0.75', 'nvidia-cudnn-cu12 ==9.4.0.58')
      .replace(/^Requires-Dist: nvidia-nccl-cu12.*$/m, '')
      .replace(/^Requires-Dist: nvidia-curand-cu12.*$/m, 'Requires-Dist: nvidia-curand-cu12 ==10.3.6.82 ; extra == \'and-cuda\'\nRequires-Dist: nvidia-cufile-cu12 ==1.10.0.4 ; extra == \'and-cuda\'');
    expect(pinDrift(bumped)).toEqual([
      'nvidia-cudnn-cu12: the wheel wants 9.4.0.58, pinned 9.3.0.75',
      'nvidia-cufile-cu12==1.10.0.4 is required by the wheel but not pinned',
      'nvidia-nccl-cu12 is pinned but the wheel does not ask for it',
    ]);
    expect(pinDrift('Requires-Dist: numpy >=1.26')).toEqual(expect.arrayContaining(['the tensorflow wheel declares no and-cuda requirements']));
  });

  it('go to pip in hash-checking mode, one pinned file each', () => {
    const text = requirementsText([TF_GPU_WHEEL, CUDA_WHEELS[0]]);
    expect(text).toBe(
      `tensorflow==2.18.1 --hash=sha256:${TF_GPU_WHEEL.sha256}\nnvidia-cublas-cu12==12.5.3.2 --hash=sha256:${CUDA_WHEELS[0].sha256}\n`,
    );
    for (const w of [TF_GPU_WHEEL, ...CUDA_WHEELS]) expect(w.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(CUDA_WHEELS.find((w) => w.dir === 'cudnn')?.file).toBe('nvidia_cudnn_cu12-9.3.0.75-py3-none-manylinux2014_x86_64.whl');
  });
});

describe('members taken from the wheels', () => {
  it('takes the two libraries and the C headers from tensorflow, nothing of its Python', () => {
    expect(isTfMember('tensorflow/libtensorflow_cc.so.2')).toBe(true);
    expect(isTfMember('tensorflow/libtensorflow_framework.so.2')).toBe(true);
    expect(isTfMember('tensorflow/include/tensorflow/c/c_api.h')).toBe(true);
    expect(isTfMember('tensorflow/python/_pywrap_tensorflow_internal.so')).toBe(false);
    expect(isTfMember('tensorflow/include/tensorflow/c/')).toBe(false);
  });

  it('takes every shared library of an nvidia wheel and nothing else', () => {
    expect(isCudaLibMember('nvidia/cudnn/lib/libcudnn.so.9')).toBe(true);
    expect(isCudaLibMember('nvidia/cuda_nvrtc/lib/libnvrtc-builtins.so.12.5')).toBe(true);
    expect(isCudaLibMember('nvidia/cuda_cupti/lib/libnvperf_host.so')).toBe(true);
    expect(isCudaLibMember('nvidia/cudnn/lib/__init__.py')).toBe(false);
    expect(isCudaLibMember('nvidia/cudnn/include/cudnn.h')).toBe(false);
    expect(isCudaLibMember('nvidia/cuda_nvcc/bin/ptxas')).toBe(false);
  });
});

describe('the loader path', () => {
  const roots: string[] = [];
  afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

  /** deps/ as install.ts stages it, with empty files standing for the libraries (the resolver only checks presence). */
  function stagedDeps(opts: { skip?: string; noLinks?: boolean } = {}): string {
    const deps = join(mkdtempSync(join(tmpdir(), 'cf-gpu-deps-')), 'deps');
    roots.push(dirname(deps));
    mkdirSync(join(deps, 'lib'), { recursive: true });
    writeFileSync(join(deps, 'lib', 'libtensorflow_framework.so.2'), '');
    for (const [name, dir] of DLOPENED) {
      if (name === opts.skip) continue;
      mkdirSync(join(deps, 'nvidia', dir, 'lib'), { recursive: true });
      writeFileSync(join(deps, 'nvidia', dir, 'lib', name), '');
    }
    mkdirSync(join(deps, 'nvidia', 'cuda_nvrtc', 'lib'), { recursive: true });
    writeFileSync(join(deps, 'nvidia', 'cuda_nvrtc', 'lib', 'libnvrtc.so.12'), '');
    if (!opts.noLinks) for (const [link, target] of LOADER_LINKS) symlinkSync(target, join(deps, link));
    return deps;
  }

  it('expands $ORIGIN against the library\'s folder', () => {
    expect(runpathDirs('$ORIGIN/:$ORIGIN/../nvidia/cudnn/lib:${ORIGIN}/x', '/p/deps/lib')).toEqual(['/p/deps/lib/', '/p/deps/nvidia/cudnn/lib', '/p/deps/lib/x']);
    expect(parseRunpath(READELF)).toBe(CC_RUNPATH);
    expect(parseRunpath(' 0x000000000000000f (RPATH)  Library rpath: [$ORIGIN]\n')).toBe('$ORIGIN');
    expect(parseRunpath('')).toBe('');
  });

  it('finds every library TensorFlow dlopens from libtensorflow_cc in the staged layout', () => {
    const lib = join(stagedDeps(), 'lib');
    expect(unreachable(CC_RUNPATH, lib, existsSync)).toEqual([]);
    const dirs = runpathDirs(CC_RUNPATH, lib);
    expect(resolveLib('libcudnn.so.9', dirs, existsSync)).toBe(join(lib, '..', 'nvidia', 'cudnn', 'lib', 'libcudnn.so.9'));
    // NCCL is on no RUNPATH of the wheel: found through its link in deps/lib.
    expect(resolveLib('libnccl.so.2', dirs, existsSync)).toBe(join(lib, 'libnccl.so.2'));
  });

  it('reports what the loader would miss', () => {
    expect(unreachable(CC_RUNPATH, join(stagedDeps({ skip: 'libcudnn.so.9' }), 'lib'), existsSync)).toEqual(['libcudnn.so.9']);
    expect(unreachable(CC_RUNPATH, join(stagedDeps({ noLinks: true }), 'lib'), existsSync)).toEqual(['libnccl.so.2']);
    // The RUNPATH made for site-packages' tensorflow/ folder does not fit a flat layout.
    expect(unreachable('$ORIGIN/', join(stagedDeps(), 'lib'), existsSync)).toHaveLength(DLOPENED.length - 1);
  });

  it('gives cuDNN the nvrtc/lib folder its own RUNPATH names', () => {
    const deps = stagedDeps();
    const cudnnRunpath = '$ORIGIN:$ORIGIN/../../cublas/lib:$ORIGIN/../../nvrtc/lib';
    expect(resolveLib('libnvrtc.so.12', runpathDirs(cudnnRunpath, join(deps, 'nvidia', 'cudnn', 'lib')), existsSync)).not.toBeNull();
  });
});
