/** The Web UI summary of an RL run shows the evaluation and per-reward metrics that are present. */
import { describe, expect, it } from 'vitest';
import { ExperimentSchema } from '../../configs/schema.js';
import { summaryMarkdown } from '../../workflows/summary.js';
import type { RunProgress } from '../../workflows/shared.js';

const config = ExperimentSchema.parse({
  experiment: 'ui', data: { source: 'file', path: '/data/train.jsonl' }, model: { maxSeqLen: 64 },
  rewards: { mode: 'sum', mix: [{ verifier: 'math', weight: 1 }, { verifier: 'format', pattern: 'hash', weight: 0.1, name: 'hash' }] },
});

const progress = (latestMetrics: Record<string, number>, evaluation: Record<string, number> = {}): RunProgress => ({
  runId: 'r', experiment: 'ui', objective: 'ppo-clip', status: 'running', iteration: 3, totalIterations: 10,
  warmStartAccuracy: 0.2, latestMetrics, latestEvaluation: { iteration: 2, accuracy: 0.25, metrics: evaluation },
  bestEvaluation: { iteration: 2, accuracy: 0.25 }, lastCheckpoint: null, runDir: null,
});

describe('run summary', () => {
  it('lists pass@k, per-reward accuracy, length and truncation, and each reward\'s mean and error rate', () => {
    const md = summaryMarkdown(progress(
      { 'reward/mean': 0.5, 'reward/math/mean': 0.45, 'reward/math/error': 0.01, 'reward/hash/mean': 0.9, 'reward/error': 0.01, 'rollout/truncated': 0.125, 'update/loss': 1 },
      { 'eval/accuracy': 0.25, 'eval/math/accuracy': 0.25, 'eval/pass@4': 0.5, 'eval/mean@4': 0.3, 'eval/meanLength': 17.25, 'eval/truncated': 0.02, 'eval/total': 100 },
    ), config);
    for (const row of ['| math/accuracy | 25.0% |', '| pass@4 | 50.0% |', '| mean@4 | 30.0% |', '| meanLength | 17.3 |', '| truncated | 2.0% |',
      '| reward/math/mean | 0.450 |', '| reward/math/error | 1.0% |', '| reward/hash/mean | 0.900 |', '| rollout/truncated | 12.5% |']) {
      expect(md).toContain(row);
    }
    expect(md).not.toContain('update/loss');
    expect(md).not.toContain('| total |');
    expect(md).toContain('data file · rewards math×1 + hash×0.1');
  });

  it('shows only what is present (a run without sampled evaluation has no pass@k)', () => {
    const md = summaryMarkdown(progress({ 'reward/mean': 0.5 }), config);
    expect(md).not.toContain('pass@');
    expect(md).toContain('| mean reward | 0.500 |');
  });
});
