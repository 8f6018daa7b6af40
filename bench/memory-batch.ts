/**
 * The batch of the memory bench (bench/memory.ts), the same for both sides: `prompts` random token
 * ids (a seeded stream, ids 2..vocab-1 so that no special token is drawn), `groupSize` sequences
 * per prompt, and fixed rewards that alternate 1, 0 within a group so every group has an advantage.
 */
import { deriveRng } from '../common/rng.js';
import type { MemoryBatch } from './memory-step.js';

export function memoryBatch(o: { prompts?: number; groupSize?: number; promptTokens?: number; newTokens?: number; microBatch?: number; vocab?: number } = {}): MemoryBatch {
  const { prompts = 2, groupSize = 4, promptTokens = 128, newTokens = 128, microBatch = 4, vocab = 49152 } = o;
  const rng = deriveRng(17, 'bench-memory-prompts');
  const rows: number[][] = [];
  for (let p = 0; p < prompts; p++) {
    const ids = Array.from({ length: promptTokens }, () => 2 + Math.floor(rng.next() * (vocab - 2)));
    for (let g = 0; g < groupSize; g++) rows.push(ids);
  }
  return { prompts: rows, groupSize, newTokens, microBatch, temperature: 1, lr: 1e-5, rewards: rows.map((_, i) => i % 2) };
}
