/**
 * The recorded results of the compute steps, read without the compute host.
 *
 * The worker's activities answer a request whose output already exists (computed ahead by the host,
 * engine/run-ahead.ts, or by an earlier attempt) from these files, without queueing behind the host
 * thread, which is busy with the run's next step: otherwise every request waits for the step in
 * flight and the workflow falls behind the host a little more each iteration. The checks are cheap
 * (lengths, not hashes): whatever loads a weights version later verifies its hashes and rebuilds a
 * torn one (engine/run-sessions.ts), so a result read here is never trained on unverified.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFEST, readRecordedJson, type Manifest } from './atomic-dir.js';
import { readRolloutMetrics, rolloutFile } from './rollout-files.js';
import { versionDir } from './weight-versions.js';

type Metrics = Record<string, number>;

export const evaluationFile = (runDir: string, iteration: number) => join(runDir, 'evals', `${iteration}.json`);

export function recordedRollout(runDir: string, iteration: number): { rolloutFile: string; metrics: Metrics } | null {
  const file = rolloutFile(runDir, iteration);
  const metrics = readRolloutMetrics(file);
  return metrics ? { rolloutFile: file, metrics } : null;
}

/** The recorded result of the update that wrote weights version `iteration`, if its files are all there. */
export function recordedUpdate(runDir: string, iteration: number): { version: number; metrics: Metrics } | null {
  const dir = versionDir(runDir, iteration);
  try {
    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as Manifest;
    for (const [rel, { bytes }] of Object.entries(manifest.files)) if (statSync(join(dir, rel)).size !== bytes) return null;
    return manifest.meta.result as { version: number; metrics: Metrics };
  } catch {
    return null;
  }
}

export function recordedEvaluation(runDir: string, iteration: number): { accuracy: number; metrics: Metrics } | null {
  return readRecordedJson<{ accuracy: number; metrics: Metrics }>(evaluationFile(runDir, iteration)); // null: evaluate again
}
