/** `creditflow export <run-id> --out DIR [--version N] [--dtype F32|BF16|F16]`: a fine-tuned checkpoint as a Hugging Face-style folder. */
import { resolve } from 'node:path';
import { exportRunCheckpoint } from '../../engine/export-checkpoint.js';
import type { SafeDtype } from '../../models/llama/index.js';
import { runDir } from '../../store/paths.js';
import { runWithArgv } from '../options.js';
import type { Options } from '../program.js';

export async function execute([runId]: unknown[], options: Options): Promise<number> {
  const out = resolve(options.out as string);
  const result = await exportRunCheckpoint(runDir(runId as string), out, { version: options.version as number | undefined, dtype: options.dtype as SafeDtype });
  console.log(`exported weights version ${result.version} to ${out}: ${result.files.map((f) => f.slice(out.length + 1)).join(', ')}`);
  return 0;
}

export const run = (argv: string[]) => runWithArgv('export', argv, execute);
