/**
 * Starting a run from another run's weights (`creditflow submit --from <run>[@version]`).
 *
 * Before the run starts, the CLI places a verified copy of the source's weights in
 * `<run>/init/` (hard links when the file system allows, the same files otherwise). The warm start
 * then loads them instead of initialising and fine-tuning, evaluates them, and writes version 0 as
 * usual, so everything after it (rollouts, updates, checkpoints, resume) is an ordinary run. The
 * optimizer starts fresh: a new run, not a continuation (that is `creditflow resume`).
 */
import { copyFileSync, existsSync, linkSync } from 'node:fs';
import { join } from 'node:path';
import { readVerifiedManifest, writeAtomicDir, type Manifest } from './atomic-dir.js';
import { listCheckpoints, verifiedStateDir } from './weight-versions.js';

export const initDir = (runDir: string) => join(runDir, 'init');

/** Where the init weights came from (the init folder's manifest meta). */
export interface InitSource { fromRun: string; fromVersion: number }

/** The verified init weights of a run, if it was started from another run's. */
export function readInitWeights(runDir: string): (Manifest & { meta: Partial<InitSource> }) | null {
  return readVerifiedManifest(initDir(runDir));
}

/** The source's state to start from: weights version `version`, else its newest checkpoint that verifies. */
export function sourceState(sourceRunDir: string, version?: number): { dir: string; version: number } {
  if (version !== undefined) {
    const found = verifiedStateDir(sourceRunDir, version);
    if (!found) throw new Error(`${sourceRunDir} has no weights version ${version} that verifies (kept: checkpoints ${listCheckpoints(sourceRunDir).join(', ') || 'none'})`);
    return { dir: found.dir, version };
  }
  for (const v of listCheckpoints(sourceRunDir)) {
    const found = verifiedStateDir(sourceRunDir, v);
    if (found) return { dir: found.dir, version: v };
  }
  throw new Error(`${sourceRunDir} has no checkpoint that verifies yet; name a weights version with <run>@<version>`);
}

/** Places the source's weight files in `<runDir>/init/` (atomically, with a manifest). */
export async function seedInitWeights(source: { runId: string; dir: string; version: number }, runDir: string): Promise<Manifest> {
  const files = ['weights.bin', 'weights.json'];
  for (const f of files) if (!existsSync(join(source.dir, f))) throw new Error(`${source.dir} has no ${f}`);
  const meta: InitSource = { fromRun: source.runId, fromVersion: source.version };
  return writeAtomicDir(initDir(runDir), (tmp) => {
    for (const f of files) {
      try {
        linkSync(join(source.dir, f), join(tmp, f));
      } catch {
        copyFileSync(join(source.dir, f), join(tmp, f));
      }
    }
  }, meta as unknown as Record<string, unknown>);
}
