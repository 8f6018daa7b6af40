import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, parseConfigYaml } from '../../configs/load.js';
import { POLICY_LOSS_NAMES } from '../../losses/index.js';

const demoText = readFileSync(new URL('../../configs/demo.yaml', import.meta.url), 'utf8');

function problemsOf(text: string): string[] {
  try {
    parseConfigYaml(text, 'test.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected the config to be rejected');
}

describe('experiment config', () => {
  it('accepts the shipped configs and fills every default', () => {
    const demo = loadConfigFile(new URL('../../configs/demo.yaml', import.meta.url).pathname);
    expect(demo.data.source).toBe('arithmetic');
    expect(demo.rewards).toEqual({ mode: 'sum', mix: [{ verifier: 'exact-integer', weight: 1 }] });
    expect(demo.model.dModel).toBeGreaterThan(0);
    expect(demo.timeouts.heartbeatSeconds).toBeGreaterThan(0);
    expect(Object.isFrozen(demo.model)).toBe(true);
    expect(loadConfigFile(new URL('../fixtures/tiny.yaml', import.meta.url).pathname).run.iterations).toBe(4);
  });

  it('names an unknown key with its path and line', () => {
    const problems = problemsOf(demoText.replace('  maxDigits: 2', '  maxDigits: 2\n  maxDigitz: 3'));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/unknown key data\.maxDigitz \(line \d+\)/);
  });

  it('names a field with the wrong type and its line', () => {
    const text = `${demoText}run:\n  iterations: "forty"\n`;
    const line = text.split('\n').findIndex((l) => l.includes('"forty"')) + 1;
    const problems = problemsOf(text);
    expect(problems.join('\n')).toContain(`run.iterations (line ${line})`);
    expect(problems.join('\n')).toMatch(/expected number/);
  });

  it('rejects a missing data section', () => {
    const problems = problemsOf('experiment: x\n');
    expect(problems).toEqual(['data: required field is missing']);
  });

  it('lists the valid objective names from the losses registry', () => {
    const problems = problemsOf(demoText.replace('name: ppo-clip', 'name: no-such-loss'));
    expect(problems[0]).toContain('objective.name');
    for (const name of POLICY_LOSS_NAMES) expect(problems[0]).toContain(name);
  });

  it('checks cross-field rules', () => {
    expect(problemsOf(demoText.replace('seed: 1', 'seed: 1\nmodel:\n  dModel: 30\n  nHeads: 4')).join('\n'))
      .toContain('model.nHeads');
    expect(problemsOf(demoText.replace('seed: 1', 'seed: 1\nmodel:\n  maxSeqLen: 10')).join('\n')).toContain('model.maxSeqLen');
  });

  it('reports YAML syntax errors with a line', () => {
    expect(problemsOf('experiment: [unclosed\n')[0]).toMatch(/YAML syntax \(line \d+\)/);
  });
});
