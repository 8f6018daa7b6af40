/**
 * The demo, for real, over 3 seeds: configs/demo.yaml (or another RL config of configs/) run as a
 * Temporal workflow on a dev server with a worker, exactly the path `npm start` takes. Reports
 * held-out accuracy after the SFT warm start and after GRPO per seed, their means and the gain, and
 * the wall time per run. Targets (issue 2, the demo): SFT start below 60%, final at least 10 points
 * above it on average.
 *
 *   node --import tsx bench/recipe.ts [seeds=1,2,3] [config=configs/demo.yaml]
 */
import { submitRun } from '../cli/submit-run.js';
import { demoConfig, withBenchStack } from './local-stack.js';
import type { BenchRow } from './row.js';

export async function benchRecipe(seeds: number[] = [1, 2, 3], log: (s: string) => void = () => {}, file = 'configs/demo.yaml'): Promise<BenchRow[]> {
  return withBenchStack(async ({ client, worker }) => {
    const rows: BenchRow[] = [];
    const sft: number[] = [];
    const final: number[] = [];
    for (const seed of seeds) {
      const started = performance.now();
      const result = await (await submitRun(client, demoConfig({ seed, experiment: 'bench-recipe' }, file))).result();
      const wall = (performance.now() - started) / 1000;
      sft.push(result.warmStartAccuracy ?? NaN);
      final.push(result.finalAccuracy ?? NaN);
      log(`seed ${seed}: ${(100 * sft.at(-1)!).toFixed(1)}% -> ${(100 * final.at(-1)!).toFixed(1)}% in ${wall.toFixed(0)} s`);
      rows.push({ name: `seed ${seed}: held-out accuracy after SFT`, value: 100 * sft.at(-1)!, unit: '%' });
      rows.push({ name: `seed ${seed}: held-out accuracy after GRPO`, value: 100 * final.at(-1)!, unit: '%', note: `best ${(100 * (result.bestAccuracy ?? NaN)).toFixed(1)}%` });
      rows.push({ name: `seed ${seed}: run wall time`, value: wall, unit: 's', note: `${file}, backend ${worker.backend.name}` });
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    rows.push({ name: 'mean held-out accuracy after SFT', value: 100 * mean(sft), unit: '%', note: 'target < 60' });
    rows.push({ name: 'mean held-out accuracy after GRPO', value: 100 * mean(final), unit: '%' });
    rows.push({ name: 'mean gain from GRPO', value: 100 * (mean(final) - mean(sft)), unit: 'points', note: 'target >= 10' });
    return rows;
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const seeds = (process.argv[2] ?? '1,2,3').split(',').map(Number);
  for (const r of await benchRecipe(seeds, console.log, process.argv[3])) console.log(`${r.name.padEnd(44)} ${r.value.toFixed(1).padStart(7)} ${r.unit}${r.note ? `  (${r.note})` : ''}`);
}
