/**
 * Submit's memory check: a run is refused before anything starts when the worker's budget cannot hold
 * it, or when one of its tensors would be larger than a typed array can back, so that
 * `dModel: 65536, nLayers: 1000` or `maxSeqLen: 1e9` is refused naming the fields that drive it, not
 * in the first compute step with `RangeError: Invalid typed array length`.
 *
 * The bytes are the worker's own estimate (engine/run-memory.ts, calibrated there), from the decoder
 * shape and batch the config gives (engine/run-batch.ts): the worker refuses what submit would, with
 * the same parts in its message.
 */
import { plannedShape, preferenceBatchOf, runBatchOf } from '../engine/run-batch.js';
import { memoryFix, memoryParts, mb, runMemoryNeed, type DecoderShape, type RunBatch } from '../engine/run-memory.js';
import { warmStartConfigOf, type PreferenceConfig } from './preference-schema.js';
import type { ExperimentConfig } from './schema.js';

/** The worker's default `--memory-budget-mb` (cli/program.ts); submit checks against it unless told otherwise. */
export const DEFAULT_MEMORY_BUDGET_MB = 2048;

/** Largest tensor TensorFlow.js can back with one typed array (int32 indexing in its kernels). */
export const MAX_TENSOR_VALUES = 2 ** 31 - 1;

type AnyConfig = { kind: 'rl'; config: ExperimentConfig } | { kind: 'preference'; config: PreferenceConfig };

/** The run's largest single tensor, in values, what it is and the fields it grows with. */
function largestTensor(shape: DecoderShape, b: RunBatch): { values: number; what: string; fields: string } {
  const candidates = [
    { values: b.microBatch * shape.heads * b.seqLen * b.seqLen, what: "one layer's attention maps of one update", fields: `${b.fields.update}, model.maxSeqLen` },
    { values: b.warmStartRows * shape.heads * b.seqLen * b.seqLen, what: "one layer's attention maps of one warm-start step", fields: `${b.fields.warmStart}, model.maxSeqLen` },
    { values: b.rolloutRows * b.promptLen * shape.vocab, what: 'the logits of the sampling prefill', fields: `${b.fields.sampling}, model.maxSeqLen` },
    { values: shape.vocab * shape.hidden, what: 'the embedding matrix', fields: b.fields.model },
    { values: shape.hidden * shape.ffn, what: 'an MLP weight matrix', fields: b.fields.model },
  ];
  return candidates.reduce((a, c) => (c.values > a.values ? c : a));
}

/**
 * Problems of a run that does not fit: over the budget (with every part and its fields), or a tensor
 * larger than a typed array holds. Empty when it fits, or when the checkpoint cannot be read (the
 * schema and the loader say why).
 */
export function memoryProblems(run: AnyConfig, budgetMb: number): string[] {
  const shape = plannedShape(run.kind === 'rl' ? run.config : warmStartConfigOf(run.config));
  if (!shape) return [];
  const batch = run.kind === 'rl' ? runBatchOf(run.config) : preferenceBatchOf(run.config);
  const need = runMemoryNeed(shape, batch);
  const problems: string[] = [];
  const big = largestTensor(shape, batch);
  if (big.values > MAX_TENSOR_VALUES) {
    problems.push(`${big.fields}: ${big.what} would be one tensor of ${big.values.toExponential(2)} values, more than the ${MAX_TENSOR_VALUES.toLocaleString('en-US')} one typed array can hold`);
  }
  const budget = budgetMb * 2 ** 20;
  if (need.total > budget) {
    const fix = memoryFix(need, batch, budget);
    problems.push(`the run needs about ${mb(need.total)}, over the worker memory budget of ${budgetMb.toLocaleString('en-US')} MB: ${memoryParts(shape, need, batch)}. `
      + `${fix[0].toUpperCase()}${fix.slice(1)}; or, if the workers have the room, give submit the budget they run with (--memory-budget-mb, as \`creditflow worker --memory-budget-mb\`)`);
  }
  return problems;
}
