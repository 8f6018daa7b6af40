/**
 * Compute-core throughput of the demo policy (tasks/demo-recipe.ts model size), on the wasm and the
 * plain-JS cpu backend in one process:
 *   - one SFT step (batch 64, forward + backward + AdamW), ms/step;
 *   - greedy generation of 256 rows x 5 new tokens, with and without the KV cache, ms.
 *
 *   node --import tsx bench/engine.ts
 */
import { fileURLToPath } from 'node:url';
import { initBackend } from '../engine/backend.js';
import { deriveRng } from '../engine/rng.js';
import { generate } from '../models/generate.js';
import { AdamW } from '../models/optimizer.js';
import { CharTokenizer } from '../models/tokenizer.js';
import { Transformer } from '../models/transformer.js';
import { sampleArithmetic } from '../tasks/arithmetic.js';
import { DEMO_RECIPE } from '../tasks/demo-recipe.js';
import { sftSteps } from '../tasks/recipe.js';
import type { BenchRow } from './row.js';

function time(reps: number, f: () => void): number {
  f(); // warm-up (kernel compilation, allocations)
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) f();
  return (performance.now() - t0) / reps;
}

export async function benchEngine(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const tok = new CharTokenizer();
  const train = sampleArithmetic('train', 512, { splitSeed: 0, sampleSeed: 1 });
  const prompts = train.slice(0, 256).map((e) => tok.encode(e.prompt));
  for (const backend of ['wasm', 'cpu']) {
    await initBackend(backend);
    const model = new Transformer({ vocabSize: tok.vocabSize, ...DEMO_RECIPE.model }, deriveRng(1, 'init'));
    const opt = new AdamW(model.params, { lr: 1e-3 });
    const rng = deriveRng(1, 'sft');
    const reps = backend === 'cpu' ? 2 : 10;
    const sft = time(reps, () => sftSteps(model, opt, train, { steps: 1, batchSize: 64, lr: 1e-3, rng, tokenizer: tok }));
    rows.push({ name: `${backend}: SFT step, batch 64`, value: sft, unit: 'ms', note: `d=${DEMO_RECIPE.model.dModel}, ${DEMO_RECIPE.model.nLayers} layers, ${model.numParams()} params` });
    for (const useCache of [true, false]) {
      const ms = time(backend === 'cpu' ? 1 : 3, () => generate(model, prompts, { maxNewTokens: 5, temperature: 0, useCache }));
      rows.push({ name: `${backend}: generate 256 rows x 5 tokens, ${useCache ? 'KV cache' : 'full recompute'}`, value: ms, unit: 'ms' });
    }
    model.dispose();
    opt.dispose();
  }
  const wasmStep = rows[0].value;
  const cpuStep = rows[3].value;
  rows.push({ name: 'cpu / wasm SFT step time', value: cpuStep / wasmStep, unit: 'x', note: 'why initBackend prefers wasm over cpu' });
  await initBackend();
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of await benchEngine()) console.log(`${r.name.padEnd(56)} ${r.value.toFixed(2).padStart(9)} ${r.unit}${r.note ? `  (${r.note})` : ''}`);
}
