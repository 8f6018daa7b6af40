/**
 * `creditflow check <run-id> [--repair] [--backend NAME] [--json]`: verify every file of a run folder
 * against its manifest (store/run-check.ts) and say what is damaged and what can be rebuilt; with
 * `--repair`, rebuild what the seeded steps can recompute, bit for bit (engine/repair-run.ts), then
 * check again. Exit status 0 when the folder is (now) whole, 1 when damage remains.
 */
import { initBackend } from '../../engine/backend.js';
import { runDir } from '../../store/paths.js';
import { checkRunFolder, formatRunCheck } from '../../store/run-check.js';
import { runWithArgv } from '../options.js';
import type { Options } from '../program.js';

export async function execute([runId]: unknown[], options: Options): Promise<number> {
  const dir = runDir(runId as string);
  const before = checkRunFolder(dir);
  if (!options.repair || before.damaged.length === 0) {
    console.log(options.json ? JSON.stringify(before, null, 2) : formatRunCheck(before));
    return before.damaged.length === 0 ? 0 : 1;
  }
  if (!options.json) console.log(formatRunCheck(before));
  // Rebuilt bytes match the recorded ones only on the backend the run used: the same choice a worker makes.
  const backend = await initBackend(options.backend as string | undefined);
  const { repairRun } = await import('../../engine/repair-run.js');
  const outcomes = await repairRun(dir, before);
  const after = checkRunFolder(dir);
  if (options.json) console.log(JSON.stringify({ before, repairs: outcomes, after, backend: backend.name }, null, 2));
  else {
    console.log(`repair (backend ${backend.name}):`);
    for (const o of outcomes) console.log(`  ${o.repaired ? 'REPAIRED' : 'NOT REPAIRED'} ${o.path}: ${o.note}`);
    console.log(formatRunCheck(after));
  }
  return after.damaged.length === 0 ? 0 : 1;
}

export const run = (argv: string[]) => runWithArgv('check', argv, execute);
