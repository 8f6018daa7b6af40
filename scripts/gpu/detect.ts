/**
 * Static detection of the CUDA backend: is tfjs-node-gpu in node_modules, its addon built, and are
 * libtensorflow and the CUDA libraries where the addon's and libtensorflow's RUNPATHs point? Loads
 * nothing; `probeGpu` in probe.ts does the real load in a child process.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { napiBuildVersion } from '../native/config.js';
import { CUDA_WHEELS, GPU_MARKER_FILE, GPU_TF_VERSION, TFJS_NODE_GPU_PKG, TFJS_NODE_GPU_VERSION, gpuPaths } from './config.js';
import { DLOPENED } from './layout.js';

export interface GpuInstallStatus {
  installed: boolean;
  /** One line: why not, or what is there. */
  reason: string;
  pkgDir: string;
  addonPath?: string;
  /** The marker `npm run gpu` writes after a verified install (device included). */
  marker?: { tfVersion: string; tfjsNodeGpuVersion: string; napi: number; device: string | null; builtAt: string; [k: string]: unknown };
}

const nonEmpty = (p: string) => {
  try {
    return statSync(p).size > 0; // follows symlinks: a dangling link fails here
  } catch {
    return false;
  }
};

export function detectGpuInstall(root?: string): GpuInstallStatus {
  const { pkgDir } = gpuPaths(root);
  const no = (reason: string, extra: Partial<GpuInstallStatus> = {}): GpuInstallStatus => ({ installed: false, pkgDir, reason: `not installed: ${reason}`, ...extra });
  const pj = join(pkgDir, 'package.json');
  if (!existsSync(pj)) return no(`${TFJS_NODE_GPU_PKG} is not in node_modules (run \`npm run gpu\`)`);
  let pkg: { version?: string; binary?: { napi_versions?: number[] } };
  try {
    pkg = JSON.parse(readFileSync(pj, 'utf8'));
  } catch (e) {
    return no(`unreadable ${pj}: ${(e as Error).message}`);
  }
  if (pkg.version !== TFJS_NODE_GPU_VERSION) return no(`${TFJS_NODE_GPU_PKG}@${pkg.version} present, expected ${TFJS_NODE_GPU_VERSION}`);
  const napi = napiBuildVersion(pkg.binary?.napi_versions ?? []);
  if (napi === null) return no(`Node N-API ${process.versions.napi} is older than any version tfjs-node-gpu supports`);
  const addonPath = join(pkgDir, 'lib', `napi-v${napi}`, 'tfjs_binding.node');
  if (!existsSync(addonPath)) return no(`${TFJS_NODE_GPU_PKG} present but its addon is not built (${addonPath} missing)`, { addonPath });
  const deps = join(pkgDir, 'deps');
  const needed = [
    join(deps, 'lib', 'libtensorflow.so'),
    join(deps, 'lib', 'libtensorflow_framework.so.2'),
    ...DLOPENED.map(([name, dir]) => join(deps, 'nvidia', dir, 'lib', name)),
  ];
  const missing = needed.find((p) => !nonEmpty(p));
  if (missing) return no(`addon built but a library is missing (${missing})`, { addonPath });
  let marker: GpuInstallStatus['marker'];
  try {
    marker = JSON.parse(readFileSync(join(pkgDir, GPU_MARKER_FILE), 'utf8'));
  } catch {}
  if (!marker || marker.tfVersion !== GPU_TF_VERSION || marker.tfjsNodeGpuVersion !== TFJS_NODE_GPU_VERSION || marker.napi !== napi) {
    return no(`addon and libraries present but not verified by \`npm run gpu\` with tensorflow ${GPU_TF_VERSION} (no matching ${GPU_MARKER_FILE})`, { addonPath });
  }
  return {
    installed: true,
    pkgDir,
    addonPath,
    marker,
    reason: `installed: ${TFJS_NODE_GPU_PKG}@${pkg.version} with libtensorflow ${marker.tfVersion} and ${CUDA_WHEELS.length} CUDA wheels, verified ${marker.builtAt} on ${marker.device ?? 'no GPU'}`,
  };
}
