/**
 * `npm run bench -- memory`: peak RSS and seconds of one RL iteration (rollout, then one update with
 * AdamW) of SmolLM2-135M-Instruct, creditflow on the native backend beside PyTorch on the same
 * batch, in one run. Each side runs in its own child process, one after the other (never both at
 * once, so neither measures the other's pressure): bench/memory-step.ts and bench/memory_step.py.
 *
 * The batch (bench/memory-batch.ts): 2 prompts of 128 random token ids, 4 samples each (8
 * sequences), 128 new tokens per sequence at temperature 1, the update in micro-batches of 4. Peaks
 * are per phase, loading excluded; the iteration's peak is the larger of its two phases.
 *
 * Needs the HF folder and the reference venv (`npm run reference-models -- --smollm2-only`) and
 * the native backend (`npm run native`). Threads: CREDITFLOW_BENCH_THREADS (default 1, the compute
 * host's default TF_NUM_INTRAOP_THREADS) for both sides.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { referencePaths } from '../scripts/reference-models/paths.js';
import { memoryBatch } from './memory-batch.js';
import type { StepNumbers } from './memory-step.js';
import type { BenchRow } from './row.js';

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

function runChild(what: string, cmd: string, args: string[], env: NodeJS.ProcessEnv): StepNumbers {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status ?? r.signal}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  const line = r.stdout.trim().split('\n').pop()!;
  return JSON.parse(line) as StepNumbers;
}

export async function benchMemory(): Promise<BenchRow[]> {
  const paths = referencePaths();
  const python = join(paths.venv, 'bin', 'python');
  if (!existsSync(join(paths.smollm2Dir, 'config.json')) || !existsSync(python)) {
    throw new Error(`needs ${paths.smollm2Dir} and ${paths.venv} (npm run reference-models -- --smollm2-only)`);
  }
  const threads = process.env.CREDITFLOW_BENCH_THREADS ?? '1';
  const dir = mkdtempSync(join(tmpdir(), 'creditflow-bench-memory-'));
  try {
    const batchFile = join(dir, 'batch.json');
    const batch = memoryBatch();
    writeFileSync(batchFile, JSON.stringify(batch));
    const loadBefore = loadavg()[0];
    const ours = runChild('creditflow (bench/memory-step.ts)', process.execPath, ['--import', 'tsx', here('./memory-step.ts'), paths.smollm2Dir, batchFile], {
      ...process.env, CREDITFLOW_BACKEND: 'node', TF_NUM_INTRAOP_THREADS: threads, TF_NUM_INTEROP_THREADS: threads,
    });
    const torch = runChild('PyTorch (bench/memory_step.py)', python, [here('./memory_step.py'), paths.smollm2Dir, batchFile, threads], { ...process.env, OMP_NUM_THREADS: threads });
    const load = `load average ${loadBefore.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after; ${threads} thread(s) each`;
    const shape = `${batch.prompts.length} sequences of ${batch.prompts[0].length}+${batch.newTokens} tokens, micro-batches of ${batch.microBatch}`;
    const iteration = (s: StepNumbers) => ({ peak: Math.max(s.rollout.peakRssMb, s.update.peakRssMb), seconds: s.rollout.seconds + s.update.seconds });
    const rows: BenchRow[] = [];
    for (const [name, s] of [['creditflow', ours], ['pytorch', torch]] as const) {
      rows.push(
        { name: `${name} loaded model RSS`, value: s.loadedRssMb, unit: 'MB', note: s.backend },
        { name: `${name} rollout peak RSS`, value: s.rollout.peakRssMb, unit: 'MB', note: shape },
        { name: `${name} rollout`, value: s.rollout.seconds, unit: 's', note: load },
        { name: `${name} update step peak RSS`, value: s.update.peakRssMb, unit: 'MB', note: 'one AdamW step' },
        { name: `${name} update step`, value: s.update.seconds, unit: 's' },
        { name: `${name} RL iteration peak RSS`, value: iteration(s).peak, unit: 'MB' },
        { name: `${name} RL iteration`, value: iteration(s).seconds, unit: 's' },
      );
    }
    rows.push(
      { name: 'RL iteration peak RSS, creditflow / pytorch', value: iteration(ours).peak / iteration(torch).peak, unit: 'x', note: 'goal <= 2 (issue 17)' },
      { name: 'rollout peak RSS, creditflow / pytorch', value: ours.rollout.peakRssMb / torch.rollout.peakRssMb, unit: 'x' },
      { name: 'update step peak RSS, creditflow / pytorch', value: ours.update.peakRssMb / torch.update.peakRssMb, unit: 'x' },
      { name: 'RL iteration seconds, creditflow / pytorch', value: iteration(ours).seconds / iteration(torch).seconds, unit: 'x', note: load },
      { name: 'update step seconds, creditflow / pytorch', value: ours.update.seconds / torch.update.seconds, unit: 'x' },
    );
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
