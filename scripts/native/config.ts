/**
 * Pinned inputs for the native (libtensorflow) CPU backend. See docs/native-backend.md.
 *
 * tfjs-node 4.22.0 was built against libtensorflow 2.9.1, whose C API is only published as a tarball
 * on a Google storage host. PyPI's `tensorflow-cpu` wheels 2.9–2.11 carry the C API only inside the
 * Python extension (`_pywrap_tensorflow_internal.so`, which needs libpython's data symbols); from
 * 2.12 the wheel ships a standalone `libtensorflow_cc.so.2` that exports every TF_* / TFE_* symbol
 * tfjs-node's binding uses, with no Python dependency. 2.12.1 is the nearest such release to 2.9.1.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TFJS_NODE_PKG = '@tensorflow/tfjs-node';
export const TFJS_NODE_VERSION = '4.22.0';

export const TF_VERSION = '2.12.1';
export const WHEEL = {
  project: 'tensorflow-cpu',
  version: TF_VERSION,
  /** The libraries are the same in every cpXY wheel of a release; we always fetch this one. */
  pythonVersion: '3.11',
  platform: 'manylinux2014_x86_64',
  file: `tensorflow_cpu-${TF_VERSION}-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl`,
  sha256: '7ffb595707a8fb376deaddc768784c7a0242b16cbc6e06393b1733b2ce19f855',
} as const;

/** Members of the wheel we need: the two shared libraries and the C headers the binding includes. */
export const WHEEL_LIBS = ['tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'];
export const WHEEL_INCLUDE_PREFIXES = [
  'tensorflow/include/tensorflow/c/',
  'tensorflow/include/tensorflow/core/platform/',
  'tensorflow/include/tensorflow/tsl/c/',
  'tensorflow/include/tensorflow/tsl/platform/',
  // Newer wheels (checked with 2.18.1) moved the tsl headers; listed so a version bump is just TF_VERSION + file + sha256.
  'tensorflow/include/tsl/c/',
  'tensorflow/include/tsl/platform/',
  'tensorflow/include/xla/tsl/c/',
];

/** Written next to the addon after a verified install; its presence + matching fields = "provisioned by us". */
export const MARKER_FILE = '.creditflow-native.json';

export interface NativePaths {
  root: string;
  pkgDir: string;
  cacheDir: string;
  wheelPath: string;
  extractDir: string;
  logFile: string;
}

/** Project root = two levels above this file (scripts/native/config.ts). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function nativePaths(root: string = PROJECT_ROOT): NativePaths {
  const cacheDir = join(root, '.creditflow', 'cache', 'native');
  return {
    root,
    pkgDir: join(root, 'node_modules', '@tensorflow', 'tfjs-node'),
    cacheDir,
    wheelPath: join(cacheDir, WHEEL.file),
    extractDir: join(cacheDir, `libtensorflow-${TF_VERSION}`),
    logFile: join(cacheDir, 'install.log'),
  };
}

/** The N-API build version tfjs-node's loader (node-pre-gyp `find`) will look for: lib/napi-v<N>. */
export function napiBuildVersion(supported: number[]): number | null {
  const have = Number(process.versions.napi ?? 0);
  const ok = supported.filter((v) => v <= have);
  return ok.length ? Math.max(...ok) : null;
}
