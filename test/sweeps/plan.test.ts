/** Sweep files, expansion, ranking and the median stopping rule: pure, no server. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../configs/load.js';
import { expandTrials } from '../../sweeps/expand.js';
import { parseSweepYaml } from '../../sweeps/load.js';
import { applyParams, initialRows, type TrialRow } from '../../workflows/sweep-plan.js';
import { applyMedianRule, median, rankTrials } from '../../workflows/sweep-rank.js';
import { gridSweepYaml, tinyYaml } from './fixtures.js';

const problems = (yaml: string) => {
  try {
    parseSweepYaml(yaml, 's.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
};
const withSweep = (section: string) => `${tinyYaml()}\nsweep:\n${section}`;

describe('sweep files', () => {
  it('expands a grid x seeds in a fixed order, each trial a valid config', () => {
    const loaded = parseSweepYaml(withSweep('  grid: { optimizer.lr: [0.001, 0.003] }\n  seeds: [1, 2]\n'));
    expect(loaded.params).toEqual([
      { 'optimizer.lr': 0.001, seed: 1 }, { 'optimizer.lr': 0.001, seed: 2 },
      { 'optimizer.lr': 0.003, seed: 1 }, { 'optimizer.lr': 0.003, seed: 2 },
    ]);
    const config = applyParams(loaded.base, loaded.params[3]);
    expect([config.optimizer.lr, config.seed, loaded.base.optimizer.lr]).toEqual([0.003, 2, 6e-4]);
    expect(initialRows('sw', loaded.params, 4).map((r) => r.id)).toEqual(['sw-t001', 'sw-t002', 'sw-t003', 'sw-t004']);
  });

  it('draws random trials reproducibly from the seed, within their ranges', () => {
    const section = { grid: {}, random: { samples: 5, seed: 3, params: { 'optimizer.lr': { logUniform: [1e-4, 1e-2] as [number, number] }, 'rollout.groupSize': { intRange: [2, 8] as [number, number] } } } };
    const a = expandTrials(section as never);
    expect(a).toEqual(expandTrials(section as never));
    expect(a).toHaveLength(5);
    for (const p of a) {
      expect(p['optimizer.lr']).toBeGreaterThanOrEqual(1e-4);
      expect(p['optimizer.lr']).toBeLessThanOrEqual(1e-2);
      expect(Number.isInteger(p['rollout.groupSize'])).toBe(true);
    }
  });

  it('names the field and line of a path or value that breaks a trial', () => {
    const yaml = withSweep('  grid:\n    optimizer.lrr: [0.1]\n    rollout.groupSize: [4, 1]\n');
    const found = problems(yaml);
    const line = (needle: string) => yaml.split('\n').findIndex((l) => l.includes(needle)) + 1;
    expect(found).toContainEqual(expect.stringContaining(`sweep.grid.optimizer.lrr (line ${line('optimizer.lrr')}): optimizer: unknown key lrr`));
    expect(found).toContainEqual(expect.stringMatching(new RegExp(`^sweep\\.grid\\.rollout\\.groupSize \\(line ${line('rollout.groupSize')}\\): rollout\\.groupSize: .*\\(trial t002\\)$`)));
  });

  it('rejects a bad sweep section and a bad base before expanding', () => {
    expect(problems(withSweep('  metric: accuracy\n  concurrency: 0\n')).join('\n')).toMatch(/sweep\.metric \(line \d+\).*\n.*sweep\.concurrency \(line \d+\)/);
    expect(problems(`${tinyYaml().replace('iterations: 4', 'iterations: -1')}\nsweep: {}\n`)[0]).toMatch(/^run\.iterations \(line \d+\)/);
    expect(problems(tinyYaml())[0]).toMatch(/sweep: required section/);
    expect(problems(withSweep('  grid: { seed: [1] }\n  seeds: [2]\n'))[0]).toMatch(/sweep\.grid\.seed.*sweep\.seeds/);
    expect(problems(gridSweepYaml('x', '  earlyStop: { atIteration: 4 }\n'))[0]).toMatch(/sweep\.earlyStop\.atIteration \(line \d+\): must be below run\.iterations \(4\)/);
  });
});

describe('leaderboard and median stopping', () => {
  const row = (index: number, metric: number | null, over: Partial<TrialRow> = {}): TrialRow => ({
    ...initialRows('s', [{}], 10)[0], index, id: `s-t00${index}`, status: 'completed', metric, ...over,
  });

  it('ranks by the metric in the chosen direction, ties by trial order, unscored last', () => {
    const rows = [row(1, 0.2), row(2, null, { status: 'running' }), row(3, 0.5), row(4, 0.2)];
    expect(rankTrials(rows, 'max').map((r) => [r.id, r.rank])).toEqual([['s-t003', 1], ['s-t001', 2], ['s-t004', 3], ['s-t002', null]]);
    expect(rankTrials(rows, 'min').map((r) => r.id)).toEqual(['s-t001', 's-t004', 's-t003', 's-t002']);
  });

  it('stops running trials below the median at k, once enough values are known, each judged once', () => {
    const rule = { metric: 'reward/mean' as const, direction: 'max' as const, atIteration: 2, minTrials: 3 };
    const early = [row(1, null, { earlyStopValue: 0.5 }), row(2, null, { status: 'running', earlyStopValue: 0.1 })];
    expect(applyMedianRule(early, rule)).toEqual({ judge: [], stop: [] });
    const rows = [...early, row(3, null, { status: 'running', earlyStopValue: 0.9 }), row(4, null, { status: 'running', earlyStopValue: 0.3, earlyStopJudged: true })];
    expect(median([0.5, 0.1, 0.9, 0.3])).toBe(0.4);
    expect(applyMedianRule(rows, rule)).toEqual({ judge: ['s-t002', 's-t003'], stop: ['s-t002'] });
    expect(applyMedianRule(rows, { ...rule, direction: 'min' }).stop).toEqual(['s-t003']);
  });
});
