/**
 * Static detection of the native tfjs-node backend: is the package there, is its addon built, is
 * libtensorflow where the addon's RPATH points? Loads nothing (safe to call anywhere); `probeNative`
 * in install.ts does the real load in a child process.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MARKER_FILE, TFJS_NODE_PKG, TFJS_NODE_VERSION, TF_VERSION, napiBuildVersion, nativePaths } from './config.js';

export interface NativeStatus {
  /** true when tfjs-node, its built addon and libtensorflow are all in place. */
  installed: boolean;
  /** One line: why not (or what is there). */
  reason: string;
  pkgDir: string;
  addonPath?: string;
  /** Installed tfjs-node version, when the package is present. */
  pkgVersion?: string;
  /** Contents of the marker written by `npm run native` after a verified install. */
  marker?: { tfVersion: string; tfjsNodeVersion: string; napi: number; builtAt: string; [k: string]: unknown };
  /** true when the marker says this script provisioned it with the currently pinned versions. */
  provisionedByUs: boolean;
}

export function detectNative(root?: string): NativeStatus {
  const { pkgDir } = nativePaths(root);
  const base = { pkgDir, provisionedByUs: false };
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return { ...base, installed: false, reason: `unsupported platform ${process.platform}-${process.arch} (only linux-x64 is provisioned)` };
  }
  const pj = join(pkgDir, 'package.json');
  if (!existsSync(pj)) return { ...base, installed: false, reason: `not installed: ${TFJS_NODE_PKG} is not in node_modules (run \`npm run native\`)` };
  let pkg: { version?: string; binary?: { napi_versions?: number[] } };
  try {
    pkg = JSON.parse(readFileSync(pj, 'utf8'));
  } catch (e) {
    return { ...base, installed: false, reason: `not installed: unreadable ${pj}: ${(e as Error).message}` };
  }
  const pkgVersion = pkg.version;
  if (pkgVersion !== TFJS_NODE_VERSION) {
    return { ...base, pkgVersion, installed: false, reason: `not installed: ${TFJS_NODE_PKG}@${pkgVersion} present, expected ${TFJS_NODE_VERSION}` };
  }
  const napi = napiBuildVersion(pkg.binary?.napi_versions ?? []);
  if (napi === null) return { ...base, pkgVersion, installed: false, reason: `not installed: Node N-API ${process.versions.napi} is older than any version tfjs-node supports` };
  const addonPath = join(pkgDir, 'lib', `napi-v${napi}`, 'tfjs_binding.node');
  if (!existsSync(addonPath)) {
    return { ...base, pkgVersion, addonPath, installed: false, reason: `not installed: ${TFJS_NODE_PKG} present but its addon is not built (${addonPath} missing)` };
  }
  for (const lib of ['libtensorflow.so', 'libtensorflow_framework.so.2']) {
    const p = join(pkgDir, 'deps', 'lib', lib);
    let ok = false;
    try {
      ok = statSync(p).size > 0; // follows symlinks: a dangling link fails here
    } catch {}
    if (!ok) return { ...base, pkgVersion, addonPath, installed: false, reason: `not installed: addon built but libtensorflow missing (${p})` };
  }
  let marker: NativeStatus['marker'];
  try {
    marker = JSON.parse(readFileSync(join(pkgDir, MARKER_FILE), 'utf8'));
  } catch {}
  const provisionedByUs = !!marker && marker.tfVersion === TF_VERSION && marker.tfjsNodeVersion === TFJS_NODE_VERSION && marker.napi === napi;
  return {
    ...base,
    installed: true,
    pkgVersion,
    addonPath,
    marker,
    provisionedByUs,
    reason: provisionedByUs
      ? `installed: ${TFJS_NODE_PKG}@${pkgVersion} with libtensorflow ${marker!.tfVersion} (tensorflow-cpu wheel), built ${marker!.builtAt}`
      : `installed: ${TFJS_NODE_PKG}@${pkgVersion} addon and libtensorflow present (not provisioned by npm run native)`,
  };
}
