/**
 * The objective and optimizer sections: defaults, and cross-field errors that name the field.
 * npx vitest run test/configs/objective-config.test.ts
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigYaml } from '../../configs/load.js';
import { lrScheduleOf, maxRlSteps, type ExperimentConfig } from '../../configs/schema.js';

const BASE = 'experiment: x\ndata:\n  source: arithmetic\n';

const parse = (extra: string) => parseConfigYaml(BASE + extra, 'test.yaml') as ExperimentConfig;

function problemsOf(extra: string): string[] {
  try {
    parseConfigYaml(BASE + extra, 'test.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected the config to be rejected');
}

describe('objective and optimizer config', () => {
  it('defaults to GRPO advantages, no KL, the papers\' forking and SPO settings, a constant lr', () => {
    const c = parse('');
    expect(c.objective).toMatchObject({
      name: 'ppo-clip', advantage: 'grpo', advantageStd: 'unbiased', klCoef: 0,
      forking: { rho: 0.2, side: 'top' }, spo: { probThreshold: 0.9, cutpointInterval: 5, samples: 9, whiten: true },
    });
    expect(lrScheduleOf(c)).toEqual({ kind: 'constant' });
    const spo = parse('objective:\n  name: spo\n  spo:\n    samples: 4\n    whiten: false\n');
    expect(spo.objective.spo).toEqual({ probThreshold: 0.9, cutpointInterval: 5, samples: 4, whiten: false, mode: 'chain', tree: { branching: [2, 2], segmentTokens: 4 } });
    expect(parse('objective:\n  name: forking-tokens\n  forking:\n    rho: 0.5\n    side: bottom\n').objective.forking).toEqual({ rho: 0.5, side: 'bottom' });
  });

  it('a setting the chosen objective never reads is an error naming it', () => {
    expect(problemsOf('objective:\n  forking:\n    rho: 0.5\n')[0]).toMatch(/^objective\.forking\.rho \(line 6\): is not used by objective\.name 'ppo-clip'/);
    expect(problemsOf('objective:\n  name: forking-tokens\n  spo:\n    samples: 3\n')[0]).toMatch(/^objective\.spo\.samples \(line 7\): is not used by objective\.name 'forking-tokens'/);
    expect(problemsOf('objective:\n  name: spo\n  advantage: rloo\n')[0]).toMatch(/^objective\.advantage \(line 6\): is not used by objective\.name 'spo'/);
    expect(problemsOf('objective:\n  advantage: dr-grpo\n  advantageStd: population\n')[0]).toMatch(/^objective\.advantageStd \(line 6\): only applies to objective\.advantage 'grpo'/);
    expect(problemsOf('objective:\n  name: spo\nrollout:\n  temperature: 0\n')[0]).toMatch(/^rollout\.temperature \(line 7\): must be > 0 for objective\.name 'spo'/);
  });

  it('spo tree: Π branching leaves equal rollout.groupSize; room for the last level; chain-only settings refused', () => {
    const tree = 'objective:\n  name: spo\n  spo:\n    mode: tree\n    tree:\n      branching: [2, 4]\n      segmentTokens: 2\n';
    expect(parse(tree + 'rollout:\n  groupSize: 8\n').objective.spo.tree).toEqual({ branching: [2, 4], segmentTokens: 2 });
    expect(problemsOf(tree + 'rollout:\n  groupSize: 6\n')[0]).toMatch(/^objective\.spo\.tree\.branching \(line 9\): has 8 leaves per prompt; it must equal rollout\.groupSize \(6\)/);
    expect(problemsOf(tree + 'rollout:\n  groupSize: 8\n  maxNewTokens: 2\n')[0]).toMatch(/^objective\.spo\.tree\.segmentTokens \(line 10\): × 1 inner levels = 2 tokens leaves none/);
    expect(problemsOf(tree + '    samples: 3\nrollout:\n  groupSize: 8\n')[0]).toMatch(/^objective\.spo\.samples \(line 11\): is not used by objective\.spo\.mode 'tree'/);
    expect(problemsOf('objective:\n  name: spo\n  spo:\n    tree:\n      segmentTokens: 3\n')[0]).toMatch(/^objective\.spo\.tree \(line 8\): is only used with objective\.spo\.mode 'tree'/);
    expect(problemsOf('objective:\n  spo:\n    mode: tree\n')[0]).toMatch(/^objective\.spo\.mode \(line 6\): is not used by objective\.name 'ppo-clip'/);
  });

  it('rejects out-of-range values with the field\'s path', () => {
    expect(problemsOf('objective:\n  name: forking-tokens\n  forking:\n    rho: 0\n')[0]).toMatch(/^objective\.forking\.rho/);
    expect(problemsOf('objective:\n  klCoef: -1\n')[0]).toMatch(/^objective\.klCoef/);
    expect(problemsOf('objective:\n  name: spo\n  spo:\n    cutpointInterval: 0\n')[0]).toMatch(/^objective\.spo\.cutpointInterval/);
    expect(problemsOf('objective:\n  name: spo\n  spo:\n    probThreshold: 1.5\n')[0]).toMatch(/^objective\.spo\.probThreshold/);
    expect(problemsOf('objective:\n  forking:\n    rhoo: 0.5\n')[0]).toMatch(/unknown key objective\.forking\.rhoo/);
  });

  it('checks micro-batches and learning-rate schedules across fields', () => {
    expect(problemsOf('optimizer:\n  miniBatchSize: 4\n  microBatchSize: 8\n')[0]).toMatch(/^optimizer\.microBatchSize \(line 6\): must not exceed optimizer\.miniBatchSize \(4\)/);
    expect(problemsOf('optimizer:\n  warmupSteps: 5\n')[0]).toMatch(/^optimizer\.warmupSteps \(line 5\): has no effect with optimizer\.schedule 'constant'/);
    expect(problemsOf('optimizer:\n  schedule: linear-warmup\n')[0]).toMatch(/^optimizer\.warmupSteps/);
    expect(problemsOf('optimizer:\n  totalSteps: 50\n')[0]).toMatch(/^optimizer\.totalSteps \(line 5\): is only used by optimizer\.schedule 'cosine'/);
    expect(problemsOf('optimizer:\n  schedule: cosine\n  warmupSteps: 10\n  totalSteps: 10\n')[0]).toMatch(/^optimizer\.totalSteps \(line 7\): cosine decay needs/);
    expect(problemsOf('optimizer:\n  schedule: cosine\n  warmupSteps: 100\nrun:\n  iterations: 50\n')[0]).toMatch(/^optimizer\.warmupSteps \(line 6\): cosine decay needs optimizer\.totalSteps \(50/);
  });

  it('resolves the cosine schedule\'s length from the run when totalSteps is absent', () => {
    const c = parse('optimizer:\n  schedule: cosine\n  warmupSteps: 3\n  miniBatchSize: 100\n  epochsPerIteration: 2\nrun:\n  iterations: 10\n');
    // 128 prompts × 8 completions in steps of 100 sequences: 11 steps per epoch.
    expect(maxRlSteps(c)).toBe(10 * 2 * 11);
    expect(lrScheduleOf(c)).toEqual({ kind: 'cosine', warmupSteps: 3, totalSteps: 220, minLrRatio: 0.1 });
    expect(lrScheduleOf(parse('optimizer:\n  schedule: cosine\n  totalSteps: 40\n  minLrRatio: 0\n'))).toEqual({ kind: 'cosine', warmupSteps: 0, totalSteps: 40, minLrRatio: 0 });
    expect(lrScheduleOf(parse('optimizer:\n  schedule: linear-warmup\n  warmupSteps: 4\n'))).toEqual({ kind: 'linear-warmup', warmupSteps: 4 });
  });
});
