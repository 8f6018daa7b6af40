/**
 * The run's weight versions and checkpoints.
 *
 * `versions/<v>/` is the full training state after iteration v (v = 0 is the warm start): weights,
 * optimizer, and `meta.result`, the recorded result of the step that produced it. Every `update`
 * writes one, so a worker killed at any moment loses at most the step in flight, and a retried
 * update finds its version already written and returns the recorded result instead of stepping
 * twice. Only the newest few versions are kept.
 *
 * `checkpoints/<v>/` are the durable ones, written every `run.checkpointEvery` iterations: the same
 * files, hard-linked from the version (no copy), kept `run.keepCheckpoints` deep.
 *
 * Versions are written atomically but not fsync'd (see atomic-dir.ts): a process crash cannot tear
 * them, a machine crash can, and then the hash check rejects the version and the compute host
 * rebuilds it from the newest good version or checkpoint before it (every step is deterministic).
 * A checkpoint fsyncs its files (the links share the version's data) and folders.
 */
import { existsSync, linkSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readVerifiedManifest, sweepTornWrites, writeAtomicDir, writeAtomicDirFiles, type FolderFiles, type Manifest } from './atomic-dir.js';

/**
 * Must exceed the compute host's run-ahead depth (engine/run-ahead.ts AHEAD_ITERATIONS): the
 * workflow checkpoints version i after the host may already have written i+1 and i+2.
 */
export const VERSIONS_KEPT = 3;

export const versionsDir = (runDir: string) => join(runDir, 'versions');
export const checkpointsDir = (runDir: string) => join(runDir, 'checkpoints');
export const versionDir = (runDir: string, v: number) => join(versionsDir(runDir), String(v));
export const checkpointDir = (runDir: string, v: number) => join(checkpointsDir(runDir), String(v));

function numberedDirs(parent: string): number[] {
  if (!existsSync(parent)) return [];
  return readdirSync(parent).filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => b - a);
}

/** The recorded manifest of version v if it is complete and verified. */
export function readVersion(runDir: string, v: number): Manifest | null {
  return readVerifiedManifest(versionDir(runDir, v));
}

/**
 * Write version v atomically from its files' contents, then prune old versions (never a checkpointed
 * one: those are links). Synchronous, so that a writer thread can run it whole (engine/background-writer.ts).
 */
export function writeVersion(runDir: string, v: number, files: FolderFiles, result: Record<string, unknown>): Manifest {
  const manifest = writeAtomicDirFiles(versionDir(runDir, v), files, { version: v, result }, { durable: false });
  for (const old of numberedDirs(versionsDir(runDir)).slice(VERSIONS_KEPT)) rmSync(versionDir(runDir, old), { recursive: true, force: true });
  sweepTornWrites(versionsDir(runDir));
  return manifest;
}

/** Make version v a durable checkpoint (hard links + its own manifest) and keep the newest `keep`. */
export async function checkpointVersion(runDir: string, v: number, keep: number): Promise<Manifest> {
  const source = readVersion(runDir, v);
  if (!source) throw new Error(`cannot checkpoint version ${v}: it is missing or fails its hashes`);
  const manifest = await writeAtomicDir(checkpointDir(runDir, v), (tmp) => {
    for (const rel of Object.keys(source.files)) {
      mkdirSync(join(tmp, rel, '..'), { recursive: true });
      linkSync(join(versionDir(runDir, v), rel), join(tmp, rel));
    }
  }, source.meta);
  for (const old of numberedDirs(checkpointsDir(runDir)).slice(keep)) rmSync(checkpointDir(runDir, old), { recursive: true, force: true });
  sweepTornWrites(checkpointsDir(runDir));
  return manifest;
}

/** The folder holding a verified copy of state v (its version, else its checkpoint), or null. */
export function verifiedStateDir(runDir: string, v: number): { dir: string; manifest: Manifest } | null {
  for (const dir of [versionDir(runDir, v), checkpointDir(runDir, v)]) {
    const manifest = readVerifiedManifest(dir);
    if (manifest) return { dir, manifest };
  }
  return null;
}

export function listCheckpoints(runDir: string): number[] {
  return numberedDirs(checkpointsDir(runDir));
}
