/** `creditflow inspect <run-id> [--iteration N | --pair ID] [--out FILE]`: the token-credit page of a run (report/inspect-*.ts). */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { collectInspect, inspectFileName, renderInspect } from '../../report/index.js';
import { runDir, stateDir } from '../../store/paths.js';
import type { Options } from '../program.js';

export async function execute([id]: unknown[], options: Options): Promise<number> {
  const runId = id as string;
  const dir = runDir(runId);
  if (!existsSync(dir)) {
    console.error(`no run folder ${dir}`);
    return 1;
  }
  const data = collectInspect(runId, dir, { iteration: options.iteration as number | undefined, pair: options.pair as string | undefined });
  const out = resolve((options.out as string | undefined) ?? join(stateDir(), 'reports', inspectFileName(runId)));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, renderInspect(data));
  console.log(`wrote ${out} (${data.scope}, ${data.responses.length} responses)`);
  return 0;
}
