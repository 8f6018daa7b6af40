/**
 * A working folder as a Ray package: the folder's files in a deterministic zip, named by the hash
 * of its bytes (`gcs://_ray_pkg_<sha256 prefix>.zip`), so an unchanged folder is uploaded once.
 * The head keeps it in its GCS; `runtime_env.working_dir` set to the URI makes every node unpack it
 * and run the entrypoint inside it.
 *
 * Files sit at the top of the archive (no parent folder), as Ray's own SDK packs a working_dir.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { zipEntries, type ZipEntry } from './zip.js';

/** The dashboard accepts request bodies up to 100 MiB (ray_constants.DASHBOARD_CLIENT_MAX_SIZE). */
export const MAX_PACKAGE_BYTES = 100 * 1024 ** 2;

export interface PackageOptions {
  /**
   * Left out: a pattern matches a file or folder name anywhere (`node_modules`, `*.log`), or a path
   * from the folder's top when it contains a `/` (`data/raw`). `*` matches within one name.
   * `.git` is always left out.
   */
  excludes?: string[];
}

export interface WorkingDirPackage {
  uri: string;
  zip: Buffer;
  files: number;
}

function matcher(patterns: string[]): (path: string, name: string) => boolean {
  const regexes = patterns.map((p) => {
    const body = p.replace(/\/+$/, '').split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*');
    return { onPath: p.includes('/'), re: new RegExp(`^${body}$`) };
  });
  return (path, name) => regexes.some(({ onPath, re }) => re.test(onPath ? path : name));
}

/** Every file under `dir` (relative `/` paths, sorted), minus the excluded ones. Symbolic links are left out. */
export function listPackageFiles(dir: string, options: PackageOptions = {}): string[] {
  const excluded = matcher(['.git', ...(options.excludes ?? [])]);
  const out: string[] = [];
  const walk = (folder: string) => {
    for (const name of readdirSync(folder).sort()) {
      const full = join(folder, name);
      const path = relative(dir, full).split(sep).join('/');
      if (excluded(path, name)) continue;
      const stat = lstatSync(full);
      if (stat.isDirectory()) walk(full);
      else if (stat.isFile()) out.push(path);
    }
  };
  walk(dir);
  return out;
}

export function packWorkingDir(dir: string, options: PackageOptions = {}): WorkingDirPackage {
  const entries: ZipEntry[] = listPackageFiles(dir, options).map((name) => {
    const full = join(dir, ...name.split('/'));
    return { name, data: readFileSync(full), mode: lstatSync(full).mode & 0o777 };
  });
  const zip = zipEntries(entries);
  const hash = createHash('sha256').update(zip).digest('hex').slice(0, 32);
  return { uri: `gcs://_ray_pkg_${hash}.zip`, zip, files: entries.length };
}

/** `gcs://name.zip` -> the `{protocol}/{name}` of the package endpoints. */
export function packagePath(uri: string): string {
  const match = /^([a-z0-9]+):\/\/([^/]+\.zip)$/.exec(uri);
  if (!match) throw new Error(`not a package URI: ${JSON.stringify(uri)} (expected gcs://<name>.zip)`);
  return `/api/packages/${match[1]}/${encodeURIComponent(match[2])}`;
}
