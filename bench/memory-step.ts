/**
 * One RL iteration of a real checkpoint in this process, for bench/memory.ts (which runs it in a
 * child process beside bench/memory_step.py, PyTorch doing the same step): a rollout of the batch's
 * prompts (KV-cache sampling, every row made to run to `newTokens`, as PyTorch's `min_new_tokens`
 * does), then one policy update on those sequences (GRPO's ppo-clip, micro-batches of
 * `microBatch`, one AdamW step). Prints one JSON line: seconds and peak RSS of each phase.
 *
 *   node --import tsx bench/memory-step.ts <checkpoint> <batch.json>
 *
 * Peak RSS of a phase is the kernel's high-water mark (VmHWM), reset before the phase by writing 5
 * to /proc/self/clear_refs, so loading the checkpoint does not count. Linux only.
 */
import { readFileSync } from 'node:fs';
import { setNativeEnvDefaults } from '../engine/native-env.js';
import { initBackend } from '../engine/backend.js';
import { loadCheckpoint } from '../models/load-checkpoint.js';
import { AdamW } from '../models/optimizer.js';
import { generate } from '../models/generate.js';
import { deriveRng } from '../common/rng.js';
import { outcomeAdvantages, policyUpdate, type RolloutBatch } from '../tasks/recipe.js';
import { peakRssMb, resetPeakRss } from './peak-rss.js';

/** The batch both implementations run (written by bench/memory.ts). */
export interface MemoryBatch {
  /** Prompt token ids, one array per sequence (groups of `groupSize` share a prompt). */
  prompts: number[][];
  groupSize: number;
  newTokens: number;
  microBatch: number;
  temperature: number;
  lr: number;
  /** One reward per sequence (fixed, so every group has a non-zero advantage). */
  rewards: number[];
}

export interface PhaseNumbers {
  seconds: number;
  peakRssMb: number;
}

export interface StepNumbers {
  backend: string;
  loadedRssMb: number;
  rollout: PhaseNumbers;
  update: PhaseNumbers;
}

async function main(checkpoint: string, batchFile: string): Promise<StepNumbers> {
  setNativeEnvDefaults();
  const backend = await initBackend();
  const b = JSON.parse(readFileSync(batchFile, 'utf8')) as MemoryBatch;
  const { model } = await loadCheckpoint(checkpoint);
  const optimizer = new AdamW(model.params, { lr: b.lr });
  const loadedRssMb = process.memoryUsage().rss / 2 ** 20;
  const note = (what: string) => process.stderr.write(`memory-step: ${what} (rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB, peak ${peakRssMb().toFixed(0)} MB)\n`);
  note('loaded');

  resetPeakRss();
  let started = performance.now();
  const rng = deriveRng(1, 'bench-rollout');
  // No EOS: every row samples exactly newTokens, as `min_new_tokens` makes transformers do.
  const gens = generate(model, b.prompts, { maxNewTokens: b.newTokens, temperature: b.temperature, rng: b.prompts.map((_, i) => rng.fork(`row/${i}`)), eosId: [] });
  note('rollout done');
  const rollout = { seconds: (performance.now() - started) / 1000, peakRssMb: peakRssMb() };

  const batch: RolloutBatch = {
    groupSize: b.groupSize, temperature: b.temperature,
    items: gens.map((g, i) => ({
      promptIndex: Math.floor(i / b.groupSize), promptTokens: b.prompts[i], tokens: g.tokens, logprobs: g.logprobs,
      entropies: g.entropies, completion: '', finished: g.finished,
    })),
  };
  const advantages = outcomeAdvantages(batch, b.rewards, 'grpo');
  resetPeakRss();
  started = performance.now();
  policyUpdate(model, optimizer, batch, advantages, {
    loss: 'ppo-clip', epochs: 1, miniBatchSize: b.prompts.length, microBatchSize: b.microBatch, lr: b.lr, maxGradNorm: 1,
    clipLow: 0.2, clipHigh: 0.2, aggregation: 'token-mean', maxCompletionLength: b.newTokens, rng: deriveRng(1, 'bench-update'),
  });
  note('update done');
  const update = { seconds: (performance.now() - started) / 1000, peakRssMb: peakRssMb() };
  return { backend: backend.name, loadedRssMb, rollout, update };
}

const [checkpoint, batchFile] = process.argv.slice(2);
if (!checkpoint || !batchFile) {
  console.error('usage: node --import tsx bench/memory-step.ts <checkpoint> <batch.json>');
  process.exitCode = 2;
} else {
  console.log(JSON.stringify(await main(checkpoint, batchFile)));
}
