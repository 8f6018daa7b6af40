/**
 * Pinned inputs for the CUDA backend (`npm run gpu`, @tensorflow/tfjs-node-gpu). See docs/gpu-backend.md.
 *
 * tfjs-node-gpu 4.22.0 is tfjs-node's binding under another name; its install script downloads
 * libtensorflow-gpu 2.9.1 from Google's storage host. As for the CPU path (scripts/native), the C API
 * comes instead from a PyPI wheel that ships a standalone `libtensorflow_cc.so.2`: here PyPI's
 * `tensorflow` (the CUDA build on Linux), 2.18.1. Why 2.18.1:
 *  - the CPU path already built and verified tfjs-node 4.22 against tensorflow-cpu 2.18.1 (every C API
 *    symbol the binding imports is exported; docs/native-backend.md);
 *  - its `and-cuda` extra pins every CUDA library exactly (2.20+ give ranges), so a rerun gets the same bytes;
 *  - it is a manylinux2014 wheel (glibc >= 2.17; 2.21 needs glibc >= 2.27);
 *  - its kernels are compiled for sm_60, sm_70, sm_80, sm_89 and sm_90 plus compute_90 PTX (read with
 *    cuobjdump --list-elf/--list-ptx), so Hopper (H100/H200) runs native code with no JIT.
 */
import { join } from 'node:path';
import { PROJECT_ROOT, TFJS_NODE_VERSION } from '../native/config.js';

export const TFJS_NODE_GPU_PKG = '@tensorflow/tfjs-node-gpu';
/** The same version as @tensorflow/tfjs and tfjs-node: one tfjs engine for all backends. */
export const TFJS_NODE_GPU_VERSION = TFJS_NODE_VERSION;

export const GPU_TF_VERSION = '2.18.1';

export interface PinnedWheel {
  project: string;
  version: string;
  file: string;
  sha256: string;
}

export const TF_GPU_WHEEL: PinnedWheel = {
  project: 'tensorflow',
  version: GPU_TF_VERSION,
  file: `tensorflow-${GPU_TF_VERSION}-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl`,
  sha256: 'c9f87e5d2a680a4595f5dc30daf6bbaec9d4129b46d7ef1b2af63c46ac7d2828',
};

/**
 * The CUDA libraries: exactly the `and-cuda` extra of tensorflow 2.18.1's METADATA (versions as pinned
 * there), less `nvidia-cuda-nvcc-cu12`, whose ptxas and libnvvm serve XLA's JIT, which tfjs-node never
 * calls (its lib/ folder holds no library). Each wheel unpacks to nvidia/<dir>/lib/.
 */
export const CUDA_WHEELS: (PinnedWheel & { dir: string })[] = [
  { project: 'nvidia-cublas-cu12', version: '12.5.3.2', dir: 'cublas', sha256: 'ca070ad70e9fa6654084575d01bd001f30cc4665e33d4bb9fc8e0f321caa034b' },
  { project: 'nvidia-cuda-cupti-cu12', version: '12.5.82', dir: 'cuda_cupti', sha256: 'bde77a5feb66752ec61db2adfe47f56b941842825b4c7e2068aff27c9d107953' },
  { project: 'nvidia-cuda-nvrtc-cu12', version: '12.5.82', dir: 'cuda_nvrtc', sha256: '3dbd97b0104b4bfbc3c4f8c79cd2496307c89c43c29a9f83125f1d76296ff3fd' },
  { project: 'nvidia-cuda-runtime-cu12', version: '12.5.82', dir: 'cuda_runtime', sha256: '3e79a060e126df40fd3a068f3f787eb000fa51b251ec6cd97d09579632687115' },
  { project: 'nvidia-cudnn-cu12', version: '9.3.0.75', dir: 'cudnn', sha256: '9ad9c6929ebb5295eb4a1728024666d1c88283373e265a0c5c883e6f9d5cd76d' },
  { project: 'nvidia-cufft-cu12', version: '11.2.3.61', dir: 'cufft', sha256: '9a6e8df162585750f61983a638104a48c756aa13f9f48e19ab079b38e3c828b8' },
  { project: 'nvidia-curand-cu12', version: '10.3.6.82', dir: 'curand', sha256: '2823fb27de4e44dbb22394a6adf53aa6e1b013aca0f8c22867d1cfae58405536' },
  { project: 'nvidia-cusolver-cu12', version: '11.6.3.83', dir: 'cusolver', sha256: '93cfafacde4428b71778eeb092ec615a02a3d05404da1bcf91c53e3fa1bce42b' },
  { project: 'nvidia-cusparse-cu12', version: '12.5.1.3', dir: 'cusparse', sha256: '016df8e993c437e8301e62739f01775cba988fd5253cd4c64173f8e8d2f8e752' },
  { project: 'nvidia-nccl-cu12', version: '2.21.5', dir: 'nccl', sha256: '8579076d30a8c24988834445f8d633c697d42397e92ffc3f63fa26766d25e0a0' },
  { project: 'nvidia-nvjitlink-cu12', version: '12.5.82', dir: 'nvjitlink', sha256: 'f9b37bc5c8cf7509665cb6ada5aaa0ce65618f2332b7d3e78e9790511f111212' },
].map((w) => ({ ...w, file: `${w.project.replace(/-/g, '_')}-${w.version}-py3-none-manylinux2014_x86_64.whl` }));

/** Members of the and-cuda extra deliberately not fetched, with the reason (checked against the wheel's METADATA). */
export const CUDA_WHEELS_LEFT_OUT: Record<string, string> = {
  'nvidia-cuda-nvcc-cu12': 'ptxas and libnvvm for XLA JIT compilation, which tfjs-node does not use',
};

/** The oldest driver that runs CUDA 12.x libraries (CUDA's minor-version compatibility). */
export const MIN_DRIVER = '525.60.13';
/** PTX from CUDA 12.5 (what runs on GPUs newer than sm_90) needs a driver that knows its ISA. */
export const MIN_DRIVER_FOR_PTX_JIT = '555.42';
/** Compute capabilities with native kernels in the wheel; a GPU runs the highest one <= its own of the same major. */
export const SASS_ARCHS = [6.0, 7.0, 8.0, 8.9, 9.0];
/** The PTX in the wheel, JIT-compiled by the driver for a newer GPU. */
export const PTX_ARCH = 9.0;

/** Written next to the addon after a verified install. */
export const GPU_MARKER_FILE = '.creditflow-gpu.json';

export interface GpuPaths {
  root: string;
  pkgDir: string;
  cacheDir: string;
  wheelDir: string;
  /** The TF wheel's path (the field name scripts/native's helpers read). */
  wheelPath: string;
  /** tensorflow/ and nvidia/ unpacked as in site-packages, so the libraries' RUNPATHs hold. */
  extractDir: string;
  /** Where npm installs the package before it is moved into node_modules (see install.ts, ensurePackage). */
  npmStage: string;
  logFile: string;
}

export function gpuPaths(root: string = PROJECT_ROOT): GpuPaths {
  const cacheDir = join(root, '.creditflow', 'cache', 'gpu');
  const wheelDir = join(cacheDir, 'wheels');
  return {
    root,
    pkgDir: join(root, 'node_modules', '@tensorflow', 'tfjs-node-gpu'),
    cacheDir,
    wheelDir,
    wheelPath: join(wheelDir, TF_GPU_WHEEL.file),
    extractDir: join(cacheDir, `libtensorflow-gpu-${GPU_TF_VERSION}`),
    npmStage: join(cacheDir, 'npm-stage'),
    logFile: join(cacheDir, 'install.log'),
  };
}
