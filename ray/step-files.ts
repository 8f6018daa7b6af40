/**
 * The files through which a Ray job gets its step and hands back its outcome, in the run's folder
 * on the shared file system:
 *
 *   <run dir>/ray/<submission id>.json       the request: the compute host's op and its arguments
 *   <run dir>/ray/<submission id>.out.json   the outcome: the op's result, or its error
 *
 * A request is exactly what a worker posts to its compute host thread (engine/host-protocol.ts),
 * so the job runs the same op with the same arguments through the same code.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { HostOp } from '../engine/host-protocol.js';
import { writeFileAtomic } from '../store/atomic-dir.js';

export interface StepRequest {
  op: HostOp;
  /** The op's arguments (run id, run folder, config, iteration / step / role). */
  args: { runId: string; runDir: string } & Record<string, unknown>;
}

export type StepOutcome =
  | { ok: true; value: unknown }
  | { ok: false; errorType: string; message: string };

/** The metadata key that marks the Ray jobs creditflow submits (`creditflow ray status` lists these). */
export const METADATA_MARK = 'creditflow';

export const stepFilesDir = (runDir: string) => join(runDir, 'ray');
export const requestFile = (runDir: string, submissionId: string) => join(stepFilesDir(runDir), `${submissionId}.json`);
export const outcomeFile = (requestPath: string) => requestPath.replace(/\.json$/, '.out.json');

export function writeStepRequest(path: string, request: StepRequest): void {
  // Not fsync'd: a request lost in a machine crash is written again by the activity's retry.
  writeFileAtomic(path, JSON.stringify(request), { durable: false });
  rmSync(outcomeFile(path), { force: true }); // an outcome of an earlier job under this id is not this job's
}

export function readStepRequest(path: string): StepRequest {
  const request = JSON.parse(readFileSync(path, 'utf8')) as StepRequest;
  if (typeof request?.op !== 'string' || typeof request.args?.runDir !== 'string') throw new Error(`${path} is not a creditflow step request`);
  return request;
}

export function writeStepOutcome(requestPath: string, outcome: StepOutcome): void {
  writeFileAtomic(outcomeFile(requestPath), JSON.stringify(outcome), { durable: false });
}

/** The outcome the job wrote, or null if it wrote none (it was killed, or it never ran). */
export function readStepOutcome(requestPath: string): StepOutcome | null {
  const path = outcomeFile(requestPath);
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as StepOutcome;
  } catch {
    return null;
  }
}

/**
 * What identifies a step within its run, for its Ray submission ids: the op and its iteration,
 * step or role (`rollout-3`, `prefUpdate-12`, `prefCriticalModel-positive`, `warmStart`).
 */
export function stepKey(request: StepRequest): string {
  const { iteration, step, role } = request.args as { iteration?: number; step?: number; role?: string };
  const at = iteration ?? step ?? role;
  return at === undefined ? request.op : `${request.op}-${at}`;
}
