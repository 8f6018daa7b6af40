/** Command-line overrides: parsed as YAML, written over the file before validation, errors naming the override. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadRunConfigFile } from '../../configs/load.js';
import { OverrideError, parseOverride } from '../../configs/overrides.js';
import { parseSweepYaml } from '../../sweeps/load.js';
import { tempStateDir } from '../support/harness.js';
import { gridSweepYaml, tinyYaml } from '../sweeps/fixtures.js';

const file = (yaml: string) => {
  const path = join(tempStateDir('overrides'), 'run.yaml');
  writeFileSync(path, yaml);
  return path;
};
const problems = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('no ConfigError');
};

describe('parseOverride', () => {
  it.each([
    ['run.iterations=3', ['run', 'iterations'], 3],
    ['optimizer.lr=1e-3', ['optimizer', 'lr'], 0.001],
    ['objective.dropUniformGroups=false', ['objective', 'dropUniformGroups'], false],
    ['task.operations=[+, "-"]', ['task', 'operations'], ['+', '-']],
    ['experiment=my-exp', ['experiment'], 'my-exp'],
    ['rollout.stop=', ['rollout', 'stop'], ''],
  ])('%s', (text, path, value) => {
    expect(parseOverride(text)).toEqual({ text, path, value });
  });

  it.each(['run.iterations', '=3', 'run..iterations=3', 'run.iter ations=3', 'a=[1,'])('refuses %s', (text) => {
    expect(() => parseOverride(text)).toThrow(OverrideError);
  });
});

describe('overrides applied before validation', () => {
  const yaml = `${tinyYaml()}`;

  it('win over the file, and a later one over an earlier one', () => {
    const run = loadRunConfigFile(file(yaml), ['run.iterations=2', 'optimizer.lr=0.01', 'run.iterations=3'].map(parseOverride));
    if (run.kind !== 'rl') throw new Error('expected an RL config');
    expect(run.config.run.iterations).toBe(3);
    expect(run.config.optimizer.lr).toBe(0.01);
    // Everything else is the file's.
    expect(run.config.seed).toBe(7);
  });

  it('reject an unknown path or a bad value like the file would, naming the override instead of a line', () => {
    expect(problems(() => loadRunConfigFile(file(yaml), [parseOverride('run.iteratons=3')]))).toEqual(['unknown key run.iteratons (override run.iteratons=3)']);
    expect(problems(() => loadRunConfigFile(file(yaml), [parseOverride('run.iterations=three')])))
      .toEqual([expect.stringMatching(/^run\.iterations \(override run\.iterations=three\): .*expected number/)]);
    expect(problems(() => loadRunConfigFile(file(yaml), [parseOverride('optimizer.lr=-1')])))
      .toEqual([expect.stringMatching(/^optimizer\.lr \(override optimizer\.lr=-1\): Too small/)]);
    // A section written as a value: the path goes through something that is not a section.
    expect(problems(() => loadRunConfigFile(file(yaml), [parseOverride('seed.x=1')])))
      .toEqual(['seed.x (override seed.x=1): seed is not a section, so it has no field x']);
    // The file's own errors still name their line.
    expect(problems(() => loadRunConfigFile(file(yaml.replace('seed: 7', 'seed: seven')), [parseOverride('run.iterations=2')])))
      .toEqual([expect.stringMatching(/^seed \(line 3\)/)]);
  });

  it('apply to sweep files: the base config and the sweep section', () => {
    const sweep = parseSweepYaml(gridSweepYaml('ov-sweep'), 'sweep.yaml', ['run.iterations=2', 'sweep.concurrency=1'].map(parseOverride));
    expect(sweep.base.run.iterations).toBe(2);
    expect(sweep.settings.concurrency).toBe(1);
    expect(problems(() => parseSweepYaml(gridSweepYaml('ov-sweep'), 'sweep.yaml', [parseOverride('sweep.concurency=1')])))
      .toEqual([expect.stringMatching(/sweep \(override sweep\.concurency=1\).*concurency/)]);
  });
});
