/**
 * The writes of the compute host's steps, as messages: a weights version, a rollout file, or the
 * verdicts beside one.
 * `runWriteJob` does one, synchronously, on whichever thread holds it: the compute host's writer
 * thread (engine/background-writer.ts) or the caller's own.
 */
import type { FolderFiles } from './atomic-dir.js';
import { failpoint } from './failpoints.js';
import { rewardRecords, rewardsFileFor, unpackRollouts, unpackStrings, writeRewards, writeRollouts, type PackedRewards, type PackedRollouts } from './rollout-files.js';
import { versionDir, writeVersion } from './weight-versions.js';

export type WriteJob =
  | { op: 'version'; runDir: string; version: number; files: FolderFiles; result: Record<string, unknown> }
  /** A rollout file and its metrics (rollout-files.ts), then failpoint `rollout:written`. */
  | { op: 'rollouts'; path: string; packed: PackedRollouts; metrics: Record<string, number> }
  /** The rewards file beside rollout file `path`. */
  | { op: 'rewards'; path: string; packed: PackedRewards };

export function runWriteJob(job: WriteJob): void {
  if (job.op === 'version') {
    writeVersion(job.runDir, job.version, job.files, job.result);
    return;
  }
  if (job.op === 'rewards') {
    writeRewards(job.path, rewardRecords(unpackStrings(job.packed.ids), job.packed));
    return;
  }
  writeRollouts(job.path, unpackRollouts(job.packed), job.metrics);
  failpoint('rollout:written');
}

/** The path a job creates (a version's folder, a rollout file, a rewards file): what a reader waits for. */
export function writeTarget(job: WriteJob): string {
  if (job.op === 'version') return versionDir(job.runDir, job.version);
  return job.op === 'rewards' ? rewardsFileFor(job.path) : job.path;
}

/** Buffers a job may hand over to another thread without a copy (those that own their whole ArrayBuffer). */
export function transferables(job: WriteJob): ArrayBuffer[] {
  if (job.op === 'rollouts') return [job.packed.numbers.buffer as ArrayBuffer];
  // Not the verdicts' `of`: the sender still reads it (4 bytes a record, copied).
  if (job.op === 'rewards') return [job.packed.ids.lengths.buffer as ArrayBuffer];
  return Object.values(job.files).flatMap((data) =>
    typeof data !== 'string' && data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? [data.buffer] : []);
}
