/**
 * The prompts of an iteration (engine/run-sessions.ts): consecutive slices of one seeded shuffle of
 * the training set per epoch, the same however often and in whatever order they are asked for.
 */
import { describe, expect, it } from 'vitest';
import { deriveRng } from '../../common/rng.js';
import { promptsForIteration } from '../../engine/run-sessions.js';

const train = Array.from({ length: 10 }, (_, i) => `example-${i}`);

/** The prompt at each position of the run's data stream, drawn here without any cache. */
const expected = (seed: number, iteration: number, perIteration: number) => Array.from({ length: perIteration }, (_, k) => {
  const position = (iteration - 1) * perIteration + k;
  const order = deriveRng(seed, 'data-order', Math.floor(position / train.length)).shuffle(train.map((_, i) => i));
  return train[order[position % train.length]];
});

describe('promptsForIteration', () => {
  it('slices one shuffle per epoch, across epoch boundaries, for each seed', () => {
    // Iteration 3 spans epochs 0 and 1; the seeds alternate so that a cached order can not leak between them.
    for (const iteration of [1, 3, 2, 5, 3]) {
      for (const seed of [1, 2]) expect(promptsForIteration(train, seed, iteration, 4)).toEqual(expected(seed, iteration, 4));
    }
    expect(promptsForIteration(train, 1, 1, 4)).not.toEqual(promptsForIteration(train, 2, 1, 4));
  });

  it('gives each example once per epoch', () => {
    const epoch = [1, 2, 3, 4, 5].flatMap((i) => promptsForIteration(train, 7, i, 2));
    expect([...epoch].sort()).toEqual([...train].sort());
  });
});
