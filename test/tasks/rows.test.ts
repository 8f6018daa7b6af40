/** Rows from JSONL: mapped columns, every bad line reported with its number and field, before any compute. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExperimentSchema } from '../../configs/schema.js';
import { runTokenizer } from '../../engine/run-tokenizer.js';
import { CharTokenizer } from '../../models/tokenizer.js';
import { loadRunData } from '../../tasks/data-set.js';
import { DataError } from '../../tasks/data-error.js';
import { parseRowsJsonl } from '../../tasks/rows.js';
import { BAD_ROWS, BAD_ROWS_SECTIONS, matchesBadRowsProblems } from '../support/bad-rows.js';

const dir = mkdtempSync(join(tmpdir(), 'cf-rows-'));
const file = (name: string, lines: string[]) => {
  const path = join(dir, name);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
};

/** An RL config on a data file, the built-in model with a short context. */
const configOn = (data: Record<string, unknown>, extra: Record<string, unknown> = {}) => ExperimentSchema.parse({
  experiment: 'rows', data: { source: 'file', ...data },
  model: { maxSeqLen: 24, alphabet: 'abcdefghijklmnopqrstuvwxyz0123456789 +-=?' },
  rollout: { maxNewTokens: 6 }, warmStart: { steps: 0 },
  rewards: { mode: 'sum', mix: [{ verifier: 'math', weight: 1 }, { verifier: 'format', pattern: 'integer', weight: 0.5, name: 'integer' }] },
  ...extra,
});

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).name).toBe('DataError');
    return (err as DataError).problems;
  }
  throw new Error('expected the data to be rejected');
}

describe('rows from JSONL', () => {
  it('maps column names (nested ones by a dotted name), reads numbers as text and keeps other fields', () => {
    const rows = parseRowsJsonl([
      '{"qid": 7, "question": "what is 3+4?", "reward_model": {"ground_truth": 7}, "source": "gsm"}',
      '',
      '{"qid": "b", "question": [{"role": "user", "content": "hi"}], "reward_model": {"ground_truth": "x"}}',
      '{"qid": "c", "question": "f?", "tests": [{"assert": "assert f(1) == 2"}]}',
    ].join('\n'), 'x.jsonl', { fields: { id: 'qid', prompt: 'question', answer: 'reward_model.ground_truth' } });
    expect(rows).toEqual([
      { id: '7', prompt: 'what is 3+4?', answer: '7', extra: { reward_model: { ground_truth: 7 }, source: 'gsm' } },
      { id: 'b', prompt: [{ role: 'user', content: 'hi' }], answer: 'x', extra: { reward_model: { ground_truth: 'x' } } },
      { id: 'c', prompt: 'f?', tests: [{ assert: 'assert f(1) == 2' }], language: 'python' },
    ]);
  });

  it('rejects a file with ten different bad lines before any compute, listing all ten with their line numbers', () => {
    const path = join(dir, 'bad.jsonl');
    writeFileSync(path, BAD_ROWS);
    const config = ExperimentSchema.parse({ experiment: 'rows', data: { source: 'file', path }, ...BAD_ROWS_SECTIONS });
    const problems = problemsOf(() => loadRunData(config, runTokenizer(config)));
    expect(matchesBadRowsProblems(problems), problems.join('\n')).toBe(true);
  });

  it('checks what each row\'s rewards need, and the demonstrations when the warm start trains on them', () => {
    const path = file('needs.jsonl', [
      '{"id": "a", "prompt": "1+2="}',                                    // math needs an answer
      '{"id": "b", "prompt": "1+2=", "answer": "3", "completion": "3 apples"}', // fine: no warm start
    ]);
    expect(problemsOf(() => loadRunData(configOn({ path, heldOut: { fraction: 0.5 } }), new CharTokenizer('abcdefghijklmnopqrstuvwxyz0123456789 +-=?'))))
      .toEqual(['line 1: answer: required for a row scored by math, integer']);
    const demos = file('demos.jsonl', ['{"id": "b", "prompt": "1+2=", "answer": "3", "completion": "3 pears and 7 figs too"}']);
    const withWarmStart = configOn({ path: demos, heldOut: { fraction: 0.01 } }, { warmStart: { steps: 5 } });
    // BOS + 4 prompt characters + 22 completion characters + EOS
    expect(problemsOf(() => loadRunData(withWarmStart, new CharTokenizer('abcdefghijklmnopqrstuvwxyz0123456789 +-=?'))))
      .toEqual(['line 1: prompt + completion is 28 tokens (EOS included), longer than model.maxSeqLen (24)']);
  });
});
