/**
 * Every file of a run folder checked against what recorded it: each atomic folder (rows, pairs,
 * reference, cDPO's models, weights versions, checkpoints) against its manifest's sizes and sha256,
 * config.yaml against config.yaml.sha256, and the rollout and rewards files of every finished
 * iteration against the rollout's recorded length and each other. Nothing is changed here; the
 * report says what is damaged and whether the seeded steps can rebuild it (engine/repair-run.ts).
 *
 * Checkpoints share their bytes with the weights version they came from (hard links), so a version
 * damaged in place damages its checkpoint too: both are checked on their own manifests.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, relative } from 'node:path';
import { MANIFEST, sha256File, type Manifest } from './atomic-dir.js';
import { rewardsFileFor, rolloutFile } from './rollout-files.js';
import { spoValuesFileFor } from './spo-values.js';
import { checkpointDir, checkpointsDir, listCheckpoints, versionDir, versionsDir } from './weight-versions.js';

/** How a damaged item comes back: recomputed by the seeded steps, or not at all (restore it from a backup). */
export type Rebuild = 'seeded' | 'none';

export interface CheckedItem {
  /** The item's path, relative to the run folder: `checkpoints/12`, `rollouts/3.jsonl`. */
  path: string;
  kind: 'config' | 'data' | 'version' | 'checkpoint' | 'model' | 'rollout' | 'rewards' | 'spo-values';
  /** The weights version or iteration it belongs to, when it has one. */
  step?: number;
  ok: boolean;
  /** What is wrong, file by file (`weights.bin: 1000 bytes, manifest says 1228800`). */
  problems: string[];
  rebuild: Rebuild;
}

export interface RunCheck {
  runDir: string;
  items: CheckedItem[];
  damaged: CheckedItem[];
}

/** The problems of an atomic folder against its manifest: missing, resized or changed files. */
export function manifestProblems(dir: string): string[] {
  const path = join(dir, MANIFEST);
  if (!existsSync(path)) return [`no ${MANIFEST}`];
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
    if (!manifest || typeof manifest.files !== 'object') throw new Error('no files');
  } catch {
    return [`${MANIFEST} is torn (not the JSON a manifest holds)`];
  }
  const problems: string[] = [];
  for (const [rel, { sha256, bytes }] of Object.entries(manifest.files)) {
    const file = join(dir, rel);
    if (!existsSync(file)) {
      problems.push(`${rel}: missing`);
      continue;
    }
    const size = statSync(file).size;
    if (size !== bytes) problems.push(`${rel}: ${size} bytes, manifest says ${bytes}`);
    else if (sha256File(file) !== sha256) problems.push(`${rel}: sha256 differs from the manifest's`);
  }
  return problems;
}

const numbered = (parent: string) => (existsSync(parent) ? readdirSync(parent).filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b) : []);

/** The rollout file of iteration i and its rewards: present, of the recorded length, parseable, one verdict per completion. */
function rolloutItems(runDir: string, i: number, spo: boolean): CheckedItem[] {
  const file = rolloutFile(runDir, i);
  const rel = relative(runDir, file);
  const rollout: CheckedItem = { path: rel, kind: 'rollout', step: i, ok: true, problems: [], rebuild: 'seeded' };
  const rewards: CheckedItem = { path: relative(runDir, rewardsFileFor(file)), kind: 'rewards', step: i, ok: true, problems: [], rebuild: 'seeded' };
  let lines = -1;
  if (!existsSync(file)) rollout.problems.push('missing');
  else {
    const metricsFile = file.replace(/\.jsonl$/, '.metrics.json');
    let recorded: number | undefined;
    try {
      recorded = (JSON.parse(readFileSync(metricsFile, 'utf8')) as { bytes?: number }).bytes;
    } catch {
      rollout.problems.push(`${relative(runDir, metricsFile)} (its recorded length) is missing or torn`);
    }
    const size = statSync(file).size;
    if (recorded !== undefined && size !== recorded) rollout.problems.push(`${size} bytes, recorded ${recorded} (torn)`);
    else {
      try {
        lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l)).length;
      } catch {
        rollout.problems.push('a line is not JSON (torn)');
      }
    }
  }
  const rewardsPath = rewardsFileFor(file);
  if (!existsSync(rewardsPath)) rewards.problems.push('missing');
  else {
    try {
      const records = JSON.parse(readFileSync(rewardsPath, 'utf8')) as unknown;
      if (!Array.isArray(records)) rewards.problems.push('not a list of verdicts (torn)');
      else if (lines >= 0 && records.length !== lines) rewards.problems.push(`${records.length} verdicts for ${lines} completions`);
    } catch {
      rewards.problems.push('not JSON (torn)');
    }
  }
  const items = [rollout, rewards];
  // SPO's Monte Carlo values sit beside the rollout of an spo run (o.spo): present and JSON.
  const spoPath = spoValuesFileFor(file);
  if (spo) {
    const values: CheckedItem = { path: relative(runDir, spoPath), kind: 'spo-values', step: i, ok: true, problems: [], rebuild: 'seeded' };
    if (!existsSync(spoPath)) values.problems.push('missing');
    else {
      try {
        JSON.parse(readFileSync(spoPath, 'utf8'));
      } catch {
        values.problems.push('not JSON (torn)');
      }
    }
    items.push(values);
  }
  for (const item of items) item.ok = item.problems.length === 0;
  return items;
}

/** The config as run against its recorded sha256. */
function configItem(runDir: string): CheckedItem {
  const item: CheckedItem = { path: 'config.yaml', kind: 'config', ok: true, problems: [], rebuild: 'none' };
  const file = join(runDir, 'config.yaml');
  const shaFile = `${file}.sha256`;
  if (!existsSync(file)) item.problems.push('missing');
  else if (existsSync(shaFile)) {
    const recorded = readFileSync(shaFile, 'utf8').split(/\s+/)[0];
    if (createHash('sha256').update(readFileSync(file)).digest('hex') !== recorded) item.problems.push('sha256 differs from config.yaml.sha256');
  }
  item.ok = item.problems.length === 0;
  return item;
}

/**
 * Check every file of the run folder. `finished`: the iterations whose rollouts and rewards must be
 * there (default: up to the newest weights version or checkpoint; a preference run has none).
 */
export function checkRunFolder(runDir: string, o: { finished?: number; rolloutsExpected?: boolean } = {}): RunCheck {
  if (!existsSync(join(runDir, 'config.yaml')) && !existsSync(versionsDir(runDir))) throw new Error(`${runDir} is not a run folder (no config.yaml, no versions)`);
  const items: CheckedItem[] = [configItem(runDir)];
  const folder = (rel: string, kind: CheckedItem['kind'], rebuild: Rebuild, step?: number) => {
    const problems = manifestProblems(join(runDir, rel));
    items.push({ path: rel, kind, step, ok: problems.length === 0, problems, rebuild });
  };
  for (const rel of ['rows', 'data', 'reference', 'init', join('critical', 'positive'), join('critical', 'negative')]) {
    // `data/` of an older run has no manifest (pairs written one by one): nothing recorded to check against.
    if (!existsSync(join(runDir, rel)) || (rel === 'data' && !existsSync(join(runDir, rel, MANIFEST)))) continue;
    folder(rel, rel === 'rows' || rel === 'data' ? 'data' : 'model', 'none');
  }
  for (const v of numbered(versionsDir(runDir))) folder(relative(runDir, versionDir(runDir, v)), 'version', 'seeded', v);
  for (const v of listCheckpoints(runDir).reverse()) folder(relative(runDir, checkpointDir(runDir, v)), 'checkpoint', 'seeded', v);
  const newest = Math.max(0, ...numbered(versionsDir(runDir)), ...numbered(checkpointsDir(runDir)));
  const finished = o.finished ?? newest;
  const rollouts = o.rolloutsExpected ?? existsSync(join(runDir, 'rollouts'));
  // An spo run is known by the values file of its first iteration's rollout, or by its config.
  const spo = existsSync(spoValuesFileFor(rolloutFile(runDir, 1))) || /^\s*name:\s*spo\s*$/m.test(readIfExists(join(runDir, 'config.yaml')));
  if (rollouts) for (let i = 1; i <= finished; i++) items.push(...rolloutItems(runDir, i, spo));
  return { runDir, items, damaged: items.filter((i) => !i.ok) };
}

const readIfExists = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');

/** The report, one line per damaged item and a last line that sums up. */
export function formatRunCheck(check: RunCheck): string {
  const lines = check.damaged.map((d) => `DAMAGED ${d.path}: ${d.problems.join('; ')} — ${d.rebuild === 'seeded' ? 'can be rebuilt (creditflow check --repair)' : 'cannot be rebuilt; restore it from a copy'}`);
  const rebuildable = check.damaged.filter((d) => d.rebuild === 'seeded').length;
  lines.push(check.damaged.length === 0
    ? `ok: ${check.items.length} items of ${check.runDir} match their manifests`
    : `${check.damaged.length} of ${check.items.length} items damaged (${rebuildable} can be rebuilt)`);
  return lines.join('\n');
}
