/**
 * Atomic, verified folders: write into a temporary sibling, write a manifest with the sha256 of every
 * file, then rename into place. A reader either sees the whole folder or none of it; a folder whose
 * files do not match its manifest is treated as absent.
 *
 * Two levels of durability. Atomic writes (rename) survive any crash of our own process: the page
 * cache outlives it, and that is the crash the tests exercise (SIGKILL at failpoints). Durable
 * writes also fsync every file and folder before and after the rename, so they survive the machine
 * losing power; each fsync costs ~4 ms on our disks, ten of them per iteration were a tenth of a
 * demo iteration. Per-iteration state (weight versions, rollouts, rewards) is atomic only: it is a
 * deterministic function of the previous state, verified on read and rebuilt when missing or torn.
 * Checkpoints and the run's config are durable: they are what a machine crash falls back to.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { failpoint } from './failpoints.js';

export const MANIFEST = 'manifest.json';

export interface Manifest {
  createdAt: string;
  files: Record<string, { sha256: string; bytes: number }>;
  /** Small JSON the writer wants to keep with the folder (e.g. the step's recorded result). */
  meta: Record<string, unknown>;
}

export function sha256File(path: string): string {
  // In 4 MB reads: a 135M model's version is 1.6 GB, which a whole-file read would hold at once.
  const hash = createHash('sha256');
  const chunk = Buffer.allocUnsafe(4 << 20);
  const fd = openSync(path, 'r');
  try {
    for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0;) hash.update(chunk.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/**
 * A step's recorded JSON file (written with {@link writeFileAtomic}, not fsync'd), or null when it is
 * missing or was torn by a machine crash: the step is then done again.
 */
export function readRecordedJson<T>(path: string): T | null {
  if (!existsSync(path)) return null; // checked first: a failed read's exception costs more than the check
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** Flush a file's (or folder's) data to disk. */
export function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    return entry.isDirectory() ? listFiles(join(dir, entry.name), rel) : [rel];
  });
}

export interface WriteOptions {
  /** fsync before and after the rename, so the write survives a power loss (default true). */
  durable?: boolean;
}

/** Write one file atomically (temporary file, rename), and durably unless told otherwise. */
export function writeFileAtomic(path: string, text: string, { durable = true }: WriteOptions = {}): void {
  mkdirSync(dirname(path), { recursive: true });
  // Unique per write: two threads of one process may write the same file at once (the compute host
  // scoring ahead and the score activity), each must rename its own complete copy.
  const tmp = `${path}.tmp-${process.pid}-${threadId}-${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, text);
  if (durable) fsyncPath(tmp);
  renameSync(tmp, path);
  if (durable) fsyncPath(dirname(path));
}

/** File contents held in memory, by path relative to the folder. */
export type FolderFiles = Record<string, Uint8Array | string>;

/**
 * Write `finalDir` atomically. If it already exists and verifies, it is kept and its manifest returned.
 * `write` fills the temporary folder; its files are then read back to be hashed.
 */
export async function writeAtomicDir(
  finalDir: string,
  write: (tmpDir: string) => Promise<void> | void,
  meta: Record<string, unknown> = {},
  { durable = true }: WriteOptions = {},
): Promise<Manifest> {
  const existing = readVerifiedManifest(finalDir);
  if (existing) return existing;
  const tmp = freshTmpDir(finalDir);
  try {
    await write(tmp);
    failpoint('atomic-dir:files-written');
    const files: Manifest['files'] = {};
    for (const rel of listFiles(tmp).sort()) {
      const path = join(tmp, rel);
      if (durable) fsyncPath(path);
      files[rel] = { sha256: sha256File(path), bytes: statSync(path).size };
    }
    return commitTmpDir(tmp, finalDir, files, meta, durable);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * `writeAtomicDir` for files already in memory: hashed as they are, not read back. Synchronous, so it
 * can run start to end on a writer thread (engine/background-writer.ts).
 */
export function writeAtomicDirFiles(finalDir: string, contents: FolderFiles, meta: Record<string, unknown> = {}, { durable = true }: WriteOptions = {}): Manifest {
  const existing = readVerifiedManifest(finalDir);
  if (existing) return existing;
  const tmp = freshTmpDir(finalDir);
  try {
    const files: Manifest['files'] = {};
    for (const rel of Object.keys(contents).sort()) {
      const path = join(tmp, rel);
      const data = contents[rel];
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, data);
      if (durable) fsyncPath(path);
      files[rel] = { sha256: createHash('sha256').update(data).digest('hex'), bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength };
    }
    failpoint('atomic-dir:files-written');
    return commitTmpDir(tmp, finalDir, files, meta, durable);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** An empty temporary sibling of `finalDir`, after clearing a torn or corrupt `finalDir`. */
function freshTmpDir(finalDir: string): string {
  if (existsSync(finalDir)) rmSync(finalDir, { recursive: true, force: true }); // torn or corrupt: redo
  mkdirSync(dirname(finalDir), { recursive: true });
  const tmp = join(dirname(finalDir), `.tmp-${basename(finalDir)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(tmp);
  return tmp;
}

/** Write the manifest of the files in `tmp`, then rename `tmp` to `finalDir`. */
function commitTmpDir(tmp: string, finalDir: string, files: Manifest['files'], meta: Record<string, unknown>, durable: boolean): Manifest {
  const manifest: Manifest = { createdAt: new Date().toISOString(), files, meta };
  writeFileSync(join(tmp, MANIFEST), JSON.stringify(manifest, null, 2));
  if (durable) {
    fsyncPath(join(tmp, MANIFEST));
    fsyncPath(tmp);
  }
  failpoint('atomic-dir:before-rename');
  renameSync(tmp, finalDir);
  if (durable) fsyncPath(dirname(finalDir));
  return manifest;
}

/** The manifest when every listed file is present with the recorded hash; else null. */
export function readVerifiedManifest(dir: string): Manifest | null {
  const path = join(dir, MANIFEST);
  if (!existsSync(path)) return null;
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  } catch {
    return null;
  }
  for (const [rel, { sha256 }] of Object.entries(manifest.files)) {
    const file = join(dir, rel);
    if (!existsSync(file) || sha256File(file) !== sha256) return null;
  }
  return manifest;
}

/** Remove temporary folders left behind by a writer that was killed mid-write. */
export function sweepTornWrites(parent: string): void {
  if (!existsSync(parent)) return;
  for (const name of readdirSync(parent)) if (name.startsWith('.tmp-')) rmSync(join(parent, name), { recursive: true, force: true });
}
