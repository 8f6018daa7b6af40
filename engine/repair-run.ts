/**
 * `creditflow check --repair`: rebuild what a run folder lost that the seeded steps can recompute —
 * weights versions and checkpoints (RL and preference runs), and the rollout, rewards and SPO values
 * files of an RL run's finished iterations — and put a state back only when it is the lost one bit
 * for bit (every file's sha256 equals the one its manifest recorded).
 *
 * The work happens in a scratch copy of the run folder (`.repair-<pid>`): the immutable weights files
 * of the good states are hard-linked in (nothing writes to them in place), everything else is copied,
 * and the damaged items are left out. A fresh {@link RunSessions} then recomputes the lost states
 * from the newest good one before each (every step is seeded by (seed, iteration)), exactly as a
 * worker rebuilds a torn version. Only states older than the oldest damaged one go into the scratch,
 * so the versions it writes are always its newest and are never pruned before they are installed.
 */
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseRunConfigYaml } from '../configs/load.js';
import { warmStartConfigOf, type PreferenceConfig } from '../configs/preference-schema.js';
import type { ExperimentConfig } from '../configs/schema.js';
import { scoreCases } from '../rewards/mix.js';
import { MANIFEST, readVerifiedManifest, writeAtomicDir, writeFileAtomic, type Manifest } from '../store/atomic-dir.js';
import { readRollouts, rewardCaseOf, rewardsFileFor, rolloutFile, writeRewards } from '../store/rollout-files.js';
import { checkRunFolder, type CheckedItem, type RunCheck } from '../store/run-check.js';
import { spoValuesFileFor } from '../store/spo-values.js';
import { checkpointDir, readVersion, versionDir } from '../store/weight-versions.js';
import { mixOf } from './run-rows.js';
import { PreferenceSessions } from './preference-sessions.js';
import { RunSessions } from './run-sessions.js';

export interface RepairOutcome {
  path: string;
  repaired: boolean;
  /** What was done, or why not. */
  note: string;
}

/** Folders whose files are immutable weights: linked into the scratch copy, never copied. */
const LINKED = new Set(['versions', 'checkpoints', 'reference', 'init', 'critical']);

/** Copy (or hard-link) `from` into `to`, recursively, skipping names `skip` refuses. */
function mirror(from: string, to: string, link: boolean, skip: (rel: string) => boolean, root = from): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const rel = relative(root, source);
    if (skip(rel)) continue;
    if (entry.isDirectory()) mirror(source, join(to, entry.name), link || LINKED.has(rel.split('/')[0]), skip, root);
    else if (entry.isFile()) (link || LINKED.has(rel.split('/')[0]) ? linkSync : copyFileSync)(source, join(to, entry.name));
  }
}

/** The manifest an item recorded, when it can still be read (a torn manifest records nothing). */
function recordedManifest(dir: string): Manifest | null {
  try {
    return JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as Manifest;
  } catch {
    return null;
  }
}

/** How the run's kind recomputes a weights version in the scratch folder, as its worker would. */
interface Rebuilder {
  version(v: number): Promise<void>;
  release(): void;
}

function rlRebuilder(sessions: RunSessions, config: ExperimentConfig, scratch: string): Rebuilder {
  const args = { runId: 'repair', config, runDir: scratch };
  return {
    async version(v) {
      if (v === 0) await sessions.warmStart(args, () => undefined);
      else {
        await rebuildRecords(sessions, config, scratch, v);
        await sessions.update({ ...args, iteration: v }, () => undefined);
      }
    },
    release: () => sessions.release('repair'),
  };
}

/** A preference run: the RL warm start for version 0, else the preference update of that step (recursively from the newest good state). */
function preferenceRebuilder(runs: RunSessions, config: PreferenceConfig, scratch: string): Rebuilder {
  const sessions = new PreferenceSessions({ runs, memoryBudgetBytes: 2 ** 31 });
  return {
    async version(v) {
      if (v === 0) await runs.warmStart({ runId: 'repair', config: warmStartConfigOf(config), runDir: scratch }, () => undefined);
      else await sessions.update({ runId: 'repair', config, runDir: scratch, step: v }, () => undefined);
    },
    release: () => {
      sessions.release('repair');
      runs.release('repair');
    },
  };
}

async function rebuildVersion(rebuilder: Rebuilder, scratch: string, v: number): Promise<Manifest> {
  await rebuilder.version(v);
  const manifest = readVersion(scratch, v);
  if (!manifest) throw new Error(`weights version ${v} was not rebuilt`);
  return manifest;
}

/** The rollout, rewards (and SPO values) of iteration `i` in the scratch folder. */
async function rebuildRecords(sessions: RunSessions, config: ExperimentConfig, scratch: string, i: number): Promise<void> {
  const args = { runId: 'repair', config, runDir: scratch, iteration: i };
  const { rolloutFile: file } = await sessions.rollout(args, () => undefined);
  if (!existsSync(rewardsFileFor(file))) {
    const records = readRollouts(file);
    const verdicts = await scoreCases(mixOf(config), records.map(rewardCaseOf));
    writeRewards(file, verdicts.map((v, k) => ({ id: records[k].id, status: v.status, score: v.score, reason: v.reason, parts: v.parts })));
  }
  if (config.objective.name === 'spo') await sessions.spoValues(args, () => undefined);
}

/** Same files, same sha256: the rebuilt state is the lost one bit for bit. */
function sameFiles(rebuilt: Manifest, recorded: Manifest): string | null {
  const names = new Set([...Object.keys(rebuilt.files), ...Object.keys(recorded.files)]);
  for (const name of names) {
    if (rebuilt.files[name]?.sha256 !== recorded.files[name]?.sha256) return `${name} rebuilt differs from the recorded sha256`;
  }
  return null;
}

/**
 * Repair what `check` found damaged and can be rebuilt; the rest is reported as not repaired.
 * `check` is re-run by the caller to show the result. Meant for a run that is not running (ended,
 * failed, cancelled or paused): a live worker writing the same folders would race the install.
 */
export async function repairRun(runDir: string, check: RunCheck = checkRunFolder(runDir)): Promise<RepairOutcome[]> {
  const rebuildable = check.damaged.filter((d) => d.rebuild === 'seeded');
  const outcomes: RepairOutcome[] = check.damaged.filter((d) => d.rebuild !== 'seeded')
    .map((d) => ({ path: d.path, repaired: false, note: 'not rebuildable by the seeded steps; restore it from a copy' }));
  if (rebuildable.length === 0) return outcomes;
  const configText = readFileSync(join(runDir, 'config.yaml'), 'utf8');
  const run = parseRunConfigYaml(configText, join(runDir, 'config.yaml'), runDir);
  const states = rebuildable.filter((d) => d.kind === 'version' || d.kind === 'checkpoint');
  const records = rebuildable.filter((d) => d.kind === 'rollout' || d.kind === 'rewards' || d.kind === 'spo-values');
  const damagedPaths = new Set(rebuildable.map((d) => d.path));
  // Only good states older than the first damaged step go into the scratch: every version the repair
  // writes there is then its newest, never pruned before it is installed.
  const cutoff = Math.min(...rebuildable.map((d) => d.step!));
  // A repair killed midway leaves its scratch behind: clear every one (repairs of one run do not overlap).
  for (const name of readdirSync(runDir)) if (name.startsWith('.repair-')) rmSync(join(runDir, name), { recursive: true, force: true });
  const scratch = join(runDir, `.repair-${process.pid}`);
  try {
    mirror(runDir, scratch, false, (rel) => {
      const [top, name] = rel.split('/');
      if (top.startsWith('.') || damagedPaths.has(rel)) return true;
      if ((top === 'versions' || top === 'checkpoints') && name !== undefined && rel === `${top}/${name}`) {
        return !(Number(name) < cutoff) || readVerifiedManifest(join(runDir, top, name)) === null;
      }
      return false;
    });
    const sessions = new RunSessions({ memoryBudgetBytes: 2 ** 31 });
    const rebuilder = run.kind === 'rl' ? rlRebuilder(sessions, run.config, scratch) : preferenceRebuilder(sessions, run.config, scratch);
    for (const item of [...states].sort((a, b) => a.step! - b.step!)) outcomes.push(await repairState(rebuilder, runDir, scratch, item));
    // Rollouts exist only in RL runs.
    if (run.kind === 'rl') for (const item of [...records].sort((a, b) => a.step! - b.step!)) outcomes.push(await repairRecord(sessions, run.config, runDir, scratch, item));
    rebuilder.release();
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return outcomes;
}

async function repairState(rebuilder: Rebuilder, runDir: string, scratch: string, item: CheckedItem): Promise<RepairOutcome> {
  const v = item.step!;
  const dir = item.kind === 'checkpoint' ? checkpointDir(runDir, v) : versionDir(runDir, v);
  // What to compare with: this item's manifest, else the other copy of state v (version or checkpoint).
  const twin = item.kind === 'checkpoint' ? versionDir(runDir, v) : checkpointDir(runDir, v);
  const recorded = recordedManifest(dir) ?? recordedManifest(twin);
  const rebuilt = readVersion(scratch, v) ?? await rebuildVersion(rebuilder, scratch, v);
  if (recorded) {
    const differs = sameFiles(rebuilt, recorded);
    if (differs) return { path: item.path, repaired: false, note: `${differs}; left as it is (was the run on another backend?)` };
  }
  await writeAtomicDir(dir, (tmp) => {
    for (const rel of Object.keys(rebuilt.files)) {
      mkdirSync(join(tmp, rel, '..'), { recursive: true });
      linkSync(join(versionDir(scratch, v), rel), join(tmp, rel));
    }
  }, recorded?.meta ?? rebuilt.meta, { durable: item.kind === 'checkpoint' });
  return { path: item.path, repaired: true, note: recorded ? 'rebuilt; every file matches its recorded sha256' : 'rebuilt (its manifest was torn: nothing recorded to compare with)' };
}

async function repairRecord(sessions: RunSessions, config: ExperimentConfig, runDir: string, scratch: string, item: CheckedItem): Promise<RepairOutcome> {
  const i = item.step!;
  await rebuildRecords(sessions, config, scratch, i);
  const from = item.kind === 'rollout' ? rolloutFile(scratch, i) : item.kind === 'rewards' ? rewardsFileFor(rolloutFile(scratch, i)) : spoValuesFileFor(rolloutFile(scratch, i));
  const to = join(runDir, item.path);
  if (item.kind === 'rollout') {
    const metricsFile = (p: string) => p.replace(/\.jsonl$/, '.metrics.json');
    let recordedBytes: number | undefined;
    try {
      recordedBytes = (JSON.parse(readFileSync(metricsFile(to), 'utf8')) as { bytes?: number }).bytes;
    } catch { /* the sidecar is gone too: nothing recorded to compare with */ }
    if (recordedBytes !== undefined && statSync(from).size !== recordedBytes) {
      return { path: item.path, repaired: false, note: `rebuilt rollout is ${statSync(from).size} bytes, recorded ${recordedBytes}; left as it is` };
    }
    writeFileAtomic(metricsFile(to), readFileSync(metricsFile(from), 'utf8'), { durable: false });
  }
  writeFileAtomic(to, readFileSync(from, 'utf8'), { durable: false });
  const how = { rollout: 'rebuilt from its weights version (seeded sampling)', rewards: 'rescored from its rollout', 'spo-values': 'resampled from its weights version (seeded continuations)' } as Record<string, string>;
  return { path: item.path, repaired: true, note: how[item.kind] };
}

