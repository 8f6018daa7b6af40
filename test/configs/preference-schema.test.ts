/** The preference config: told apart from RL configs by `kind`, strict, errors that name the field. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, loadRunConfigFile, parseConfigYaml, parseRunConfigYaml } from '../../configs/load.js';
import { OBJECTIVES, PreferenceObjectiveSchema, renderTemplate, warmStartConfigOf } from '../../configs/preference-schema.js';
import { PREFERENCE_LOSS_NAMES } from '../../losses/index.js';

const base = 'kind: preference\nexperiment: pref\ndata:\n  source: arithmetic\n';

function problemsOf(text: string): string[] {
  try {
    parseRunConfigYaml(text, 'test.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected the config to be rejected');
}

describe('preference config', () => {
  it('fills every default; dpo on generated arithmetic pairs unless told otherwise', () => {
    const run = parseRunConfigYaml(base, 'test.yaml');
    expect(run.kind).toBe('preference');
    if (run.kind !== 'preference') return;
    expect(run.config.objective).toEqual({ name: 'dpo', beta: 0.5, labelSmoothing: 0 });
    expect(run.config.pairs).toEqual({ source: 'generated', pairsPerPrompt: 1 });
    expect(run.config.data.source).toBe('arithmetic');
    expect(run.config.run.steps).toBeGreaterThan(0);
    expect(run.config.warmStart.steps).toBeGreaterThan(0);
    expect(Object.isFrozen(run.config.objective)).toBe(true);
  });

  it('accepts the shipped demo', () => {
    const demo = loadRunConfigFile(new URL('../../configs/preference-demo.yaml', import.meta.url).pathname);
    expect(demo.kind).toBe('preference');
    expect(demo.config.objective.name).toBe('dpo');
  });

  it('has one objective schema per registry entry, each field described', () => {
    expect(Object.keys(OBJECTIVES).sort()).toEqual([...PREFERENCE_LOSS_NAMES].sort());
    expect(PreferenceObjectiveSchema.options.map((o) => o.shape.name.value).sort()).toEqual([...PREFERENCE_LOSS_NAMES].sort());
    for (const schema of Object.values(OBJECTIVES)) {
      for (const [field, s] of Object.entries(schema.shape)) expect((s as { description?: string }).description, field).toBeTruthy();
    }
  });

  it('each objective takes its own fields', () => {
    const parse = (objective: string) => parseRunConfigYaml(`${base}objective:\n${objective}`, 'x').config;
    expect(parse('  name: t-reg\n  alpha: 0.25\n').objective).toMatchObject({ name: 't-reg', alpha: 0.25, worsePrompt: '{a}{otherOp}{b}=' });
    expect(parse('  name: critical-token-dpo\n').objective).toMatchObject({ betaCe: 1, criticalSide: 'rejected', auxiliary: { steps: 150 } });
    expect(parse('  name: sparse-po\n').objective).toMatchObject({ mask: 'activations', klTerm: true });
  });

  it('names the field, its line and the valid choices', () => {
    expect(problemsOf(`${base}objective:\n  name: no-such-loss\n`)[0]).toMatch(/^objective\.name \(line 6\): .*'dpo' \| 'ipo' \| 'token-weighted-dpo' \| 'critical-token-dpo' \| 'sparse-po' \| 't-reg'/);
    expect(problemsOf(`${base}objective:\n  name: dpo\n  alpha: 0.5\n`)).toEqual(['unknown key objective.alpha (line 6)']);
    expect(problemsOf(`${base}objective:\n  name: ipo\n  beta: -1\n`)[0]).toMatch(/^objective\.beta \(line 7\): .*>0/);
    expect(problemsOf(`${base}optimizer:\n  batchSize: many\n`)[0]).toMatch(/^optimizer\.batchSize \(line 6\): .*expected number/);
    expect(problemsOf(`${base}pairs:\n  source: file\n`)).toEqual(['pairs.path (line 6): required field is missing']);
    expect(problemsOf(base.replace('source: arithmetic', 'source: word-problems'))[0]).toMatch(/^pairs\.source: 'generated' pairs come from arithmetic rows/);
    expect(problemsOf(`${base}objective:\n  name: t-reg\n  worsePrompt: "{a}{x}="\n`)[0]).toMatch(/^objective\.worsePrompt \(line 7\): unknown placeholder/);
    expect(problemsOf(`${base}objective:\n  name: t-reg\n  worsePrompt: "{prompt}{prompt}{prompt}"\n`)[0]).toMatch(/^objective\.worsePrompt.*exceeds model\.maxSeqLen/);
    expect(problemsOf(`${base}model:\n  maxSeqLen: 8\n`)[0]).toMatch(/^model\.maxSeqLen/);
    expect(problemsOf(base.replace('kind: preference', 'kind: offline'))).toEqual(["kind (line 1): expected 'rl' (or no kind) or 'preference', got \"offline\""]);
  });

  it('takes optimizer.microBatchSize up to optimizer.batchSize; the warm start\'s memory check is sized by it too', () => {
    expect(problemsOf(`${base}optimizer:\n  batchSize: 8\n  microBatchSize: 9\n`)).toEqual([
      'optimizer.microBatchSize (line 7): must not exceed optimizer.batchSize (8): a micro-batch is part of one optimizer step',
    ]);
    expect(problemsOf(`${base}optimizer:\n  microBatchSize: 0\n`)[0]).toMatch(/^optimizer\.microBatchSize \(line 6\)/);
    const parse = (optimizer: string) => {
      const run = parseRunConfigYaml(`${base}optimizer:\n${optimizer}`, 'x');
      if (run.kind !== 'preference') throw new Error('expected a preference config');
      return run.config;
    };
    const micro = parse('  batchSize: 8\n  microBatchSize: 3\n');
    expect(micro.optimizer.microBatchSize).toBe(3);
    expect(parse('  batchSize: 8\n  microBatchSize: 8\n').optimizer.microBatchSize).toBe(8);
    // the warm start's RL config: 2 rows (chosen, rejected) a pair, in passes of 2 × microBatchSize
    expect(warmStartConfigOf(micro).optimizer.microBatchSize).toBe(6);
    expect(warmStartConfigOf(parse('  batchSize: 8\n')).optimizer.microBatchSize).toBeUndefined();
  });

  it('resolves relative pairs and data paths against the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cf-pref-cfg-'));
    writeFileSync(join(dir, 'p.yaml'), `${base.replace('source: arithmetic', 'source: file\n  path: rows.jsonl')}pairs:\n  source: file\n  path: pairs.jsonl\n`);
    const run = loadRunConfigFile(join(dir, 'p.yaml'));
    expect(run.kind === 'preference' && run.config.pairs.source === 'file' && run.config.pairs.path).toBe(join(dir, 'pairs.jsonl'));
    expect(run.kind === 'preference' && run.config.data.source === 'file' && run.config.data.path).toBe(join(dir, 'rows.jsonl'));
  });

  it('leaves RL configs as they were', () => {
    const demo = new URL('../../configs/demo.yaml', import.meta.url).pathname;
    const rl = loadRunConfigFile(demo);
    expect(rl.kind).toBe('rl');
    expect(rl.config).toEqual(loadConfigFile(demo));
    expect(parseRunConfigYaml('kind: rl\nexperiment: x\ndata:\n  source: arithmetic\n', 'x').kind).toBe('rl');
    // The RL-only reader says what a preference config is instead of listing unknown keys.
    expect(() => parseConfigYaml(base, 'x')).toThrow(/kind \(line 1\): a preference config/);
  });

  it('renders T-REG prompt templates', () => {
    expect(renderTemplate('{a}{otherOp}{b}=', { prompt: '5+3=', a: '5', b: '3', op: '+', otherOp: '-' })).toBe('5-3=');
    expect(renderTemplate('{prompt}', { prompt: '5+3=', a: '5', b: '3', op: '+', otherOp: '-' })).toBe('5+3=');
  });
});
