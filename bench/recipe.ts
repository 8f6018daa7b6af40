/**
 * The demo recipe (tasks/demo-recipe.ts: SFT warm start, then GRPO) run in-process over 3 seeds:
 * held-out greedy accuracy after SFT and after GRPO per seed, their means, and wall time.
 * Target: SFT accuracy below 60%, GRPO at least 10 points above it on average, and each seed's
 * whole run well under 6 minutes on a 2-core CPU (wasm backend).
 *
 *   node --import tsx bench/recipe.ts [seeds=1,2,3]
 */
import { fileURLToPath } from 'node:url';
import { initBackend } from '../engine/backend.js';
import { DEMO_RECIPE, runDemoRecipe } from '../tasks/demo-recipe.js';
import type { BenchRow } from './row.js';

export async function benchRecipe(seeds: number[] = [1, 2, 3], log: (s: string) => void = () => {}): Promise<BenchRow[]> {
  const backend = await initBackend();
  const rows: BenchRow[] = [];
  let sftSum = 0;
  let finalSum = 0;
  let wallMax = 0;
  for (const seed of seeds) {
    const t0 = performance.now();
    const r = runDemoRecipe(seed, DEMO_RECIPE, log);
    const wall = (performance.now() - t0) / 1000;
    wallMax = Math.max(wallMax, wall);
    sftSum += r.sftAccuracy;
    finalSum += r.finalAccuracy;
    const curve = r.curve.map(([it, a]) => `${it}:${(100 * a).toFixed(0)}`).join(' ');
    rows.push({ name: `seed ${seed}: held-out accuracy after SFT`, value: 100 * r.sftAccuracy, unit: '%', note: `${DEMO_RECIPE.sft.steps} SFT steps, ${r.sftSeconds.toFixed(0)} s` });
    rows.push({ name: `seed ${seed}: held-out accuracy after GRPO`, value: 100 * r.finalAccuracy, unit: '%', note: `curve (iteration:acc%) ${curve}` });
    rows.push({ name: `seed ${seed}: wall time (SFT + GRPO + evals)`, value: wall, unit: 's', note: `sft ${r.sftSeconds.toFixed(0)} s, grpo ${r.grpoSeconds.toFixed(0)} s, eval ${r.evalSeconds.toFixed(0)} s` });
  }
  const n = seeds.length;
  rows.push({ name: 'mean held-out accuracy after SFT', value: (100 * sftSum) / n, unit: '%', note: 'target < 60' });
  rows.push({ name: 'mean held-out accuracy after GRPO', value: (100 * finalSum) / n, unit: '%' });
  rows.push({ name: 'mean gain from GRPO', value: (100 * (finalSum - sftSum)) / n, unit: 'points', note: 'target >= 10' });
  rows.push({ name: 'slowest seed wall time', value: wallMax, unit: 's', note: `backend ${backend.name}; target well under 360` });
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const seeds = (process.argv[2] ?? '1,2,3').split(',').map(Number);
  for (const r of await benchRecipe(seeds, console.log)) console.log(`${r.name.padEnd(44)} ${r.value.toFixed(1).padStart(7)} ${r.unit}${r.note ? `  (${r.note})` : ''}`);
}
