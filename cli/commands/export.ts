/** `creditflow export <run-id> --out DIR [--version N] [--dtype F32|BF16|F16]`: a fine-tuned checkpoint as a Hugging Face-style folder. */
import { resolve } from 'node:path';
import { exportRunCheckpoint } from '../../engine/export-checkpoint.js';
import type { SafeDtype } from '../../models/llama/index.js';
import { runDir } from '../../store/paths.js';
import { parse, UsageError } from '../options.js';

const DTYPES = ['F32', 'BF16', 'F16'];

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { out: { type: 'string' }, version: { type: 'string' }, dtype: { type: 'string' } }, ['run-id']);
  if (values.help) {
    console.log('usage: creditflow export <run-id> --out DIR [--version N (default: the newest checkpoint)] [--dtype F32|BF16|F16 (default F32)]');
    return 0;
  }
  if (!values.out) throw new UsageError('missing --out DIR');
  const version = values.version === undefined ? undefined : Number(values.version);
  if (version !== undefined && !(Number.isInteger(version) && version >= 0)) throw new UsageError(`--version must be a weights version number, got ${values.version}`);
  if (values.dtype !== undefined && !DTYPES.includes(values.dtype)) throw new UsageError(`--dtype must be one of ${DTYPES.join(', ')}`);
  const out = resolve(values.out);
  const result = await exportRunCheckpoint(runDir(positionals[0]), out, { version, dtype: values.dtype as SafeDtype | undefined });
  console.log(`exported weights version ${result.version} to ${out}: ${result.files.map((f) => f.slice(out.length + 1)).join(', ')}`);
  return 0;
}
