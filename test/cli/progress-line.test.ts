/**
 * The one-line progress `status` prints and `--watch` draws: RL runs count iterations, preference
 * runs their optimizer steps, and both show the warm start's SFT steps first.
 * npx vitest run test/cli/progress-line.test.ts
 */
import { describe, expect, it } from 'vitest';
import { progressLine } from '../../cli/progress-bar.js';
import type { RunProgress } from '../../workflows/shared.js';

const progress = (objective: string, over: Partial<RunProgress> = {}): RunProgress => ({
  runId: 'r', experiment: 'e', objective, status: 'running', iteration: 3, totalIterations: 10, warmStartAccuracy: 0.25,
  latestMetrics: {}, latestEvaluation: null, bestEvaluation: null, lastCheckpoint: null, runDir: null, ...over,
});

describe('progress line', () => {
  it('counts iterations of an RL run, with its reward', () => {
    expect(progressLine(progress('grpo', { latestMetrics: { 'reward/mean': 0.5 } }))).toBe('iteration 3/10 · running · reward 0.500 · acc – (warm 25.0%, best –)');
  });

  it.each(['dpo', 'sparse-po', 'critical-token-dpo', 't-reg'])('counts the steps of a %s run, with its margin', (objective) => {
    expect(progressLine(progress(objective, { latestMetrics: { 'update/margin': 0.125 } }))).toBe('step 3/10 · running · margin 0.125 · acc – (warm 25.0%, best –)');
  });

  it('shows the warm start\'s SFT steps before the first iteration', () => {
    expect(progressLine(progress('dpo', { iteration: 0, warmStartAccuracy: null }), { step: 20, of: 150 })).toMatch(/^warm start 20\/150 · running/);
  });
});
