/**
 * `node --import tsx scripts/reference-models/parity-report.ts [wasm|node]`: the numbers behind the
 * parity tests, as a table: per reference checkpoint, the largest |Δ log p| against transformers,
 * greedy continuations identical out of 5, and the smallest top-2 margin along transformers' greedy
 * paths (a mismatch at a step with a margin below float error would say nothing).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../engine/backend.js';
import { generate } from '../../models/generate.js';
import { loadCheckpoint } from '../../models/load-checkpoint.js';
import { sequenceLogProbs } from '../../models/logprobs.js';
import { ensureSmolLM2Gguf } from './fetch-gguf.js';
import { referencePaths } from './paths.js';

interface Seq { text?: string; messages?: unknown; promptIds: number[]; greedy: number[]; greedyMinMargin: number; ids: number[]; logprobs: number[] }

async function main(): Promise<void> {
  const backend = process.argv[2] ?? 'wasm';
  await initBackend(backend);
  const { fixturesDir } = referencePaths();
  const cases: [string, string, string][] = [
    ['qwen2-tiny', join(fixturesDir, 'qwen2-tiny'), 'qwen2-tiny'],
    ['llama3-rope-tiny', join(fixturesDir, 'llama3-rope-tiny'), 'llama3-rope-tiny'],
    ['llama3-rope-tiny-finetuned (export)', join(fixturesDir, 'llama3-rope-tiny-finetuned'), 'llama3-rope-tiny-finetuned'],
    ['SmolLM2-135M-Instruct (GGUF)', ensureSmolLM2Gguf(), 'smollm2-135m-instruct'],
  ];
  console.log(`backend ${tf.getBackend()}\n| checkpoint | max abs diff log p | greedy identical | min top-2 margin | seconds |\n|---|---|---|---|---|`);
  for (const [label, path, fixture] of cases) {
    const started = performance.now();
    const e = JSON.parse(readFileSync(join(fixturesDir, `${fixture}.expected.json`), 'utf8')) as { sequences: Seq[]; greedyTokens?: number };
    const ck = await loadCheckpoint(path);
    const seqs = e.sequences.map((s) => s.ids);
    const out = sequenceLogProbs(ck.model, seqs, seqs.map(() => 1), { padId: ck.tokenizer!.pad });
    const ours = out.logp.arraySync() as number[][];
    tf.dispose([out.logp, out.mask, out.entropies]);
    const worst = Math.max(...e.sequences.flatMap((s, b) => s.logprobs.map((lp, j) => Math.abs(ours[b][j] - lp))));
    let greedy = '-';
    let margin = '-';
    if (e.sequences[0].greedy) {
      const gens = generate(ck.model, e.sequences.map((s) => s.promptIds), { maxNewTokens: e.greedyTokens ?? 32, temperature: 0, eosId: ck.tokenizer!.stopIds, padId: ck.tokenizer!.pad });
      greedy = `${gens.filter((g, i) => g.tokens.join() === e.sequences[i].greedy.join()).length}/${gens.length}`;
      margin = Math.min(...e.sequences.map((s) => s.greedyMinMargin)).toExponential(1);
    }
    ck.model.dispose();
    console.log(`| ${label} | ${worst.toExponential(2)} | ${greedy} | ${margin} | ${((performance.now() - started) / 1000).toFixed(1)} |`);
  }
}

main().catch((err) => {
  console.error((err as Error).message);
  process.exit(1);
});
