/**
 * Upper bounds on every size, count and timeout of the config schemas, each with the reason for its
 * value. A config that names `run.iterations: 1e12` or a timeout of 1e11 minutes is refused at
 * submit with the field and the reason, instead of starting a run that never ends or overflows a
 * typed array in its first compute step.
 *
 * The bounds are ceilings of what a run can sensibly ask for, not tuning advice; sizes that depend
 * on each other (model width × length × batch) are checked together by the memory estimate
 * (memory-estimate.ts) against the worker's budget.
 */
import { z } from 'zod';

/** A documented ceiling: the largest accepted value and why it is the largest. */
export interface Bound {
  max: number;
  reason: string;
}

const bound = (max: number, reason: string): Bound => ({ max, reason });

/** Every ceiling the schemas use, by what it limits; one place to read (and change) them all. */
export const BOUNDS = {
  seed: bound(2 ** 32 - 1, 'seeds are 32-bit (common/rng.ts); a larger one would wrap onto a smaller seed'),
  iterations: bound(1_000_000, 'one rollout and rewards file and several workflow events per iteration; a million is weeks of the smallest run'),
  optimizerSteps: bound(10_000_000, 'ten million optimizer steps is years at the smallest step time'),
  everyN: bound(1_000_000, 'no more than the most iterations or steps a run may have'),
  keepCheckpoints: bound(1_000, 'each retained checkpoint holds a full copy of the training state on disk'),
  batch: bound(65_536, 'sequences in one batch: every one of them is held in memory at once'),
  completionsPerIteration: bound(1_048_576, 'promptsPerIteration × groupSize completions are written to one rollout file and scored each iteration'),
  groupSize: bound(1_024, 'completions per prompt: more only repeats samples of the same prompt'),
  epochs: bound(1_000, 'optimizer passes over one rollout batch; on-policy methods use a handful, and tests of long updates a few hundred'),
  tokens: bound(131_072, 'tokens in one sequence; attention memory grows with its square'),
  vocabulary: bound(1_000_000, 'the embedding and output layers grow with it'),
  width: bound(65_536, 'a layer\'s width; weight matrices grow with its square'),
  layers: bound(1_024, 'transformer blocks; parameters and activations grow with them'),
  heads: bound(1_024, 'attention heads; each must divide the width'),
  monteCarlo: bound(1_024, 'continuations sampled per cutpoint, each a full generation'),
  cutpointInterval: bound(131_072, 'no wider than the longest sequence'),
  dataRows: bound(1_000_000, 'rows are held in memory and copied into the run folder at submit'),
  evalRows: bound(100_000, 'held-out rows are all generated and judged at every evaluation'),
  evalSamples: bound(1_024, 'completions sampled per held-out row at every evaluation'),
  heartbeatSeconds: bound(3_600, 'a silent activity is retried after this; an hour is long past any stall worth waiting for'),
  scheduleSeconds: bound(86_400, 'how long pinned work waits for its worker; a day'),
  activityMinutes: bound(10_080, 'one compute activity; a week (Temporal keeps the timer, and an activity that long should be split)'),
  pollSeconds: bound(3_600, 'how often a sweep looks at its trials; an hour'),
  sweepTrials: bound(100_000, 'trials of one sweep; each is a full run'),
  sweepValues: bound(10_000, 'values of one grid or random dimension, or seeds of a sweep'),
  concurrency: bound(1_024, 'trials running at once; each needs a worker'),
  rewardMix: bound(64, 'rewards in one mix; each verifier scores every completion'),
  stopStrings: bound(64, 'stop strings; each is checked against every completion at every token'),
  shortText: bound(256, 'characters of a stop string, name or template'),
  promptTemplate: bound(4_096, 'characters of a prompt template; it is rendered into every prompt'),
  alphabet: bound(65_536, 'characters of the built-in model\'s alphabet, one token each'),
  chars: bound(10_000_000, 'characters of a completion a shaping reward measures'),
  sandboxMemoryMb: bound(65_536, 'memory of one code test run, in MiB'),
  sandboxOutputBytes: bound(64 * 2 ** 20, 'output kept from one code test run; it is held in memory and parsed'),
  sandboxProcs: bound(1_024, 'processes of one code test run'),
  rayCpus: bound(4_096, 'CPUs reserved for one step'),
  rayGpus: bound(1_024, 'GPUs reserved for one step'),
  rayMemoryMb: bound(2 ** 24, 'memory reserved for one step, in MiB (16 TiB)'),
  pathChars: bound(4_096, 'characters of a file path (Linux PATH_MAX)'),
  dataFileBytes: bound(256 * 2 ** 20, 'a data file is read whole and its rows held in memory at submit and on the worker'),
  configFileBytes: bound(2 ** 20, 'a config is a page of settings; a megabyte is far past any real one'),
  yamlNodes: bound(100_000, 'values a config expands to, aliases included (a "billion laughs" file expands to 10^9)'),
} as const satisfies Record<string, Bound>;

export type BoundName = keyof typeof BOUNDS;

/** The message of a value above its bound: the ceiling and its reason, so the fix is clear. */
export const tooBig = (b: Bound) => `must be at most ${b.max.toLocaleString('en-US')} (${b.reason})`;

/** An integer in [min, bound.max]. */
export const boundedInt = (min: number, name: BoundName) => z.number().int().min(min).max(BOUNDS[name].max, tooBig(BOUNDS[name]));

/** A positive integer up to the bound. */
export const boundedCount = (name: BoundName) => boundedInt(1, name);

/** A string of at least one character and at most the bound's. */
export const boundedString = (name: BoundName) => z.string().min(1).max(BOUNDS[name].max, tooBig(BOUNDS[name]));

/** An array of at most the bound's entries. */
export const boundedArray = <T extends z.ZodType>(item: T, name: BoundName) => z.array(item).max(BOUNDS[name].max, tooBig(BOUNDS[name]));
