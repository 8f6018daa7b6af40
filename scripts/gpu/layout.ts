/**
 * Where the CUDA libraries go, and how the dynamic loader finds them (pure functions; install.ts does the I/O).
 *
 * The wheel's libtensorflow_cc.so.2 and libtensorflow_framework.so.2 carry RUNPATHs made for
 * site-packages: `$ORIGIN/` and `$ORIGIN/../nvidia/<lib>/lib` for cublas, cudnn, cufft, cusolver,
 * cusparse, cuda_runtime (and cuda_cupti on _cc). The NVIDIA libraries carry `$ORIGIN/../../<lib>/lib`
 * for their own dependencies (cuSOLVER -> cuBLAS, nvJitLink, cuSPARSE; cuDNN -> cuBLAS, nvrtc).
 * So tfjs-node-gpu's deps/ mirrors site-packages:
 *
 *   deps/lib/libtensorflow_cc.so.2, libtensorflow_framework.so.2 (+ the names binding.gyp links)
 *   deps/nvidia/<dir>/lib/*.so*      one folder per CUDA wheel, as the wheel lays it out
 *
 * and no LD_LIBRARY_PATH is needed (glibc reads that only at process start, too late for Node).
 * TensorFlow dlopens the CUDA libraries lazily, by name; glibc then searches the RUNPATH of the object
 * that called dlopen, which is libtensorflow_cc.so.2 (seen with LD_DEBUG=libs: libcudart.so.12 and
 * libcuda.so.1 are both looked up "RUNPATH from file .../deps/lib/libtensorflow_cc.so.2").
 * Two names are on no RUNPATH of the wheel; LOADER_LINKS adds them: NCCL (linked into deps/lib, which
 * is `$ORIGIN/`) and cuDNN's `nvrtc/lib` (the wheel installs nvrtc as `cuda_nvrtc`).
 */
import { join, posix } from 'node:path';
import { WHEEL_INCLUDE_PREFIXES, WHEEL_LIBS } from '../native/config.js';

/** Zip members taken from the tensorflow wheel: the two libraries and the C headers (as for tensorflow-cpu). */
export function isTfMember(name: string): boolean {
  return WHEEL_LIBS.includes(name) || (WHEEL_INCLUDE_PREFIXES.some((p) => name.startsWith(p)) && !name.endsWith('/'));
}

/** Zip members taken from an nvidia-* wheel: its shared libraries, nvidia/<dir>/lib/lib*.so[.N...]. */
export function isCudaLibMember(name: string): boolean {
  return /^nvidia\/[a-z_0-9]+\/lib\/lib[^/]+\.so(\.\d+)*$/.test(name);
}

/** Symbolic links added under deps/ (link path -> target, relative to the link's folder). */
export const LOADER_LINKS: [string, string][] = [
  ['lib/libnccl.so.2', '../nvidia/nccl/lib/libnccl.so.2'],
  ['nvidia/nvrtc', 'cuda_nvrtc'],
];

/**
 * The libraries TensorFlow 2.18's dso_loader opens by name on a CUDA machine (tsl/platform/default/
 * dso_loader.cc: cudart, cublas, cublasLt, cufft, cusolver, cusparse, cupti, cudnn, nccl at the
 * versions of the build), and the wheel folder each comes from. libcuda.so.1 is the driver's; TensorRT
 * (libnvinfer) is optional and not provided (TensorFlow logs that it is absent).
 */
export const DLOPENED: [string, string][] = [
  ['libcudart.so.12', 'cuda_runtime'],
  ['libcublas.so.12', 'cublas'],
  ['libcublasLt.so.12', 'cublas'],
  ['libcufft.so.11', 'cufft'],
  ['libcusolver.so.11', 'cusolver'],
  ['libcusparse.so.12', 'cusparse'],
  ['libcupti.so.12', 'cuda_cupti'],
  ['libcudnn.so.9', 'cudnn'],
  ['libnccl.so.2', 'nccl'],
];

/** RUNPATH "a:b" of an object in folder `origin` -> absolute folders, `$ORIGIN` substituted. */
export function runpathDirs(runpath: string, origin: string): string[] {
  return runpath.split(':').filter(Boolean).map((d) => posix.normalize(d.replace(/\$(ORIGIN|\{ORIGIN\})/g, origin)));
}

/** The first folder of `dirs` holding `name`, as the loader searches a RUNPATH; null when none does. */
export function resolveLib(name: string, dirs: string[], exists: (path: string) => boolean): string | null {
  for (const d of dirs) if (exists(join(d, name))) return join(d, name);
  return null;
}

/** The names of DLOPENED that the loader would not find from an object in `origin` with this RUNPATH. */
export function unreachable(runpath: string, origin: string, exists: (path: string) => boolean): string[] {
  const dirs = runpathDirs(runpath, origin);
  return DLOPENED.map(([name]) => name).filter((name) => resolveLib(name, dirs, exists) === null);
}

/** `readelf -d` output -> the RUNPATH (or, failing that, RPATH) string; '' when it has neither. */
export function parseRunpath(readelfDynamic: string): string {
  const line = (tag: string) => readelfDynamic.split('\n').find((l) => l.includes(`(${tag})`));
  const found = line('RUNPATH') ?? line('RPATH');
  return found?.match(/\[(.*)\]/)?.[1] ?? '';
}
