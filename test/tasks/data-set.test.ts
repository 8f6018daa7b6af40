/**
 * A run's rows from its config: held-out rows from a second file or a stable seeded split by id,
 * demonstrations for the warm start, the built-in generators' rows and their default rewards, and
 * the run's hashed copy of what it trains on.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExperimentSchema } from '../../configs/schema.js';
import { prepareRunRows } from '../../engine/run-rows.js';
import { runTokenizer } from '../../engine/run-tokenizer.js';
import { scoreCases } from '../../rewards/mix.js';
import { readRunRows, rowsDir } from '../../store/run-rows.js';
import { loadRunData, runRewardMix } from '../../tasks/data-set.js';
import { DataError } from '../../tasks/data-error.js';
import { sampleWordProblems } from '../../tasks/word-problems.js';

const dir = mkdtempSync(join(tmpdir(), 'cf-data-set-'));
const file = (name: string, lines: unknown[]) => {
  const path = join(dir, name);
  writeFileSync(path, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return path;
};
const rows = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ id: `r${from + i}`, prompt: `${from + i}+1=`, answer: String(from + i + 1), completion: String(from + i + 1) }));
const config = (data: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  ExperimentSchema.parse({ experiment: 'data-set', data, model: { maxSeqLen: 16 }, rollout: { maxNewTokens: 4 }, ...extra });
const load = (c: ReturnType<typeof config>) => loadRunData(c, runTokenizer(c));

describe('a run\'s rows', () => {
  it('file: a held-out fraction split by a hash of the id, stable as the file grows', () => {
    const c = (path: string) => config({ source: 'file', path, heldOut: { fraction: 0.25, seed: 3 } });
    const small = load(c(file('small.jsonl', rows(200))));
    expect(small.train.length + small.heldOut.length).toBe(200);
    expect(small.heldOut.length).toBeGreaterThan(20);
    expect(small.heldOut.length).toBeLessThan(80);
    const grown = load(c(file('grown.jsonl', rows(400))));
    const heldOutIds = new Set(grown.heldOut.map((r) => r.id));
    // Every row keeps its side.
    for (const r of small.heldOut) expect(heldOutIds.has(r.id)).toBe(true);
    for (const r of small.train) expect(heldOutIds.has(r.id)).toBe(false);
    // Demonstrations: the training rows' completions (the file source defaults to the math reward).
    expect(small.demos).toEqual(small.train.map((r) => ({ prompt: r.prompt, completion: r.completion })));
    expect(c(file('x.jsonl', rows(1))).rewards).toEqual({ mode: 'sum', mix: [{ verifier: 'math', weight: 1 }] });
  });

  it('file: held-out rows from a second file (no id on both sides), capped by evalSize', () => {
    const train = file('train.jsonl', rows(30));
    const heldOut = file('heldout.jsonl', rows(10, 100));
    const set = load(config({ source: 'file', path: train, heldOut: { path: heldOut }, evalSize: 4 }));
    expect(set.train).toHaveLength(30);
    expect(set.heldOut.map((r) => r.id)).toEqual(['r100', 'r101', 'r102', 'r103']);
    const leaking = file('leaking.jsonl', rows(3, 28));
    expect(() => load(config({ source: 'file', path: train, heldOut: { path: leaking } }))).toThrow(/2 held-out id\(s\) are also training ids \("r28", "r29"\)/);
  });

  it('demonstrations from warmStart.path, or none with warmStart.steps 0; a warm start with nothing to learn from is a data error', () => {
    const noDemos = file('no-demos.jsonl', rows(20).map(({ completion: _, ...r }) => r));
    const sft = file('sft.jsonl', [{ prompt: '1+1=', completion: '2' }, { prompt: '2+2=', completion: '4' }]);
    expect(load(config({ source: 'file', path: noDemos }, { warmStart: { path: sft } })).demos).toEqual([{ prompt: '1+1=', completion: '2' }, { prompt: '2+2=', completion: '4' }]);
    expect(load(config({ source: 'file', path: noDemos }, { warmStart: { steps: 0 } })).demos).toEqual([]);
    expect(() => load(config({ source: 'file', path: noDemos }))).toThrow(/warmStart\.steps is 800 but no training row has a completion to learn from/);
    const badSft = file('bad-sft.jsonl', [{ prompt: '1+1=' }]);
    expect(() => load(config({ source: 'file', path: noDemos }, { warmStart: { path: badSft } }))).toThrow(/line 1: completion: required field is missing/);
  });

  it('the run keeps a hashed copy of its rows and reads it back instead of the source', () => {
    const source = file('copied.jsonl', rows(40));
    const c = config({ source: 'file', path: source });
    const runDir = join(dir, 'run');
    const first = prepareRunRows(c, runDir, runTokenizer(c));
    expect(Object.keys(first.sha256).sort()).toEqual(['demos.jsonl', 'heldout.jsonl', 'train.jsonl']);
    writeFileSync(source, ''); // the source changes: the run still reads what it started with
    expect(prepareRunRows(c, runDir, runTokenizer(c))).toEqual(first);
    writeFileSync(join(rowsDir(runDir), 'train.jsonl'), readFileSync(join(rowsDir(runDir), 'train.jsonl'), 'utf8').replace('"r1"', '"rX"'));
    expect(() => readRunRows(runDir)).toThrow(/fails its sha256 check/);
  });

  it('generators: word problems are deterministic, split disjointly, and their solutions pass the math reward', async () => {
    const c = config({ source: 'word-problems', trainSize: 300, evalSize: 60 }, { model: { maxSeqLen: 96 }, rollout: { maxNewTokens: 30 } });
    expect(c.rewards).toEqual({ mode: 'sum', mix: [{ verifier: 'math', weight: 1 }] });
    expect(c.model.alphabet).toContain('#');
    const set = load(c);
    expect(load(c)).toEqual(set);
    const trainPrompts = new Set(set.train.map((r) => r.prompt));
    expect(set.heldOut.some((r) => trainPrompts.has(r.prompt))).toBe(false);
    expect(set.train.every((r) => /^#### \d+$/m.test(r.completion!) && r.completion!.endsWith(`#### ${r.answer}`))).toBe(true);
    const verdicts = await scoreCases(runRewardMix(c), [...set.train, ...set.heldOut].map((r) => ({ completion: r.completion!, answer: r.answer! })));
    expect(verdicts.filter((v) => v.status !== 'correct')).toEqual([]);
    // A wrong final answer is not rewarded.
    const [wrong] = await scoreCases(runRewardMix(c), [{ completion: set.train[0].completion!.replace(/#### (\d+)$/, (_, n) => `#### ${Number(n) + 1}`), answer: set.train[0].answer! }]);
    expect(wrong.status).toBe('incorrect');
  });

  it('generators: a set too large for its side of the split is a data error, and the schema checks the context', () => {
    expect(() => load(config({ source: 'arithmetic', maxDigits: 1, trainSize: 500 }))).toThrow(DataError);
    expect(() => config({ source: 'word-problems' })).toThrow(/must hold the longest prompt/);
    expect(sampleWordProblems('heldout', 5, { splitSeed: 0, sampleSeed: 0, spec: { kinds: ['mul'], maxNumber: 20, heldOutFraction: 0.2 } })).toHaveLength(5);
  });
});
